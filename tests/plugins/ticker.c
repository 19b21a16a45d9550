/*
 * NAME
 *	ticker - test only: a timer that keeps firing on every session
 * DESCRIPTION
 *	on_connect starts a timer of interval_ms that re-arms itself for
 *	the whole session.  Each tick counts in the instance's own session
 *	data, logs "tick N of INSTANCE", and tries to set a reply and to
 *	resume, both of which the host must refuse because this instance is
 *	not deciding anything.  on_eoh adds "X-Ticks: N".
 *
 *	on_report logs every outcome report: "report txn OUTCOME by=NAME
 *	me=N code=C rcpts=R" and "report session OUTCOME code=C", OUTCOME
 *	being the enum's number (tests/interop/test_reports.py).
 *
 *	With watch = yes, on_connect also makes two pipes and watches their
 *	read ends with host->watch(): one it has written a byte to (the
 *	callback must see EHLOD_WATCH_READ), one it never writes to, with a
 *	100 ms time-out (EHLOD_WATCH_TIMEOUT).  Both log what they saw.
 *	A third pipe gets host->watch_persistent() (ABI 1.5): each tick
 *	writes a byte to it, and each time the watch fires it reads one and
 *	logs "steady N"; the third time it cancels itself from inside its
 *	callback ("steady cancelled"), so later bytes must go unseen.  With the delay
 *	plugin pending on the same session, the ticks must still act for
 *	ticker (its own counter, its own name) and must not take over
 *	delay's reply or resume: tests/interop/test_explicit_context.py.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <unistd.h>

#include <ehlod/plugin.h>

struct ticker_conf {
	long long interval_ms;
	int watch;
};

struct ticks {
	unsigned n;
	int fds[3][2];		/* the three pipes of watch = yes */
	int piped;
	ehlod_event *steady;	/* the persistent watch of fds[2] */
	unsigned steady_n;
};

#define STEADY_FIRES 3

static const struct ehlod_host *host;

static void
tick(ehlod_ctx *c, void *arg)
{
	struct ticks *t = host->session_data(c);
	const struct ticker_conf *conf = host->instance(c);

	(void)arg;
	t->n++;
	host->log(c, LOG_INFO, "tick %u of %s", t->n,
	    host->get(c, EHLOD_ITEM_INSTANCE));
	host->reply(c, 550, "5.7.1", "ticker must not decide this");
	host->resume(c, EHLOD_REJECT);
	if (t->piped && write(t->fds[2][1], "s", 1) != 1)
		host->log(c, LOG_ERR, "pipe write failed");
	host->timer(c, (unsigned)conf->interval_ms, tick, NULL);
}

static void
watched(ehlod_ctx *c, void *arg, unsigned events)
{
	host->log(c, LOG_INFO, "watch %s:%s%s", (const char *)arg,
	    events & EHLOD_WATCH_READ ? " readable" : "",
	    events & EHLOD_WATCH_TIMEOUT ? " timeout" : "");
}

static void
steady_read(ehlod_ctx *c, void *arg, unsigned events)
{
	struct ticks *t = host->session_data(c);
	char b;

	(void)arg;
	if (!(events & EHLOD_WATCH_READ) || read(t->fds[2][0], &b, 1) != 1)
		return;
	host->log(c, LOG_INFO, "steady %u", ++t->steady_n);
	if (t->steady_n < STEADY_FIRES)
		return;
	host->cancel(t->steady);
	t->steady = NULL;
	host->log(c, LOG_INFO, "steady cancelled");
}

static void
start_watches(ehlod_ctx *c, struct ticks *t)
{
	int made = 0;

	while (made < 3 && pipe(t->fds[made]) == 0)
		made++;
	if (made < 3) {
		while (made-- > 0) {
			close(t->fds[made][0]);
			close(t->fds[made][1]);
		}
		return;
	}
	t->piped = 1;
	if (EHLOD_HOST_HAS(host, watch_persistent))
		t->steady = host->watch_persistent(c, t->fds[2][0],
		    EHLOD_WATCH_READ, steady_read, NULL);
	if (write(t->fds[0][1], "x", 1) != 1)
		host->log(c, LOG_ERR, "pipe write failed");
	host->watch(c, t->fds[0][0], EHLOD_WATCH_READ, 0, watched, "full");
	host->watch(c, t->fds[1][0], EHLOD_WATCH_READ, 100, watched, "empty");
}

/* The host frees the session data; the pipes are ours. */
static void
ticks_cleanup(ehlod_ctx *c, void *data)
{
	struct ticks *t = data;

	(void)c;
	if (!t->piped)
		return;
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 2; j++)
			close(t->fds[i][j]);
}

static ehlod_verdict
ticker_on_connect(ehlod_ctx *c)
{
	const struct ticker_conf *conf = host->instance(c);

	host->timer(c, (unsigned)conf->interval_ms, tick, NULL);
	if (conf->watch)
		start_watches(c, host->session_data(c));
	return EHLOD_CONTINUE;
}

static ehlod_verdict
ticker_on_eoh(ehlod_ctx *c)
{
	const struct ticks *t = host->session_data(c);
	char n[16];

	snprintf(n, sizeof(n), "%u", t->n);
	host->add_header(c, "X-Ticks", n);
	return EHLOD_CONTINUE;
}

static void
ticker_on_report(ehlod_ctx *c, const struct ehlod_report *r)
{
	if (r->kind == EHLOD_REPORT_TXN)
		host->log(c, LOG_INFO, "report txn %d by=%s me=%d code=%d "
		    "rcpts=%zu", (int)r->outcome, r->by ? r->by : "-",
		    r->by_me, r->code, r->rcpts);
	else
		host->log(c, LOG_INFO, "report session %d code=%d",
		    (int)r->outcome, r->code);
}

static int
ticker_init(const struct ehlod_host *h, ehlod_ctx *inst)
{
	(void)inst;
	host = h;
	return 0;
}

static const struct ehlod_option ticker_options[] = {
	{ "interval_ms", EHLOD_OPT_INT, offsetof(struct ticker_conf,
	  interval_ms), "50", 0, 1, 10000, NULL },
	{ "watch", EHLOD_OPT_BOOL, offsetof(struct ticker_conf, watch), "no",
	  0, 0, 0, NULL },
	{ NULL, 0, 0, NULL, 0, 0, 0, NULL }
};

EHLOD_PLUGIN_EXPORT const struct ehlod_plugin ehlod_plugin = {
	EHLOD_PLUGIN_HEADER,
	.name = "ticker",
	.version = PACKAGE_VERSION,
	.description = "test only: a self-renewing timer on every session",
	.options = ticker_options,
	.instance_size = sizeof(struct ticker_conf),
	.session_data_size = sizeof(struct ticks),
	.session_cleanup = ticks_cleanup,
	.init = ticker_init,
	.on_connect = ticker_on_connect,
	.on_eoh = ticker_on_eoh,
	.on_report = ticker_on_report,
};
