/*
 * localuser.c - a call that blocks, made by threads off the event loop.
 *
 * RCPT TO's local part must name a user of this host.  getpwnam_r() may
 * wait for LDAP, NIS or sssd behind NSS, and nothing may block in the
 * host's loop, so the hook hands the lookup to a thread and returns
 * PENDING; the loop serves every other session meanwhile.  The thread
 * puts the finished job on a list and writes to an eventfd; the loop's
 * watch on that eventfd takes the list and resumes each session.  The
 * same pattern serves any blocking library (SQL, LDAP, HTTP clients).
 *
 * Four rules make it safe:
 *  - The threads never call the host: only the loop does (plugin.h,
 *    Threading).  They touch nothing but their job and the lists.
 *  - A session can end while its lookup runs (the client hung up).
 *    on_close forgets it (job->s = NULL), so the answer is dropped.
 *  - The threads start at the first RCPT a process sees, not in init:
 *    ehlod's master runs init, then forks its workers, and threads do
 *    not survive fork.
 *  - fini stops and joins them before the host unloads this code.
 *
 * Options: threads (lookups at once per process, default 4), delay_ms
 * (added to each lookup, to watch the loop serve others meanwhile).
 * Postmaster is always accepted (RFC 5321 4.5.1).
 */
#define _GNU_SOURCE		/* pthread_timedjoin_np */
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <ehlod/plugin.h>

#define THREADS_MAX 64
#define STOP_WAIT 5		/* seconds fini waits for a lookup */

struct conf { long long threads, delay_ms; };
struct sess { struct job *pending; };	/* the lookup in flight */
struct job {
	struct job *next;
	ehlod_ctx *s;		/* NULL once the session ended */
	char user[256];
	int found, err;		/* the thread's answer */
};

static const struct ehlod_host *host;
static ehlod_ctx *inst;			/* this process's instance */
static long long delay_ms;
/* Shared with the threads, under lock. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work = PTHREAD_COND_INITIALIZER;
static struct job *queue, **queue_end = &queue, *done;
static int stopping;
/* The loop's own. */
static pid_t owner;			/* the process init last ran in */
static pid_t started_in;		/* the process the threads run in */
static pthread_t threads[THREADS_MAX];
static unsigned nthreads;
static int efd = -1;
static ehlod_event *wake;

/* ---- in the threads ---- */

static void look_up(struct job *j)
{
	struct passwd pw, *res = NULL;
	char buf[16384];

	if (delay_ms > 0)
		nanosleep(&(struct timespec){ delay_ms / 1000,
		    delay_ms % 1000 * 1000000 }, NULL);
	j->err = getpwnam_r(j->user, &pw, buf, sizeof(buf), &res);
	j->found = res != NULL;
}

