/*
 * NAME
 *	flushlog - bench plugin: the cheapest durable delivery there is
 * SUMMARY
 *	plugin flushlog { path = ".../flushlog.so"  file = "/var/tmp/log" }
 * DESCRIPTION
 *	Exists for bench/throughput, never for mail: it keeps nothing a
 *	reader could use.  Each worker process writes every message into
 *	its own log, FILE.PID, made ahead of time with zeros written into
 *	every block, and answers 250 only once fdatasync returned.  An
 *	overwrite of blocks already written changes no inode, directory or
 *	block map, so the flush is the disk's alone: the device's write and
 *	its cache flush, shared by every message of a batch.  No durable
 *	acknowledgement costs less on a given disk; "ehlod flushlog" in
 *	bench/throughput is the floor any durable delivery (maildir, a
 *	queue) is measured against.
 *
 *	Like maildir, threads do the disk work (a batch of what queued up
 *	since a thread last looked, one fdatasync for it) and the event
 *	loop never waits; the log is a ring that nobody reads back.  A
 *	message larger than the whole ring is written from its start and
 *	makes the file grow: size must exceed the largest message measured.
 *
 *	Built by "make check" and by bench/throughput, never installed.
 * OPTIONS
 *	file (string, required)	the logs' path, without the .PID
 *	size (integer, MiB, 1 to 4096, default 64)	each log's size
 *	threads (integer, 1 to 64, default 4)	threads per worker
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ehlod/plugin.h>

#include "plugin_threads.h"

#define THREADS_MAX 64
#define ZEROS (1024 * 1024)

struct flushlog_conf {
	const char *file;
	long long size_mib;
	long long threads;
};

/* One message on its way into the log. */
struct job {
	struct job *next;
	ehlod_ctx *s;		/* NULL once the session ended (loop only) */
	unsigned char *data;
	size_t len;
	off_t at;		/* its place in the log */
	int err;		/* errno of the write or flush, or 0 */
};

static const struct ehlod_host *host;
static ehlod_ctx *self;
static const struct flushlog_conf *conf;

static struct {
	pthread_mutex_t lock;
	pthread_cond_t work;
	struct job *queue, *done;
	int stopping;
	int making;		/* a thread is making the log */
	int fd;			/* FILE.PID, or -1 */
	int open_err;		/* why it could not be made, or 0 */
	off_t size, next;	/* the ring, and where the next message goes */
	pid_t pid;		/* the process the threads run in */
	unsigned nthreads;
	pthread_t threads[THREADS_MAX];
	struct loop_wake wake;
} pool = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.work = PTHREAD_COND_INITIALIZER,
	.fd = -1,
	.wake = { .efd = -1 },
};

/* ---- in the threads ------------------------------------------------ */

static int
pwrite_all(int fd, const unsigned char *p, size_t len, off_t at)
{
	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, at);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? errno : EIO;
		p += n;
		len -= (size_t)n;
		at += n;
	}
	return 0;
}

/* FILE.PID with every block written, then flushed: made once per
 * process by the first thread that needs it, before any message. */
static int
make_log(void)
{
	char path[4096];
	unsigned char *zeros;
	int fd, err = 0;

	if (snprintf(path, sizeof(path), "%s.%ld", conf->file,
	    (long)getpid()) >= (int)sizeof(path))
		return ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno;
	if ((zeros = calloc(1, ZEROS)) == NULL)
		err = ENOMEM;
	for (off_t at = 0; err == 0 && at < pool.size; at += ZEROS)
		err = pwrite_all(fd, zeros, ZEROS, at);
	free(zeros);
	if (err == 0 && fsync(fd) < 0)
		err = errno;
	if (err != 0) {
		close(fd);
		unlink(path);
		return err;
	}
	pool.fd = fd;
	return 0;
}

/* Where a message of len octets goes: the next free place in the ring,
 * rounded up to whole blocks so that no two messages share one.  The
 * lock is held. */
static off_t
place_locked(size_t len)
{
	off_t need = (off_t)((len + 4095) & ~(size_t)4095), at;

	if (pool.next + need > pool.size)
		pool.next = 0;
	at = pool.next;
	pool.next += need;
	return at;
}

