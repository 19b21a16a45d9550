/*
 * NAME
 *	ehlod-milter - run ehlod plugins inside Postfix or Sendmail
 * SYNOPSIS
 *	ehlod-milter [-d] [-c file]
 *	ehlod-milter -t [-c file]
 *	ehlod-milter -V
 * DESCRIPTION
 *	Reads its configuration (ehlod-milter.conf by default: ehlod's own
 *	file enables maildir, which the milter refuses) with ehlod's reader
 *	(core/config.c): the same options plus milter_socket, milter_timeout
 *	and milter_hook_timeout.  -t loads and starts the plugins with the
 *	same loader (core/loader.c) and the milter's host table, prints what
 *	runs and what is inert in each plugin and exits, changing nothing.
 *
 *	Otherwise the master (milter_master.c) opens the socket and runs the
 *	configuration in a child, a generation, which is this file's other
 *	half: it loads and starts the plugins, drops privileges to "user"
 *	when started as root, and serves the MTA through libmilter until
 *	SIGTERM or SIGINT, or until SIGUSR1 tells it that a newer generation
 *	serves (after a SIGHUP to the master): then it drains.  Logs go to
 *	stderr unless "syslog = true".  See ehlod-milter(8).
 */
#include "autoconfig.h"

#include <errno.h>
#include <pthread.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <libmilter/mfapi.h>

#include "hostapi.h"
#include "log.h"
#include "milter.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/usr/local/etc"
#endif

#define MILTER_DRAIN_SECONDS 600	/* an old generation's last sessions */
#define MILTER_QUIET_SECONDS 10	/* a moved socket the MTA has left */

static struct server milter_server;

static void
usage(void)
{
	fprintf(stderr, "usage: ehlod-milter [-d] [-c file]\n"
	    "       ehlod-milter -t [-q] [-c file]\n"
	    "       ehlod-milter -V\n");
	exit(2);
}

/*
 * The base is shared by libmilter's callback threads (under the plugin
 * lock) and the loop thread: libevent's own locking lets a callback
 * thread's new timer wake the sleeping loop.  It must wait in epoll, the
 * wait the loop thread releases the plugin lock for (loop.c).
 */
static struct event_base *
make_base(void)
{
	struct event_config *cfg;
	struct event_base *base = NULL;

	if (evthread_use_pthreads() < 0)
		return NULL;
	cfg = event_config_new();
	if (cfg == NULL)
		return NULL;
	if (event_config_avoid_method(cfg, "select") == 0 &&
	    event_config_avoid_method(cfg, "poll") == 0)
		base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	if (base == NULL)
		log_msg(LOG_ERR, "libevent cannot make an epoll event base");
	return base;
}

/* Load and start the plugins exactly as ehlod does, but with the
 * milter's host table, so -t proves the plugins start here. */
/* again: a generation, whose master has just checked the same file. */
static int
setup(const char *file, struct config *c, struct plugin_set *set, int again)
{
	memset(set, 0, sizeof(*set));
	if (config_read(file, c) < 0 || plugins_load(set, c) < 0)
		return -1;
	milter_server.conf = c;
	milter_server.plugins = set;
	milter_server.base = make_base();
	if (milter_server.base == NULL)
		return -1;
	server = &milter_server;
	return again ? plugins_init_again(set, milter_host_table()) :
	    plugins_init(set, milter_host_table());
}

/* A unix socket belongs to the run user (so that it can be removed at
 * exit) and to milter_socket_group, by default the run user's group,
 * with mode 0660: the MTA connects through the group (Postfix's smtpd
 * runs as postfix: milter_socket_group = "postfix"), nobody else can.
 * Not being root, the process keeps its uid and can only give the socket
 * to a group it is in.  uid or gid -1: left as they are. */
static void
set_socket_access(const struct config *c, uid_t uid, gid_t gid)
{
	const char *path = c->milter_socket ?
	    milter_socket_unix_path(c->milter_socket) : NULL;
	struct group *gr;
	struct stat st;

	if (path == NULL)
		return;
	if (c->milter_socket_group != NULL) {
		if ((gr = getgrnam(c->milter_socket_group)) != NULL)
			gid = gr->gr_gid;
		else
			log_msg(LOG_WARNING, "milter_socket_group %s: no such "
			    "group", c->milter_socket_group);
	}
	/* Only the socket itself, as root: never what a symlink put in its
	 * place points to. */
	if (lstat(path, &st) < 0) {
		log_msg(LOG_WARNING, "stat %s: %s", path, strerror(errno));
		return;
	}
	if (!S_ISSOCK(st.st_mode)) {
		log_msg(LOG_WARNING, "%s is not a socket: its owner and mode "
		    "are left alone", path);
		return;
	}
	/* The mode first, while the socket is still this process's: once
	 * given away, changing it would take CAP_FOWNER, which the unit's
	 * bounding set leaves out.  A reload's generation finds both done. */
	if ((st.st_mode & 07777) != 0660 && chmod(path, 0660) < 0)
		log_msg(LOG_WARNING, "chmod %s: %s", path, strerror(errno));
	if (((uid != (uid_t)-1 && st.st_uid != uid) ||
	    (gid != (gid_t)-1 && st.st_gid != gid)) &&
	    lchown(path, uid, gid) < 0)
		log_msg(LOG_WARNING, "chown %s: %s", path, strerror(errno));
}

