/*
 * NAME
 *	enhancedstatuscodes - the ENHANCEDSTATUSCODES extension (RFC 2034)
 * SUMMARY
 *	plugin enhancedstatuscodes { }
 * DESCRIPTION
 *	Offers the EHLO keyword ENHANCEDSTATUSCODES and nothing else.  Every
 *	reply in ehlod carries its RFC 3463 code inside the host (plugins
 *	pass it to host->reply()); the host puts it in front of the reply
 *	text only in a session where this keyword was offered, as RFC 2034
 *	asks, so loading this plugin is what turns the codes on.
 * CONFIGURATION
 *	None.
 * SEE ALSO
 *	ehlod-plugin-enhancedstatuscodes(5), the plugin's manual
 */
#include "autoconfig.h"

#include <ehlod/plugin.h>

EHLOD_PLUGIN_EXPORT const struct ehlod_plugin ehlod_plugin = {
	EHLOD_PLUGIN_HEADER,
	.name = "enhancedstatuscodes",
	.version = PACKAGE_VERSION,
	.description = "ENHANCEDSTATUSCODES: replies carry RFC 3463 codes "
	    "(RFC 2034)",
	.ehlo_keyword = "ENHANCEDSTATUSCODES",
};
