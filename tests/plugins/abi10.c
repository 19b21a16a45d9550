/*
 * NAME
 *	abi10 - test only: a plugin built against the ABI 1.0 header
 * DESCRIPTION
 *	Includes the frozen 1.0 header (plugin_abi10.h), not the installed
 *	one, so its descriptor is 1.0's (shorter, abi_minor 0) and it knows 1.0's
 *	host table only.  The ABI promises that every later 1.x host loads
 *	and runs it: tests/interop/test_abi_old_plugin.py checks its EHLO
 *	keyword, its option, a MAIL parameter, a refusal with its own
 *	reply, a header it adds and its session data.
 *
 *	EHLO keyword XABI10.  MAIL FROM:<...> ABI10=word is taken and the
 *	word is remembered in the transaction's data; RCPT TO:<refuse@...>
 *	is refused 550 5.7.1 "abi10 refuses" plus the option tag; at the end
 *	of the headers "X-ABI10: tag word" is added.
 */
#include "autoconfig.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "plugin_abi10.h"	/* ABI 1.0, not api/ehlod/plugin.h */

#if EHLOD_ABI_MINOR != 0
#error "abi10 must be built against the ABI 1.0 header"
#endif

struct abi10_conf {
	const char *tag;
};

struct abi10_txn {
	char word[64];
};

static const struct ehlod_host *host;

static int
abi10_init(const struct ehlod_host *h, ehlod_ctx *inst)
{
	(void)inst;
	host = h;
	return 0;
}

static ehlod_verdict
abi10_param(ehlod_ctx *c, const char *keyword, const char *value)
{
	struct abi10_txn *t = host->txn_data(c);

	(void)keyword;
	if (value == NULL || strlen(value) >= sizeof(t->word)) {
		host->reply(c, 501, "5.5.4", "ABI10 needs a short value");
		return EHLOD_REJECT;
	}
	snprintf(t->word, sizeof(t->word), "%s", value);
	return EHLOD_ACCEPT;
}

static ehlod_verdict
abi10_rcpt(ehlod_ctx *c, const char *forward_path)
{
	const struct abi10_conf *conf = host->instance(c);

	if (strncmp(forward_path, "refuse@", 7) != 0)
		return EHLOD_CONTINUE;
	host->reply(c, 550, "5.7.1", "abi10 refuses (%s)", conf->tag);
	return EHLOD_REJECT;
}

static ehlod_verdict
abi10_eoh(ehlod_ctx *c)
{
	const struct abi10_conf *conf = host->instance(c);
	const struct abi10_txn *t = host->txn_data(c);
	char value[160];

	snprintf(value, sizeof(value), "%s %s", conf->tag,
	    t->word[0] != '\0' ? t->word : "-");
	host->add_header(c, "X-ABI10", value);
	return EHLOD_CONTINUE;
}

static const struct ehlod_param abi10_mail_params[] = {
	{ .keyword = "ABI10", .value = EHLOD_VALUE_REQUIRED,
	    .handler = abi10_param },
	{ .keyword = NULL }
};

static const struct ehlod_option abi10_options[] = {
	{ "tag", EHLOD_OPT_STRING, offsetof(struct abi10_conf, tag), "old",
	    0, 0, 0, NULL },
	{ NULL, 0, 0, NULL, 0, 0, 0, NULL }
};

EHLOD_PLUGIN_EXPORT const struct ehlod_plugin ehlod_plugin = {
	EHLOD_PLUGIN_HEADER,
	.name = "abi10",
	.version = "1.0",
	.description = "test only: built against the ABI 1.0 header",
	.ehlo_keyword = "XABI10",
	.mail_params = abi10_mail_params,
	.options = abi10_options,
	.instance_size = sizeof(struct abi10_conf),
	.txn_data_size = sizeof(struct abi10_txn),
	.init = abi10_init,
	.on_rcpt = abi10_rcpt,
	.on_eoh = abi10_eoh,
};
