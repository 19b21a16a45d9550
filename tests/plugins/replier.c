/*
 * NAME
 *	replier - test plugin: a reply set by a plugin that then goes on
 * SUMMARY
 *	plugin replier_a {
 *		path = "replier"
 *		rcpt_reply = true
 *		rcpt_verdict = "continue"
 *	}
 * DESCRIPTION
 *	Exists only for the tests of the chain runner (core/chain.c): its
 *	on_rcpt sets the reply 550 5.7.1 "replier INSTANCE: reply left
 *	behind" when rcpt_reply is true, and answers rcpt_verdict
 *	("continue" or "reject").  Two instances show that a reply an
 *	earlier plugin set before answering CONTINUE is never the reply of
 *	a later plugin's REJECT, nor of the final 250.  Options are kept per
 *	instance (host->instance), so several instances differ.
 *
 *	Built by "make check" only, never installed.
 */
#include "autoconfig.h"

#include <stddef.h>
#include <strings.h>

#include <ehlod/plugin.h>

struct replier {
	int rcpt_reply;
	const char *rcpt_verdict;
};

static const struct ehlod_host *host;

static int
replier_init(const struct ehlod_host *h, ehlod_ctx *inst)
{
	host = h;
	(void)inst;
	return 0;
}

static ehlod_verdict
replier_on_rcpt(ehlod_ctx *s, const char *forward_path)
{
	const struct replier *cf = host->instance(s);

	(void)forward_path;
	if (cf->rcpt_reply)
		host->reply(s, 550, "5.7.1", "replier %s: reply left behind",
		    host->get(s, EHLOD_ITEM_INSTANCE));
	return strcasecmp(cf->rcpt_verdict, "reject") == 0 ? EHLOD_REJECT :
	    EHLOD_CONTINUE;
}

static const char *
check_verdict(const void *value)
{
	const char *v = *(const char *const *)value;

	return strcasecmp(v, "continue") && strcasecmp(v, "reject") ?
	    "must be continue or reject" : NULL;
}

static const struct ehlod_option replier_options[] = {
	{ "rcpt_reply", EHLOD_OPT_BOOL, offsetof(struct replier, rcpt_reply),
	  "false", 0, 0, 0, NULL },
	{ "rcpt_verdict", EHLOD_OPT_STRING,
	  offsetof(struct replier, rcpt_verdict), "continue", 0, 0, 0,
	  check_verdict },
	{ NULL, 0, 0, NULL, 0, 0, 0, NULL }
};

EHLOD_PLUGIN_EXPORT const struct ehlod_plugin ehlod_plugin = {
	EHLOD_PLUGIN_HEADER,
	.name = "replier",
	.version = "test",
	.description = "sets a reply, answers as configured (tests only)",
	.options = replier_options,
	.instance_size = sizeof(struct replier),
	.init = replier_init,
	.on_rcpt = replier_on_rcpt,
};
