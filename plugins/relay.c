/*
 * NAME
 *	relay - deliver each message to a next hop before answering 250
 * SUMMARY
 *	plugin relay {
 *		next_hop = "smtp://192.0.2.1:25"	# or lmtp://HOST:PORT,
 *							# lmtp:unix:/path
 *		starttls = "no"				# no | may | must
 *		tls_verify = true
 *		tls_ca_file = "/etc/ssl/certs/ca.pem"
 *		helo_name = "relay.example"
 *		timeout = 120
 *	}
 * DESCRIPTION
 *	A delivery step (on_eom) that forwards the transaction to next_hop
 *	with the ehlod client library, during the client's own session:
 *	nothing is queued, so the client's 250 means the next hop has the
 *	message, and a refusal by the next hop reaches the client as its own
 *	reply.  This is the shape Postfix expects of an smtpd_proxy_filter.
 *
 *	The hook returns PENDING and the client library runs on the
 *	server's event loop (host->event_base), so other sessions go on while
 *	the next hop answers; the library's completion callback resumes the
 *	session with the verdict.
 *
 *	The library behaves as an RFC 1869 client towards the next hop: it
 *	passes on SIZE, BODY=8BITMIME, SMTPUTF8 and the DSN values (from the
 *	"dsn.*" transaction keys) only when the next hop offers them, and
 *	refuses with a clear reply when the next hop lacks what the message
 *	needs (e.g. 8-bit content and no 8BITMIME: 554 5.6.3).
 *
 *	Recipients: the whole transaction is relayed at the end of the data,
 *	so there is one verdict for all recipients.  When the next hop
 *	accepts some recipients and refuses others the client gets a 451:
 *	retrying may duplicate the message for the accepted ones, but
 *	nothing is lost (RFC 5321 prefers duplicates to loss).
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ehlod/client.h>
#include <ehlod/plugin.h>

struct relay_txn {
	ehlod_session *s;
	struct ehlod_client *client;
	struct ehlod_client_job job;
	char *data;
	size_t len, cap;
	const char **rcpts;
};

static const struct ehlod_host *host;
static struct ehlod_client_opts opts;
static char *server;		/* next_hop in the client's notation */
static char *next_hop;		/* as configured, for replies and logs */

/* ------------------------------------------------------- configuration */

/* smtp://HOST[:PORT], lmtp://HOST[:PORT], lmtp:unix:/path */
static int
parse_next_hop(const char *hop)
{
	if (strncasecmp(hop, "smtp://", 7) == 0) {
		opts.lmtp = 0;
		server = strdup(hop + 7);
	} else if (strncasecmp(hop, "lmtp://", 7) == 0) {
		opts.lmtp = 1;
		server = strdup(hop + 7);
	} else if (strncasecmp(hop, "lmtp:unix:", 10) == 0) {
		opts.lmtp = 1;
		if (asprintf(&server, "unix:%s", hop + 10) < 0)
			server = NULL;
	} else {
		return -1;
	}
	return server != NULL && *server != '\0' ? 0 : -1;
}

static int
parse_starttls(const char *v)
{
	if (v == NULL || strcasecmp(v, "no") == 0)
		opts.starttls = EHLOD_TLS_NO;
	else if (strcasecmp(v, "may") == 0)
		opts.starttls = EHLOD_TLS_MAY;
	else if (strcasecmp(v, "must") == 0)
		opts.starttls = EHLOD_TLS_MUST;
	else
		return -1;
	return 0;
}

static char *
opt_str(cfg_t *section, const char *name)
{
	const char *v = cfg_getstr(section, name);

	return v ? strdup(v) : NULL;
}

