/*
 * NAME
 *	spool_writer.c - the spool file's writes, off the event loop
 * DESCRIPTION
 *	Implements spool_writer.h.  One thread per worker process takes jobs
 *	from a queue in order: a write (creating the file first if it is
 *	the file's first), a read (into the caller's buffer, handed back
 *	with the result) or a close.  Finished writes and reads go back on a
 *	second queue and an eventfd wakes the loop, which settles the
 *	accounts and wakes the owners.  The eventfd is watched only while
 *	jobs are out, so an idle writer does not keep a draining worker's
 *	loop alive.
 *
 *	Who owns what: a file's refs, in_flight, error, wake and arg are the
 *	loop's; its fd and t_error are the thread's, and the loop reads fd
 *	only once every write has come back (the queue's mutex orders the
 *	two).  A close job is the file's last use and frees it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <event2/event.h>

#include "spool_writer.h"
#include "xmalloc.h"

struct spool_file {
	const char *dir;
	int fd;			/* thread: -1 until created */
	int t_error;		/* thread: the first failure, sticky */
	unsigned refs;		/* the owner and each job out */
	size_t in_flight;
	int error;		/* the first failure seen by the loop */
	int released;		/* the owner is gone: no more callbacks */
	void (*wake)(void *);
	void *arg;
};

enum job_kind { JOB_WRITE, JOB_READ, JOB_CLOSE };

struct spool_job {
	struct spool_job *next;
	enum job_kind kind;
	struct spool_file *file;
	char *data;
	size_t len;
	off_t off;
	int error;
	long got;		/* JOB_READ: octets read */
	void (*done)(void *, char *, long);	/* JOB_READ */
	void *done_arg;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t more;
	struct spool_job *todo, **todo_tail;
	struct spool_job *done, **done_tail;
	int efd;
	struct event *ev;
	int running;
	size_t jobs_out;	/* loop: writes and reads handed over, not
				 * collected */
} w = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.more = PTHREAD_COND_INITIALIZER,
	.efd = -1,
};