static void *run(void *arg)
{
	const uint64_t one = 1;

	(void)arg;
	pthread_mutex_lock(&lock);
	while (!stopping) {
		struct job *j = queue;

		if (j == NULL) {
			pthread_cond_wait(&work, &lock);
			continue;
		}
		if ((queue = j->next) == NULL)
			queue_end = &queue;
		pthread_mutex_unlock(&lock);
		look_up(j);
		pthread_mutex_lock(&lock);
		j->next = done;
		done = j;
		/* The counter cannot fill up: a failed write still wakes. */
		(void)!write(efd, &one, sizeof(one));
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

/* ---- in the loop ---- */

static void answer(struct job *j)
{
	struct sess *ss = host->session_data(j->s);

	ss->pending = NULL;
	if (j->err != 0) {
		host->reply(j->s, 451, "4.3.0", "Cannot look up %s: %s",
		    j->user, strerror(j->err));
		host->resume(j->s, EHLOD_TEMPFAIL);
	} else if (!j->found) {
		host->reply(j->s, 550, "5.1.1", "No such user here: %s",
		    j->user);
		host->resume(j->s, EHLOD_REJECT);
	} else {
		host->resume(j->s, EHLOD_CONTINUE);
	}
}

static void take_done(ehlod_ctx *c, void *arg, unsigned events)
{
	struct job *list, *next;
	uint64_t n;

	(void)c, (void)arg, (void)events;
	(void)!read(efd, &n, sizeof(n));
	pthread_mutex_lock(&lock);
	list = done;
	done = NULL;
	pthread_mutex_unlock(&lock);
	for (; list != NULL; list = next) {
		next = list->next;
		if (list->s != NULL)
			answer(list);
		free(list);
	}
}

static void stop(void);

static int start(void)
{
	const struct conf *cf = host->instance(inst);
	sigset_t all, old;

	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (efd < 0)
		return -1;
	wake = host->watch_persistent(inst, efd, EHLOD_WATCH_READ, take_done,
	    NULL);
	if (wake == NULL) {
		close(efd);
		efd = -1;
		return -1;
	}
	started_in = owner;
	stopping = 0;
	/* Signals are the loop's business: the threads block them all. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (nthreads = 0; nthreads < cf->threads; nthreads++)
		if (pthread_create(&threads[nthreads], NULL, run, NULL) != 0)
			break;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (nthreads > 0)
		return 0;
	host->cancel(wake);
	stop();
	return -1;
}

static ehlod_verdict rcpt(ehlod_ctx *c, const char *to)
{
	struct sess *ss = host->session_data(c);
	const char *at = strrchr(to, '@');
	size_t len = at != NULL ? (size_t)(at - to) : strlen(to);
	struct job *j;

	if (len == 10 && strncasecmp(to, "postmaster", len) == 0)
		return EHLOD_CONTINUE;
	if (len >= sizeof(j->user)) {
		host->reply(c, 550, "5.1.1", "No such user here");
		return EHLOD_REJECT;
	}
	if (started_in != owner && start() < 0) {
		host->log(c, LOG_ERR, "cannot start the lookup threads");
		return EHLOD_TEMPFAIL;	/* 451 4.3.0 */
	}
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return EHLOD_TEMPFAIL;
	memcpy(j->user, to, len);
	j->s = c;
	pthread_mutex_lock(&lock);
	*queue_end = j;		/* first come, first served */
	queue_end = &j->next;
	pthread_cond_signal(&work);
	pthread_mutex_unlock(&lock);
	ss->pending = j;
	return EHLOD_PENDING;
}

static void on_close(ehlod_ctx *c)
{
	struct sess *ss = host->session_data(c);

	if (ss->pending != NULL)
		ss->pending->s = NULL;
}

/* ---- start and end ---- */

static void free_list(struct job *list)
{
	for (struct job *next; list != NULL; list = next) {
		next = list->next;
		free(list);
	}
}

static void stop(void)
{
	struct timespec deadline;
	unsigned left = 0;

	pthread_mutex_lock(&lock);
	stopping = 1;
	pthread_cond_broadcast(&work);
	pthread_mutex_unlock(&lock);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += STOP_WAIT;
	for (unsigned i = 0; i < nthreads; i++)
		left += pthread_timedjoin_np(threads[i], NULL, &deadline) != 0;
	if (left > 0) {		/* a lookup hangs: leave it all as it is */
		host->log(inst, LOG_WARNING, "%u lookup%s still running", left,
		    left == 1 ? "" : "s");
		return;
	}
	free_list(queue);
	free_list(done);
	queue = done = NULL;
	queue_end = &queue;
	close(efd);	/* its watch, the instance's, is gone before fini */
	efd = -1;
	wake = NULL;
	nthreads = 0;
	started_in = 0;
}

static int init(const struct ehlod_host *h, ehlod_ctx *i)
{
	host = h;
	inst = i;
	owner = getpid();	/* a new process: its threads are not started */
	delay_ms = ((const struct conf *)h->instance(i))->delay_ms;
	return 0;
}

static void fini(ehlod_ctx *i)
{
	(void)i;
	if (started_in == owner)
		stop();
}

static const struct ehlod_option opts[] = {
	{ "threads", EHLOD_OPT_INT, offsetof(struct conf, threads), "4", 0,
	  1, THREADS_MAX, NULL },
	{ "delay_ms", EHLOD_OPT_INT, offsetof(struct conf, delay_ms), "0", 0,
	  0, 60000, NULL },
	{ 0 }
};

EHLOD_PLUGIN_EXPORT const struct ehlod_plugin ehlod_plugin = {
	EHLOD_PLUGIN_HEADER,
	.name = "localuser",
	.flags = EHLOD_PLUGIN_MILTER_HOOKS,
	.options = opts,
	.instance_size = sizeof(struct conf),
	.session_data_size = sizeof(struct sess),
	.init = init,
	.fini = fini,
	.on_rcpt = rcpt,
	.on_close = on_close,
};
