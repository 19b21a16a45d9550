/*
 * NAME
 *	master.c - the master process: sockets, workers, signals
 * DESCRIPTION
 *	The master binds every listen address (as root, for port 25), forks
 *	the workers, which inherit the sockets and accept on them, and then
 *	only waits for signals:
 *	SIGCHLD	a worker ended: reap it; restart it unless it failed to start
 *		(then the whole server stops: the config cannot work).  Only
 *		a burst of crashes (CRASH_BURST within CRASH_WINDOW seconds)
 *		stops the server; a rare crash over weeks never does.
 *	SIGTERM, SIGINT
 *		stop: the workers drain (421 to idle sessions) and the master
 *		exits when the last one has.
 *	SIGHUP	reload: the config is read and its plugins tried; if that
 *		works, new workers start with it and the old ones stop
 *		accepting and finish their sessions, so no session is cut.
 *		If it fails the running workers go on and the log says why.
 *		The listen addresses change too (sockets.c): one both
 *		files name keeps its socket, a new one is bound (the master
 *		is root) and a dropped one closed.  So do the master's own
 *		settings: pid file, status socket, log.
 *	SIGUSR1, SIGUSR2
 *		ignored, with a log line (the log goes to stderr or syslog:
 *		there is no file to reopen).
 *	On stop the master closes its listening sockets at once and the
 *	workers close theirs, so a new connection is refused instead of
 *	waiting in a backlog nobody accepts from.  Workers die with the
 *	master (PR_SET_PDEATHSIG): one is never left serving on its own.
 *	The master stays root so it can start workers that bind privileged
 *	ports' sockets and read root-only files on a reload.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "anvil.h"
#include "confcheck.h"
#include "log.h"
#include "master.h"
#include "notify.h"
#include "sockets.h"
#include "stats.h"
#include "status.h"
#include "worker.h"
#include "xmalloc.h"

#define MAX_WORKERS 256
/* More unexpected worker ends than this within the window: stop. */
#define CRASH_BURST 10
#define CRASH_WINDOW 60

struct worker {
	pid_t pid;
	unsigned generation;
};

static struct worker workers[MAX_WORKERS * 2];
static size_t nworkers;
static unsigned generation;
static struct socket_set sockets;	/* bound, for the next workers */
static char *pid_path;		/* the pid file written, or NULL */
static char *status_path;	/* the status socket bound, or NULL */
static int debug_forced;	/* ehlod -d: debug whatever the file says */
static time_t crashes[CRASH_BURST];	/* when the last ones happened */
static size_t ncrashes;

/* Records a crash; 1 when CRASH_BURST of them fell within CRASH_WINDOW. */
static int
crash_burst(void)
{
	time_t now = time(NULL);
	time_t oldest = crashes[ncrashes % CRASH_BURST];

	crashes[ncrashes++ % CRASH_BURST] = now;
	return ncrashes > CRASH_BURST && now - oldest < CRASH_WINDOW;
}

