/*
 * NAME
 *	worker.c - a worker process: one event loop serving sessions
 * DESCRIPTION
 *	Each worker inherits the master's listening sockets and accepts on
 *	them; the kernel hands each connection to one worker.  Plugins are
 *	initialised here, as root, so they can read root-only files (TLS
 *	keys), then privileges are dropped before the first connection.
 *	SIGTERM drains: listeners close, idle sessions get 421, sessions in
 *	a transaction finish it first, and after a grace period whoever is
 *	left gets 421.  SIGHUP (sent by the master after a reload) stops
 *	accepting and lets every session end by itself.  After the last
 *	session the loop still runs, for at most LINGER_SECONDS, while
 *	plugins finish their own conversations (the relay's QUIT to its
 *	next hop); then the plugins' fini runs.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "hostapi.h"
#include "log.h"
#include "proxy.h"
#include "session.h"
#include "smtpd.h"
#include "spool_writer.h"
#include "stats.h"
#include "status.h"
#include "worker.h"
#include "xmalloc.h"

#define DRAIN_GRACE_SECONDS 30

/* After the last session: how long plugins' own I/O may keep the worker. */
#define LINGER_SECONDS 2

/* Out of descriptors: stop accepting for this long, then try again. */
#define ACCEPT_PAUSE_MS 1000

int worker_status_fd = -1;
pid_t worker_master_pid;
static struct evconnlistener *status_listener;
static struct evconnlistener **listeners;
static size_t nlisteners;
static struct event *grace_ev;
static struct event *resume_accept_ev;
/* At most one log line per ACCEPT_LOG_INTERVAL: at the limit every freed
 * descriptor lets one accept through before the next failure, so "until
 * an accept works" would not end a shortage. */
#define ACCEPT_LOG_INTERVAL 60
static time_t accept_logged;		/* when the last line was written */
static unsigned accept_unlogged;	/* pauses since then */

int
drop_privileges(const char *user)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return 0;
	pw = getpwnam(user);
	if (pw == NULL) {
		log_msg(LOG_ERR, "user '%s' does not exist", user);
		return -1;
	}
	/* The user's groups from /etc/group come along, as with Postfix's
	 * daemons and ehlod-milter: "adduser ehlod sasl" is how an admin
	 * lets the workers reach saslauthd's socket, and "ehlod -t" checks
	 * files as the user with these groups (user_access.c). */
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 ||
	    setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
		log_msg(LOG_ERR, "cannot switch to user '%s': %s", user,
		    strerror(errno));
		return -1;
	}
	return 0;
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct bufferevent *bev;
	(void)l;

	bev = bufferevent_socket_new(server->base, fd,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (bev == NULL) {
		evutil_closesocket(fd);
		return;
	}
	/* The listener (arg) whose policy the new session takes. */
	server->accepting = arg;
	if (server->conf->proxy_protocol)
		proxy_accept(bev, sa, (socklen_t)salen);
	else
		session_new(bev, sa, (socklen_t)salen);
	server->accepting = NULL;
}

static void
set_accepting(int on)
{
	for (size_t i = 0; i < nlisteners; i++)
		if (listeners[i])
			(on ? evconnlistener_enable :
			    evconnlistener_disable)(listeners[i]);
}

static void
resume_accepting(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (!server->draining)
		set_accepting(1);
}

/*
 * accept() failed.  Out of descriptors (or kernel memory) the listening
 * socket stays readable, and retrying at once would spin the loop and
 * flood the log; instead accepting pauses for ACCEPT_PAUSE_MS, and one
 * line is logged per shortage (at most one per ACCEPT_LOG_INTERVAL,
 * counting the pauses in between).  The sessions already open go on.
 */
static void
accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct timeval pause = { 0, ACCEPT_PAUSE_MS * 1000 };
	int err = EVUTIL_SOCKET_ERROR();
	(void)l;
	(void)arg;

	time_t now = time(NULL);

	stats_add(STAT_ACCEPT_PAUSES, 1);
	if (now - accept_logged >= ACCEPT_LOG_INTERVAL) {
		log_msg(err == EMFILE || err == ENFILE ? LOG_WARNING : LOG_ERR,
		    "accept: %s with %zu sessions; not accepting for %d ms "
		    "at a time until it works again (%u pauses since the last "
		    "such line)", strerror(err), server->nsessions,
		    ACCEPT_PAUSE_MS, accept_unlogged);
		accept_logged = now;
		accept_unlogged = 0;
	} else
		accept_unlogged++;
	set_accepting(0);
	if (resume_accept_ev == NULL)
		resume_accept_ev = evtimer_new(server->base, resume_accepting,
		    NULL);
	if (resume_accept_ev)
		evtimer_add(resume_accept_ev, &pause);
}

static void
close_listeners(void)
{
	if (status_listener)
		evconnlistener_free(status_listener);
	status_listener = NULL;
	for (size_t i = 0; i < nlisteners; i++)
		if (listeners[i])
			evconnlistener_free(listeners[i]);
	nlisteners = 0;
}

static void
grace_over(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	log_msg(LOG_INFO, "drain period over; closing %zu sessions",
	    server->nsessions);
	for (struct ehlod_session *s = server->sessions, *n; s; s = n) {
		n = s->next;
		session_free(s);
	}
	event_base_loopexit(server->base, NULL);
}

