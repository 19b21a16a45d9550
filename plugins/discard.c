/*
 * NAME
 *	discard - accept every message and throw it away
 * SUMMARY
 *	plugin discard { }
 * DESCRIPTION
 *	A delivery step that delivers nothing: at the end of each message it
 *	answers DISCARD, so the client gets 250 2.0.0 "Ok: discarded" and the
 *	message is dropped.  It exists for benchmarks and tests, where the
 *	cost of the SMTP dialogue should be measured without the cost of
 *	storing mail.  Put it last among the delivery plugins: a plugin
 *	before it that answers ACCEPT has already delivered the message.
 *
 *	Every discarded message keeps its status=discarded line (the core
 *	writes it, naming plugin=discard), so that a server with this plugin
 *	enabled by mistake does not lose mail silently; the plugin's own
 *	line, which said the same, is for debug logging only.
 * CONFIGURATION
 *	None.
 * SEE ALSO
 *	ehlod-plugin-discard(5), the plugin's manual
 */
#include "autoconfig.h"

#include <ehlod/plugin.h>

static const struct ehlod_host *host;

static ehlod_verdict
discard_on_eom(ehlod_ctx *s)
{
	const char *from = host->get(s, EHLOD_ITEM_MAIL_FROM);

	host->log(s, LOG_DEBUG, "discarded: from=<%s>, nrcpt=%zu",
	    from != NULL ? from : "", host->rcpt_count(s));
	host->reply(s, 250, "2.0.0", "Ok: discarded");
	return EHLOD_DISCARD;
}

static int
discard_init(const struct ehlod_host *h, ehlod_ctx *inst)
{
	host = h;
	return 0;
}

EHLOD_PLUGIN_EXPORT const struct ehlod_plugin ehlod_plugin = {
	EHLOD_PLUGIN_HEADER,
	.name = "discard",
	.version = PACKAGE_VERSION,
	.description = "accept every message and drop it (benchmarks, tests)",
	.init = discard_init,
	.on_eom = discard_on_eom,
};