/* An unlinked file, so a crash leaves nothing to clean up. */
static int
create_file(const char *dir)
{
	char path[4096];
	int fd = -1;

#ifdef O_TMPFILE
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
#endif
	if ((size_t)snprintf(path, sizeof(path), "%s/ehlod.XXXXXX", dir) >=
	    sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
	return fd;
}

static int
write_job(struct spool_job *j)
{
	struct spool_file *f = j->file;
	const char *p = j->data;
	size_t n = j->len;
	off_t off = j->off;

	if (f->t_error)
		return f->t_error;
	if (f->fd < 0 && (f->fd = create_file(f->dir)) < 0)
		return f->t_error = errno ? errno : EIO;
	while (n > 0) {
		ssize_t r = pwrite(f->fd, p, n, off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return f->t_error = r < 0 ? errno : ENOSPC;
		p += r;
		n -= (size_t)r;
		off += r;
	}
	return 0;
}

/* Up to len octets at off, fewer only at the end of the file. */
static int
read_job(struct spool_job *j)
{
	struct spool_file *f = j->file;

	if (f->t_error)
		return f->t_error;
	if (f->fd < 0)
		return EBADF;
	while ((size_t)j->got < j->len) {
		ssize_t r = pread(f->fd, j->data + j->got,
		    j->len - (size_t)j->got, j->off + j->got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return errno;
		if (r == 0)
			break;
		j->got += r;
	}
	return 0;
}

/* Runs the jobs of one batch; the finished writes and reads, in order,
 * are put on *tail. */
static struct spool_job **
run_batch(struct spool_job *batch, struct spool_job **tail)
{
	while (batch != NULL) {
		struct spool_job *j = batch;

		batch = j->next;
		j->next = NULL;
		if (j->kind == JOB_CLOSE) {
			if (j->file->fd >= 0)
				close(j->file->fd);
			free(j->file);
			free(j);
			continue;
		}
		if (j->kind == JOB_READ) {
			j->error = read_job(j);
		} else {
			j->error = write_job(j);
			free(j->data);	/* the memory goes back at once */
			j->data = NULL;
		}
		*tail = j;
		tail = &j->next;
	}
	return tail;
}

static void *
writer_main(void *arg)
{
	static const uint64_t one = 1;
	(void)arg;

	pthread_mutex_lock(&w.lock);
	for (;;) {
		while (w.todo == NULL)
			pthread_cond_wait(&w.more, &w.lock);
		struct spool_job *batch = w.todo, *finished = NULL;
		w.todo = NULL;
		w.todo_tail = &w.todo;
		pthread_mutex_unlock(&w.lock);
		struct spool_job **tail = run_batch(batch, &finished);
		pthread_mutex_lock(&w.lock);
		if (finished == NULL)
			continue;
		*w.done_tail = finished;
		w.done_tail = tail;
		/* Never full: the loop reads it before it could overflow. */
		if (write(w.efd, &one, sizeof(one)) < 0)
			abort();
	}
	return NULL;
}

static int
start_thread(void)
{
	pthread_t t;
	sigset_t all, old;
	int err;

	/* Signals are the loop's (libevent's handlers). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = pthread_create(&t, NULL, writer_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err != 0) {
		errno = err;
		return -1;
	}
	pthread_setname_np(t, "ehlod-spool");
	pthread_detach(t);
	w.running = 1;
	return 0;
}

static struct spool_job *
job_new(enum job_kind kind, struct spool_file *f, size_t len, off_t off)
{
	struct spool_job *j = xcalloc(1, sizeof(*j));

	j->kind = kind;
	j->file = f;
	j->len = len;
	j->off = off;
	return j;
}

static void
enqueue(struct spool_job *j)
{
	pthread_mutex_lock(&w.lock);
	*w.todo_tail = j;
	w.todo_tail = &j->next;
	pthread_cond_signal(&w.more);
	pthread_mutex_unlock(&w.lock);
}

static void
file_unref(struct spool_file *f)
{
	if (--f->refs > 0)
		return;
	if (f->fd < 0) {	/* never created: no disk work */
		free(f);
		return;
	}
	enqueue(job_new(JOB_CLOSE, f, 0, 0));
}

static void
write_done(struct spool_job *j)
{
	struct spool_file *f = j->file;

	f->in_flight -= j->len;
	if (j->error && !f->error)
		f->error = j->error;
	free(j);
	if (f->wake)
		f->wake(f->arg);	/* may release the file */
}

static void
read_done(struct spool_job *j)
{
	if (j->file->released)
		free(j->data);
	else
		j->done(j->done_arg, j->data, j->error ? -1 : j->got);
	free(j);
}

static void
collect(evutil_socket_t fd, short what, void *arg)
{
	uint64_t n;
	(void)what;
	(void)arg;

	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&w.lock);
	struct spool_job *list = w.done;
	w.done = NULL;
	w.done_tail = &w.done;
	pthread_mutex_unlock(&w.lock);
	while (list != NULL) {
		struct spool_job *j = list;
		struct spool_file *f = j->file;

		list = j->next;
		w.jobs_out--;
		if (j->kind == JOB_READ)
			read_done(j);
		else
			write_done(j);
		file_unref(f);
	}
	if (w.jobs_out == 0)
		event_del(w.ev);
}

int
spool_writer_init(struct event_base *base)
{
	w.todo_tail = &w.todo;
	w.done_tail = &w.done;
	w.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w.efd < 0)
		return -1;
	w.ev = event_new(base, w.efd, EV_READ | EV_PERSIST, collect, NULL);
	if (w.ev == NULL) {
		close(w.efd);
		w.efd = -1;
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void
spool_writer_shutdown(void)
{
	/* The thread may still be closing files: the eventfd stays open
	 * for it until the process ends. */
	if (w.ev)
		event_free(w.ev);
	w.ev = NULL;
}

struct spool_file *
spool_file_new(const char *dir, void (*wake)(void *), void *arg)
{
	struct spool_file *f = xcalloc(1, sizeof(*f));

	f->dir = dir;
	f->fd = -1;
	f->refs = 1;
	f->wake = wake;
	f->arg = arg;
	return f;
}

void
spool_file_release(struct spool_file *f)
{
	f->released = 1;
	f->wake = NULL;
	f->arg = NULL;
	file_unref(f);
}

static int
writer_ready(void)
{
	if (w.ev == NULL) {
		errno = ENOTCONN;
		return -1;
	}
	return w.running || start_thread() == 0 ? 0 : -1;
}

/* A job out: the file stays until it comes back. */
static void
hand_over(struct spool_job *j)
{
	j->file->refs++;
	if (w.jobs_out++ == 0)
		event_add(w.ev, NULL);
	enqueue(j);
}

int
spool_file_write(struct spool_file *f, char *data, size_t len, off_t off)
{
	struct spool_job *j;

	if (writer_ready() < 0) {
		free(data);
		return -1;
	}
	j = job_new(JOB_WRITE, f, len, off);
	j->data = data;
	f->in_flight += len;
	hand_over(j);
	return 0;
}

int
spool_file_read(struct spool_file *f, char *buf, size_t len, off_t off,
    void (*done)(void *, char *, long), void *arg)
{
	struct spool_job *j;

	if (writer_ready() < 0)
		return -1;
	j = job_new(JOB_READ, f, len, off);
	j->data = buf;
	j->done = done;
	j->done_arg = arg;
	hand_over(j);
	return 0;
}

size_t
spool_file_in_flight(const struct spool_file *f)
{
	return f->in_flight;
}

int
spool_file_error(const struct spool_file *f)
{
	return f->error;
}

int
spool_file_fd(const struct spool_file *f)
{
	if (f->in_flight > 0 || f->error)
		return -1;
	return f->fd;
}