static int
relay_init(const struct ehlod_host *h, cfg_t *section)
{
	const char *hop = cfg_getstr(section, "next_hop");
	struct ehlod_client *probe;

	host = h;
	/* The loop itself may not exist yet (workers make it after init);
	 * relay_on_eom checks it. */
	if (!EHLOD_HOST_HAS(host, event_base) || host->event_base == NULL) {
		host->log(NULL, LOG_ERR, "relay needs a host with an event loop");
		return -1;
	}
	ehlod_client_opts_init(&opts);
	if (hop == NULL || parse_next_hop(hop) < 0) {
		host->log(NULL, LOG_ERR, "next_hop must be smtp://HOST:PORT, "
		    "lmtp://HOST:PORT or lmtp:unix:/PATH, not \"%s\"",
		    hop ? hop : "");
		return -1;
	}
	if (parse_starttls(cfg_getstr(section, "starttls")) < 0) {
		host->log(NULL, LOG_ERR, "starttls must be no, may or must");
		return -1;
	}
	opts.tls_verify = cfg_getbool(section, "tls_verify");
	opts.tls_ca_file = opt_str(section, "tls_ca_file");
	opts.helo_name = opt_str(section, "helo_name");
	opts.timeout_sec = (unsigned)cfg_getint(section, "timeout");
	opts.connect_timeout_sec = opts.timeout_sec;
	next_hop = strdup(hop);
	/* Check the address now, so that a typo is a start-up error. */
	if ((probe = ehlod_client_new(NULL, server, &opts)) == NULL) {
		host->log(NULL, LOG_ERR, "bad next_hop \"%s\"", hop);
		return -1;
	}
	ehlod_client_free(probe);
	return 0;
}

static void
relay_fini(void)
{
	free(server);
	free(next_hop);
	free((char *)opts.tls_ca_file);
	free((char *)opts.helo_name);
	server = next_hop = NULL;
}

/* ---------------------------------------------------------- the job */

static void
relay_txn_free(void *arg)
{
	struct relay_txn *t = arg;

	ehlod_client_free(t->client);	/* cancels a relay still running */
	free(t->data);
	free(t->rcpts);
	free(t);
}

static int
collect(void *arg, const void *data, size_t len)
{
	struct relay_txn *t = arg;

	if (t->len + len > t->cap) {
		size_t cap = (t->len + len) * 2;
		char *p = realloc(t->data, cap);

		if (p == NULL)
			return -1;
		t->data = p;
		t->cap = cap;
	}
	memcpy(t->data + t->len, data, len);
	t->len += len;
	return 0;
}

