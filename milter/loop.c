/*
 * NAME
 *	loop.c - the one thread that runs plugins, and the hand-over to it
 * DESCRIPTION
 *	libmilter's callback threads queue jobs under one mutex and wake the
 *	loop thread through a pipe; the loop thread takes the whole queue
 *	and starts each job's step.  A waiter sleeps on its job's condition
 *	variable with the hook timeout as a deadline.  The mutex guards only
 *	the queue and each job's done/abandoned fields: sessions and plugins
 *	are touched by the loop thread alone, so they need no lock at all.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <event2/event.h>

#include "log.h"
#include "milter.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct job *queue_head, **queue_tail = &queue_head;
static int wake_fd[2] = { -1, -1 };
static struct event *wake_ev;
static pthread_t loop_thread;
static int loop_running;

struct job *
job_new(enum job_kind kind, struct mconn *c)
{
	struct job *j = calloc(1, sizeof(*j));
	pthread_condattr_t attr;

	if (j == NULL)
		return NULL;
	/* Deadlines are on the monotonic clock: a clock step must not
	 * cut a hook short or stretch it. */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&j->cond, &attr);
	pthread_condattr_destroy(&attr);
	j->kind = kind;
	j->c = c;
	return j;
}

void
hdr_ops_free(struct hdr_op *op)
{
	while (op) {
		struct hdr_op *next = op->next;
		free(op->name);
		free(op->value);
		free(op);
		op = next;
	}
}

void
job_free(struct job *j)
{
	if (j == NULL)
		return;
	free(j->arg1);
	free(j->arg2);
	free(j->data);
	free(j->text);
	for (int i = 0; i < MAC_COUNT_; i++)
		free(j->mac[i]);
	hdr_ops_free(j->ops);
	pthread_cond_destroy(&j->cond);
	free(j);
}

static void
wake(void)
{
	/* A full pipe already means a wake-up is on its way. */
	ssize_t ignored = write(wake_fd[1], "j", 1);
	(void)ignored;
}

static struct job *
take_queue(void)
{
	struct job *all;

	pthread_mutex_lock(&lock);
	all = queue_head;
	queue_head = NULL;
	queue_tail = &queue_head;
	pthread_mutex_unlock(&lock);
	return all;
}

/* A job whose waiter gave up before it started is not run: the MTA has
 * had its answer (tempfail) already.  ABORT and CLOSE always run. */
static int
skip_job(struct job *j)
{
	int skip;

	pthread_mutex_lock(&lock);
	skip = j->abandoned && !j->must_run;
	pthread_mutex_unlock(&lock);
	return skip;
}

static void
wake_cb(evutil_socket_t fd, short what, void *arg)
{
	char buf[256];
	struct job *j, *next;
	(void)what;
	(void)arg;

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	for (j = take_queue(); j; j = next) {
		next = j->next;
		j->next = NULL;
		if (skip_job(j)) {
			job_free(j);
			continue;
		}
		step_start(j);
	}
	pthread_mutex_lock(&lock);
	int stop = !loop_running;
	pthread_mutex_unlock(&lock);
	if (stop)
		event_base_loopbreak(server->base);
}

static void *
loop_main(void *arg)
{
	(void)arg;
	event_base_dispatch(server->base);
	return NULL;
}

static int
make_pipe(void)
{
	if (pipe(wake_fd) < 0)
		return -1;
	for (int i = 0; i < 2; i++)
		if (fcntl(wake_fd[i], F_SETFL, O_NONBLOCK) < 0 ||
		    fcntl(wake_fd[i], F_SETFD, FD_CLOEXEC) < 0)
			return -1;
	return 0;
}

int
loop_start(struct server *srv)
{
	sigset_t all, old;
	int rc;

	if (make_pipe() < 0) {
		log_msg(LOG_ERR, "cannot make the wake-up pipe: %s",
		    strerror(errno));
		return -1;
	}
	wake_ev = event_new(srv->base, wake_fd[0], EV_READ | EV_PERSIST,
	    wake_cb, NULL);
	if (wake_ev == NULL || event_add(wake_ev, NULL) < 0)
		return -1;
	loop_running = 1;
	/* Signals belong to libmilter's signal thread, never this one. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&loop_thread, NULL, loop_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		log_msg(LOG_ERR, "cannot start the loop thread: %s",
		    strerror(rc));
		loop_running = 0;
		return -1;
	}
	return 0;
}

void
loop_stop(void)
{
	if (!loop_running)
		return;
	pthread_mutex_lock(&lock);
	loop_running = 0;
	pthread_mutex_unlock(&lock);
	wake();
	pthread_join(loop_thread, NULL);
	event_free(wake_ev);
	close(wake_fd[0]);
	close(wake_fd[1]);
}

static void
deadline_after(struct timespec *ts, long seconds)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += seconds;
}

int
loop_run(struct job *j, long timeout)
{
	struct timespec deadline;
	int rc = 0;

	deadline_after(&deadline, timeout);
	pthread_mutex_lock(&lock);
	*queue_tail = j;
	queue_tail = &j->next;
	wake();
	if (j->must_run)
		j->abandoned = 1;
	while (!j->abandoned && !j->done && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&j->cond, &lock, &deadline);
	if (!j->done)
		j->abandoned = 1;
	rc = j->done ? 0 : -1;
	pthread_mutex_unlock(&lock);
	return rc;
}

/* The loop thread's side of step_finish(): wake the waiter, or free the
 * job when nobody waits any more. */
void
loop_job_done(struct job *j)
{
	pthread_mutex_lock(&lock);
	if (j->abandoned) {
		pthread_mutex_unlock(&lock);
		job_free(j);
		return;
	}
	j->done = 1;
	pthread_cond_signal(&j->cond);
	pthread_mutex_unlock(&lock);
}
