/*
 * NAME
 *	safety.h - what the client refuses to put on a command line
 * DESCRIPTION
 *	Each check returns NULL when the value is safe to send, else a
 *	sentence saying why not.  They use the grammar the server judges
 *	paths with (proto/address.h), so a value that passes cannot change
 *	the command it goes into: no CR, LF or NUL, no stray '<', '>' or
 *	space that would end the path early or add a parameter.
 */
#ifndef EHLOD_CLIENT_SAFETY_H
#define EHLOD_CLIENT_SAFETY_H

#include <ehlod/client.h>

const char *client_refuse_sender(const char *from);
const char *client_refuse_recipient(const char *rcpt);
const char *client_refuse_helo(const char *name);
const char *client_refuse_dsn(const char *ret, const char *notify,
    const char *orcpt);
/* All of a job's values. */
const char *client_refuse_job(const struct ehlod_client_job *job);

#endif