static int
build_job(ehlod_session *s, struct relay_txn *t)
{
	struct ehlod_client_job *j = &t->job;
	size_t n = host->rcpt_count(s);
	const char *from = host->get(s, EHLOD_ITEM_MAIL_FROM);

	if ((t->rcpts = calloc(n ? n : 1, sizeof(*t->rcpts))) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		t->rcpts[i] = host->rcpt_address(s, i);
	t->cap = host->message_size(s) + 1;
	if ((t->data = malloc(t->cap)) == NULL)
		return -1;
	if (host->message_read(s, collect, t) < 0)
		return -1;
	j->from = from ? from : "";
	j->rcpts = t->rcpts;
	j->nrcpts = n;
	j->data = t->data;
	j->len = t->len;
	/* What the client declared is what the next hop must be told. */
	j->body = host->flag(s, EHLOD_FLAG_8BITMIME) ? EHLOD_BODY_8BITMIME :
	    EHLOD_BODY_AUTO;
	j->smtputf8 = host->flag(s, EHLOD_FLAG_SMTPUTF8) ? 1 : -1;
	j->dsn_ret = host->txn_get(s, "dsn.ret");
	j->dsn_envid = host->txn_get(s, "dsn.envid");
	j->dsn_notify = n > 0 ? host->rcpt_get(s, 0, "dsn.notify") : NULL;
	return 0;
}

/* ------------------------------------------------------ the verdict */

/* The first refused recipient, or NULL. */
static const struct ehlod_client_rcpt *
first_refused(const struct ehlod_client_result *r, size_t *ok)
{
	const struct ehlod_client_rcpt *bad = NULL;

	*ok = 0;
	for (size_t i = 0; i < r->nrcpts; i++) {
		if (r->rcpts[i].status == EHLOD_CLIENT_OK)
			(*ok)++;
		else if (bad == NULL)
			bad = &r->rcpts[i];
	}
	return bad;
}

/* Pass the next hop's own reply on, or ours when it gave none. */
static ehlod_verdict
refuse(ehlod_session *s, enum ehlod_client_status st,
    enum ehlod_client_reason why, int code, const char *enh, const char *step,
    const char *text)
{
	int temp = st == EHLOD_CLIENT_TEMPFAIL;

	if (code >= 400 && code < 600 && why == EHLOD_REASON_REPLY) {
		host->reply(s, code, enh && *enh ? enh : (temp ? "4.0.0" : "5.0.0"),
		    "next hop %s at %s: %s", next_hop, step, text);
	} else if (why == EHLOD_REASON_NEEDS_EXTENSION) {
		host->reply(s, 554, "5.6.3", "next hop %s cannot take this"
		    " message: %s", next_hop, text);
	} else {
		host->reply(s, temp ? 451 : 554, temp ? "4.4.0" : "5.4.0",
		    "next hop %s: %s: %s", next_hop, step, text);
	}
	return temp ? EHLOD_TEMPFAIL : EHLOD_REJECT;
}

static ehlod_verdict
verdict(ehlod_session *s, const struct ehlod_client_result *r)
{
	const struct ehlod_client_rcpt *bad;
	size_t ok;

	if (r->status == EHLOD_CLIENT_OK) {
		host->reply(s, 250, "2.0.0", "Ok: relayed to %s", next_hop);
		return EHLOD_ACCEPT;
	}
	if (r->step && *r->step)	/* the job failed as a whole */
		return refuse(s, r->status, r->reason, r->code, r->enhanced,
		    r->step, r->text);
	bad = first_refused(r, &ok);
	if (bad == NULL) {
		host->reply(s, 451, "4.3.0", "next hop %s: no verdict", next_hop);
		return EHLOD_TEMPFAIL;
	}
	if (ok > 0) {
		/* Some took it, some did not: see DESCRIPTION. */
		host->reply(s, 451, "4.3.0", "next hop %s refused <%s>: %d %s",
		    next_hop, bad->address, bad->code, bad->text);
		return EHLOD_TEMPFAIL;
	}
	return refuse(s, r->status, bad->reason, bad->code, bad->enhanced,
	    bad->step, bad->text);
}

static void
relay_done(struct ehlod_client *c, void *arg)
{
	struct relay_txn *t = arg;
	const struct ehlod_client_result *r = ehlod_client_result(c);
	ehlod_verdict v = verdict(t->s, r);

	host->log(t->s, v == EHLOD_ACCEPT ? LOG_INFO : LOG_NOTICE,
	    "relay=%s, nrcpt=%zu, status=%s%s%s", next_hop, r->nrcpts,
	    ehlod_client_status_name(r->status), r->text && *r->text ? ", " : "",
	    r->text ? r->text : "");
	host->resume(t->s, v);
}

static ehlod_verdict
relay_on_eom(ehlod_session *s)
{
	struct relay_txn *t = calloc(1, sizeof(*t));

	if (t == NULL) {
		host->reply(s, 451, "4.3.0", "out of memory");
		return EHLOD_TEMPFAIL;
	}
	t->s = s;
	host->set_txn_data(s, t, relay_txn_free);
	if (build_job(s, t) < 0) {
		host->reply(s, 451, "4.3.0", "cannot read the message to relay");
		return EHLOD_TEMPFAIL;
	}
	if (host->event_base() == NULL) {
		host->reply(s, 451, "4.3.0", "relaying is not possible in this host");
		return EHLOD_TEMPFAIL;
	}
	t->client = ehlod_client_new(host->event_base(), server, &opts);
	if (t->client == NULL || ehlod_client_start(t->client, &t->job,
	    relay_done, t) < 0) {
		host->reply(s, 451, "4.3.0", "cannot start relaying");
		return EHLOD_TEMPFAIL;
	}
	return EHLOD_PENDING;
}

static cfg_opt_t relay_options[] = {
	CFG_STR("next_hop", NULL, CFGF_NONE),
	CFG_STR("starttls", "no", CFGF_NONE),
	CFG_BOOL("tls_verify", cfg_true, CFGF_NONE),
	CFG_STR("tls_ca_file", NULL, CFGF_NONE),
	CFG_STR("helo_name", NULL, CFGF_NONE),
	CFG_INT("timeout", 120, CFGF_NONE),
	CFG_END()
};

EHLOD_PLUGIN_EXPORT const struct ehlod_plugin ehlod_plugin = {
	EHLOD_PLUGIN_HEADER,
	.name = "relay",
	.version = PACKAGE_VERSION,
	.description = "deliver to a next hop (SMTP or LMTP) before the 250",
	.options = relay_options,
	.init = relay_init,
	.fini = relay_fini,
	.on_eom = relay_on_eom,
};
