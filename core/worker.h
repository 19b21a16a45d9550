/*
 * NAME
 *	worker.h - a worker process: one event loop serving sessions
 */
#ifndef EHLOD_CORE_WORKER_H
#define EHLOD_CORE_WORKER_H

#include <stddef.h>
#include <sys/types.h>

#include "config.h"
#include "loader.h"

/* Exit status of a worker whose plugins failed to start. */
#define WORKER_EXIT_CONFIG 78

/* Initialise the plugins, drop privileges, serve the listening sockets
 * until told to stop; names[i] is the listener fds[i] was bound for
 * (its policy is looked up by name in c, so a reload's new policy
 * applies to the sockets bound at start).  Returns the exit status. */
int worker_run(struct config *c, struct plugin_set *set, const int *fds,
    char *const *names, size_t nfds);

/* The status socket (status.c) the master bound, or -1; workers serve it. */
extern int worker_status_fd;
/* The master's pid, set before it forks: a worker whose parent is no
 * longer that process must not serve. */
extern pid_t worker_master_pid;

/* Switch to the configured user when running as root. */
int drop_privileges(const char *user);

#endif
