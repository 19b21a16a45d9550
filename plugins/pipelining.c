/*
 * NAME
 *	pipelining - the PIPELINING service extension (RFC 2920)
 * SUMMARY
 *	plugin pipelining { }
 * DESCRIPTION
 *	Offers the EHLO keyword PIPELINING and nothing else.  The behaviour
 *	it announces -- reading commands ahead, answering them in order and
 *	flushing the replies in batches -- is the server core's, because it
 *	is how the session reads its input and writes its replies, not a
 *	step a plugin could take part in.  This plugin only tells clients
 *	that they may rely on it.
 * CONFIGURATION
 *	None.
 * SEE ALSO
 *	ehlod-plugin-pipelining(5), the plugin's manual
 */
#include "autoconfig.h"

#include <ehlod/plugin.h>

EHLOD_PLUGIN_EXPORT const struct ehlod_plugin ehlod_plugin = {
	EHLOD_PLUGIN_HEADER,
	.name = "pipelining",
	.version = PACKAGE_VERSION,
	.description = "PIPELINING: clients may send commands in groups "
	    "(RFC 2920)",
	.ehlo_keyword = "PIPELINING",
};
