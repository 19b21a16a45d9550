/*
 * NAME
 *	delay - test plugin: answer RCPT TO (and the connection) late
 * SUMMARY
 *	plugin delay {
 *		rcpt_delay_ms = 500
 *		rcpt_verdict = "continue"
 *		connect_delay_ms = 0
 *		connect_verdict = "continue"
 *	}
 * DESCRIPTION
 *	Exists only for the tests, to prove that a hook can answer PENDING
 *	and finish later through host->resume() while the server goes on
 *	serving other sessions, and that pipelined commands after a pending
 *	one are answered in order.
 *
 *	on_rcpt sets a timer with host->timer() and returns PENDING; when
 *	the timer fires it sets the reply that goes with the configured
 *	verdict and calls host->resume().  on_connect does the same when
 *	connect_delay_ms is not 0.  With a delay of 0 the verdict is given at
 *	once, without a timer.
 *
 *	Replies: for "reject", 550 5.7.1 "delay: rejected after N ms" (554 at
 *	connection time, the greeting refusal of RFC 5321 section 3.1); for
 *	"tempfail", 451 4.7.1 "delay: deferred after N ms" (421 at
 *	connection time); for "continue", none of its own.
 *
 *	Built by "make check" only, never installed.
 * CONFIGURATION
 *	rcpt_delay_ms (integer, default 500)
 *		How long each RCPT TO waits, 0 to 3600000.
 *	rcpt_verdict (string, default "continue")
 *		"continue", "reject" or "tempfail": the verdict after the wait.
 *	connect_delay_ms (integer, default 0)
 *		How long a new connection waits for its greeting; 0 is none.
 *	connect_verdict (string, default "continue")
 *		As rcpt_verdict, for the connection.
 *	init_warning (string, default "")
 *		When set, init logs it as a warning: for the test that a
 *		warning at start shows once, not once per process.
 */
#include "autoconfig.h"

#include <stddef.h>
#include <stdio.h>
#include <strings.h>

#include <ehlod/plugin.h>

#define DELAY_MAX_MS 3600000

/* One hook's behaviour, from the configuration.  The timer gets a pointer
 * to it, so the callback knows which hook it finishes. */
struct step {
	const char *hook;		/* its option names start with this */
	unsigned ms;
	ehlod_verdict verdict;
	int reject_code;
	int tempfail_code;
};

static const struct ehlod_host *host;
static struct step rcpt_step = { "rcpt", 0, EHLOD_CONTINUE, 550, 451 };
static struct step connect_step = { "connect", 0, EHLOD_CONTINUE, 554, 421 };

static ehlod_verdict
answer(ehlod_ctx *s, const struct step *st)
{
	if (st->verdict == EHLOD_REJECT)
		host->reply(s, st->reject_code, "5.7.1",
		    "delay: rejected after %u ms", st->ms);
	else if (st->verdict == EHLOD_TEMPFAIL)
		host->reply(s, st->tempfail_code, "4.7.1",
		    "delay: deferred after %u ms", st->ms);
	return st->verdict;
}

static void
fire(ehlod_ctx *s, void *arg)
{
	host->resume(s, answer(s, arg));
}

static ehlod_verdict
wait_then_answer(ehlod_ctx *s, struct step *st)
{
	if (st->ms == 0)
		return answer(s, st);
	/* The host cancels the timer itself if the session ends first. */
	if (host->timer(s, st->ms, fire, st) == NULL) {
		host->log(s, LOG_ERR, "cannot set a timer");
		host->reply(s, 451, "4.3.0", "Local error in processing");
		return EHLOD_TEMPFAIL;
	}
	return EHLOD_PENDING;
}

static ehlod_verdict
delay_on_connect(ehlod_ctx *s)
{
	return wait_then_answer(s, &connect_step);
}

static ehlod_verdict
delay_on_rcpt(ehlod_ctx *s, const char *forward_path)
{
	return wait_then_answer(s, &rcpt_step);
}

static int
parse_verdict(const char *text, ehlod_verdict *v)
{
	static const struct {
		const char *name;
		ehlod_verdict verdict;
	} verdicts[] = {
		{ "continue", EHLOD_CONTINUE },
		{ "reject", EHLOD_REJECT },
		{ "tempfail", EHLOD_TEMPFAIL },
	};

	for (size_t i = 0; i < sizeof(verdicts) / sizeof(verdicts[0]); i++) {
		if (strcasecmp(text, verdicts[i].name) == 0) {
			*v = verdicts[i].verdict;
			return 0;
		}
	}
	return -1;
}

struct delay_conf {
	long long rcpt_ms;
	const char *rcpt_verdict;
	long long connect_ms;
	const char *connect_verdict;
	const char *init_warning;
};

static const char *
check_verdict(const void *value)
{
	ehlod_verdict v;

	return parse_verdict(*(const char *const *)value, &v) < 0 ?
	    "must be continue, reject or tempfail" : NULL;
}

static int
delay_init(const struct ehlod_host *h, ehlod_ctx *inst)
{
	const struct delay_conf *conf = h->instance(inst);

	host = h;
	rcpt_step.ms = (unsigned)conf->rcpt_ms;
	connect_step.ms = (unsigned)conf->connect_ms;
	parse_verdict(conf->rcpt_verdict, &rcpt_step.verdict);
	parse_verdict(conf->connect_verdict, &connect_step.verdict);
	if (conf->init_warning[0] != '\0')
		h->log(inst, LOG_WARNING, "%s", conf->init_warning);
	return 0;
}

#define O(name, type, field, def, max, check) { name, type, \
	offsetof(struct delay_conf, field), def, 0, 0, max, check }
static const struct ehlod_option delay_options[] = {
	O("rcpt_delay_ms", EHLOD_OPT_INT, rcpt_ms, "500", DELAY_MAX_MS, NULL),
	O("rcpt_verdict", EHLOD_OPT_STRING, rcpt_verdict, "continue", 0,
	    check_verdict),
	O("connect_delay_ms", EHLOD_OPT_INT, connect_ms, "0", DELAY_MAX_MS,
	    NULL),
	O("connect_verdict", EHLOD_OPT_STRING, connect_verdict, "continue", 0,
	    check_verdict),
	O("init_warning", EHLOD_OPT_STRING, init_warning, "", 0, NULL),
	{ NULL, 0, 0, NULL, 0, 0, 0, NULL }
};

EHLOD_PLUGIN_EXPORT const struct ehlod_plugin ehlod_plugin = {
	EHLOD_PLUGIN_HEADER,
	.name = "delay",
	.version = PACKAGE_VERSION,
	.description = "test only: answer RCPT TO and the connection late "
	    "through PENDING and resume",
	.options = delay_options,
	.instance_size = sizeof(struct delay_conf),
	.init = delay_init,
	.on_connect = delay_on_connect,
	.on_rcpt = delay_on_rcpt,
};
