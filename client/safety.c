/*
 * NAME
 *	safety.c - refuse envelope values that would change a command
 * DESCRIPTION
 *	A sender such as "a@b.example>\r\nRCPT TO:<x@evil.example" would
 *	otherwise become a second command, and "a@b.example> SIZE=1" a
 *	parameter.  Paths are judged with the server's own grammar
 *	(address_check_path), HELO names as RFC 5321 Domains or address
 *	literals, DSN values by the parser of the server's dsn plugin
 *	(proto/dsn_parse.c).
 */
#include <string.h>

#include "address.h"
#include "dsn_parse.h"
#include "safety.h"

static const char *
path_refusal(const char *path, unsigned flags)
{
	const char *mailbox = NULL, *why = NULL;

	if (path == NULL)
		return "no address";
	if (address_check_path(path, flags, &mailbox, &why) < 0)
		return why ? why : "not a valid address";
	return NULL;
}

const char *
client_refuse_sender(const char *from)
{
	if (path_refusal(from ? from : "", ADDRESS_ALLOW_EMPTY |
	    ADDRESS_ALLOW_UTF8) == NULL)
		return NULL;
	return "the sender is not a valid RFC 5321 address";
}

const char *
client_refuse_recipient(const char *rcpt)
{
	if (path_refusal(rcpt, ADDRESS_ALLOW_UTF8 |
	    ADDRESS_ALLOW_POSTMASTER) == NULL)
		return NULL;
	return "a recipient is not a valid RFC 5321 address";
}

const char *
client_refuse_helo(const char *name)
{
	if (name && address_domain_valid(name, strlen(name), 0))
		return NULL;
	return "the HELO name is not a domain or address literal";
}

const char *
client_refuse_dsn(const char *ret, const char *notify, const char *orcpt)
{
	char out[DSN_ORCPT_OUT];
	const char *why;

	if (ret && dsn_parse_ret(ret, out, sizeof(out), &why) < 0)
		return "DSN RET must be FULL or HDRS";
	if (notify && dsn_parse_notify(notify, out, sizeof(out), &why) < 0)
		return "DSN NOTIFY must be NEVER or a list of SUCCESS, "
		    "FAILURE and DELAY";
	if (orcpt && dsn_parse_orcpt(orcpt, 0, out, sizeof(out), &why) < 0)
		return "DSN ORCPT must be addr-type;xtext";
	return NULL;
}

const char *
client_refuse_job(const struct ehlod_client_job *job)
{
	const char *why = client_refuse_sender(job->from);

	for (size_t i = 0; why == NULL && i < job->nrcpts; i++)
		why = client_refuse_recipient(job->rcpts[i]);
	if (why == NULL)
		why = client_refuse_dsn(job->dsn_ret, job->dsn_notify, NULL);
	return why;
}