static void
start_drain(int say_421)
{
	struct timeval grace = { DRAIN_GRACE_SECONDS, 0 };

	if (server->draining == DRAIN_STOP ||
	    (server->draining && !say_421))
		return;
	server->draining = say_421 ? DRAIN_STOP : DRAIN_RELOAD;
	close_listeners();
	if (say_421)
		for (struct ehlod_session *s = server->sessions, *n; s; s = n) {
			n = s->next;
			session_shutdown(s);
		}
	if (server->nsessions == 0) {
		event_base_loopexit(server->base, NULL);
		return;
	}
	if (say_421) {
		grace_ev = evtimer_new(server->base, grace_over, NULL);
		evtimer_add(grace_ev, &grace);
	}
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	(void)arg;
	start_drain(sig != SIGHUP);
}

/* A socket serves the listener the master named it for, from the same
 * configuration (sockets.c); the first listener is only a guard. */
static const struct listener *
socket_listener(const struct config *c, const char *name)
{
	const struct listener *l = name ? listener_find(c->listeners,
	    c->nlisteners, name) : NULL;

	return l ? l : c->nlisteners ? &c->listeners[0] : NULL;
}

static int
listen_all(const int *fds, char *const *names, size_t nfds)
{
	listeners = xcalloc(nfds, sizeof(*listeners));
	for (size_t i = 0; i < nfds; i++) {
		const struct listener *l = socket_listener(server->conf,
		    names ? names[i] : NULL);
		evutil_make_socket_nonblocking(fds[i]);
		/* Closing it on free matters on SIGTERM: once every process
		 * has closed the socket, connections are refused, not left
		 * in a backlog that no one will accept from. */
		listeners[i] = evconnlistener_new(server->base, accept_cb,
		    (void *)l, LEV_OPT_CLOSE_ON_FREE, -1, fds[i]);
		if (listeners[i] == NULL)
			return -1;
		evconnlistener_set_error_cb(listeners[i], accept_error_cb);
		nlisteners++;
	}
	if (worker_status_fd >= 0)
		status_listener = status_serve(server->base, worker_status_fd);
	return 0;
}

static void
linger_over(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

/*
 * A session's end can start I/O that outlives it: the relay closes its
 * client of the next hop, which sends QUIT from the loop and frees itself
 * at the reply.  Leaving the loop with the last session would drop that
 * connection without a QUIT (and leak the client).  By now the worker's
 * own events are gone; the plugins' host watches and timers are cancelled
 * here (fini would cancel them next) and the spool writer is no longer
 * watched (no message is left), so whatever events remain are such I/O.
 * The loop runs until none is left, or for LINGER_SECONDS at most.
 * Returns 1 when some is left: the caller then leaves the loop to the
 * process's end rather than free it under that I/O.
 */
static int
finish_plugin_io(struct plugin_set *set)
{
	struct timeval bound = { LINGER_SECONDS, 0 };
	struct event *deadline;
	int left;

	plugins_cancel_events(set);
	spool_writer_shutdown();
	deadline = evtimer_new(server->base, linger_over, NULL);
	if (deadline == NULL || evtimer_add(deadline, &bound) < 0) {
		if (deadline)
			event_free(deadline);
		return 1;
	}
	/* The deadline is the one event left once that I/O is over. */
	while (evtimer_pending(deadline, NULL) &&
	    event_base_get_num_events(server->base,
	    EVENT_BASE_COUNT_ADDED) > 1)
		event_base_loop(server->base, EVLOOP_ONCE);
	left = !evtimer_pending(deadline, NULL);
	if (left)
		log_msg(LOG_WARNING, "plugins' own events (connections, "
		    "timers) still pending %d s after the last session; "
		    "leaving them", LINGER_SECONDS);
	event_free(deadline);
	return left;
}

int
worker_run(struct config *c, struct plugin_set *set, const int *fds,
    char *const *names, size_t nfds)
{
	static struct server srv;
	struct event *sigs[3];
	const int signums[3] = { SIGTERM, SIGINT, SIGHUP };
	int left_io;

	signal(SIGPIPE, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	signal(SIGUSR2, SIG_IGN);
	srv.conf = c;
	srv.plugins = set;
	srv.base = event_base_new();
	server = &srv;
	if (srv.base == NULL || spool_writer_init(srv.base) < 0)
		return 1;
	if (plugins_init_again(set, host_table()) < 0)
		return WORKER_EXIT_CONFIG;
	if (drop_privileges(c->user) < 0 || listen_all(fds, names, nfds) < 0)
		return WORKER_EXIT_CONFIG;
	/* A worker must not outlive the master (its SIGTERM drains).  Set
	 * after the switch of user, which clears it. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 ||
	    getppid() != worker_master_pid)
		return 1;
	/* Nothing a worker or its plugins execute may gain privileges
	 * (set-user-id programs, file capabilities). */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		log_msg(LOG_ERR, "cannot set no_new_privs: %s",
		    strerror(errno));
		return WORKER_EXIT_CONFIG;
	}
	for (int i = 0; i < 3; i++) {
		sigs[i] = evsignal_new(srv.base, signums[i], signal_cb, NULL);
		evsignal_add(sigs[i], NULL);
	}
	event_base_dispatch(srv.base);
	close_listeners();
	for (int i = 0; i < 3; i++)
		event_free(sigs[i]);
	if (grace_ev)
		event_free(grace_ev);
	if (resume_accept_ev)
		event_free(resume_accept_ev);
	left_io = finish_plugin_io(set);
	plugins_fini(set);
	if (!left_io)
		event_base_free(srv.base);
	return 0;
}