/* The lock is held: list to the loop, woken when its list was empty. */
static void
hand_back_locked(struct job *list)
{
	for (struct job *j = list, *next; j != NULL; j = next) {
		next = j->next;
		if (pool.done == NULL)
			loop_wake_post(&pool.wake);
		j->next = pool.done;
		pool.done = j;
	}
}

/* Write a batch, flush it once, and hand it back to the loop. */
static void
deliver(struct job *batch)
{
	int err = 0;

	pthread_mutex_lock(&pool.lock);
	for (struct job *j = batch; j != NULL; j = j->next)
		j->at = place_locked(j->len);
	pthread_mutex_unlock(&pool.lock);
	for (struct job *j = batch; j != NULL; j = j->next)
		j->err = pwrite_all(pool.fd, j->data, j->len, j->at);
	if (fdatasync(pool.fd) < 0)
		err = errno;
	for (struct job *j = batch; j != NULL; j = j->next)
		if (j->err == 0)
			j->err = err;
	pthread_mutex_lock(&pool.lock);
	hand_back_locked(batch);
	pthread_mutex_unlock(&pool.lock);
}

/* The lock is held: make the log, once per process, without holding
 * the lock meanwhile (the loop takes it to queue and to take back). */
static void
make_log_locked(void)
{
	int err;

	pool.making = 1;
	pthread_mutex_unlock(&pool.lock);
	err = make_log();
	pthread_mutex_lock(&pool.lock);
	pool.open_err = err;
	pool.making = 0;
	pthread_cond_broadcast(&pool.work);
}

static void *
run(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&pool.lock);
	for (;;) {
		struct job *batch;

		if (pool.queue == NULL || pool.making) {
			if (pool.stopping && !pool.making)
				break;
			pthread_cond_wait(&pool.work, &pool.lock);
			continue;
		}
		if (pool.fd < 0 && pool.open_err == 0) {
			make_log_locked();
			continue;
		}
		batch = pool.queue;
		pool.queue = NULL;
		if (pool.open_err != 0) {
			for (struct job *j = batch; j != NULL; j = j->next)
				j->err = pool.open_err;
			hand_back_locked(batch);
			continue;
		}
		pthread_mutex_unlock(&pool.lock);
		deliver(batch);
		pthread_mutex_lock(&pool.lock);
	}
	pthread_mutex_unlock(&pool.lock);
	return NULL;
}

/* ---- in the event loop --------------------------------------------- */

static struct job **
slot(ehlod_ctx *s)
{
	return host->session_data(s);
}

static void
job_free(struct job *j)
{
	free(j->data);
	free(j);
}

/* The flushed (or failed) jobs back to their sessions. */
static void
take_done(void *arg)
{
	struct job *list;

	(void)arg;
	pthread_mutex_lock(&pool.lock);
	list = pool.done;
	pool.done = NULL;
	pthread_mutex_unlock(&pool.lock);
	for (struct job *j = list, *next; j != NULL; j = next) {
		next = j->next;
		if (j->s != NULL) {
			*slot(j->s) = NULL;
			if (j->err != 0) {
				host->log(j->s, LOG_ERR, "log write: %s",
				    strerror(j->err));
				host->reply(j->s, 451, "4.3.0",
				    "Local error in processing");
				host->resume(j->s, EHLOD_TEMPFAIL);
			} else {
				host->reply(j->s, 250, "2.0.0",
				    "Ok: on disk");
				host->resume(j->s, EHLOD_ACCEPT);
			}
		}
		job_free(j);
	}
}

/* The threads start at a process's first message: never in the master,
 * which forks its workers after init. */
static int
start(void)
{
	int err;

	if (pool.pid == getpid())
		return 0;
	if (loop_wake_open(&pool.wake, host, self, take_done, NULL,
	    "the log threads") < 0)
		return -1;
	pool.pid = getpid();
	pool.size = (off_t)conf->size_mib * 1024 * 1024;
	pool.nthreads = threads_start(pool.threads, (unsigned)conf->threads,
	    run, &err);
	if (pool.nthreads == 0) {
		errno = err;
		return -1;
	}
	return 0;
}

struct buffer {
	unsigned char *p;
	size_t used, size;
};

static int
sink(void *arg, const void *data, size_t len)
{
	struct buffer *b = arg;

	if (len > b->size - b->used) {
		size_t size = b->used + len + 4096;
		unsigned char *p = realloc(b->p, size);

		if (p == NULL)
			return -1;
		b->p = p;
		b->size = size;
	}
	memcpy(b->p + b->used, data, len);
	b->used += len;
	return 0;
}

