/*
 * NAME
 *	8bitmime - the 8BITMIME service extension (RFC 6152)
 * SUMMARY
 *	plugin 8bitmime { }
 * DESCRIPTION
 *	Offers the EHLO keyword 8BITMIME and takes the MAIL FROM parameter
 *	BODY=7BIT or BODY=8BITMIME (the value in any case), and
 *	BODY=BINARYMIME (RFC 3030) in a session where the binarymime plugin
 *	offered BINARYMIME.  The body type is stored as the transaction
 *	value "body" ("7BIT", "8BITMIME" or "BINARYMIME") for plugins that
 *	pass the message on (a relay must not send an 8-bit body to a peer
 *	without 8BITMIME), and BODY=8BITMIME or BINARYMIME sets the session
 *	flag EHLOD_FLAG_8BITMIME for the transaction.  Any other value is
 *	refused with 501 5.5.4.
 *
 *	RFC 6152 asks nothing more of the server: it has to pass 8-bit
 *	octets through unchanged, which ehlod always does.
 * CONFIGURATION
 *	None.
 * SEE ALSO
 *	ehlod-plugin-8bitmime(5), the plugin's manual
 */
#include "autoconfig.h"

#include <stddef.h>
#include <strings.h>

#include <ehlod/plugin.h>

static const struct ehlod_host *host;

/*
 * The body types this plugin accepts.  BODY has one owner, this plugin,
 * because the loader refuses two plugins that claim the same MAIL
 * parameter; so BODY=BINARYMIME (RFC 3030) is a row here too, accepted
 * only where the binarymime plugin offered its keyword.
 */
static const struct body_type {
	const char *value;	/* as stored in the "body" transaction value */
	int eightbit;		/* sets EHLOD_FLAG_8BITMIME */
	const char *needs;	/* EHLO keyword the session must have been
				 * offered, or NULL */
} body_types[] = {
	{ "7BIT", 0, NULL },
	{ "8BITMIME", 1, NULL },
	{ "BINARYMIME", 1, "BINARYMIME" },
	{ NULL, 0, NULL }
};

static const struct body_type *
find_body_type(ehlod_ctx *s, const char *value)
{
	for (const struct body_type *t = body_types; t->value != NULL; t++)
		if (strcasecmp(value, t->value) == 0)
			return t->needs == NULL || host->offered(s, t->needs) ?
			    t : NULL;
	return NULL;
}

static ehlod_verdict
body_param(ehlod_ctx *s, const char *keyword, const char *value)
{
	const struct body_type *t;

	/* The host has made sure a value is present (EHLOD_VALUE_REQUIRED). */
	t = find_body_type(s, value);
	if (t == NULL) {
		host->reply(s, 501, "5.5.4", "BODY must be 7BIT or 8BITMIME%s",
		    host->offered(s, "BINARYMIME") ? " or BINARYMIME" : "");
		return EHLOD_REJECT;
	}
	if (host->set_flag(s, EHLOD_FLAG_8BITMIME, t->eightbit) < 0 ||
	    host->txn_set(s, EHLOD_KEY_BODY, t->value) < 0) {
		host->log(s, LOG_ERR, "cannot record BODY=%s", t->value);
		host->reply(s, 451, "4.3.0", "Local error in processing");
		return EHLOD_TEMPFAIL;
	}
	return EHLOD_CONTINUE;
}

static int
eightbit_init(const struct ehlod_host *h, ehlod_ctx *inst)
{
	host = h;
	return 0;
}

static const struct ehlod_param eightbit_mail_params[] = {
	{ "BODY", EHLOD_VALUE_REQUIRED, body_param },
	{ NULL, 0, NULL }
};

EHLOD_PLUGIN_EXPORT const struct ehlod_plugin ehlod_plugin = {
	EHLOD_PLUGIN_HEADER,
	.name = "8bitmime",
	.version = PACKAGE_VERSION,
	.description = "8BITMIME: MAIL FROM BODY=7BIT|8BITMIME (RFC 6152), "
	    "BINARYMIME with the binarymime plugin (RFC 3030)",
	.ehlo_keyword = "8BITMIME",
	.mail_params = eightbit_mail_params,
	/* " BODY=BINARYMIME"; " BODY=8BITMIME" needs 14 (RFC 6152
	 * section 2) */
	.line_increment = 16,
	.init = eightbit_init,
};