/* pid_file: written once the sockets are bound, removed at exit. */
static int
write_pid_file(const char *path)
{
	char text[32];
	int fd, n;

	if (path == NULL || path[0] == '\0')
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
	    0644);
	n = snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	if (fd < 0 || write(fd, text, (size_t)n) != n) {
		log_msg(LOG_ERR, "pid_file %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static char *
copy_path(const char *path)
{
	return path != NULL && path[0] != '\0' ? xstrdup(path) : NULL;
}

static int
same_path(const char *now, const char *next)
{
	return strcmp(now ? now : "", next ? next : "") == 0;
}

static void
remove_pid_file(void)
{
	if (pid_path != NULL)
		unlink(pid_path);
	free(pid_path);
	pid_path = NULL;
}

static void
close_status_socket(void)
{
	if (worker_status_fd >= 0) {
		close(worker_status_fd);
		unlink(status_path);
	}
	worker_status_fd = -1;
	free(status_path);
	status_path = NULL;
}

/* The status socket where c wants it; like at start, one that cannot be
 * bound is logged and the server goes on without it.  The old workers
 * keep serving the old one until they end, but its name is gone. */
static void
move_status_socket(const struct config *c)
{
	if (same_path(status_path, c->status_socket))
		return;
	close_status_socket();
	worker_status_fd = status_listen(c->status_socket);
	if (worker_status_fd >= 0)
		status_path = copy_path(c->status_socket);
}

static void
apply_log_settings(const struct config *c)
{
	log_open(c->syslog_name ? c->syslog_name : "ehlod", c->use_syslog,
	    c->syslog_facility);
	log_set_debug(debug_forced || c->debug);
}

static const char *
plural(size_t n)
{
	return n == 1 ? "" : "s";
}

/* c and set are the master's: allocated by main or by a reload. */
static void
master_free(struct config *c, struct plugin_set *set)
{
	plugins_unload(set);
	config_free(c);
	free(set);
	free(c);
}

static int
spawn(struct config *c, struct plugin_set *set, const sigset_t *old)
{
	pid_t pid;

	if (nworkers >= sizeof(workers) / sizeof(workers[0]))
		return -1;
	pid = fork();
	if (pid < 0) {
		log_msg(LOG_ERR, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, old, NULL);
		_exit(worker_run(c, set, sockets.fds, sockets.names,
		    sockets.n));
	}
	workers[nworkers].pid = pid;
	workers[nworkers].generation = generation;
	nworkers++;
	return 0;
}

static void
signal_generation(int sig, int current)
{
	for (size_t i = 0; i < nworkers; i++)
		if ((workers[i].generation == generation) == current)
			kill(workers[i].pid, sig);
}

static struct worker *
find_worker(pid_t pid)
{
	for (size_t i = 0; i < nworkers; i++)
		if (workers[i].pid == pid)
			return &workers[i];
	return NULL;
}

static void
forget_worker(struct worker *w)
{
	*w = workers[--nworkers];
}

/* Returns -1 when the server must stop (a worker cannot start). */
static int
reap(struct config *c, struct plugin_set *set, const sigset_t *old,
    int stopping)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct worker *w = find_worker(pid);
		if (w == NULL)
			continue;
		int current = w->generation == generation;
		forget_worker(w);
		if (stopping || !current)
			continue;
		if (WIFEXITED(status) && WEXITSTATUS(status) ==
		    WORKER_EXIT_CONFIG) {
			log_msg(LOG_CRIT, "worker %ld could not start; "
			    "stopping", (long)pid);
			return -1;
		}
		log_msg(LOG_WARNING, "worker %ld ended unexpectedly (status "
		    "%d); starting another", (long)pid, status);
		anvil_forget_sessions();
		if (crash_burst()) {
			log_msg(LOG_CRIT, "%d workers ended unexpectedly within "
			    "%d seconds; stopping", CRASH_BURST, CRASH_WINDOW);
			return -1;
		}
		spawn(c, set, old);
	}
	return 0;
}

static void
reload_failed(struct config *nc, struct plugin_set *ns)
{
	log_msg(LOG_ERR, "reload failed; the running configuration stays in "
	    "force");
	plugins_unload(ns);
	config_free(nc);
	free(nc);
	free(ns);
	notify_ready("reload failed; running the previous configuration");
}

/* The new file's plugins are tried, its pid file written (when it moved)
 * and its addresses bound before anything changes, so a reload that
 * cannot work leaves the server as it was.  The sockets of dropped
 * addresses are closed before the new workers fork, lest they inherit
 * them; the old workers close theirs when the SIGHUP reaches them, and
 * connections there are then refused. */
