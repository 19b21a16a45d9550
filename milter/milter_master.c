/*
 * NAME
 *	milter_master.c - ehlod-milter's master: the socket, generations,
 *	reload
 * DESCRIPTION
 *	Plugins are promised that fini runs before the next init in the same
 *	process, and many keep their settings in process-wide state, so a
 *	new configuration cannot start beside the running one in one
 *	process.  As ehlod does with workers, the master opens the MTA's
 *	socket once, as root, and runs each configuration in a child of its
 *	own, a generation (milter_main.c), which inherits the socket.
 *
 *	SIGHUP: the file is checked here first (loaded and started in
 *	checking mode, as "ehlod-milter -t" does, then let go); a bad file
 *	is logged and the running generation stays.  A good one starts a new
 *	generation; once it serves (a byte on a pipe), the old one gets
 *	SIGUSR1: it stops taking connections, finishes the open ones (at
 *	most MILTER_DRAIN_SECONDS) and exits.  The MTA sees no gap: the
 *	socket never closes, and both accept from it meanwhile.
 *
 *	A reload that moves milter_socket opens the new socket here and puts
 *	it on the descriptor libmilter uses (milter_socket.c says why) before
 *	the new generation forks.  The old generation gets SIGUSR2 instead:
 *	the MTA still connects to the old socket until its own configuration
 *	follows, so the old generation serves it until the MTA has left it
 *	alone for a while (milter_main.c, drain); the old socket closes with
 *	it, and a unix socket's file is removed when it is reaped.  A socket
 *	that cannot be opened, or of another family, fails the reload.
 *
 *	A generation that dies unasked is replaced, unless ten have died
 *	within a minute.  SIGTERM or SIGINT stop every generation (libmilter's
 *	orderly stop) and then the master.
 *
 *	Under systemd (etc/ehlod-milter.service, Type=notify) the master says
 *	READY=1 once the first generation serves, RELOADING=1 and READY=1
 *	around a reload (taken or not), STOPPING=1 as it stops; the
 *	generations say nothing (NotifyAccess=main).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <event2/event.h>
#include <libmilter/mfapi.h>

#include "hostapi.h"
#include "log.h"
#include "milter.h"
#include "notify.h"
#include "xmalloc.h"

#define READY_SECONDS 60	/* a new generation's start-up, at most */
#define CRASH_BUDGET 10		/* deaths in CRASH_WINDOW stop the master */
#define CRASH_WINDOW 60

#define MAX_DRAINING 16		/* older generations still finishing */

static pid_t current;		/* the generation serving */
static pid_t draining[MAX_DRAINING];
/* The socket a draining generation serves alone (a moved one): NULL, or
 * its spec and file, removed when the generation is reaped. */
static char *draining_socket[MAX_DRAINING];
static struct stat draining_file[MAX_DRAINING];
static time_t crashes[CRASH_BUDGET];
static int ncrashes;

static char *serving_socket;	/* milter_socket as the generations have it */
static struct stat serving_file;	/* its file, for a unix socket */

/* A reload moving milter_socket: the socket it replaces, kept (in the
 * master only) until the new generation serves, so that a failure can
 * put it back. */
struct socket_move {
	int saved;		/* the old socket, or -1: no move */
	int fd_flags;		/* listen_fd's descriptor flags */
	struct stat file;	/* the new unix socket's file */
};
static int master_only_fd = -1;	/* closed by a generation as it starts */

/* The file as a generation would run it, without side effects: a
 * plugin's init may look at the host's loop, so there is one, briefly. */
static int
check_file(const char *file, struct config *c)
{
	struct server check;
	struct plugin_set set;
	int rc = -1;

	memset(&check, 0, sizeof(check));
	memset(&set, 0, sizeof(set));
	hostapi_set_checking(1);
	check.conf = c;
	check.plugins = &set;
	check.base = event_base_new();
	server = &check;
	if (check.base != NULL && config_read(file, c) == 0 &&
	    plugins_load(&set, c) == 0 &&
	    plugins_init(&set, milter_host_table()) == 0)
		rc = 0;
	plugins_unload(&set);
	if (check.base != NULL)
		event_base_free(check.base);
	server = NULL;
	hostapi_set_checking(0);
	return rc;
}

static int
open_socket(const struct config *c)
{
	if (c->milter_socket == NULL) {
		log_msg(LOG_ERR, "%s: milter_socket is not set (for instance "
		    "milter_socket = \"inet:8891@127.0.0.1\")", c->file);
		return -1;
	}
	if (smfi_setconn(c->milter_socket) != MI_SUCCESS ||
	    smfi_settimeout((int)c->milter_timeout) != MI_SUCCESS ||
	    smfi_register(milter_desc) != MI_SUCCESS) {
		log_msg(LOG_ERR, "libmilter refused the settings");
		return -1;
	}
	if (smfi_opensocket(1) != MI_SUCCESS) {
		log_msg(LOG_ERR, "cannot listen on %s", c->milter_socket);
		return -1;
	}
	return 0;
}

