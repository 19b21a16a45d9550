/*
 * NAME
 *	plugin_threads.c - worker threads of a plugin, and their way back
 *	to the event loop
 * DESCRIPTION
 *	Implements plugin_threads.h.  An eventfd rather than a pipe: one
 *	descriptor, and a counter that many posts add to without ever
 *	filling up.
 */
#include "autoconfig.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "plugin_threads.h"

static void arm(struct loop_wake *w);

static void
on_wake(ehlod_ctx *c, void *arg, unsigned events)
{
	struct loop_wake *w = arg;
	uint64_t n;

	(void)c;
	(void)events;
	if (read(w->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		w->host->log(w->inst, LOG_ERR, "eventfd: %s", strerror(errno));
	if (!EHLOD_HOST_HAS(w->host, watch_persistent))
		arm(w);		/* a one-shot watch is gone once it fired */
	w->take(w->arg);
}

static void
arm(struct loop_wake *w)
{
	ehlod_event *e;

	if (EHLOD_HOST_HAS(w->host, watch_persistent))
		e = w->host->watch_persistent(w->inst, w->efd,
		    EHLOD_WATCH_READ, on_wake, w);
	else
		e = w->host->watch(w->inst, w->efd, EHLOD_WATCH_READ, 0,
		    on_wake, w);
	if (e == NULL)
		w->host->log(w->inst, LOG_ERR, "cannot watch %s: their work "
		    "will hang", w->what);
}

int
loop_wake_open(struct loop_wake *w, const struct ehlod_host *host,
    ehlod_ctx *inst, void (*take)(void *), void *arg, const char *what)
{
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->efd < 0)
		return -1;
	w->host = host;
	w->inst = inst;
	w->take = take;
	w->arg = arg;
	w->what = what;
	arm(w);
	return 0;
}

void
loop_wake_post(struct loop_wake *w)
{
	uint64_t one = 1;

	/* A failed write leaves the counter non-zero (it cannot overflow
	 * here): the loop wakes all the same. */
	(void)!write(w->efd, &one, sizeof(one));
}

void
loop_wake_close(struct loop_wake *w)
{
	if (w->efd >= 0)
		close(w->efd);
	w->efd = -1;
}

unsigned
threads_start(pthread_t *threads, unsigned n, void *(*run)(void *),
    int *err)
{
	sigset_t all, old;
	unsigned started = 0;

	*err = 0;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (; started < n; started++) {
		*err = pthread_create(&threads[started], NULL, run, NULL);
		if (*err != 0)
			break;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return started;
}

unsigned
threads_join_within(pthread_t *threads, unsigned n, unsigned seconds)
{
	struct timespec deadline;
	unsigned left = 0;

	clock_gettime(CLOCK_REALTIME, &deadline);	/* the clock it takes */
	deadline.tv_sec += seconds;
	for (unsigned i = 0; i < n; i++)
		if (pthread_timedjoin_np(threads[i], NULL, &deadline) != 0)
			left++;
	return left;
}
