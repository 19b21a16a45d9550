/*
 * NAME
 *	noop - test plugin: every message hook, each answering CONTINUE
 * SUMMARY
 *	plugin noop1 { path = ".../noop1.so" }	(noop1 to noop4)
 * DESCRIPTION
 *	Exists for bench/milter, to measure what the host itself costs per
 *	hook: on_connect, on_helo, on_mail, on_rcpt, on_data, on_header,
 *	on_eoh and on_body do nothing and answer CONTINUE, so the host asks
 *	the MTA for every step.  Built four times (noop1 to noop4) because
 *	a section must be named after its plugin and a name loads once.
 *
 *	Built by "make check" only, never installed.
 */
#include "autoconfig.h"

#include <ehlod/plugin.h>

#ifndef NOOP_NAME
#define NOOP_NAME "noop"
#endif

static ehlod_verdict
noop_connect(ehlod_ctx *s)
{
	(void)s;
	return EHLOD_CONTINUE;
}

static ehlod_verdict
noop_text(ehlod_ctx *s, const char *text)
{
	(void)s;
	(void)text;
	return EHLOD_CONTINUE;
}

static ehlod_verdict
noop_header(ehlod_ctx *s, const char *name, const char *value)
{
	(void)s;
	(void)name;
	(void)value;
	return EHLOD_CONTINUE;
}

static ehlod_verdict
noop_body(ehlod_ctx *s, const unsigned char *chunk, size_t len)
{
	(void)s;
	(void)chunk;
	(void)len;
	return EHLOD_CONTINUE;
}

EHLOD_PLUGIN_EXPORT const struct ehlod_plugin ehlod_plugin = {
	EHLOD_PLUGIN_HEADER,
	.name = NOOP_NAME,
	.version = PACKAGE_VERSION,
	.description = "every message hook, doing nothing (bench/milter)",
	.flags = EHLOD_PLUGIN_MILTER_HOOKS,
	.on_connect = noop_connect,
	.on_helo = noop_text,
	.on_mail = noop_text,
	.on_rcpt = noop_text,
	.on_data = noop_connect,
	.on_header = noop_header,
	.on_eoh = noop_connect,
	.on_body = noop_body,
};
