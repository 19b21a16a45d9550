/*
 * NAME
 *	auth_step.c - the auth plugin's SASL steps, off the event loop
 * DESCRIPTION
 *	Implements auth_step.h.  STEP_THREADS threads per worker process
 *	take steps from a queue, run sasl_server_start or _step on the
 *	step's connection, and put it on a finished list; an eventfd wakes
 *	the loop, whose watch hands each step to the plugin.  A slow check
 *	(saslauthd and PAM) then holds one thread, never the loop; other
 *	logins in the same worker wait for a free thread.
 *
 *	Cyrus SASL locks its shared state only with the mutex functions an
 *	application gives it (sasl_set_mutex, in the plugin's init); its
 *	connections are each used by one thread at a time, which the
 *	hand-over guarantees.
 *
 *	The threads start at the first step a process submits, never in the
 *	master (which runs init only to check, then forks: threads do not
 *	survive fork), and they block every signal: signals are the loop's.
 */
#include "autoconfig.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth_step.h"
#include "plugin_threads.h"

#define STEP_THREADS 4

static struct {
	pthread_mutex_t lock;
	pthread_cond_t work;
	struct auth_step *queue, **queue_tail;
	struct auth_step *done;
	int stopping;
	struct loop_wake wake;	/* done is not empty */
	pid_t pid;		/* the process the threads run in */
	unsigned nthreads;
	pthread_t threads[STEP_THREADS];
	const struct ehlod_host *host;
	ehlod_ctx *inst;
	void (*finished)(struct auth_step *);
} pool = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.work = PTHREAD_COND_INITIALIZER,
	.wake = { .efd = -1 },
};

/* The step a thread is running, for the log callback. */
static _Thread_local struct auth_step *running;

int
auth_step_log(int priority, const char *text)
{
	struct auth_step *j = running;

	if (j == NULL)
		return 0;
	if (j->nlog < AUTH_STEP_LOG_LINES) {
		j->log[j->nlog].priority = priority;
		snprintf(j->log[j->nlog].text, sizeof(j->log[j->nlog].text),
		    "%s", text);
		j->nlog++;
	}
	return 1;
}

void
auth_conn_dispose(sasl_conn_t **conn, sasl_callback_t **callbacks)
{
	if (*callbacks != NULL)
		(*callbacks)[0].context = NULL;
	if (*conn != NULL)
		sasl_dispose(conn);
	free(*callbacks);
	*callbacks = NULL;
}

void
auth_step_free(struct auth_step *j)
{
	if (j->in != NULL) {
		memset(j->in, 0, j->inmax);	/* may hold a password */
		free(j->in);
	}
	free(j);
}

/* ---- in the threads ------------------------------------------------ */

static void
run_step(struct auth_step *j)
{
	running = j;
	if (j->first)
		j->rc = sasl_server_start(j->conn, j->mech, j->in, j->inlen,
		    &j->out, &j->outlen);
	else
		j->rc = sasl_server_step(j->conn, j->in, j->inlen, &j->out,
		    &j->outlen);
	running = NULL;
}

static void *
run(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&pool.lock);
	for (;;) {
		struct auth_step *j = pool.queue;

		if (j == NULL) {
			if (pool.stopping)
				break;
			pthread_cond_wait(&pool.work, &pool.lock);
			continue;
		}
		pool.queue = j->next;
		if (pool.queue == NULL)
			pool.queue_tail = &pool.queue;
		pthread_mutex_unlock(&pool.lock);
		run_step(j);
		pthread_mutex_lock(&pool.lock);
		j->next = pool.done;
		pool.done = j;
		if (j->next == NULL)
			loop_wake_post(&pool.wake);
	}
	pthread_mutex_unlock(&pool.lock);
	return NULL;
}

/* ---- in the event loop --------------------------------------------- */

/* The loop woke: the finished steps back to the plugin, in order. */
static void
take_done(void *arg)
{
	struct auth_step *list, *next, *back = NULL;

	(void)arg;
	pthread_mutex_lock(&pool.lock);
	list = pool.done;
	pool.done = NULL;
	pthread_mutex_unlock(&pool.lock);
	/* The list is newest first. */
	for (; list != NULL; list = next) {
		next = list->next;
		list->next = back;
		back = list;
	}
	for (; back != NULL; back = next) {
		next = back->next;
		pool.finished(back);
	}
}

void
auth_step_setup(const struct ehlod_host *host, ehlod_ctx *inst,
    void (*finished)(struct auth_step *))
{
	pool.host = host;
	pool.inst = inst;
	pool.finished = finished;
	pool.queue_tail = &pool.queue;
}

static int
start(void)
{
	int err;

	if (loop_wake_open(&pool.wake, pool.host, pool.inst, take_done, NULL,
	    "the SASL threads") < 0)
		return -1;
	pool.stopping = 0;
	pool.pid = getpid();
	pool.nthreads = threads_start(pool.threads, STEP_THREADS, run, &err);
	if (pool.nthreads == 0) {
		auth_step_stop();
		errno = err;
		return -1;
	}
	return 0;
}

int
auth_step_submit(struct auth_step *j)
{
	if (pool.pid != getpid() && start() < 0)
		return -1;
	j->next = NULL;
	pthread_mutex_lock(&pool.lock);
	*pool.queue_tail = j;
	pool.queue_tail = &j->next;
	pthread_cond_signal(&pool.work);
	pthread_mutex_unlock(&pool.lock);
	return 0;
}

/* Sessions are gone by now: what came back, or never ran, is nobody's. */
static void
dispose_list(struct auth_step *list)
{
	struct auth_step *next;

	for (struct auth_step *j = list; j != NULL; j = next) {
		next = j->next;
		if (j->s == NULL)
			auth_conn_dispose(&j->conn, &j->callbacks);
		auth_step_free(j);
	}
}

unsigned
auth_step_stop(void)
{
	struct auth_step *unrun;
	unsigned left;

	if (pool.pid != getpid()) {
		pool.pid = 0;
		return 0;
	}
	pthread_mutex_lock(&pool.lock);
	pool.stopping = 1;
	unrun = pool.queue;
	pool.queue = NULL;
	pool.queue_tail = &pool.queue;
	pthread_cond_broadcast(&pool.work);
	pthread_mutex_unlock(&pool.lock);
	dispose_list(unrun);
	left = threads_join_within(pool.threads, pool.nthreads,
	    THREADS_STOP_WAIT);
	if (left > 0)
		return left;	/* their lock, list and eventfd stay */
	pool.nthreads = 0;
	dispose_list(pool.done);
	pool.done = NULL;
	loop_wake_close(&pool.wake);
	pool.pid = 0;
	return 0;
}
