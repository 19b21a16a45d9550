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
 *	(core/config.c): the same options plus
 *	milter_socket, milter_timeout and milter_hook_timeout, loads the
 *	plugins in order with the same loader (core/loader.c), starts them
 *	with the milter's host table, opens the socket, drops privileges to
 *	"user" when started as root, and serves the MTA through libmilter
 *	until SIGTERM or SIGINT; SIGHUP is logged and ignored.  -t prints what runs and what is inert in
 *	each plugin and exits.  Logs go to stderr unless "syslog = true".
 *	See ehlod-milter(8).
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
#include <event2/event.h>
#include <event2/thread.h>
#include <libmilter/mfapi.h>

#include "hostapi.h"
#include "log.h"
#include "milter.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/usr/local/etc"
#endif

static struct server milter_server;

static void
usage(void)
{
	fprintf(stderr, "usage: ehlod-milter [-d] [-c file]\n"
	    "       ehlod-milter -t [-c file]\n"
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
static int
setup(const char *file, struct config *c, struct plugin_set *set)
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
	return plugins_init(set, milter_host_table());
}

static int
unix_socket_path(const char *conn, const char **path)
{
	if (strncmp(conn, "unix:", 5) == 0)
		*path = conn + 5;
	else if (strncmp(conn, "local:", 6) == 0)
		*path = conn + 6;
	else
		return 0;
	return 1;
}

/* Bound first, then run as the configured user: a plugin's bug should
 * not run as root.  A unix socket is handed over so it can be removed
 * at exit. */
static int
drop_privileges(const struct config *c)
{
	struct passwd *pw;
	const char *path;

	if (geteuid() != 0)
		return 0;
	pw = getpwnam(c->user);
	if (pw == NULL) {
		log_msg(LOG_ERR, "user %s does not exist", c->user);
		return -1;
	}
	if (unix_socket_path(c->milter_socket, &path) &&
	    chown(path, pw->pw_uid, pw->pw_gid) < 0)
		log_msg(LOG_WARNING, "chown %s: %s", path, strerror(errno));
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

/*
 * libmilter's signal thread stops the milter on SIGHUP as on SIGTERM,
 * and then the MTA applies milter_default_action to every message.  So
 * smfi_main() runs in a thread of its own and the main thread waits for
 * SIGHUP: Linux hands a signal sent to the process to its main thread
 * first when that thread takes it, which a thread in sigwait does.
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

/* The plugin set is not replaced while the milter runs: the core keeps
 * one set for every session, so a reload needs a restart. */
static void
wait_hup(const char *file)
{
	sigset_t hup;
	struct timespec tick = { 1, 0 };

	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	while (!smfi_done)
		if (sigtimedwait(&hup, NULL, &tick) == SIGHUP)
			log_msg(LOG_WARNING, "SIGHUP: ehlod-milter cannot "
			    "reload %s; restart it to apply a new "
			    "configuration; the running one stays in force",
			    file);
}

static int
serve(const char *file, struct config *c, struct plugin_set *set)
{
	pthread_t t;
	sigset_t hup;

	if (open_socket(c) < 0 || drop_privileges(c) < 0)
		return 1;
	milter_callbacks_init(c->milter_hook_timeout);
	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &hup, NULL);
	if (loop_start(&milter_server) < 0)
		return 1;
	log_msg(LOG_INFO, "ready: milter_socket=%s plugins=%zu",
	    c->milter_socket, set->n);
	if (pthread_create(&t, NULL, smfi_thread, NULL) != 0) {
		log_msg(LOG_ERR, "cannot start the libmilter thread");
		loop_stop();
		return 1;
	}
	wait_hup(file);
	pthread_join(t, NULL);
	loop_stop();
	log_msg(LOG_INFO, "stopped");
	return smfi_rc == MI_SUCCESS ? 0 : 1;
}

int
main(int argc, char **argv)
{
	const char *file = SYSCONFDIR "/ehlod/ehlod-milter.conf";
	struct config c;
	struct plugin_set set;
	int test = 0, debug = 0, ch, rc;

	while ((ch = getopt(argc, argv, "c:dtVh")) != -1) {
		switch (ch) {
		case 'c': file = optarg; break;
		case 'd': debug = 1; break;
		case 't': test = 1; break;
		case 'V':
			printf("ehlod-milter %s (plugin ABI %d.%d)\n",
			    PACKAGE_VERSION, EHLOD_ABI_MAJOR, EHLOD_ABI_MINOR);
			return 0;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	log_open("ehlod-milter", 0, 0);
	log_set_debug(debug);
	signal(SIGPIPE, SIG_IGN);
	hostapi_set_checking(test);	/* -t changes nothing */
	if (setup(file, &c, &set) < 0) {
		fprintf(stderr, "ehlod-milter: %s: configuration not usable\n",
		    file);
		return 1;
	}
	if (test) {
		milter_describe(stdout, &c, &set);
		rc = 0;
	} else {
		if (c.use_syslog)
			log_open("ehlod-milter", 1, c.syslog_facility);
		log_set_debug(debug || c.debug);
		rc = serve(file, &c, &set);
	}
	plugins_unload(&set);
	config_free(&c);
	return rc;
}
