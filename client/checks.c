/*
 * NAME
 *	checks.c - what the client puts on a command line, judged first
 * DESCRIPTION
 *	See checks.h.  The judgement is the server's own (address.c,
 *	esmtp.c): a path the client would send is one ehlod would take.
 */
#include <stddef.h>
#include <string.h>

#include "address.h"
#include "esmtp.h"
#include "checks.h"

const char *
client_check_helo(const char *name)
{
	if (name == NULL || !address_helo_valid(name))
		return "a HELO name is 1 to 255 characters without spaces or"
		    " control characters";
	return NULL;
}

const char *
client_check_path(const char *path, int rcpt)
{
	const char *mailbox, *why = NULL;
	unsigned flags = ADDRESS_ALLOW_UTF8 | (rcpt ?
	    ADDRESS_ALLOW_POSTMASTER : ADDRESS_ALLOW_EMPTY);

	if (path == NULL)
		return rcpt ? "no recipient address" : NULL;
	if (address_check_path(path, flags, &mailbox, &why) < 0)
		return why ? why : "malformed address";
	return NULL;
}

const char *
client_check_value(const char *value)
{
	if (value == NULL)
		return NULL;
	if (!esmtp_value_valid(value, strlen(value), 0))
		return "a parameter value is printable ASCII without spaces"
		    " or \"=\"";
	return NULL;
}
