/*
 * NAME
 *	safety.c - refuse envelope values that would change a command
 * DESCRIPTION
 *	A sender such as "a@b.example>\r\nRCPT TO:<x@evil.example" would
 *	otherwise become a second command, and "a@b.example> SIZE=1" a
 *	parameter.  Paths are judged with the server's own grammar
 *	(address_check_path), HELO names as RFC 5321 Domains or address
 *	literals, DSN values by their RFC 3461 syntax.
 */
#include <string.h>
#include <strings.h>

#include "address.h"
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

/* RFC 3461 4.1: NOTIFY=NEVER or a comma list of SUCCESS, FAILURE, DELAY. */
static int
notify_valid(const char *notify)
{
	static const char *const words[] = { "SUCCESS", "FAILURE", "DELAY" };
	const char *p = notify;

	if (strcasecmp(notify, "NEVER") == 0)
		return 1;
	while (*p) {
		size_t len = strcspn(p, ",");
		int known = 0;
		for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
			known |= len == strlen(words[i]) &&
			    strncasecmp(p, words[i], len) == 0;
		if (!known)
			return 0;
		p += len;
		if (*p == ',' && *++p == '\0')
			return 0;
	}
	return p != notify;
}

/* RFC 3461 4.2: ORCPT=addr-type ";" xtext: printable ASCII, no space
 * and no "=" (RFC 3461 4: xtext has no '+' or '=' unencoded). */
static int
orcpt_valid(const char *orcpt)
{
	const char *semi = strchr(orcpt, ';');

	if (semi == NULL || semi == orcpt || semi[1] == '\0')
		return 0;
	for (const char *p = orcpt; *p; p++)
		if (*p <= ' ' || *p >= 127 || *p == '=')
			return 0;
	return 1;
}

const char *
client_refuse_dsn(const char *ret, const char *notify, const char *orcpt)
{
	if (ret && strcasecmp(ret, "FULL") && strcasecmp(ret, "HDRS"))
		return "DSN RET must be FULL or HDRS";
	if (notify && !notify_valid(notify))
		return "DSN NOTIFY must be NEVER or a list of SUCCESS, "
		    "FAILURE and DELAY";
	if (orcpt && !orcpt_valid(orcpt))
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
