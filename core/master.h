/*
 * NAME
 *	master.h - the master process: sockets, workers, signals
 */
#ifndef EHLOD_CORE_MASTER_H
#define EHLOD_CORE_MASTER_H

#include "config.h"
#include "loader.h"

/* Bind, fork the workers and supervise them until SIGTERM.  c and set
 * come from check_config(), allocated with malloc: the master owns and
 * frees them (a reload replaces them).  file is re-read on SIGHUP, and
 * every setting of the new file applies, the log's and the listen
 * addresses included.  debug (ehlod -d) logs debug lines whatever the
 * file says. */
int master_run(const char *file, struct config *c, struct plugin_set *set,
    int debug);

#endif
