/*
 * NAME
 *	maildir_flush.c - the maildir plugin's disk work, off the event loop
 * DESCRIPTION
 *	Implements maildir_flush_*() (maildir.h).  A few threads per worker
 *	process create each message's file in tmp/, write it, flush it
 *	and rename it into new/, so that the event loop never touches the
 *	disk and several flushes are in flight at once.  A thread takes
 *	every message queued since it last looked (up to BATCH_MAX) and
 *	writes them all before it flushes any, so that under load the disk
 *	gets a batch at once; each file still gets its own fsync, and goes
 *	back to the loop as soon as that fsync returned.
 *
 *	Two orders of flushing and renaming (MAILDIR_FLUSH_*):
 *
 *	By default the thread waits until the file's data is on the disk
 *	(sync_file_range), renames it into new/, and only then fsyncs it;
 *	the job is done when that fsync returned.  A Linux file system with
 *	a metadata journal (ext4, XFS, btrfs) makes a file's latest rename
 *	durable with the file's fsync: the rename changed the inode, and
 *	the fsync commits the transaction that holds it (xfstests'
 *	generic/322 checks exactly this after a simulated power cut).  Its
 *	blocks and size were journalled no later than the rename, so a
 *	crash shows either no file in new/ or the whole one.  So one commit
 *	makes a message durable, and a batch's first fsync commits them all;
 *	an fsync of new/ would only force another commit (ext4 commits
 *	whatever is running when a directory is fsynced).
 *
 *	With fsync_before_rename, as POSIX alone promises it: fsync in tmp/,
 *	rename, then fsync new/.  This costs two commits in a row, shared by
 *	group commit: one thread at a time (the committer) flushes new/;
 *	renames that finish meanwhile queue up and the committer's next
 *	flush covers them all.  A job is reported done only after the flush
 *	that covers its rename returned, and a failed flush takes every file
 *	of its batch back out of new/ (the client gets a 4xx and retries).
 *
 *	The threads also measure the free space for MAIL's check
 *	(maildir_space.c), when a session asks with a measure job: one
 *	statvfs answers every measure job of a batch.
 *
 *	The threads never call the host (the ABI forbids it): finished jobs
 *	go on a list and an eventfd wakes the loop, whose watch callback
 *	hands them to the plugin there.  The threads start at the first
 *	message a process delivers, never in the master (which only runs
 *	init to check the configuration, then forks: threads do not survive
 *	fork).
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>
#include <unistd.h>

#include "maildir.h"
#include "plugin_threads.h"

#define NAME_TRIES 5
#define THREADS_MAX 64
#define BATCH_MAX 64	/* jobs one thread takes at once */

struct pool {
	pthread_mutex_t lock;
	pthread_cond_t work;
	struct maildir_job *queue, **queue_tail;	/* to write */
	struct maildir_job *renamed;	/* in new/, waiting for its flush */
	struct maildir_job *done;	/* for the loop */
	int syncing;		/* a committer is flushing new/ */
	unsigned idle;		/* threads waiting for work */
	int stopping;
	struct loop_wake wake;	/* done is not empty */
	pid_t pid;		/* the process the threads run in */
	pid_t owner;		/* the process init last ran in */
	unsigned long long seed;	/* its names' R part */
	unsigned nthreads;
	pthread_t threads[THREADS_MAX];
	/* Set at start, read-only while the threads run. */
	const char *dir;
	const char *hostpart;
	enum maildir_flush flush;
	const struct ehlod_host *host;
	ehlod_ctx *inst;
	void (*finished)(struct maildir_job *);
};

static struct pool pool = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.work = PTHREAD_COND_INITIALIZER,
	.wake = { .efd = -1 },
};
static atomic_ulong deliveries;	/* the Q part of the names */

/* ---- in the threads ------------------------------------------------ */

/* write(2) until all is written: regular files may still write short
 * when a signal arrives or the disk fills up. */
