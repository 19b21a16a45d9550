/*
 * NAME
 *	milterprobe - test plugin: a verdict, reply or header change at every
 *	hook, for the ehlod-milter tests
 * SUMMARY
 *	plugin milterprobe {
 *		reject_rcpt = { "bad@example.org" }
 *		pend_rcpt = { "slow@example.org" }
 *		pend_ms = 300
 *	}
 * DESCRIPTION
 *	Exists only for the tests (built by "make check", never installed).
 *	Each hook answers from the lists in its section, so a test picks
 *	the verdict of every step by the values it sends:
 *
 *	on_connect: a client address in reject_client gets 554 5.7.1.
 *	on_helo: a name in reject_helo gets 550 5.7.1.
 *	on_mail: a sender in reject_from gets 550 5.7.1.
 *	on_rcpt: a recipient in pend_rcpt waits pend_ms on a host timer and
 *	is then judged like any other: reject_rcpt gives 550 5.7.1
 *	"milterprobe: <addr> rejected", tempfail_rcpt 450 4.7.1,
 *	discard_rcpt DISCARD, anything else CONTINUE.
 *	on_header: the header named reject_header gets 554 5.7.1.
 *	on_body: counts octets.  on_eoh: notes that it ran.
 *	on_eom: a body holding multiline_marker gets a two-line 550 5.7.1;
 *	otherwise the message gets the header X-Ehlod-Probe (what the host
 *	told the plugin: host name, HELO, client, sender, recipients, TLS,
 *	AUTH, headers and body seen, octets host->message_read gave),
 *	X-Probe-First inserted at the top, "Subject" prefixed with
 *	"[probe] ", and a header X-Probe-Delete removed.
 *	on_unknown: 502 5.5.1.  on_rset, on_close: a log line each.
 *
 *	It also declares an EHLO keyword, a verb and a MAIL parameter, so
 *	that ehlod-milter -t has something inert to list.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ehlod/plugin.h>

static const struct ehlod_host *host;

/* The options; list names index lists[] in this order. */
static const char *const list_names[] = {
	"reject_client", "reject_helo", "reject_from", "reject_rcpt",
	"tempfail_rcpt", "discard_rcpt", "pend_rcpt"
};
#define NLISTS (sizeof(list_names) / sizeof(list_names[0]))

struct probe_conf {
	struct ehlod_list lists[NLISTS];
	long long pend_ms;
	const char *reject_header;
	const char *multiline_marker;
};

static const struct probe_conf *conf;

/* The recipient a pending RCPT waits for: session data. */
struct probe_session {
	char to[512];
};

/* What the plugin saw of one transaction. */
struct probe_txn {
	unsigned headers;
	size_t body;
	int eoh;
	int data;
	int has_delete;
	char subject[512];
	int has_subject;
	char multiline;
};

static int
listed(const char *option, const char *value)
{
	for (size_t k = 0; k < NLISTS; k++) {
		const struct ehlod_list *l = &conf->lists[k];
		if (strcmp(list_names[k], option) != 0)
			continue;
		for (size_t i = 0; value && i < l->n; i++)
			if (strcasecmp(l->v[i], value) == 0)
				return 1;
	}
	return 0;
}

static struct probe_txn *
txn(ehlod_ctx *s)
{
	return host->txn_data(s);
}

static ehlod_verdict
probe_connect(ehlod_ctx *s)
{
	const char *addr = host->get(s, EHLOD_ITEM_CLIENT_ADDR);

	if (!listed("reject_client", addr))
		return EHLOD_CONTINUE;
	host->reply(s, 554, "5.7.1", "milterprobe: client %s refused", addr);
	return EHLOD_REJECT;
}

static ehlod_verdict
probe_helo(ehlod_ctx *s, const char *domain)
{
	if (!listed("reject_helo", domain))
		return EHLOD_CONTINUE;
	host->reply(s, 550, "5.7.1", "milterprobe: HELO %s refused", domain);
	return EHLOD_REJECT;
}

static ehlod_verdict
probe_mail(ehlod_ctx *s, const char *reverse_path)
{
	if (!listed("reject_from", reverse_path))
		return EHLOD_CONTINUE;
	host->reply(s, 550, "5.7.1", "milterprobe: sender <%s> rejected",
	    reverse_path);
	return EHLOD_REJECT;
}

static ehlod_verdict
judge_rcpt(ehlod_ctx *s, const char *to)
{
	if (listed("reject_rcpt", to)) {
		host->reply(s, 550, "5.7.1", "milterprobe: <%s> rejected", to);
		return EHLOD_REJECT;
	}
	if (listed("tempfail_rcpt", to)) {
		host->reply(s, 450, "4.7.1", "milterprobe: <%s> deferred", to);
		return EHLOD_TEMPFAIL;
	}
	if (listed("discard_rcpt", to))
		return EHLOD_DISCARD;
	return EHLOD_CONTINUE;
}

