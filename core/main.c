/*
 * NAME
 *	ehlod - ESMTP server framework: extensions and policy as plugins
 * SYNOPSIS
 *	ehlod [-d] [-c file]
 *	ehlod -t [-q] [-c file]
 *	ehlod -s [-c file]
 *	ehlod -V
 * DESCRIPTION
 *	Runs in the foreground, logging to stderr unless the config sets
 *	"syslog = true".  -t checks the config, loads and starts every plugin
 *	once, prints them in order and exits 0, or 1 with the errors; -q
 *	prints nothing but the errors (for ExecStartPre).  -s prints the
 *	running server's counters from its status_socket.
 *	-d logs debug lines.  See ehlod(8) and ehlod.conf(5).
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "confcheck.h"
#include "hostapi.h"
#include "log.h"
#include "master.h"
#include "status.h"
#include "xmalloc.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/usr/local/etc"
#endif

static void
usage(void)
{
	fprintf(stderr, "usage: ehlod [-d] [-c file]\n"
	    "       ehlod -t [-q] [-c file]\n"
	    "       ehlod -s [-c file]\n"
	    "       ehlod -V\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *file = SYSCONFDIR "/ehlod/ehlod.conf";
	struct config *c;
	struct plugin_set *set;
	int test = 0, quiet = 0, debug = 0, show = 0, ch;

	while ((ch = getopt(argc, argv, "c:dtqsVh")) != -1) {
		switch (ch) {
		case 'c': file = optarg; break;
		case 'd': debug = 1; break;
		case 't': test = 1; break;
		case 'q': quiet = 1; break;
		case 's': show = 1; break;
		case 'V':
			printf("ehlod %s (plugin ABI %d.%d)\n", PACKAGE_VERSION,
			    EHLOD_ABI_MAJOR, EHLOD_ABI_MINOR);
			return 0;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	log_open("ehlod", 0, 0);
	log_set_debug(debug);
	c = xcalloc(1, sizeof(*c));
	set = xcalloc(1, sizeof(*set));
	if (show) {
		/* Only the file is read: no plugin is loaded or started. */
		int rc = config_read(file, c) < 0 ||
		    status_print(c->status_socket, stdout) < 0;
		config_free(c);
		free(c);
		free(set);
		return rc;
	}
	/* Under -t the plugins check and change nothing (no folder made,
	 * nothing chowned); a real start's check prepares what it needs. */
	hostapi_set_checking(test);
	/* -t -q: a usable configuration prints nothing, warnings included
	 * (the server logs them when it starts). */
	log_set_errors_only(test && quiet);
	int checked = check_config(file, c, set) == 0;
	if (!checked || test) {
		int ok = checked;
		if (!ok)
			fprintf(stderr, "%sehlod: %s: configuration not "
			    "usable\n", log_stderr_priority(LOG_ERR), file);
		else if (!quiet)
			describe_config(stdout, c, set);
		plugins_unload(set);
		config_free(c);
		free(set);
		free(c);
		return ok ? 0 : 1;
	}
	return master_run(file, c, set, debug);
}
