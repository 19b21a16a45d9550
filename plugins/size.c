/*
 * NAME
 *	size - the SIZE service extension (RFC 1870)
 * SUMMARY
 *	plugin size {
 *		limit = 10240000
 *	}
 * DESCRIPTION
 *	Offers the EHLO keyword SIZE with the fixed maximum message size as
 *	its parameter, and takes the MAIL FROM parameter SIZE=n by which a
 *	client declares how big its message is.  A declared size over the
 *	limit is refused at MAIL time (552 5.3.4), so that the client does
 *	not send a message only to have it refused.  The declared value is
 *	stored as the transaction value "size" for other plugins (relay,
 *	DSN).
 *
 *	Clients need not declare a size, and may lie, so the plugin also
 *	counts the octets of the message while it arrives (headers and
 *	body) and refuses it with 552 5.3.4 once the count passes the
 *	limit.  That check needs no keyword, so it works inside a host MTA
 *	through ehlod-milter as well.
 *
 *	A MAIL line grows by at most 26 octets (" SIZE=" and 20 digits), as
 *	RFC 1870 section 4 says.
 * CONFIGURATION
 *	limit (integer, default 10240000)
 *		The fixed maximum message size in octets.  0 means there is
 *		no fixed limit: the keyword is then offered as "SIZE 0",
 *		which RFC 1870 defines as exactly that, and no size is
 *		refused.  A negative value is a configuration error.
 * SEE ALSO
 *	ehlod-plugin-size(5), the plugin's manual
 */
#include "autoconfig.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include <ehlod/plugin.h>

static const struct ehlod_host *host;
static uint64_t limit;

/* Octets of the current message seen so far (host-owned txn data). */
struct size_count {
	uint64_t octets;
};

struct size_conf {
	long long limit;
};

static int
size_ehlo_params(ehlod_ctx *s, char *buf, size_t buflen)
{
	int n;

	n = snprintf(buf, buflen, "%llu", (unsigned long long)limit);
	/* Better no keyword than a truncated number. */
	if (n < 0 || (size_t)n >= buflen)
		return -1;
	return 0;
}

/*
 * Parse a size-value.  Returns -1 unless value is all digits.  RFC 1870
 * writes size-value as 1*20DIGIT; a longer string of digits still says
 * plainly "bigger than you allow", so it saturates at 2^64 - 1 and earns
 * the 552 that tells the client the truth, rather than a 501 that
 * suggests it mistyped.
 */
static int
parse_size(const char *value, uint64_t *out)
{
	uint64_t n = 0;

	if (value[0] == '\0')
		return -1;
	for (size_t i = 0; value[i] != '\0'; i++) {
		unsigned d = (unsigned char)value[i] - '0';

		if (d > 9)
			return -1;
		if (n > (UINT64_MAX - d) / 10)
			n = UINT64_MAX;
		else
			n = n * 10 + d;
	}
	*out = n;
	return 0;
}

static ehlod_verdict
too_big(ehlod_ctx *s)
{
	host->reply(s, 552, "5.3.4",
	    "Message size exceeds fixed maximum message size");
	return EHLOD_REJECT;
}

static ehlod_verdict
size_mail_param(ehlod_ctx *s, const char *keyword, const char *value)
{
	uint64_t declared;
	char canonical[24];

	/* The host has made sure a value is present (EHLOD_VALUE_REQUIRED). */
	if (parse_size(value, &declared) < 0) {
		host->reply(s, 501, "5.5.4", "Bad SIZE value: digits only");
		return EHLOD_REJECT;
	}
	if (limit != 0 && declared > limit)
		return too_big(s);
	/* Stored as a plain number (no leading zeros, at most 20 digits) so
	 * that readers can use strtoull() on it without surprises. */
	snprintf(canonical, sizeof(canonical), "%llu",
	    (unsigned long long)declared);
	if (host->txn_set(s, EHLOD_KEY_SIZE, canonical) < 0) {
		host->log(s, LOG_ERR, "cannot store the declared size");
		host->reply(s, 451, "4.3.0", "Local error in processing");
		return EHLOD_TEMPFAIL;
	}
	return EHLOD_CONTINUE;
}

static ehlod_verdict
count(ehlod_ctx *s, size_t n)
{
	struct size_count *c;

	if (limit == 0)
		return EHLOD_CONTINUE;
	c = host->txn_data(s);
	if (c == NULL) {
		host->log(s, LOG_ERR, "out of memory");
		host->reply(s, 451, "4.3.0", "Local error in processing");
		return EHLOD_TEMPFAIL;
	}
	c->octets = (c->octets > UINT64_MAX - n) ? UINT64_MAX : c->octets + n;
	if (c->octets > limit)
		return too_big(s);
	return EHLOD_CONTINUE;
}

/* The header as it travels: "Name: value" CRLF.  The host hands over name
 * and value apart, so the separator is counted as ": "; a header written
 * "Name:value" is thus counted one octet too long, which is harmless. */
static ehlod_verdict
size_on_header(ehlod_ctx *s, const char *name, const char *value)
{
	return count(s, strlen(name) + 2 + strlen(value) + 2);
}

/* The empty line between the headers and the body. */
static ehlod_verdict
size_on_eoh(ehlod_ctx *s)
{
	return count(s, 2);
}

static ehlod_verdict
size_on_body(ehlod_ctx *s, const unsigned char *chunk, size_t len)
{
	return count(s, len);
}

static int
size_init(const struct ehlod_host *h, ehlod_ctx *inst)
{
	const struct size_conf *conf;

	host = h;
	conf = host->instance(inst);
	limit = (uint64_t)conf->limit;
	return 0;
}

static const struct ehlod_param size_mail_params[] = {
	{ "SIZE", EHLOD_VALUE_REQUIRED, size_mail_param },
	{ NULL, 0, NULL }
};

/* A negative limit is refused by the range. */
static const struct ehlod_option size_options[] = {
	{ "limit", EHLOD_OPT_INT, offsetof(struct size_conf, limit),
	  "10240000", 0, 0, INT64_MAX, NULL },
	{ NULL, 0, 0, NULL, 0, 0, 0, NULL }
};

EHLOD_PLUGIN_EXPORT const struct ehlod_plugin ehlod_plugin = {
	EHLOD_PLUGIN_HEADER,
	.name = "size",
	.version = PACKAGE_VERSION,
	.description = "SIZE: declare and enforce the maximum message size "
	    "(RFC 1870)",
	.ehlo_keyword = "SIZE",
	.ehlo_params = size_ehlo_params,
	.mail_params = size_mail_params,
	.line_increment = 26,
	.options = size_options,
	.instance_size = sizeof(struct size_conf),
	.txn_data_size = sizeof(struct size_count),
	.flags = EHLOD_PLUGIN_MILTER_HOOKS,
	.init = size_init,
	.on_header = size_on_header,
	.on_eoh = size_on_eoh,
	.on_body = size_on_body,
};