int
maildir_write_all(int fd, const unsigned char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (n == 0)
			return EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
path_of(char *buf, size_t len, const char *sub, const char *name)
{
	int n = snprintf(buf, len, "%s/%s%s%s", pool.dir, sub,
	    name[0] != '\0' ? "/" : "", name);

	return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

static unsigned long long
random_seed(void)
{
	unsigned long long rnd;

	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
		return 0;
	return rnd;
}

/* Only the threads name files, so pool.pid and pool.seed are set. */
static int
make_name(char *buf, size_t len)
{
	struct timeval tv;
	int n;

	gettimeofday(&tv, NULL);
	/* M, P and Q make the name unique on a sane host; R covers what
	 * they cannot see (a clock set back, a recycled pid): drawn once
	 * per process when its threads start, since Q already tells its
	 * names apart.  Without entropy from the kernel it is 0 and O_EXCL
	 * still catches a clash. */
	n = snprintf(buf, len, "%lld.M%06ldP%ldQ%luR%016llx.%s",
	    (long long)tv.tv_sec, (long)tv.tv_usec, (long)pool.pid,
	    atomic_fetch_add(&deliveries, 1) + 1, pool.seed, pool.hostpart);
	return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

/* Create tmp/NAME under a fresh name (j's name, tmp and dst): the
 * descriptor, or -1 with errno. */
static int
create_tmp(struct maildir_job *j)
{
	for (int i = 0; i < NAME_TRIES; i++) {
		int fd;

		if (make_name(j->name, sizeof(j->name)) < 0 ||
		    path_of(j->tmp, sizeof(j->tmp), "tmp", j->name) < 0 ||
		    path_of(j->dst, sizeof(j->dst), "new", j->name) < 0) {
			errno = ENAMETOOLONG;
			return -1;
		}
		fd = open(j->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		    0600);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	return -1;
}

static int
fail(struct maildir_job *j, const char *what, int err)
{
	j->what = what;
	j->err = err;
	return -1;
}

/* Convert CRLF to LF and write; 0 or an errno value. */
static int
write_lf(struct maildir_job *j, const unsigned char *in, size_t len,
    unsigned char *out)
{
	return maildir_write_all(j->fd, out, crlf_to_lf(&j->crlf, in, len,
	    out));
}

/* The spooled body from the dup of the host's file, then the tail; both
 * turned into LF.  0 or an errno value ("read" or "write" in j->what). */
static int
copy_spool(struct maildir_job *j)
{
	enum { CHUNK = 64 * 1024 };
	unsigned char *in = malloc(2 * CHUNK), *out;
	unsigned char cr[1];
	size_t off = 0;
	int err = 0;

	if (in == NULL)
		return ENOMEM;
	out = in + CHUNK;
	while (err == 0 && off < j->spool_len) {
		size_t want = j->spool_len - off < CHUNK ?
		    j->spool_len - off : CHUNK;
		ssize_t n = pread(j->spool_fd, in, want, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			j->what = "read";
			err = n < 0 ? errno : EIO;	/* 0: it shrank */
			break;
		}
		err = write_lf(j, in, (size_t)n, out);
		off += (size_t)n;
	}
	for (size_t t = 0; err == 0 && t < j->tail_len; t += CHUNK) {
		size_t n = j->tail_len - t < CHUNK ? j->tail_len - t : CHUNK;

		err = write_lf(j, j->tail + t, n, out);
	}
	if (err == 0)
		err = maildir_write_all(j->fd, cr, crlf_finish(&j->crlf, cr));
	free(in);
	return err;
}

/* Give up a job whose file is still only in tmp/. */
static int
drop_tmp(struct maildir_job *j, const char *what, int err)
{
	fail(j, what, err);
	close(j->fd);
	j->fd = -1;
	unlink(j->tmp);
	return -1;
}

/* Step one of a batch: tmp/NAME created and written; 0, or -1 with the
 * job's err and what set and nothing left behind. */
static int
write_file(struct maildir_job *j)
{
	if ((j->fd = create_tmp(j)) < 0) {
		snprintf(j->tmp, sizeof(j->tmp), "%s/tmp/", pool.dir);
		return fail(j, "create", errno);
	}
	j->what = "write";
	if (j->data != NULL)
		j->err = maildir_write_all(j->fd, j->data, j->len);
	if (j->err == 0 && j->spool_fd >= 0)
		j->err = copy_spool(j);
	if (j->err == 0)
		return 0;
	return drop_tmp(j, j->what, j->err);
}

/* Step two, fsync first (or no fsync): each file flushed, closed and
 * renamed into new/.  Every file gets its own fsync, which is all POSIX
 * promises; telling the kernel first to start writing them all lets the
 * disk take the batch at once, and on a journalling file system the
 * first fsync's commit then covers the others. */
static int
flush_file(struct maildir_job *j)
{
	int fd = j->fd;

	j->fd = -1;	/* closed below, whatever happens */
	if (pool.flush == MAILDIR_FLUSH_BEFORE_RENAME && fsync(fd) < 0)
		fail(j, "fsync", errno);
	/* close() reports late write errors (NFS), so it is checked too. */
	if (close(fd) < 0 && j->err == 0)
		fail(j, "close", errno);
	if (j->err == 0 && rename(j->tmp, j->dst) < 0)
		fail(j, "rename", errno);
	if (j->err != 0) {
		unlink(j->tmp);
		return -1;
	}
	return 0;
}

static void
start_writeback(const struct maildir_job *j)
{
#ifdef SYNC_FILE_RANGE_WRITE
	/* Only a hint: the fsync that follows is what counts. */
	(void)sync_file_range(j->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
#else
	(void)j;
#endif
}

#ifdef SYNC_FILE_RANGE_WRITE
/* Step two, rename first: wait until the file's data is on the disk, so
 * that its blocks and size are journalled no later than its rename. */
static int
wait_written(struct maildir_job *j)
{
	if (sync_file_range(j->fd, 0, 0, SYNC_FILE_RANGE_WAIT_BEFORE |
	    SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER) < 0)
		return drop_tmp(j, "write", errno);
	return 0;
}

/* Step three: into new/, the file still open for its fsync. */
static int
rename_written(struct maildir_job *j)
{
	if (rename(j->tmp, j->dst) < 0)
		return drop_tmp(j, "rename", errno);
	return 0;
}

/* Step four: the fsync itself, which commits the rename along with the
 * file (see the top of this file).  A file that fails it is taken back
 * out of new/ (a reader may have seen it already: the retry may then
 * deliver it twice, never not at all). */
static int
fsync_renamed(struct maildir_job *j)
{
	int fd = j->fd;

	j->fd = -1;
	if (fsync(fd) < 0)
		fail(j, "fsync", errno);
	if (close(fd) < 0 && j->err == 0)
		fail(j, "close", errno);
	if (j->err == 0)
		return 0;
	unlink(j->dst);
	snprintf(j->tmp, sizeof(j->tmp), "%s/new/", pool.dir);
	return -1;
}
#endif

/* Run step on each job of list; those it failed go on *failed, the
 * others come back in their order. */
static struct maildir_job *
each_job(struct maildir_job *list, int (*step)(struct maildir_job *),
    struct maildir_job **failed)
{
	struct maildir_job *ok = NULL, **ok_tail = &ok, *next;

	for (struct maildir_job *j = list; j != NULL; j = next) {
		next = j->next;
		if (step(j) == 0) {
			*ok_tail = j;
			ok_tail = &j->next;
			continue;
		}
		j->next = *failed;
		*failed = j;
	}
	*ok_tail = NULL;
	return ok;
}

/* Take a batch up to its last step: written, and with the default
 * order also on disk and renamed.  The jobs still in it come back, the
 * failed ones go on *failed. */
static struct maildir_job *
prepare_batch(struct maildir_job *batch, struct maildir_job **failed)
{
	batch = each_job(batch, write_file, failed);
	if (pool.flush == MAILDIR_FLUSH_NONE)
		return batch;
	if (batch != NULL && batch->next != NULL)
		for (struct maildir_job *j = batch; j != NULL; j = j->next)
			start_writeback(j);
#ifdef SYNC_FILE_RANGE_WRITE
	if (pool.flush == MAILDIR_FLUSH_AFTER_RENAME) {
		batch = each_job(batch, wait_written, failed);
		batch = each_job(batch, rename_written, failed);
	}
#endif
	return batch;
}

/* A prepared job's last step: the fsync that makes it durable (or, with
 * fsync_before_rename or no fsync, the fsync if any and the rename). */
static int
last_step(struct maildir_job *j)
{
#ifdef SYNC_FILE_RANGE_WRITE
	if (pool.flush == MAILDIR_FLUSH_AFTER_RENAME)
		return fsync_renamed(j);
#endif
	return flush_file(j);
}

/* Flush new/ so that the renames into it are on disk. */
static int
sync_new(void)
{
	char path[4096];
	int fd, err = 0;

	if (path_of(path, sizeof(path), "new", "") < 0)
		return ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	if (fsync(fd) < 0)
		err = errno;
	close(fd);
	return err;
}

/* With the lock held: hand j to the loop. */
static void
finish_locked(struct maildir_job *j)
{
	int was_empty = pool.done == NULL;

	j->next = pool.done;
	pool.done = j;
	/* The loop takes the whole list when it wakes, so only the first
	 * job needs to wake it. */
	if (was_empty)
		loop_wake_post(&pool.wake);
}

/* With the lock held and no other committer: flush new/ until no rename
 * waits for it.  The lock is released while the disk works, so that the
 * other threads go on writing and renaming; their renames form the next
 * batch. */
static void
commit_locked(void)
{
	pool.syncing = 1;
	while (pool.renamed != NULL) {
		struct maildir_job *batch = pool.renamed, *next;
		int err;

		pool.renamed = NULL;
		pthread_mutex_unlock(&pool.lock);
		err = sync_new();
		/* Without the folder on disk the renames may vanish in a
		 * crash: take the messages back, the clients retry. */
		for (struct maildir_job *j = batch; err != 0 && j != NULL;
		    j = j->next) {
			unlink(j->dst);
			snprintf(j->tmp, sizeof(j->tmp), "%s/new/", pool.dir);
			fail(j, "fsync", err);
		}
		pthread_mutex_lock(&pool.lock);
		for (; batch != NULL; batch = next) {
			next = batch->next;
			finish_locked(batch);
		}
	}
	pool.syncing = 0;
}

/* With the lock held: up to BATCH_MAX jobs off the queue. */
static struct maildir_job *
take_batch_locked(void)
{
	struct maildir_job *batch = pool.queue, **end = &pool.queue;

	for (unsigned n = 0; *end != NULL && n < BATCH_MAX; n++)
		end = &(*end)->next;
	pool.queue = *end;
	*end = NULL;
	if (pool.queue == NULL)
		pool.queue_tail = &pool.queue;
	else if (pool.idle > 0)
		pthread_cond_signal(&pool.work);	/* the rest */
	return batch;
}

static void
finish_list_locked(struct maildir_job *list)
{
	for (struct maildir_job *next; list != NULL; list = next) {
		next = list->next;
		finish_locked(list);
	}
}

/* Without the lock: the jobs of list to the loop. */
static void
hand_back(struct maildir_job *list)
{
	if (list == NULL)
		return;
	pthread_mutex_lock(&pool.lock);
	finish_list_locked(list);
	pthread_mutex_unlock(&pool.lock);
}

/* Without the lock: the measure jobs of batch answered with one new
 * measure of the free space; the message jobs come back. */
static struct maildir_job *
measure_space(struct maildir_job *batch)
{
	struct maildir_job *rest = NULL, **tail = &rest, *asked = NULL, *next;

	for (struct maildir_job *j = batch; j != NULL; j = next) {
		next = j->next;
		if (j->measure) {
			j->next = asked;
			asked = j;
			continue;
		}
		*tail = j;
		tail = &j->next;
	}
	*tail = NULL;
	if (asked != NULL) {
		maildir_space_measure(pool.dir);
		hand_back(asked);
	}
	return rest;
}

/* Without the lock: a batch through its last step.  Each job goes to the
 * loop as soon as its own last step returned: the batch's first fsync
 * usually commits them all, and a job need not wait for the flush that
 * each later fsync still costs.  With fsync_before_rename the renamed
 * jobs come back instead, to wait for new/'s flush. */
static struct maildir_job *
deliver_batch(struct maildir_job *batch)
{
	struct maildir_job *failed = NULL, *next;

	batch = measure_space(batch);
	batch = prepare_batch(batch, &failed);
	if (pool.flush == MAILDIR_FLUSH_BEFORE_RENAME) {
		batch = each_job(batch, flush_file, &failed);
		hand_back(failed);
		return batch;
	}
	hand_back(failed);
	for (; batch != NULL; batch = next) {
		next = batch->next;
		batch->next = NULL;
		(void)last_step(batch);	/* a failure is in the job */
		hand_back(batch);
	}
	return NULL;
}

/* A thread takes what has queued up since it last looked, as one batch,
 * so that under load the disk is asked to wait once for many messages;
 * when the server is quiet a batch is one message and waits for nobody. */
static void *
run(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&pool.lock);
	for (;;) {
		struct maildir_job *batch, *last;

		if (pool.queue == NULL) {
			if (pool.stopping)
				break;
			pool.idle++;
			pthread_cond_wait(&pool.work, &pool.lock);
			pool.idle--;
			continue;
		}
		batch = take_batch_locked();
		pthread_mutex_unlock(&pool.lock);
		batch = deliver_batch(batch);
		pthread_mutex_lock(&pool.lock);
		if (batch == NULL)
			continue;
		/* Only a rename fsynced before it waits for new/'s flush. */
		for (last = batch; last->next != NULL; last = last->next)
			;
		last->next = pool.renamed;
		pool.renamed = batch;
		if (!pool.syncing)
			commit_locked();
	}
	pthread_mutex_unlock(&pool.lock);
	return NULL;
}

/* ---- in the event loop --------------------------------------------- */

/* The loop woke: the finished jobs back to the plugin. */
static void
take_done(void *arg)
{
	struct maildir_job *list, *next;

	(void)arg;
	pthread_mutex_lock(&pool.lock);
	list = pool.done;
	pool.done = NULL;
	pthread_mutex_unlock(&pool.lock);
	for (; list != NULL; list = next) {
		next = list->next;
		pool.finished(list);
	}
}

void
maildir_flush_setup(const struct ehlod_host *host, ehlod_ctx *inst,
    const char *dir, const char *hostpart, enum maildir_flush flush,
    unsigned threads, void (*finished)(struct maildir_job *))
{
	pool.host = host;
	pool.inst = inst;
	pool.dir = dir;
	pool.hostpart = hostpart;
	pool.flush = flush;
#ifndef SYNC_FILE_RANGE_WRITE
	/* Without a way to wait for the data alone, fsync it first. */
	if (flush == MAILDIR_FLUSH_AFTER_RENAME)
		pool.flush = MAILDIR_FLUSH_BEFORE_RENAME;
#endif
	pool.nthreads = threads < 1 ? 1 : threads > THREADS_MAX ?
	    THREADS_MAX : threads;
	pool.finished = finished;
	pool.queue_tail = &pool.queue;
	/* init runs again in every process that forks off (a worker), so
	 * submit can tell a new process without a system call each time. */
	pool.owner = getpid();
}

static int
start(void)
{
	int err;

	if (loop_wake_open(&pool.wake, pool.host, pool.inst, take_done, NULL,
	    "the delivery threads") < 0)
		return -1;
	pool.stopping = 0;
	pool.seed = random_seed();
	pool.pid = pool.owner;
	pool.nthreads = threads_start(pool.threads, pool.nthreads, run, &err);
	if (err != 0) {
		maildir_flush_stop();
		errno = err;
		return -1;
	}
	return 0;
}

int
maildir_flush_submit(struct maildir_job *j)
{
	if (pool.pid != pool.owner && start() < 0)
		return -1;
	j->next = NULL;
	pthread_mutex_lock(&pool.lock);
	/* A thread woken for an earlier job takes this one along. */
	if (pool.queue == NULL && pool.idle > 0)
		pthread_cond_signal(&pool.work);
	*pool.queue_tail = j;
	pool.queue_tail = &j->next;
	pthread_mutex_unlock(&pool.lock);
	return 0;
}

unsigned
maildir_flush_stop(void)
{
	unsigned left;

	if (pool.pid != getpid())
		return 0;
	/* The threads finish what is queued: every file ends either in
	 * new/ or removed from tmp/.  A disk or file server that stopped
	 * answering holds them: then they are left to the end of the
	 * process, with what they use (the lock, the lists, the eventfd).
	 * Their sessions are gone, no 250 was given: nothing is lost, and a
	 * file left in tmp/ is removed by the next start (maildir_tidy.c). */
	pthread_mutex_lock(&pool.lock);
	pool.stopping = 1;
	pthread_cond_broadcast(&pool.work);
	pthread_mutex_unlock(&pool.lock);
	left = threads_join_within(pool.threads, pool.nthreads,
	    THREADS_STOP_WAIT);
	if (left > 0)
		return left;
	for (struct maildir_job *j = pool.done, *next; j != NULL; j = next) {
		next = j->next;
		maildir_job_free(j);
	}
	pool.done = NULL;
	/* The host cancelled the watch (an instance's) before fini. */
	loop_wake_close(&pool.wake);
	pool.pid = 0;
	return 0;
}
