/*
 * NAME
 *	dsn - the DSN service extension: delivery status notification
 *	requests (RFC 3461)
 * SUMMARY
 *	plugin dsn { }
 * DESCRIPTION
 *	Offers the EHLO keyword DSN and takes its four parameters:
 *
 *	MAIL FROM: RET=FULL|HDRS (return the whole message or its headers
 *	in a failure notice) and ENVID=xtext (the sender's envelope
 *	identifier, at most 100 characters).
 *
 *	RCPT TO: NOTIFY=NEVER or a list of SUCCESS, FAILURE, DELAY (when to
 *	notify), and ORCPT=addr-type;xtext (the recipient as the sender
 *	first wrote it, at most 500 characters with "ORCPT=").
 *
 *	Each value is checked as RFC 3461 section 4 writes it (see
 *	dsn_parse.h): a bad value is refused with 501 5.5.4 and a reason;
 *	a parameter given twice is refused by the server (501); DSN
 *	parameters after HELO, or when DSN was not offered, get 555.
 *
 *	The plugin itself generates no notices: it records the requests so
 *	that delivery plugins can honour them, as transaction values
 *	EHLOD_KEY_DSN_RET ("FULL" or "HDRS") and EHLOD_KEY_DSN_ENVID (decoded from xtext),
 *	and as recipient values EHLOD_KEY_DSN_NOTIFY ("NEVER" or e.g.
 *	"SUCCESS,FAILURE"), EHLOD_KEY_DSN_ORCPT (the ORCPT value as sent,
 *	"addr-type;xtext", to be passed on unchanged) and
 *	EHLOD_KEY_DSN_ORCPT_DECODED ("addr-type;address", the xtext decoded).  The
 *	relay plugin passes them on to a next hop that offers DSN; the
 *	maildir plugin writes dsn.orcpt.decoded as an Original-Recipient
 *	header.
 *
 *	Keyword and parameters only, so the plugin has no part to play
 *	inside a host MTA through ehlod-milter: the MTA owns DSN there.
 * CONFIGURATION
 *	None.
 * SEE ALSO
 *	ehlod-plugin-dsn(5), the plugin's manual
 */
#include "autoconfig.h"

#include <stddef.h>

#include <ehlod/plugin.h>

#include "dsn_parse.h"

static const struct ehlod_host *host;

static ehlod_verdict
bad_value(ehlod_ctx *s, const char *keyword, const char *why)
{
	host->reply(s, 501, "5.5.4", "Bad %s parameter: %s", keyword, why);
	return EHLOD_REJECT;
}

static ehlod_verdict
stored(ehlod_ctx *s, int rc, const char *key)
{
	if (rc == 0)
		return EHLOD_CONTINUE;
	host->log(s, LOG_ERR, "cannot store %s", key);
	host->reply(s, 451, "4.3.0", "Local error in processing");
	return EHLOD_TEMPFAIL;
}

/* The host has made sure every value is present (EHLOD_VALUE_REQUIRED)
 * and that no parameter comes twice. */

static ehlod_verdict
ret_param(ehlod_ctx *s, const char *keyword, const char *value)
{
	char out[8];
	const char *why;

	if (dsn_parse_ret(value, out, sizeof(out), &why) < 0)
		return bad_value(s, "RET", why);
	return stored(s, host->txn_set(s, EHLOD_KEY_DSN_RET, out), EHLOD_KEY_DSN_RET);
}

static ehlod_verdict
envid_param(ehlod_ctx *s, const char *keyword, const char *value)
{
	char out[DSN_ENVID_OUT];
	const char *why;

	if (dsn_parse_envid(value, out, sizeof(out), &why) < 0)
		return bad_value(s, "ENVID", why);
	return stored(s, host->txn_set(s, EHLOD_KEY_DSN_ENVID, out), EHLOD_KEY_DSN_ENVID);
}

/* Recipient values go to the recipient being decided, whose index is
 * the number of recipients accepted so far. */
static int
rcpt_store(ehlod_ctx *s, const char *key, const char *value)
{
	return host->rcpt_set(s, host->rcpt_count(s), key, value);
}

static ehlod_verdict
notify_param(ehlod_ctx *s, const char *keyword, const char *value)
{
	char out[DSN_NOTIFY_OUT];
	const char *why;

	if (dsn_parse_notify(value, out, sizeof(out), &why) < 0)
		return bad_value(s, "NOTIFY", why);
	return stored(s, rcpt_store(s, EHLOD_KEY_DSN_NOTIFY, out), EHLOD_KEY_DSN_NOTIFY);
}

static ehlod_verdict
orcpt_param(ehlod_ctx *s, const char *keyword, const char *value)
{
	char out[DSN_ORCPT_OUT];
	const char *why;
	int utf8 = host->flag(s, EHLOD_FLAG_SMTPUTF8);

	if (dsn_parse_orcpt(value, utf8, out, sizeof(out), &why) < 0)
		return bad_value(s, "ORCPT", why);
	/* As sent, for relays (RFC 3461: a relay passes ORCPT on
	 * unchanged), and decoded, for headers and notices. */
	if (rcpt_store(s, EHLOD_KEY_DSN_ORCPT, value) < 0)
		return stored(s, -1, EHLOD_KEY_DSN_ORCPT);
	return stored(s, rcpt_store(s, EHLOD_KEY_DSN_ORCPT_DECODED, out),
	    EHLOD_KEY_DSN_ORCPT_DECODED);
}

static int
dsn_init(const struct ehlod_host *h, ehlod_ctx *inst)
{
	host = h;
	return 0;
}

static const struct ehlod_param dsn_mail_params[] = {
	{ "RET", EHLOD_VALUE_REQUIRED, ret_param },
	{ "ENVID", EHLOD_VALUE_REQUIRED, envid_param },
	{ NULL, 0, NULL }
};

static const struct ehlod_param dsn_rcpt_params[] = {
	{ "NOTIFY", EHLOD_VALUE_REQUIRED, notify_param },
	{ "ORCPT", EHLOD_VALUE_REQUIRED, orcpt_param },
	{ NULL, 0, NULL }
};

EHLOD_PLUGIN_EXPORT const struct ehlod_plugin ehlod_plugin = {
	EHLOD_PLUGIN_HEADER,
	.name = "dsn",
	.version = PACKAGE_VERSION,
	.description = "DSN: RET, ENVID on MAIL; NOTIFY, ORCPT on RCPT "
	    "(RFC 3461)",
	.ehlo_keyword = "DSN",
	.mail_params = dsn_mail_params,
	.rcpt_params = dsn_rcpt_params,
	/* RFC 3461 section 4: MAIL grows by up to 110 characters, RCPT by
	 * up to 500; the host has one increment for both. */
	.line_increment = 500,
	.init = dsn_init,
};