static void
reload(const char *file, struct config **c, struct plugin_set **set,
    const sigset_t *old)
{
	struct config *nc = xcalloc(1, sizeof(*nc));
	struct plugin_set *ns = xcalloc(1, sizeof(*ns));
	struct socket_set next;
	int pid_moved;

	log_msg(LOG_INFO, "reloading %s", file);
	notify_reloading();
	if (check_config(file, nc, ns) < 0) {
		reload_failed(nc, ns);
		return;
	}
	pid_moved = !same_path(pid_path, nc->pid_file);
	if (pid_moved && write_pid_file(nc->pid_file) < 0) {
		reload_failed(nc, ns);
		return;
	}
	if (sockets_open(nc, &sockets, &next) < 0) {
		if (pid_moved && nc->pid_file && nc->pid_file[0])
			unlink(nc->pid_file);
		reload_failed(nc, ns);
		return;
	}
	if (pid_moved) {
		remove_pid_file();
		pid_path = copy_path(nc->pid_file);
	}
	move_status_socket(nc);
	apply_log_settings(nc);
	sockets_log_dropped(&sockets);
	sockets_retire(&sockets);
	sockets = next;
	generation++;
	for (long i = 0; i < nc->workers; i++)
		spawn(nc, ns, old);
	signal_generation(SIGHUP, 0);
	/* The old workers have their own copies; the master's can go. */
	master_free(*c, *set);
	*c = nc;
	*set = ns;
	log_msg(LOG_INFO, "reloaded: %zu plugin%s, %ld worker%s, %zu "
	    "socket%s", ns->n, plural(ns->n), nc->workers,
	    plural((size_t)nc->workers), sockets.n, plural(sockets.n));
	notify_ready("reloaded");
	stats_set_plugins(ns);
	stats_add(STAT_RELOADS, 1);
}

static int
supervise(const char *file, struct config **cp, struct plugin_set **setp,
    const sigset_t *mask, const sigset_t *old)
{
	int stopping = 0;
#define cur (*cp)
#define curset (*setp)

	for (;;) {
		int sig = sigwaitinfo(mask, NULL);
		if (sig < 0)
			continue;
		if (sig == SIGCHLD) {
			if (reap(cur, curset, old, stopping) < 0) {
				stopping = 2;
				sockets_retire(&sockets);
				signal_generation(SIGTERM, 1);
				signal_generation(SIGTERM, 0);
			}
			if (stopping && nworkers == 0)
				return stopping == 2 ? 1 : 0;
		} else if (sig == SIGHUP && !stopping) {
			reload(file, cp, setp, old);
		} else if (sig == SIGUSR1 || sig == SIGUSR2) {
			log_msg(LOG_INFO, "SIGUSR%d ignored (the log is stderr "
			    "or syslog: nothing to reopen)", sig == SIGUSR1 ?
			    1 : 2);
		} else if (sig == SIGTERM || sig == SIGINT) {
			log_msg(LOG_INFO, "stopping: draining %zu worker%s",
			    nworkers, plural(nworkers));
			notify_stopping();
			stopping = stopping ? stopping : 1;
			sockets_retire(&sockets);
			signal_generation(SIGTERM, 1);
			signal_generation(SIGTERM, 0);
			if (nworkers == 0)
				return 0;
		}
	}
#undef cur
#undef curset
}

int
master_run(const char *file, struct config *c, struct plugin_set *set,
    int debug)
{
	sigset_t mask, old;

	debug_forced = debug;
	apply_log_settings(c);
	worker_master_pid = getpid();
	anvil_init();
	stats_init();
	stats_set_plugins(set);
	move_status_socket(c);
	/* The pid file is there before anyone can connect. */
	if (write_pid_file(c->pid_file) < 0) {
		close_status_socket();
		master_free(c, set);
		return 1;
	}
	pid_path = copy_path(c->pid_file);
	if (sockets_open(c, NULL, &sockets) < 0) {
		remove_pid_file();
		close_status_socket();
		master_free(c, set);
		return 1;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGUSR2);
	sigprocmask(SIG_BLOCK, &mask, &old);

	log_msg(LOG_INFO, "ehlod %s started: %zu socket%s, %ld worker%s, "
	    "%zu plugin%s", PACKAGE_VERSION, sockets.n, plural(sockets.n),
	    c->workers, plural((size_t)c->workers), set->n, plural(set->n));
	int rc = 0;
	for (long i = 0; rc == 0 && i < c->workers; i++)
		if (spawn(c, set, &old) < 0)
			rc = 1;
	if (rc == 0) {
		notify_ready("accepting mail");
		rc = supervise(file, &c, &set, &mask, &old);
	}
	if (rc != 0)
		signal_generation(SIGTERM, 1);
	master_free(c, set);
	sockets_retire(&sockets);
	remove_pid_file();
	close_status_socket();
	log_msg(LOG_INFO, "stopped");
	return rc;
}