/* Bound first, then run as the configured user: a plugin's bug should
 * not run as root. */
static int
drop_privileges(const struct config *c)
{
	struct passwd *pw;

	if (geteuid() != 0) {
		set_socket_access(c, (uid_t)-1, (gid_t)-1);
		return 0;
	}
	pw = getpwnam(c->user);
	if (pw == NULL) {
		log_msg(LOG_ERR, "user %s does not exist", c->user);
		return -1;
	}
	set_socket_access(c, pw->pw_uid, pw->pw_gid);
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 ||
	    setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
		log_msg(LOG_ERR, "cannot become user %s: %s", c->user,
		    strerror(errno));
		return -1;
	}
	/* As ehlod's workers: nothing run from here gains privileges. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		log_msg(LOG_ERR, "cannot set no_new_privs: %s",
		    strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * libmilter's signal thread stops the milter on SIGHUP as on SIGTERM.  So
 * smfi_main() runs in a thread of its own and the main thread waits for
 * SIGHUP and SIGUSR1 itself: Linux hands a signal sent to the process to
 * a thread that waits for it in sigwait.  SIGTERM and SIGINT stay
 * libmilter's: its orderly stop.
 */
static int smfi_rc;
static volatile sig_atomic_t smfi_done;

static void *
smfi_thread(void *arg)
{
	(void)arg;
	smfi_rc = smfi_main();
	smfi_done = 1;
	return NULL;
}

/* SIGUSR1 from the master: a newer generation serves.  libmilter's
 * listener is given a pipe nobody writes in place of the socket, so it
 * takes no more connections (the master and the new generation keep the
 * socket open); the open ones finish, for MILTER_DRAIN_SECONDS at most.
 * smfi_stop() is not used: it would remove a unix socket's path, which
 * the new generation listens on.
 *
 * SIGUSR2: the same, but the newer generation serves another socket
 * (a reload moved milter_socket), and the MTA goes on using this one
 * until its own configuration follows.  So this socket stays served
 * until the MTA has left it alone for MILTER_QUIET_SECONDS with nothing
 * open, or MILTER_DRAIN_SECONDS have passed: no gap between the two
 * reloads. */
static void
drain(int listen_fd, int keep_socket)
{
	time_t end = time(NULL) + MILTER_DRAIN_SECONDS, quiet_since;
	unsigned seen;
	int p[2];

	if (!keep_socket && pipe(p) == 0) {
		dup2(p[0], listen_fd);
		close(p[0]);	/* p[1] stays open: the pipe never reads EOF */
	}
	log_msg(LOG_INFO, "draining: a newer generation serves%s; %d "
	    "connection(s) to finish", keep_socket ? " another socket; this "
	    "one is served until the MTA leaves it" : "",
	    milter_connections_open());
	/* A connection accepted just before has reached its first step. */
	sleep(1);
	seen = milter_connections_seen();
	quiet_since = time(NULL);
	while (!smfi_done && time(NULL) < end) {
		if (milter_connections_seen() != seen) {
			seen = milter_connections_seen();
			quiet_since = time(NULL);
		}
		if (milter_connections_open() == 0 && (!keep_socket ||
		    time(NULL) - quiet_since >= MILTER_QUIET_SECONDS))
			break;
		usleep(100 * 1000);
	}
	if (milter_connections_open() > 0)
		log_msg(LOG_WARNING, "drained after %d s with %d connection(s) "
		    "still open", MILTER_DRAIN_SECONDS,
		    milter_connections_open());
	else
		log_msg(LOG_INFO, "drained");
}

/* SIGUSR1 or SIGUSR2 when the generation is to drain and exit (see
 * drain), 0 when libmilter stopped. */
