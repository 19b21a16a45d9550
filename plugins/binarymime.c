/*
 * NAME
 *	binarymime - the BINARYMIME service extension (RFC 3030)
 * SUMMARY
 *	plugin chunking { }
 *	plugin 8bitmime { }
 *	plugin binarymime { }
 * DESCRIPTION
 *	Offers the EHLO keyword BINARYMIME, which lets a client declare
 *	MAIL FROM:<...> BODY=BINARYMIME for a message with binary MIME
 *	parts: octets of any value, lines of any length, no line structure
 *	at all.  Such content cannot travel through DATA, so RFC 3030
 *	section 3 allows BINARYMIME only with BDAT: DATA in a BINARYMIME
 *	transaction is refused with 503 5.5.1.
 *
 *	The MAIL parameter BODY belongs to the 8bitmime plugin (one
 *	parameter, one owner), which accepts BODY=BINARYMIME only in a
 *	session where BINARYMIME was offered and records it as the
 *	transaction value "body" = "BINARYMIME".  This plugin only offers
 *	the keyword and guards DATA: its on_data hook refuses a transaction
 *	whose "body" is BINARYMIME unless the chunking plugin has marked it
 *	as sent by BDAT (transaction value "bdat").
 *
 *	RFC 3030 makes BINARYMIME a companion of CHUNKING, so the keyword is
 *	offered only in a session where CHUNKING was offered: put this
 *	plugin after chunking in the configuration (keywords are decided in
 *	configuration order), and load 8bitmime too, or BODY is unknown.
 *
 *	The server never changes binary content: BDAT octets are stored as
 *	they come, and the core's check for bare CR and LF applies to DATA
 *	only.
 * CONFIGURATION
 *	None.
 * SEE ALSO
 *	ehlod-plugin-binarymime(5), the plugin's manual
 */
#include "autoconfig.h"

#include <stddef.h>
#include <string.h>

#include <ehlod/plugin.h>

static const struct ehlod_host *host;

static int
binarymime_ehlo_params(ehlod_ctx *s, char *buf, size_t buflen)
{
	buf[0] = '\0';
	return host->offered(s, "CHUNKING") ? 0 : -1;
}

static ehlod_verdict
binarymime_on_data(ehlod_ctx *s)
{
	const char *body = host->txn_get(s, EHLOD_KEY_BODY);

	if (body == NULL || strcmp(body, "BINARYMIME") != 0)
		return EHLOD_CONTINUE;
	if (host->txn_get(s, EHLOD_KEY_BDAT) != NULL)
		return EHLOD_CONTINUE;
	/* RFC 3030 section 3: DATA after BODY=BINARYMIME is a sequence
	 * error. */
	host->reply(s, 503, "5.5.1", "BODY=BINARYMIME needs BDAT, not DATA");
	return EHLOD_REJECT;
}

static int
binarymime_init(const struct ehlod_host *h, ehlod_ctx *inst)
{
	host = h;
	return 0;
}

EHLOD_PLUGIN_EXPORT const struct ehlod_plugin ehlod_plugin = {
	EHLOD_PLUGIN_HEADER,
	.name = "binarymime",
	.version = PACKAGE_VERSION,
	.description = "BINARYMIME: BODY=BINARYMIME with BDAT only "
	    "(RFC 3030)",
	.ehlo_keyword = "BINARYMIME",
	.ehlo_params = binarymime_ehlo_params,
	.init = binarymime_init,
	.on_data = binarymime_on_data,
};
