/* tour.c - the plugin ABI in one plugin: keyword XTOUR with a parameter, MAIL
 * parameter XTAG=xtext written as header X-Tag, verb XCOUNT, a per-session count
 * of delivered messages (outcome reports), RCPT answered after a timer. */
#include <stdio.h>
#include <ehlod/plugin.h>

struct conf { long long wait_ms; };	/* options, filled in by the host */
struct sess { unsigned delivered; };	/* host-owned, zeroed, per session */
struct txn { char tag[256]; };		/* ... and per transaction */
static const struct ehlod_host *host;
static int params(ehlod_ctx *c, char *buf, size_t len)
{
	(void)c;
	return snprintf(buf, len, "V1") < (int)len ? 0 : -1;
}
static ehlod_verdict xtag(ehlod_ctx *c, const char *kw, const char *value)
{
	struct txn *t = host->txn_data(c);
	(void)kw;
	if (host->xtext_decode(value, t->tag, sizeof(t->tag)) >= 0)
		return EHLOD_CONTINUE;
	host->reply(c, 501, "5.5.4", "XTAG must be xtext");
	return EHLOD_REJECT;
}
static ehlod_verdict xcount(ehlod_ctx *c, const char *args)
{
	const struct sess *s = host->session_data(c);
	host->reply(c, 250, "2.0.0", "%u delivered %s", s->delivered, args);
	return EHLOD_ACCEPT;
}
static void wake(ehlod_ctx *c, void *arg) { (void)arg; host->resume(c, EHLOD_CONTINUE); }
static ehlod_verdict rcpt(ehlod_ctx *c, const char *to)
{
	const struct conf *cf = host->instance(c);
	(void)to;
	return host->timer(c, cf->wait_ms, wake, NULL) ? EHLOD_PENDING : EHLOD_TEMPFAIL;
}
static ehlod_verdict eoh(ehlod_ctx *c)
{
	const struct txn *t = host->txn_data(c);
	return t->tag[0] && host->add_header(c, "X-Tag", t->tag) < 0 ?
	    EHLOD_TEMPFAIL : EHLOD_CONTINUE;
}
static void report(ehlod_ctx *c, const struct ehlod_report *r)
{
	struct sess *s = host->session_data(c);
	if (r->kind == EHLOD_REPORT_TXN && r->outcome == EHLOD_TXN_DELIVERED)
		host->log(c, LOG_INFO, "delivered %u", ++s->delivered);
}
static int init(const struct ehlod_host *h, ehlod_ctx *i) { (void)i; host = h; return 0; }
static const struct ehlod_verb verbs[] = { { "XCOUNT", EHLOD_STATE_ANY, 0, xcount }, { 0 } };
static const struct ehlod_param mail[] = { { "XTAG", EHLOD_VALUE_REQUIRED, xtag }, { 0 } };
static const struct ehlod_option opts[] = { { "wait_ms", EHLOD_OPT_INT,
	offsetof(struct conf, wait_ms), "100", 0, 0, 60000, NULL }, { 0 } };
EHLOD_PLUGIN_EXPORT const struct ehlod_plugin ehlod_plugin = { EHLOD_PLUGIN_HEADER,
	.name = "tour", .ehlo_keyword = "XTOUR", .ehlo_params = params, .verbs = verbs,
	.mail_params = mail, .line_increment = 300, .options = opts, .init = init,
	.flags = EHLOD_PLUGIN_MILTER_HOOKS, .instance_size = sizeof(struct conf),
	.session_data_size = sizeof(struct sess), .txn_data_size = sizeof(struct txn),
	.on_rcpt = rcpt, .on_eoh = eoh, .on_report = report };
