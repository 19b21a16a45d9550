/*
 * NAME
 *	loop.c - one lock for every plugin call, and the event loop thread
 * DESCRIPTION
 *	Plugins are not thread-safe, so every plugin call, every touch of
 *	the session model and of the event_base happens under one mutex,
 *	the plugin lock.  libmilter's callback thread takes it and runs the
 *	step's hook chain itself: a step whose hooks answer at once costs
 *	one uncontended lock, with no thread hand-over, allocation or
 *	condition variable set-up.
 *
 *	The loop thread runs libevent for timers, a plugin's own sockets
 *	and resumed chains, and it holds the plugin lock all the time except
 *	while it sleeps in epoll_wait().  That is what covers callbacks a
 *	plugin registers itself on host->event_base() (a resolver's socket),
 *	which no wrapper of ours could reach: this file defines epoll_wait(),
 *	which the executable's definition makes the one libevent calls, and
 *	lets go of the lock around the real wait only.  loop_start() proves
 *	it at start-up, on a base that must use epoll.
 *
 *	libevent's own locking (evthread_use_pthreads(), milter_main.c)
 *	wakes the loop thread when a callback thread adds a timer that is
 *	due sooner than the loop's current sleep.
 *
 *	A hook that goes PENDING leaves its callback thread waiting on the
 *	connection's condition variable, which releases the lock, so other
 *	connections go on; the loop thread finishes the chain and signals.
 *	After milter_hook_timeout the waiter, holding the lock again, drops
 *	the parked chain itself.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/epoll.h>
#include <event2/event.h>

#include "log.h"
#include "milter.h"

/* Adaptive: a step holds it for microseconds, so a waiter spins a little
 * before sleeping in the kernel. */
static pthread_mutex_t plugin_lock = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;
static _Thread_local int is_loop_thread;
static atomic_ulong epoll_calls;	/* for the start-up proof */
static pthread_t loop_thread;
static int loop_running;

/*
 * libevent's epoll backend waits here.  On the loop thread the lock is
 * held on entry (see loop_main) and released only for the wait itself;
 * a zero timeout is a poll, not worth letting go of the lock for.
 */
int
epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout)
{
	int rc, saved;

	epoll_calls++;
	if (!is_loop_thread || timeout == 0)
		return epoll_pwait(epfd, events, maxevents, timeout, NULL);
	pthread_mutex_unlock(&plugin_lock);
	rc = epoll_pwait(epfd, events, maxevents, timeout, NULL);
	saved = errno;
	pthread_mutex_lock(&plugin_lock);
	errno = saved;
	return rc;
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
job_release(struct job *j)
{
	free(j->text);
	j->text = NULL;
	hdr_ops_free(j->ops);
	j->ops = NULL;
}

static void *
loop_main(void *arg)
{
	(void)arg;
	is_loop_thread = 1;
	pthread_mutex_lock(&plugin_lock);
	event_base_loop(server->base, EVLOOP_NO_EXIT_ON_EMPTY);
	pthread_mutex_unlock(&plugin_lock);
	return NULL;
}

/* The lock is released only if libevent waits in our epoll_wait(). */
static int
prove_epoll(struct event_base *base)
{
	unsigned long before = epoll_calls;
	const char *method = event_base_get_method(base);

	if (strcmp(method, "epoll") == 0 && event_base_loop(base,
	    EVLOOP_NONBLOCK | EVLOOP_NO_EXIT_ON_EMPTY) >= 0 &&
	    epoll_calls > before)
		return 0;
	log_msg(LOG_ERR, "libevent does not wait in epoll_wait() (method %s): "
	    "the loop thread could not release the plugin lock", method);
	return -1;
}

int
loop_start(struct server *srv)
{
	sigset_t all, old;
	int rc;

	if (prove_epoll(srv->base) < 0)
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
	loop_running = 0;
	/* libevent's locking wakes the loop thread to see the break. */
	event_base_loopbreak(server->base);
	pthread_join(loop_thread, NULL);
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
	struct mconn *c = j->c;
	struct timespec deadline;
	int rc = 0;

	pthread_mutex_lock(&plugin_lock);
	step_start(j);
	if (!j->done) {
		deadline_after(&deadline, timeout);
		j->wake = &c->cond;
		while (!j->done && rc != ETIMEDOUT)
			rc = pthread_cond_timedwait(&c->cond, &plugin_lock,
			    &deadline);
		j->wake = NULL;
		/* The lock is ours again: nothing can finish the chain
		 * between the timeout and dropping it. */
		if (!j->done) {
			j->timed_out = 1;
			step_drop_parked(c);
		}
	}
	rc = j->timed_out ? -1 : 0;
	pthread_mutex_unlock(&plugin_lock);
	return rc;
}

/* step_finish()'s last word: the verdict is in j.  A CLOSE job's
 * connection is gone by now, so only the job is touched. */
void
loop_job_done(struct job *j)
{
	j->done = 1;
	if (j->wake)
		pthread_cond_signal(j->wake);
}

int
loop_conn_init(struct mconn *c)
{
	pthread_condattr_t attr;
	int rc;

	/* Deadlines are on the monotonic clock: a clock step must not cut
	 * a hook short or stretch it. */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	rc = pthread_cond_init(&c->cond, &attr);
	pthread_condattr_destroy(&attr);
	return rc == 0 ? 0 : -1;
}