/* The recipient being waited for is session data, not the timer's
 * argument: the host frees session data when a session ends, but a timer
 * it cancels takes its argument with it. */
static void
pend_fire(ehlod_ctx *s, void *arg)
{
	struct probe_session *ps = host->session_data(s);
	const char *to = ps ? ps->to : "";
	ehlod_verdict v = judge_rcpt(s, to);

	(void)arg;
	host->log(s, LOG_INFO, "pending verdict for <%s> after %lld ms",
	    to, conf->pend_ms);
	host->resume(s, v);
}

static ehlod_verdict
probe_rcpt(ehlod_ctx *s, const char *forward_path)
{
	struct probe_session *ps;

	if (!listed("pend_rcpt", forward_path))
		return judge_rcpt(s, forward_path);
	ps = host->session_data(s);
	if (ps)
		snprintf(ps->to, sizeof(ps->to), "%s", forward_path);
	if (ps == NULL || host->timer(s, (unsigned)conf->pend_ms, pend_fire,
	    NULL) == NULL) {
		host->reply(s, 451, "4.3.0", "milterprobe: no timer");
		return EHLOD_TEMPFAIL;
	}
	return EHLOD_PENDING;
}

static ehlod_verdict
probe_data(ehlod_ctx *s)
{
	struct probe_txn *t = txn(s);

	if (t)
		t->data = 1;
	return EHLOD_CONTINUE;
}

static ehlod_verdict
probe_header(ehlod_ctx *s, const char *name, const char *value)
{
	struct probe_txn *t = txn(s);

	if (strcasecmp(name, conf->reject_header) == 0) {
		host->reply(s, 554, "5.7.1", "milterprobe: header %s refused",
		    name);
		return EHLOD_REJECT;
	}
	if (t == NULL)
		return EHLOD_CONTINUE;
	t->headers++;
	if (strcasecmp(name, "X-Probe-Delete") == 0)
		t->has_delete = 1;
	if (strcasecmp(name, "Subject") == 0 && !t->has_subject) {
		snprintf(t->subject, sizeof(t->subject), "%s", value);
		t->has_subject = 1;
	}
	return EHLOD_CONTINUE;
}

static ehlod_verdict
probe_eoh(ehlod_ctx *s)
{
	struct probe_txn *t = txn(s);

	if (t)
		t->eoh = 1;
	return EHLOD_CONTINUE;
}

static ehlod_verdict
probe_body(ehlod_ctx *s, const unsigned char *chunk, size_t len)
{
	struct probe_txn *t = txn(s);
	const char *marker = conf->multiline_marker;

	if (t == NULL)
		return EHLOD_CONTINUE;
	t->body += len;
	if (marker[0] && memmem(chunk, len, marker, strlen(marker)))
		t->multiline = 1;
	return EHLOD_CONTINUE;
}

static int
count_sink(void *arg, const void *data, size_t len)
{
	(void)data;
	*(size_t *)arg += len;
	return 0;
}

static const char *
item(ehlod_ctx *s, enum ehlod_item i)
{
	const char *v = host->get(s, i);
	return v ? v : "-";
}

static void
add_probe_header(ehlod_ctx *s, struct probe_txn *t)
{
	char value[1024];
	size_t read = 0;

	if (host->message_read(s, count_sink, &read) < 0)
		read = 0;
	snprintf(value, sizeof(value), "host=%s helo=%s client=%s name=%s "
	    "from=<%s> rcpts=%zu first=<%s> id=%s tls=%s cipher=%s "
	    "auth=%s mech=%s headers=%u eoh=%d data=%d body=%zu read=%zu",
	    host->name, item(s, EHLOD_ITEM_HELO),
	    item(s, EHLOD_ITEM_CLIENT_ADDR), item(s, EHLOD_ITEM_CLIENT_NAME),
	    item(s, EHLOD_ITEM_MAIL_FROM), host->rcpt_count(s),
	    host->rcpt_count(s) ? host->rcpt_address(s, 0) : "",
	    item(s, EHLOD_ITEM_TXN_ID), item(s, EHLOD_ITEM_TLS_VERSION),
	    item(s, EHLOD_ITEM_TLS_CIPHER), item(s, EHLOD_ITEM_AUTH_USER),
	    item(s, EHLOD_ITEM_AUTH_MECH), t->headers, t->eoh, t->data,
	    t->body, read);
	host->add_header(s, "X-Ehlod-Probe", value);
}

