/*
 * NAME
 *	stats.h - live counters for operators (status socket, ehlod -s)
 * DESCRIPTION
 *	Counters live in shared memory made by the master before it forks,
 *	so every worker adds to the same ones with atomic increments (no
 *	lock) and any worker can answer the status socket with the server's
 *	totals.  Without stats_init (ehlod -t, ehlod-milter) every call does
 *	nothing.
 */
#ifndef EHLOD_STATS_H
#define EHLOD_STATS_H

#include <stddef.h>
#include <stdio.h>

struct plugin_set;

enum stat_counter {
	STAT_CONNECTIONS = 0,	/* sessions started */
	STAT_SESSIONS,		/* open now (up and down) */
	STAT_COMMANDS,
	STAT_MSG_SENT,		/* status= of messages received whole */
	STAT_MSG_DISCARDED,
	STAT_MSG_REJECTED,
	STAT_MSG_DEFERRED,
	STAT_LIMIT_MAX_SESSIONS,
	STAT_LIMIT_PER_WORKER,
	STAT_LIMIT_PER_CLIENT,
	STAT_LIMIT_CONNECT_RATE,
	STAT_LIMIT_AUTH_FAILURES,
	STAT_TIMEOUTS,
	STAT_ACCEPT_PAUSES,	/* out of descriptors */
	STAT_RELOADS,
	STAT_SPOOL_HELD,	/* messages whose input waited for the spool */
	STAT_COUNT_
};

int stats_init(void);
/* The master, at start and at each reload: the plugins' names label the
 * per-plugin counters, which start again from 0. */
void stats_set_plugins(const struct plugin_set *set);
void stats_add(enum stat_counter which, long delta);
/* A chain ended: plugin index (or -1 for the core), step, verdict. */
void stats_verdict(int plugin, int step, int verdict);
/* Add n to a plugin's own counter (host->count). */
void stats_plugin_count(size_t plugin, unsigned counter, unsigned long n);
/* The counter for a limit option's name; STAT_COUNT_ for none. */
enum stat_counter stats_limit_counter(const char *option);
/* Prometheus text exposition format (version 0.0.4). */
void stats_write(FILE *out);

#endif
