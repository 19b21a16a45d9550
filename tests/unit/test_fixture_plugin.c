/*
 * NAME
 *	test_fixture_plugin - plugins that exist only to test the loader
 *	and the core's handling of plugin verbs and parameters
 * DESCRIPTION
 *	One source, built several times with a different FIXTURE_* macro
 *	(see tests/local.mk), each build a libtool module under tests/unit:
 *
 *	fixture (FIXTURE_GOOD)
 *		A well-formed plugin with the local keyword XFIXTURE, whose
 *		EHLO parameter is the option "param" and which is not offered
 *		at all when the option "offer" is false; the verbs XHELLO
 *		(greeted, or with a recipient; not between MAIL and the
 *		first RCPT), XARG (needs an argument) and XNOARG (takes
 *		none); the MAIL parameter XFIX=value (a value of "bad" is
 *		refused 501) and the RCPT parameter XFLAG (no value); an
 *		on_rcpt hook refusing "reject-me@..." with 550 5.1.1 and
 *		"tempfail-me@..." with 450 4.2.0.
 *	fixture_badmajor, fixture_newminor, fixture_small
 *		ABI major 99, a minor newer than the host's, a descriptor
 *		shorter than ABI 1.0's: the loader must refuse them.
 *	fixture_nosym
 *		Exports no "ehlod_plugin" symbol.
 *	fixture_dupsize, fixture_dupbody, fixture_dupverb, fixture_coreverb
 *		Claim the EHLO keyword SIZE, the MAIL parameter BODY, the verb
 *		XHELLO (the good fixture's), the core verb DATA.
 *	fixture_badcounter
 *		A counter name Prometheus would not take.
 *	fixture_opttype
 *		The size plugin's integer option "limit", as a string.
 *	fixture_opttwice
 *		The option "depth" twice, as a string and as an integer.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <ehlod/plugin.h>

#if defined(FIXTURE_GOOD) || defined(FIXTURE_DUPVERB) || \
    defined(FIXTURE_COREVERB)
static const struct ehlod_host *host;

static ehlod_verdict
verb_hello(ehlod_ctx *s, const char *args)
{
	host->reply(s, 250, "2.0.0", "hello %s", args[0] ? args : "(none)");
	return EHLOD_ACCEPT;
}
#endif

#if defined(FIXTURE_GOOD)
static int offer = 1;
static char param[64] = "";

struct fixture_conf {
	int offer;
	const char *param;
};

static int
fixture_init(const struct ehlod_host *h, ehlod_ctx *inst)
{
	const struct fixture_conf *conf = h->instance(inst);

	host = h;
	offer = conf->offer;
	snprintf(param, sizeof(param), "%s", conf->param ? conf->param : "");
	return 0;
}

static int
fixture_ehlo_params(ehlod_ctx *s, char *buf, size_t len)
{
	if (!offer)
		return -1;
	snprintf(buf, len, "%s", param);
	return 0;
}

static ehlod_verdict
param_xfix(ehlod_ctx *s, const char *keyword, const char *value)
{
	if (value && strcmp(value, "bad") == 0) {
		host->reply(s, 501, "5.5.4", "fixture: bad XFIX value");
		return EHLOD_REJECT;
	}
	host->txn_set(s, "fixture.xfix", value);
	return EHLOD_CONTINUE;
}

static ehlod_verdict
param_xflag(ehlod_ctx *s, const char *keyword, const char *value)
{
	return EHLOD_CONTINUE;
}

static ehlod_verdict
fixture_on_rcpt(ehlod_ctx *s, const char *forward_path)
{
	if (strncasecmp(forward_path, "reject-me@", 10) == 0) {
		host->reply(s, 550, "5.1.1", "fixture: no such user");
		return EHLOD_REJECT;
	}
	if (strncasecmp(forward_path, "tempfail-me@", 12) == 0) {
		host->reply(s, 450, "4.2.0", "fixture: try later");
		return EHLOD_TEMPFAIL;
	}
	return EHLOD_CONTINUE;
}

static ehlod_verdict
fixture_on_helo(ehlod_ctx *s, const char *domain)
{
	return EHLOD_CONTINUE;
}

static const struct ehlod_verb fixture_verbs[] = {
	{ "XHELLO", EHLOD_STATE_GREETED | EHLOD_STATE_RCPT, 0, verb_hello },
	{ "XARG", EHLOD_STATE_ANY, EHLOD_VERB_NEEDS_ARG, verb_hello },
	{ "XNOARG", EHLOD_STATE_ANY, EHLOD_VERB_NO_ARG, verb_hello },
	{ NULL, 0, 0, NULL }
};

static const struct ehlod_param fixture_mail_params[] = {
	{ "XFIX", EHLOD_VALUE_REQUIRED, param_xfix },
	{ NULL, 0, NULL }
};

static const struct ehlod_param fixture_rcpt_params[] = {
	{ "XFLAG", EHLOD_VALUE_NONE, param_xflag },
	{ NULL, 0, NULL }
};

static const struct ehlod_option fixture_options[] = {
	{ "offer", EHLOD_OPT_BOOL, offsetof(struct fixture_conf, offer),
	  "yes", 0, 0, 0, NULL },
	{ "param", EHLOD_OPT_STRING, offsetof(struct fixture_conf, param),
	  "", 0, 0, 0, NULL },
	{ NULL, 0, 0, NULL, 0, 0, 0, NULL }
};

EHLOD_PLUGIN_EXPORT const struct ehlod_plugin ehlod_plugin = {
	EHLOD_PLUGIN_HEADER,
	.name = "fixture",
	.version = "1",
	.description = "test fixture",
	.ehlo_keyword = "XFIXTURE",
	.ehlo_params = fixture_ehlo_params,
	.verbs = fixture_verbs,
	.mail_params = fixture_mail_params,
	.rcpt_params = fixture_rcpt_params,
	.line_increment = 0,
	.options = fixture_options,
	.instance_size = sizeof(struct fixture_conf),
	.init = fixture_init,
	.on_helo = fixture_on_helo,
	.on_rcpt = fixture_on_rcpt,
};

#elif defined(FIXTURE_BADMAJOR)
EHLOD_PLUGIN_EXPORT const struct ehlod_plugin ehlod_plugin = {
	.abi_major = 99, .abi_minor = 0, .size = sizeof(struct ehlod_plugin),
	.name = "fixture_badmajor",
};

#elif defined(FIXTURE_NEWMINOR)
EHLOD_PLUGIN_EXPORT const struct ehlod_plugin ehlod_plugin = {
	.abi_major = EHLOD_ABI_MAJOR, .abi_minor = EHLOD_ABI_MINOR + 1,
	.size = sizeof(struct ehlod_plugin),
	.name = "fixture_newminor",
};

#elif defined(FIXTURE_SMALL)
EHLOD_PLUGIN_EXPORT const struct ehlod_plugin ehlod_plugin = {
	.abi_major = EHLOD_ABI_MAJOR, .abi_minor = EHLOD_ABI_MINOR,
	.size = 16,
	.name = "fixture_small",
};

#elif defined(FIXTURE_NOSYM)
/* The descriptor under another name: not a plugin. */
EHLOD_PLUGIN_EXPORT const struct ehlod_plugin ehlod_plugin_misnamed = {
	EHLOD_PLUGIN_HEADER,
	.name = "fixture_nosym",
};