static int
wait_signals(void)
{
	sigset_t set;
	struct timespec tick = { 1, 0 };
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	while (!smfi_done) {
		sig = sigtimedwait(&set, NULL, &tick);
		if (sig == SIGUSR1 || sig == SIGUSR2)
			return sig;
		if (sig == SIGHUP)
			log_msg(LOG_WARNING, "SIGHUP reached a generation (pid "
			    "%ld); send it to the master (pid %ld) to reload",
			    (long)getpid(), (long)getppid());
	}
	return 0;
}

static int
serve(struct config *c, struct plugin_set *set, int ready_fd, int listen_fd)
{
	pthread_t t;
	int sig;

	if (drop_privileges(c) < 0)
		return 1;
	/* A generation must not outlive the master (it would keep the socket
	 * and a new master could not listen): SIGTERM, libmilter's orderly
	 * stop.  Set after the switch of user, which clears it. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() == 1) {
		log_msg(LOG_ERR, "the master is gone");
		return 1;
	}
	milter_callbacks_init(c->milter_hook_timeout);
	/* The master set it before it opened the socket; set again here,
	 * before smfi_main reads it, so that a reload changes it. */
	if (smfi_settimeout((int)c->milter_timeout) != MI_SUCCESS) {
		log_msg(LOG_ERR, "libmilter refused milter_timeout %ld",
		    c->milter_timeout);
		return 1;
	}
	if (loop_start(&milter_server) < 0)
		return 1;
	if (pthread_create(&t, NULL, smfi_thread, NULL) != 0) {
		log_msg(LOG_ERR, "cannot start the libmilter thread");
		loop_stop();
		return 1;
	}
	log_msg(LOG_INFO, "ready: milter_socket=%s plugins=%zu",
	    c->milter_socket, set->n);
	if (write(ready_fd, "r", 1) != 1)
		log_msg(LOG_WARNING, "cannot tell the master we serve: %s",
		    strerror(errno));
	close(ready_fd);
	if ((sig = wait_signals()) != 0) {
		drain(listen_fd, sig == SIGUSR2);
		loop_stop();	/* libmilter's thread waits on the pipe */
		return 0;
	}
	pthread_join(t, NULL);
	loop_stop();
	log_msg(LOG_INFO, "stopped");
	return smfi_rc == MI_SUCCESS ? 0 : 1;
}

int
milter_generation(const char *file, int debug, int ready_fd, int listen_fd)
{
	struct config c;
	struct plugin_set set;
	sigset_t chld;
	int rc;

	/* The master's mask stays (SIGHUP, SIGUSR1, SIGUSR2 for us; SIGTERM,
	 * SIGINT for libmilter's thread) but for SIGCHLD, which plugins may
	 * use. */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_UNBLOCK, &chld, NULL);
	if (setup(file, &c, &set, 1) < 0) {
		log_msg(LOG_ERR, "%s: configuration not usable", file);
		plugins_unload(&set);
		return 1;
	}
	log_set_debug(debug || c.debug);
	rc = serve(&c, &set, ready_fd, listen_fd);
	plugins_unload(&set);
	config_free(&c);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *file = SYSCONFDIR "/ehlod/ehlod-milter.conf";
	struct config c;
	struct plugin_set set;
	int test = 0, quiet = 0, debug = 0, ch;

	while ((ch = getopt(argc, argv, "c:dqtVh")) != -1) {
		switch (ch) {
		case 'c': file = optarg; break;
		case 'd': debug = 1; break;
		case 'q': quiet = 1; break;
		case 't': test = 1; break;
		case 'V':
			printf("ehlod-milter %s (plugin ABI %d.%d)\n",
			    PACKAGE_VERSION, EHLOD_ABI_MAJOR, EHLOD_ABI_MINOR);
			return 0;
		default: usage();
		}
	}
	if (optind != argc || (quiet && !test))
		usage();
	log_open("ehlod-milter", 0, 0);
	log_set_debug(debug);
	signal(SIGPIPE, SIG_IGN);
	if (!test)
		return milter_master(file, debug);
	hostapi_set_checking(1);	/* -t changes nothing */
	/* -q: a usable configuration prints nothing, warnings included
	 * (the service logs them when it starts). */
	log_set_errors_only(quiet);
	memset(&c, 0, sizeof(c));
	if (setup(file, &c, &set, 0) < 0) {
		fprintf(stderr, "%sehlod-milter: %s: configuration not "
		    "usable\n", log_stderr_priority(LOG_ERR), file);
		plugins_unload(&set);
		config_free(&c);
		return 1;
	}
	if (!quiet)
		milter_describe(stdout, &c, &set);
	plugins_unload(&set);
	config_free(&c);
	return 0;
}