/* libmilter keeps its socket to itself; it is this process's only
 * listening one. */
static int
listening_fd(void)
{
	for (int fd = 3; fd < 1024; fd++) {
		int on = 0;
		socklen_t len = sizeof(on);

		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 &&
		    on)
			return fd;
	}
	return -1;
}

/* Start a generation; its pid once it serves, -1 when it could not. */
static pid_t
spawn(const char *file, int debug, int listen_fd)
{
	struct pollfd pfd;
	int p[2];
	char b;
	pid_t pid;

	if (pipe(p) < 0) {
		log_msg(LOG_ERR, "pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		log_msg(LOG_ERR, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		if (master_only_fd >= 0)
			close(master_only_fd);
		_exit(milter_generation(file, debug, p[1], listen_fd));
	}
	close(p[1]);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	if (poll(&pfd, 1, READY_SECONDS * 1000) == 1 && read(p[0], &b, 1) == 1) {
		close(p[0]);
		return pid;
	}
	close(p[0]);
	log_msg(LOG_ERR, "a new generation (pid %ld) did not start",
	    (long)pid);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

/* Put spec's new socket on listen_fd; the old one stays in mv. */
static int
socket_move_begin(struct socket_move *mv, int listen_fd, const char *spec)
{
	struct sockaddr_storage bound;
	socklen_t len = sizeof(bound);
	int fd;

	if (getsockname(listen_fd, (struct sockaddr *)&bound, &len) < 0 ||
	    bound.ss_family != milter_socket_family(spec)) {
		log_msg(LOG_ERR, "milter_socket %s is another kind of socket "
		    "than %s, and libmilter keeps the first kind: restart "
		    "ehlod-milter to make this change", spec, serving_socket);
		return -1;
	}
	fd = milter_socket_open(spec, &mv->file);
	if (fd < 0)
		return -1;
	mv->fd_flags = fcntl(listen_fd, F_GETFD);
	mv->saved = dup(listen_fd);
	if (mv->saved < 0 || dup2(fd, listen_fd) < 0) {
		log_msg(LOG_ERR, "cannot move the socket: %s", strerror(errno));
		if (mv->saved >= 0)
			close(mv->saved);
		mv->saved = -1;
		close(fd);
		milter_socket_unlink(spec, &mv->file);
		return -1;
	}
	close(fd);
	if (mv->fd_flags >= 0)
		fcntl(listen_fd, F_SETFD, mv->fd_flags);
	master_only_fd = mv->saved;
	return 0;
}

static void
socket_move_undo(struct socket_move *mv, int listen_fd, const char *spec)
{
	if (mv->saved < 0)
		return;
	dup2(mv->saved, listen_fd);
	if (mv->fd_flags >= 0)
		fcntl(listen_fd, F_SETFD, mv->fd_flags);
	close(mv->saved);
	master_only_fd = -1;
	milter_socket_unlink(spec, &mv->file);
}

/* The new generation serves on the new socket: the old one is slot's
 * draining generation's alone now. */
static void
socket_move_commit(struct socket_move *mv, const char *spec, int slot)
{
	if (mv->saved < 0)
		return;
	close(mv->saved);
	master_only_fd = -1;
	log_msg(LOG_INFO, "reload: now listening on %s (was %s)", spec,
	    serving_socket);
	if (slot >= 0) {
		draining_socket[slot] = serving_socket;
		draining_file[slot] = serving_file;
	} else {
		milter_socket_unlink(serving_socket, &serving_file);
		free(serving_socket);
	}
	serving_socket = xstrdup(spec);
	serving_file = mv->file;
}

static void
notify_ready_serving(void)
{
	char status[300];

	snprintf(status, sizeof(status), "serving %s", serving_socket);
	notify_ready(status);
}

/* 0 when a generation on the file's configuration serves, -1 when the
 * running one stays. */
static int
reload_apply(const char *file, int debug, int listen_fd)
{
	struct config c;
	struct socket_move mv = { .saved = -1 };
	pid_t pid, old = current;
	int moved, slot = -1;

	log_msg(LOG_INFO, "SIGHUP: reloading %s", file);
	if (check_file(file, &c) < 0) {
		log_msg(LOG_ERR, "%s: configuration not usable; the running one"
		    " stays in force", file);
		config_free(&c);
		return -1;
	}
	if (strcmp(c.milter_socket, serving_socket) != 0 &&
	    !milter_socket_same(c.milter_socket, listen_fd) &&
	    socket_move_begin(&mv, listen_fd, c.milter_socket) < 0) {
		log_msg(LOG_ERR, "reload failed; the running configuration "
		    "stays in force");
		config_free(&c);
		return -1;
	}
	/* The new generation inherits the log as the master has it. */
	log_open("ehlod-milter", c.use_syslog, c.syslog_facility);
	log_set_debug(debug || c.debug);
	pid = spawn(file, debug, listen_fd);
	if (pid < 0) {
		socket_move_undo(&mv, listen_fd, c.milter_socket);
		config_free(&c);
		log_msg(LOG_ERR, "reload failed; the running configuration "
		    "stays in force");
		return -1;
	}
	moved = mv.saved >= 0;
	for (int i = 0; i < MAX_DRAINING && slot < 0; i++)
		if (draining[i] == 0) {
			draining[i] = old;
			slot = i;
		}
	socket_move_commit(&mv, c.milter_socket, slot);
	config_free(&c);
	current = pid;
	/* A moved socket: the old one stays served until the MTA leaves it
	 * (milter_main.c, drain). */
	kill(old, moved ? SIGUSR2 : SIGUSR1);
	log_msg(LOG_INFO, "reloaded: generation %ld serves, %ld drains",
	    (long)pid, (long)old);
	return 0;
}

/* systemd (Type=notify) waits for READY=1 after RELOADING=1, whether the
 * reload took or not: the service runs either way. */
static void
reload(const char *file, int debug, int listen_fd)
{
	notify_reloading();
	if (reload_apply(file, debug, listen_fd) < 0)
		notify_ready("reload failed; running the previous "
		    "configuration");
	else
		notify_ready_serving();
}

/* A reaped generation that was draining; 1 when pid was one. */
static int
drained(pid_t pid)
{
	for (int i = 0; i < MAX_DRAINING; i++)
		if (draining[i] == pid) {
			draining[i] = 0;
			if (draining_socket[i] != NULL)
				milter_socket_unlink(draining_socket[i],
				    &draining_file[i]);
			free(draining_socket[i]);
			draining_socket[i] = NULL;
			return 1;
		}
	return 0;
}

/* Too many deaths in the window: a crash loop, not bad luck. */
static int
crash_loop(void)
{
	time_t now = time(NULL);
	int recent = 0;

	crashes[ncrashes++ % CRASH_BUDGET] = now;
	for (int i = 0; i < CRASH_BUDGET && i < ncrashes; i++)
		recent += now - crashes[i] < CRASH_WINDOW;
	return recent >= CRASH_BUDGET;
}

/* Reap children; 1 when the serving one is gone and cannot be
 * replaced. */
static int
reap(const char *file, int debug, int listen_fd)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (drained(pid) || pid != current)
			continue;
		log_msg(LOG_ERR, "generation %ld ended unasked (%s %d)",
		    (long)pid, WIFSIGNALED(status) ? "signal" : "status",
		    WIFSIGNALED(status) ? WTERMSIG(status) :
		    WEXITSTATUS(status));
		if (crash_loop()) {
			log_msg(LOG_ERR, "generations keep failing; stopping");
			return 1;
		}
		current = spawn(file, debug, listen_fd);
		if (current < 0)
			return 1;
	}
	return 0;
}