#elif defined(FIXTURE_DUPSIZE)
EHLOD_PLUGIN_EXPORT const struct ehlod_plugin ehlod_plugin = {
	EHLOD_PLUGIN_HEADER,
	.name = "fixture_dupsize",
	.ehlo_keyword = "SIZE",
};

#elif defined(FIXTURE_DUPBODY)
static ehlod_verdict
param_any(ehlod_ctx *s, const char *keyword, const char *value)
{
	return EHLOD_CONTINUE;
}

static const struct ehlod_param dup_mail_params[] = {
	{ "BODY", EHLOD_VALUE_REQUIRED, param_any },
	{ NULL, 0, NULL }
};

EHLOD_PLUGIN_EXPORT const struct ehlod_plugin ehlod_plugin = {
	EHLOD_PLUGIN_HEADER,
	.name = "fixture_dupbody",
	.ehlo_keyword = "XDUPBODY",
	.mail_params = dup_mail_params,
};

#elif defined(FIXTURE_DUPVERB) || defined(FIXTURE_COREVERB)
static const struct ehlod_verb dup_verbs[] = {
#if defined(FIXTURE_DUPVERB)
	{ "xhello", EHLOD_STATE_ANY, 0, verb_hello },
#else
	{ "DATA", EHLOD_STATE_ANY, 0, verb_hello },
#endif
	{ NULL, 0, 0, NULL }
};

EHLOD_PLUGIN_EXPORT const struct ehlod_plugin ehlod_plugin = {
	EHLOD_PLUGIN_HEADER,
#if defined(FIXTURE_DUPVERB)
	.name = "fixture_dupverb",
#else
	.name = "fixture_coreverb",
#endif
	.verbs = dup_verbs,
};

#elif defined(FIXTURE_BADCOUNTER)
/* A counter name Prometheus would not take. */
static const struct ehlod_counter bad_counters[] = {
	{ "good_total", "Fine." },
	{ "Bad-Name", "Capitals and a dash." },
	{ NULL, NULL }
};

EHLOD_PLUGIN_EXPORT const struct ehlod_plugin ehlod_plugin = {
	EHLOD_PLUGIN_HEADER,
	.name = "fixture_badcounter",
	.counters = bad_counters,
};

#elif defined(FIXTURE_OPTTYPE) || defined(FIXTURE_OPTTWICE)
/* The size plugin's option "limit" (an integer) as a string: the two
 * cannot share the one table every plugin section is read with; or one
 * option declared twice with two types. */
struct opttype_conf {
	const char *text;
	long long number;
};

static const struct ehlod_option opttype_options[] = {
#if defined(FIXTURE_OPTTYPE)
	{ "limit", EHLOD_OPT_STRING, offsetof(struct opttype_conf, text),
	  NULL, 0, 0, 0, NULL },
#else
	{ "depth", EHLOD_OPT_STRING, offsetof(struct opttype_conf, text),
	  NULL, 0, 0, 0, NULL },
	{ "depth", EHLOD_OPT_INT, offsetof(struct opttype_conf, number),
	  NULL, 0, 0, 0, NULL },
#endif
	{ NULL, 0, 0, NULL, 0, 0, 0, NULL }
};

EHLOD_PLUGIN_EXPORT const struct ehlod_plugin ehlod_plugin = {
	EHLOD_PLUGIN_HEADER,
#if defined(FIXTURE_OPTTYPE)
	.name = "fixture_opttype",
#else
	.name = "fixture_opttwice",
#endif
	.options = opttype_options,
	.instance_size = sizeof(struct opttype_conf),
};

#else
#error "build with one FIXTURE_* macro"
#endif
