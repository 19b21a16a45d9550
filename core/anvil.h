/*
 * NAME
 *	anvil.h - connection and AUTH-failure limits shared by all workers
 * DESCRIPTION
 *	The master makes the table before it starts workers; every worker
 *	counts its sessions in it, so the limits hold for the whole server,
 *	not per process.  Without a table (ehlod-milter, ehlod -t) every
 *	call does nothing and nothing is refused.
 */
#ifndef EHLOD_ANVIL_H
#define EHLOD_ANVIL_H

#include "config.h"

/* The master, before the first fork; -1 when shared memory fails (the
 * limits are then off, and the log says so). */
int anvil_init(void);

/*
 * A new session from addr: NULL when it may go on (it is then counted
 * until anvil_disconnect), else the reason to answer 421 with.  *limit is
 * set to the option that refused it.
 */
const char *anvil_connect(const struct config *c, const char *addr,
    const char **limit);
void anvil_disconnect(const char *addr);
/* Counts a failed AUTH; returns the client's failures in this window. */
unsigned anvil_auth_failed(const char *addr);

/* After a worker died without saying goodbye: its sessions are gone but
 * were never subtracted.  Forgetting all session counts undercounts for a
 * while (the limits are briefly looser), never locks a client out. */
void anvil_forget_sessions(void);

#endif
