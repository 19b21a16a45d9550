/*
 * NAME
 *	serial - test plugin: catches two plugin calls running at once
 * SUMMARY
 *	plugin serial {}
 * DESCRIPTION
 *	Exists only for the tests (built by "make check", never installed),
 *	to prove the host's promise that plugins need no locks: every hook
 *	and timer callback marks itself busy, sleeps a little so that a call
 *	from another thread would land inside it, and counts it when one
 *	did.  on_rcpt answers PENDING and finishes from a 1 ms host timer,
 *	so the timer callbacks (the event loop's thread in ehlod-milter) are
 *	checked against the hooks (libmilter's threads) too.
 *
 *	on_eom rejects with 554 5.7.0 "serial: N overlapping plugin calls"
 *	once any overlap was seen, and logs the count; otherwise CONTINUE.
 *
 *	The counters are plain ints on purpose: the host serialises calls.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <unistd.h>
#include <ehlod/plugin.h>

#define INSIDE_US 200

static const struct ehlod_host *host;
static int busy;
static unsigned long overlaps;

static void
enter(void)
{
	if (busy++ > 0)
		overlaps++;
	usleep(INSIDE_US);
}

static void
leave(void)
{
	busy--;
}

static ehlod_verdict
step(void)
{
	enter();
	leave();
	return EHLOD_CONTINUE;
}

static ehlod_verdict
serial_connect(ehlod_ctx *s)
{
	(void)s;
	return step();
}

static ehlod_verdict
serial_text(ehlod_ctx *s, const char *text)
{
	(void)s;
	(void)text;
	return step();
}

static ehlod_verdict
serial_header(ehlod_ctx *s, const char *name, const char *value)
{
	(void)s;
	(void)name;
	(void)value;
	return step();
}

static ehlod_verdict
serial_body(ehlod_ctx *s, const unsigned char *chunk, size_t len)
{
	(void)s;
	(void)chunk;
	(void)len;
	return step();
}

static void
fire(ehlod_ctx *s, void *arg)
{
	(void)arg;
	enter();
	leave();
	host->resume(s, EHLOD_CONTINUE);
}

static ehlod_verdict
serial_rcpt(ehlod_ctx *s, const char *to)
{
	(void)to;
	enter();
	leave();
	if (host->timer(s, 1, fire, NULL) == NULL)
		return EHLOD_TEMPFAIL;
	return EHLOD_PENDING;
}

static ehlod_verdict
serial_eom(ehlod_ctx *s)
{
	char text[80];

	step();
	if (overlaps == 0)
		return EHLOD_CONTINUE;
	snprintf(text, sizeof(text), "serial: %lu overlapping plugin calls",
	    overlaps);
	host->log(s, LOG_ERR, "%s", text);
	host->reply(s, 554, "5.7.0", text);
	return EHLOD_REJECT;
}

static int
serial_init(const struct ehlod_host *h, ehlod_ctx *inst)
{
	(void)inst;
	host = h;
	return 0;
}

EHLOD_PLUGIN_EXPORT const struct ehlod_plugin ehlod_plugin = {
	EHLOD_PLUGIN_HEADER,
	.name = "serial",
	.version = PACKAGE_VERSION,
	.description = "rejects once two plugin calls overlapped (tests)",
	.flags = EHLOD_PLUGIN_MILTER_HOOKS,
	.init = serial_init,
	.on_connect = serial_connect,
	.on_helo = serial_text,
	.on_mail = serial_text,
	.on_rcpt = serial_rcpt,
	.on_data = serial_connect,
	.on_header = serial_header,
	.on_eoh = serial_connect,
	.on_body = serial_body,
	.on_eom = serial_eom,
};