static ehlod_verdict
probe_eom(ehlod_ctx *s)
{
	struct probe_txn *t = txn(s);
	char subject[600];

	if (t == NULL)
		return EHLOD_CONTINUE;
	if (t->multiline) {
		host->reply(s, 550, "5.7.1", "milterprobe: first line\n"
		    "milterprobe: second line");
		return EHLOD_REJECT;
	}
	add_probe_header(s, t);
	host->insert_header(s, 0, "X-Probe-First", "yes");
	if (t->has_subject) {
		snprintf(subject, sizeof(subject), "[probe] %s", t->subject);
		host->change_header(s, "Subject", 1, subject);
	}
	if (t->has_delete)
		host->change_header(s, "X-Probe-Delete", 1, NULL);
	return EHLOD_CONTINUE;
}

static ehlod_verdict
probe_unknown(ehlod_ctx *s, const char *line)
{
	host->reply(s, 502, "5.5.1", "milterprobe: unknown command");
	return EHLOD_REJECT;
}

static void
probe_rset(ehlod_ctx *s)
{
	host->log(s, LOG_INFO, "rset hook ran");
}

static void
probe_close(ehlod_ctx *s)
{
	host->log(s, LOG_INFO, "close hook ran");
}

static ehlod_verdict
probe_verb(ehlod_ctx *s, const char *args)
{
	host->reply(s, 250, "2.0.0", "probe");
	return EHLOD_ACCEPT;
}

static ehlod_verdict
probe_param(ehlod_ctx *s, const char *keyword, const char *value)
{
	return EHLOD_CONTINUE;
}

static int
probe_init(const struct ehlod_host *h, ehlod_ctx *inst)
{
	host = h;
	conf = host->instance(inst);
	return 0;
}

static const struct ehlod_verb probe_verbs[] = {
	{ "XPROBE", EHLOD_STATE_ANY, 0, probe_verb },
	{ NULL, 0, 0, NULL }
};

static const struct ehlod_param probe_mail_params[] = {
	{ "XPROBE", EHLOD_VALUE_REQUIRED, probe_param },
	{ NULL, 0, NULL }
};

#define O(name, type, field, def, min, max) { name, type, \
	offsetof(struct probe_conf, field), def, 0, min, max, NULL }
static const struct ehlod_option probe_options[] = {
	O("reject_client", EHLOD_OPT_LIST, lists[0], NULL, 0, 0),
	O("reject_helo", EHLOD_OPT_LIST, lists[1], NULL, 0, 0),
	O("reject_from", EHLOD_OPT_LIST, lists[2], NULL, 0, 0),
	O("reject_rcpt", EHLOD_OPT_LIST, lists[3], NULL, 0, 0),
	O("tempfail_rcpt", EHLOD_OPT_LIST, lists[4], NULL, 0, 0),
	O("discard_rcpt", EHLOD_OPT_LIST, lists[5], NULL, 0, 0),
	O("pend_rcpt", EHLOD_OPT_LIST, lists[6], NULL, 0, 0),
	O("pend_ms", EHLOD_OPT_INT, pend_ms, "300", 1, 600000),
	O("reject_header", EHLOD_OPT_STRING, reject_header, "X-Probe-Reject",
	    0, 0),
	O("multiline_marker", EHLOD_OPT_STRING, multiline_marker,
	    "PROBE-MULTILINE", 0, 0),
	{ NULL, 0, 0, NULL, 0, 0, 0, NULL }
};

EHLOD_PLUGIN_EXPORT const struct ehlod_plugin ehlod_plugin = {
	EHLOD_PLUGIN_HEADER,
	.name = "milterprobe",
	.version = PACKAGE_VERSION,
	.description = "test only: a verdict, reply or header change at "
	    "every hook",
	.ehlo_keyword = "X-PROBE",
	.verbs = probe_verbs,
	.mail_params = probe_mail_params,
	.options = probe_options,
	.instance_size = sizeof(struct probe_conf),
	.session_data_size = sizeof(struct probe_session),
	.txn_data_size = sizeof(struct probe_txn),
	.flags = EHLOD_PLUGIN_MILTER_HOOKS,
	.init = probe_init,
	.on_connect = probe_connect,
	.on_helo = probe_helo,
	.on_mail = probe_mail,
	.on_rcpt = probe_rcpt,
	.on_data = probe_data,
	.on_header = probe_header,
	.on_eoh = probe_eoh,
	.on_body = probe_body,
	.on_eom = probe_eom,
	.on_unknown = probe_unknown,
	.on_rset = probe_rset,
	.on_close = probe_close,
};