static ehlod_verdict
local_error(ehlod_ctx *s, const char *what)
{
	host->log(s, LOG_ERR, "%s: %s", what, strerror(errno));
	host->reply(s, 451, "4.3.0", "Local error in processing");
	return EHLOD_TEMPFAIL;
}

static ehlod_verdict
flushlog_on_eom(ehlod_ctx *s)
{
	struct buffer b = { .size = host->message_size(s) + 1 };
	struct job *j;

	if (start() < 0)
		return local_error(s, "cannot start the log threads");
	if ((b.p = malloc(b.size)) == NULL || (j = calloc(1,
	    sizeof(*j))) == NULL) {
		free(b.p);
		return local_error(s, "memory");
	}
	if (host->message_read(s, sink, &b) < 0) {
		free(b.p);
		free(j);
		errno = EIO;
		return local_error(s, "cannot read the message");
	}
	j->s = s;
	j->data = b.p;
	j->len = b.used;
	*slot(s) = j;
	pthread_mutex_lock(&pool.lock);
	j->next = pool.queue;
	pool.queue = j;
	pthread_cond_signal(&pool.work);
	pthread_mutex_unlock(&pool.lock);
	return EHLOD_PENDING;
}

static void
flushlog_on_close(ehlod_ctx *s)
{
	struct job **j = slot(s);

	if (j != NULL && *j != NULL)
		(*j)->s = NULL;
}

static int
flushlog_init(const struct ehlod_host *h, ehlod_ctx *inst)
{
	host = h;
	self = inst;
	conf = host->instance(inst);
	if (!(host->features & EHLOD_HOST_MESSAGE)) {
		host->log(self, LOG_ERR, "flushlog needs the whole message");
		return -1;
	}
	return 0;
}

/* The threads finish what is queued, then the log goes: nobody reads
 * it back. */
static void
flushlog_fini(ehlod_ctx *inst)
{
	char path[4096];

	(void)inst;
	if (pool.pid != getpid())
		return;
	pthread_mutex_lock(&pool.lock);
	pool.stopping = 1;
	pthread_cond_broadcast(&pool.work);
	pthread_mutex_unlock(&pool.lock);
	if (threads_join_within(pool.threads, pool.nthreads,
	    THREADS_STOP_WAIT) > 0)
		return;
	for (struct job *j = pool.done, *next; j != NULL; j = next) {
		next = j->next;
		job_free(j);
	}
	pool.done = NULL;
	loop_wake_close(&pool.wake);
	if (pool.fd >= 0) {
		close(pool.fd);
		snprintf(path, sizeof(path), "%s.%ld", conf->file,
		    (long)getpid());
		unlink(path);
	}
	pool.fd = -1;
	pool.pid = 0;
}

static const char *
check_file(const void *value)
{
	const char *file = *(const char *const *)value;

	return file[0] == '/' ? NULL : "must be an absolute path";
}

static const struct ehlod_option flushlog_options[] = {
	{ "file", EHLOD_OPT_STRING, offsetof(struct flushlog_conf, file),
	  NULL, EHLOD_OPT_REQUIRED, 0, 0, check_file },
	{ "size", EHLOD_OPT_INT, offsetof(struct flushlog_conf, size_mib),
	  "64", 0, 1, 4096, NULL },
	{ "threads", EHLOD_OPT_INT, offsetof(struct flushlog_conf, threads),
	  "4", 0, 1, THREADS_MAX, NULL },
	{ NULL, 0, 0, NULL, 0, 0, 0, NULL }
};

EHLOD_PLUGIN_EXPORT const struct ehlod_plugin ehlod_plugin = {
	EHLOD_PLUGIN_HEADER,
	.name = "flushlog",
	.version = PACKAGE_VERSION,
	.description = "each message into a preallocated log, fdatasync, "
	    "250 (bench/throughput's floor)",
	.options = flushlog_options,
	.instance_size = sizeof(struct flushlog_conf),
	.session_data_size = sizeof(struct job *),
	.init = flushlog_init,
	.fini = flushlog_fini,
	.on_eom = flushlog_on_eom,
	.on_close = flushlog_on_close,
};