/* libmilter's orderly stop in every generation, then wait for them. */
static void
stop_all(void)
{
	if (current > 0)
		kill(current, SIGTERM);
	for (int i = 0; i < MAX_DRAINING; i++)
		if (draining[i] > 0)
			kill(draining[i], SIGTERM);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	for (int i = 0; i < MAX_DRAINING; i++)
		if (draining[i] > 0)
			(void)drained(draining[i]);
}

int
milter_master(const char *file, int debug)
{
	struct config c;
	sigset_t set, usr2;
	int sig, listen_fd, rc = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	/* Blocked for the generations' sake only (their drain signal; a
	 * thread of theirs that had it unblocked would die of it). */
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	sigprocmask(SIG_BLOCK, &usr2, NULL);
	if (check_file(file, &c) < 0) {
		log_msg(LOG_ERR, "%s: configuration not usable", file);
		config_free(&c);
		return 1;
	}
	if (c.use_syslog)
		log_open("ehlod-milter", 1, c.syslog_facility);
	log_set_debug(debug || c.debug);
	if (open_socket(&c) < 0 || (listen_fd = listening_fd()) < 0 ||
	    (current = spawn(file, debug, listen_fd)) < 0) {
		config_free(&c);
		return 1;
	}
	serving_socket = xstrdup(c.milter_socket);
	(void)milter_socket_file(serving_socket, &serving_file);
	notify_ready_serving();
	for (;;) {
		sig = sigwaitinfo(&set, NULL);
		if (sig == SIGHUP)
			reload(file, debug, listen_fd);
		else if (sig == SIGCHLD && reap(file, debug, listen_fd))
			rc = 1;
		else if (sig == SIGTERM || sig == SIGINT)
			break;
		if (rc)
			break;
	}
	notify_stopping();
	stop_all();
	/* libmilter removes only the file it made itself, and only when
	 * not root; a unix socket's file goes with the master. */
	milter_socket_unlink(serving_socket, &serving_file);
	free(serving_socket);
	log_msg(LOG_INFO, "stopped");
	config_free(&c);
	return rc;
}
