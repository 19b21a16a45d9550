/*
 * NAME
 *	relay - a before-queue proxy: the next hop's verdict, step by step
 * SUMMARY
 *	plugin relay {
 *		next_hop = "smtp://192.0.2.1:25"	# or lmtp://HOST:PORT,
 *							# lmtp:unix:/path
 *		domains = {"*"}		# or {"example.org", ".example.org"}
 *		starttls = "no"				# no | may | must
 *		tls_verify = true
 *		tls_ca_file = "/etc/ssl/certs/ca.pem"
 *		helo_name = "relay.example"
 *		timeout = 120
 *		xforward = yes
 *	}
 * DESCRIPTION
 *	Relays each transaction to next_hop during the client's own session
 *	and answers every step with the next hop's verdict, so nothing is
 *	queued and nothing can be lost: the shape Postfix expects of an
 *	smtpd_proxy_filter.
 *
 *	  MAIL	takes the envelope only: the next hop hears nothing until
 *		a recipient is ours to forward, so a transaction whose
 *		every recipient is refused before us costs it nothing.
 *	  first forwarded recipient (at RCPT or DATA)
 *		opens a session with the next hop (connect, EHLO by the
 *		RFC 1869 rules, STARTTLS when configured) or reuses the one
 *		kept from an earlier transaction, and sends MAIL FROM with
 *		SIZE, BODY, SMTPUTF8, RET and ENVID as the transaction
 *		declared them (EHLOD_KEY_SIZE, _BODY, _DSN_RET, _DSN_ENVID),
 *		each only when the next hop offers it, then the RCPT.
 *		Before MAIL, when the next hop offers XFORWARD (Postfix
 *		offers it to smtpd_authorized_xforward_hosts), who the
 *		client is: its address, port, name, HELO and protocol, so
 *		that the next hop's log and Received header name the
 *		client, not us ("xforward = no" keeps it to ourselves).  The
 *		next hop's refusal of MAIL answers that recipient.  A next
 *		hop lacking what the transaction
 *		needs gets no MAIL: 554 5.6.3 (8BITMIME, or BINARYMIME with
 *		CHUNKING for BODY=BINARYMIME), 554 5.6.7
 *		(SMTPUTF8), 552 5.3.4 (SIZE).  A next hop that cannot be
 *		reached: 451 4.4.1.
 *	  RCPT	forwarded (with NOTIFY and ORCPT from EHLOD_KEY_DSN_NOTIFY and
 *		EHLOD_KEY_DSN_ORCPT) and answered with the next hop's reply.
 *	  DATA	recipients accepted without passing through this plugin
 *		(see below) are forwarded now; a refusal of one of them
 *		refuses DATA, so the client keeps every recipient.
 *	  end of data
 *		the message as the host delivers it, pulled by the client
 *		library from the host's spool only as fast as the next hop
 *		takes it, so that no copy of it is held
 *		(host->message_pread_nowait: the host's thread reads the
 *		spool ahead, so the loop never waits for the disk; a 1.3
 *		host's message_pread otherwise), with BDAT when CHUNKING
 *		is offered (always, octet for octet, for
 *		BODY=BINARYMIME), else DATA; the client gets the next
 *		hop's final reply.
 *	  RSET, a new EHLO, a refused step, the session's end
 *		end the transaction: RSET to the next hop before the next
 *		MAIL; QUIT when the client's session ends.
 *
 *	No reply names the next hop: its address is internal, and only
 *	the log lines (relay=...) carry it.
 *
 *	Every hook returns PENDING; the client library runs on the host's
 *	event loop (host->event_base), so other sessions go on while the
 *	next hop answers, and its callback resumes the session.
 *
 *	Which recipients are forwarded at RCPT: the core has already made
 *	its relay decision before any plugin sees a recipient (local_domains,
 *	or EHLOD_FLAG_RELAY), so every recipient that reaches this plugin
 *	may be taken.  "domains" (default "*": all of them; same matching as
 *	local_domains) narrows which ones are forwarded at RCPT; the others
 *	are left to later plugins (CONTINUE) and, if accepted, forwarded at
 *	DATA.  Put relay after the policy plugins: its ACCEPT ends the RCPT
 *	step.
 *
 *	Several relay instances (say one per domain): a recipient forwarded
 *	at RCPT is marked with the instance (recipient key EHLOD_KEY_RELAY)
 *	and no other instance forwards it at DATA.  At end of data an
 *	instance without recipients of its own passes (CONTINUE); one that
 *	delivered its share while another instance has recipients passes
 *	too, after delivery, so the next one delivers the rest.
 *
 *	LMTP next hop (RFC 2033): one reply per recipient after the data,
 *	but the client, speaking SMTP, takes one.  All accepted: 250.  All
 *	refused: the first refusal (451 when any was temporary).  Some
 *	accepted and some refused: 451 naming the refused ones.  The client
 *	keeps the message and tries again, so those recipients are not lost;
 *	the price is a duplicate for the ones that had it, which RFC 5321
 *	(section 6.1: the server must not lose a message it took
 *	responsibility for) makes the lesser harm.  A 250 would lose the
 *	refused recipients, since we queue nothing and bounce nothing; a 5xx
 *	would bounce mail that was delivered.
 * SEE ALSO
 *	ehlod-plugin-relay(5), the plugin's manual
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/dns.h>

#include <ehlod/client.h>
#include <ehlod/plugin.h>

#include "address.h"
#include "enhanced_code.h"
#include "xmalloc.h"

/* What the session with the next hop is waiting for. */
enum hop_wait {
	W_NONE = 0,
	W_OPEN,			/* greeting, EHLO, STARTTLS (before MAIL) */
	W_MAIL,			/* MAIL reply (a recipient waits behind it) */
	W_RCPT,			/* RCPT reply (on_rcpt pending) */
	W_LATE_RCPT,		/* RCPT reply of a late recipient (on_data) */
	W_DATA,			/* final reply (on_eom pending) */
	W_RSET			/* RSET reply; no hook pending unless mail_next */
};

/* Per client session: the session with the next hop, kept across
 * transactions. */
struct hop {
	ehlod_ctx *s;
	struct relay *cf;	/* the instance */
	struct ehlod_client *c;
	enum hop_wait wait;
	int in_txn;		/* the next hop accepted MAIL, no final reply yet */
	int mail_next;		/* MAIL waits behind an RSET */
	int mail_due;		/* the client's MAIL is taken, not yet sent */
	int rset_due;		/* the next hop is in a transaction we ended */
	enum hop_wait rcpt_wait;	/* W_RCPT or W_LATE_RCPT: the recipient
				 * to send once the next hop took MAIL */
	struct ehlod_client_mail mail;	/* strings owned below */
	char *from, *ret, *envid;
	char *rcpt;		/* being forwarded */
	size_t rcpt_idx;	/* its host index */
	char **fwd;		/* host index -> address the next hop accepted */
	size_t nfwd;
	struct timespec asked;	/* when the awaited step was sent */
};

/* Transaction data: its free function tells the hop the transaction is
 * over, whatever ended it (delivery, RSET, refused MAIL, EHLO, close). */
struct txn_mark {
	struct hop *h;
};

static const struct ehlod_host *host;

/* What "ehlod -s" shows of the next hop (relay_counters below). */
enum relay_counter {
	RC_SESSIONS,		/* next-hop sessions opened */
	RC_FAILURES,		/* not reachable, or lost (network, TLS) */
	RC_REPLIES,		/* steps the next hop answered */
	RC_WAIT_US,		/* time waiting for those answers */
	RC_REFUSALS,		/* steps it refused (4xx, 5xx) */
	RC_MESSAGES		/* messages it accepted */
};

/* One instance: its options (filled in by the host), then what init
 * makes of them. */
struct relay {
	const char *next_hop;	/* as configured, for replies and logs */
	struct ehlod_list domains;
	const char *starttls;
	int tls_verify;
	const char *tls_ca_file;
	const char *helo_name;
	long long timeout;
	int xforward;
	/* from init */
	struct ehlod_client_opts opts;
	char *server;		/* next_hop in the client's notation */
	struct evdns_base *dns;	/* this worker's resolver for the next hop */
	void *tls_context;	/* STARTTLS's, with its trust store loaded */
};

static void hop_cb(struct ehlod_client *c, const struct ehlod_client_reply *r,
    void *arg);

/* ------------------------------------------------------- configuration */

/* smtp://HOST[:PORT], lmtp://HOST[:PORT], lmtp:unix:/path */
static int
parse_next_hop(struct relay *cf, const char *hop)
{
	if (strncasecmp(hop, "smtp://", 7) == 0) {
		cf->opts.lmtp = 0;
		cf->server = xstrdup(hop + 7);
	} else if (strncasecmp(hop, "lmtp://", 7) == 0) {
		cf->opts.lmtp = 1;
		cf->server = xstrdup(hop + 7);
	} else if (strncasecmp(hop, "lmtp:unix:", 10) == 0) {
		cf->opts.lmtp = 1;
		cf->server = xasprintf("unix:%s", hop + 10);
	} else {
		return -1;
	}
	return cf->server != NULL && *cf->server != '\0' ? 0 : -1;
}

static const char *
check_starttls(const void *value)
{
	const char *v = *(const char *const *)value;

	return strcasecmp(v, "no") && strcasecmp(v, "may") &&
	    strcasecmp(v, "must") ? "must be no, may or must" : NULL;
}

static const char *
check_next_hop(const void *value)
{
	const char *v = *(const char *const *)value;

	return strncasecmp(v, "smtp://", 7) && strncasecmp(v, "lmtp://", 7) &&
	    strncasecmp(v, "lmtp:unix:", 10) ? "must be smtp://HOST:PORT, "
	    "lmtp://HOST:PORT or lmtp:unix:/PATH" : NULL;
}

/* A next hop given by name is looked up at each connection, on the
 * loop.  The resolver is made here, where waiting is allowed: making one
 * reads /etc/resolv.conf and /etc/hosts, which a client left to make its
 * own would do on the loop at every connection.  Only where sessions are
 * served (a loop exists), and not for a unix socket. */
static int
make_resolver(ehlod_ctx *inst, struct relay *cf)
{
	struct event_base *base = host->event_base();

	if (base == NULL || strncmp(cf->server, "unix:", 5) == 0)
		return 0;
	cf->dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
	    EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (cf->dns == NULL) {
		host->log(inst, LOG_ERR, "cannot make a resolver for next_hop "
		    "\"%s\"", cf->next_hop);
		return -1;
	}
	cf->opts.dns = cf->dns;
	return 0;
}

static void relay_fini(ehlod_ctx *inst);

/* The trust store is loaded here, as root and where waiting is allowed,
 * once per worker: a client left to load it would parse the system's
 * bundle (about 20 ms of CPU) on the loop at every STARTTLS, and a CA
 * file only root may read would fail every handshake.  A CA file that
 * cannot be loaded is a start-up error; without tls_verify none is
 * loaded. */
static int
make_tls_context(ehlod_ctx *inst, struct relay *cf)
{
	char why[300];

	if (cf->opts.starttls == EHLOD_TLS_NO)
		return 0;
	cf->tls_context = ehlod_client_tls_context_new(&cf->opts, why,
	    sizeof(why));
	if (cf->tls_context == NULL) {
		host->log(inst, LOG_ERR, "tls_ca_file: %s", why);
		return -1;
	}
	cf->opts.tls_context = cf->tls_context;
	return 0;
}

static int
relay_init(const struct ehlod_host *h, ehlod_ctx *inst)
{
	struct relay *cf = h->instance(inst);
	struct ehlod_client *probe;

	host = h;
	/* The loop is there in a worker; the check of the configuration
	 * (ehlod -t, the master) has none, and makes no resolver. */
	if (host->event_base == NULL) {
		host->log(inst, LOG_ERR, "relay needs a host with an event "
		    "loop");
		return -1;
	}
	ehlod_client_opts_init(&cf->opts);
	if (parse_next_hop(cf, cf->next_hop) < 0) {
		host->log(inst, LOG_ERR, "bad next_hop \"%s\"", cf->next_hop);
		relay_fini(inst);
		return -1;
	}
	cf->opts.starttls = strcasecmp(cf->starttls, "must") == 0 ?
	    EHLOD_TLS_MUST : strcasecmp(cf->starttls, "may") == 0 ?
	    EHLOD_TLS_MAY : EHLOD_TLS_NO;
	cf->opts.tls_verify = cf->tls_verify;
	cf->opts.tls_ca_file = cf->tls_ca_file;
	cf->opts.helo_name = cf->helo_name;
	cf->opts.timeout_sec = (unsigned)cf->timeout;
	cf->opts.connect_timeout_sec = cf->opts.timeout_sec;
	cf->opts.chunking = 1;	/* BDAT whenever the next hop offers it */
	/* Check the address now, so that a typo is a start-up error. */
	if ((probe = ehlod_client_new(NULL, cf->server, &cf->opts)) == NULL) {
		host->log(inst, LOG_ERR, "bad next_hop \"%s\"", cf->next_hop);
		relay_fini(inst);
		return -1;
	}
	ehlod_client_free(probe);
	/* The host runs no fini after a failed init: undo here. */
	if (make_tls_context(inst, cf) < 0 || make_resolver(inst, cf) < 0) {
		relay_fini(inst);
		return -1;
	}
	return 0;
}

static void
relay_fini(ehlod_ctx *inst)
{
	struct relay *cf = host->instance(inst);

	/* Every session, and so every client using it, has ended. */
	if (cf->dns != NULL)
		evdns_base_free(cf->dns, 0);
	cf->dns = NULL;
	cf->opts.dns = NULL;
	ehlod_client_tls_context_free(cf->tls_context);
	cf->tls_context = NULL;
	cf->opts.tls_context = NULL;
	free(cf->server);
	cf->server = NULL;
}

/* ------------------------------------------------------ the hop state */

static void
fwd_clear(struct hop *h)
{
	for (size_t i = 0; i < h->nfwd; i++)
		free(h->fwd[i]);
	free(h->fwd);
	h->fwd = NULL;
	h->nfwd = 0;
}

/* Remember that the next hop accepted the recipient with host index i. */
static void
fwd_set(struct hop *h, size_t i, const char *addr)
{
	if (i >= h->nfwd) {
		char **p = xreallocarray(h->fwd, i + 1, sizeof(*p));

		memset(p + h->nfwd, 0, (i + 1 - h->nfwd) * sizeof(*p));
		h->fwd = p;
		h->nfwd = i + 1;
	}
	free(h->fwd[i]);
	h->fwd[i] = xstrdup(addr);
}

static const char *
fwd_get(struct hop *h, size_t i)
{
	return i < h->nfwd ? h->fwd[i] : NULL;
}

/* Let go of the session with the next hop (QUIT when it is idle). */
static void
hop_drop(struct hop *h)
{
	ehlod_client_close(h->c);
	h->c = NULL;
	h->wait = W_NONE;
	h->in_txn = 0;
	h->rset_due = 0;
}

/* The host frees the hop itself; its connection and strings are ours. */
static void
hop_cleanup(ehlod_ctx *s, void *arg)
{
	struct hop *h = arg;
	(void)s;

	hop_drop(h);
	fwd_clear(h);
	free(h->from);
	free(h->ret);
	free(h->envid);
	free(h->rcpt);
}

static struct hop *
hop_get(ehlod_ctx *s)
{
	struct hop *h = host->session_data(s);

	if (h != NULL && h->s == NULL) {
		h->s = s;
		h->cf = host->instance(s);
	}
	return h;
}

/* The client's transaction ended.  An idle next hop in a transaction gets
 * RSET before our next MAIL (start_mail), not now: when the client's
 * session is what ended, the next hop gets a plain QUIT, which a pending
 * RSET would turn into a dropped connection.  One still waiting for a
 * reply is out of step with us and is dropped (the next MAIL opens a new
 * session). */
static void
txn_mark_cleanup(ehlod_ctx *s, void *arg)
{
	struct txn_mark *m = arg;
	struct hop *h = m->h;
	(void)s;

	if (h == NULL)
		return;
	fwd_clear(h);
	h->mail_due = 0;
	h->mail_next = 0;
	if (h->c == NULL || h->wait == W_RSET)
		return;
	if (h->wait != W_NONE) {
		hop_drop(h);
		return;
	}
	if (!h->in_txn)
		return;
	h->in_txn = 0;
	h->rset_due = 1;
}

/* ------------------------------------------------------ the counters */

static void
count(struct hop *h, enum relay_counter which, unsigned long n)
{
	if (EHLOD_HOST_HAS(host, count))
		host->count(h->s, which, n);
}

/* A step goes to the next hop: its reply is awaited from now. */
static void
await(struct hop *h, enum hop_wait w)
{
	h->wait = w;
	clock_gettime(CLOCK_MONOTONIC, &h->asked);
}

/* The next hop answered (or failed to): how long it took, what it was. */
static void
count_reply(struct hop *h, const struct ehlod_client_reply *r)
{
	struct timespec now;
	long long us;

	clock_gettime(CLOCK_MONOTONIC, &now);
	us = (now.tv_sec - h->asked.tv_sec) * 1000000LL +
	    (now.tv_nsec - h->asked.tv_nsec) / 1000;
	if (r->reason != EHLOD_REASON_REPLY && r->reason != EHLOD_REASON_NONE) {
		if (r->reason != EHLOD_REASON_NEEDS_EXTENSION &&
		    r->reason != EHLOD_REASON_LOCAL)
			count(h, RC_FAILURES, 1);
		return;
	}
	count(h, RC_REPLIES, 1);
	count(h, RC_WAIT_US, us > 0 ? (unsigned long)us : 0);
	if (r->status != EHLOD_CLIENT_OK)
		count(h, RC_REFUSALS, 1);
}

/* ------------------------------------------------------ the verdicts */

static const char *
default_enhanced(int code)
{
	return code / 100 == 2 ? "2.0.0" : code / 100 == 4 ? "4.0.0" : "5.0.0";
}

/* A failure that is not the next hop's own reply. */
static ehlod_verdict
refuse_local(struct hop *h, const struct ehlod_client_reply *r)
{
	ehlod_ctx *s = h->s;

	/* The details (addresses, system errors) go to the log only: the
	 * client must not learn where our next hop is. */
	host->log(s, LOG_WARNING, "relay=%s, %s: %s", h->cf->next_hop,
	    r->step, r->text);
	switch (r->reason) {
	case EHLOD_REASON_NEEDS_EXTENSION:
		host->reply(s, strcmp(r->enhanced, "5.3.4") == 0 ? 552 : 554,
		    *r->enhanced ? r->enhanced : "5.6.0", "next hop cannot"
		    " take this message: %s", r->text);
		return EHLOD_REJECT;
	case EHLOD_REASON_NETWORK:
	case EHLOD_REASON_PROTOCOL:
	case EHLOD_REASON_TLS:
		if (strcmp(r->step, "open") == 0 || strcmp(r->step, "connect") == 0 ||
		    strcmp(r->step, "greeting") == 0 || strcmp(r->step, "EHLO") == 0 ||
		    strcmp(r->step, "STARTTLS") == 0)
			host->reply(s, 451, "4.4.1", "next hop not reachable at "
			    "%s", r->step);
		else
			host->reply(s, 451, "4.4.2", "lost the session with the "
			    "next hop at %s", r->step);
		return EHLOD_TEMPFAIL;
	default:
		break;
	}
	if (r->status == EHLOD_CLIENT_TEMPFAIL) {
		host->reply(s, 451, "4.3.0", "next hop: %s failed", r->step);
		return EHLOD_TEMPFAIL;
	}
	host->reply(s, 554, "5.3.0", "next hop: %s failed", r->step);
	return EHLOD_REJECT;
}

/* A next hop without ENHANCEDSTATUSCODES may still start its text with
 * one ("550 5.1.1 ..."); the library rightly leaves it in the text
 * (RFC 2034).  When it is well-formed and of the reply's class, take it
 * out, so that our client does not get "5.0.0 5.1.1 ...".  Returns the
 * text after it. */
static const char *
split_enhanced(int code, const char *text, char *enh, size_t len)
{
	struct enhanced_code ec;
	size_t n = enhanced_code_scan(text, &ec);

	if (n == 0 || ec.cls != code / 100 || text[n] != ' ' || n >= len)
		return text;
	memcpy(enh, text, n);
	enh[n] = '\0';
	return text + n + 1;
}

/* The next hop's reply becomes ours: same code, enhanced code and text.
 * Only 421 is softened: the next hop closing must not close the client's
 * session, which can go on with a new next-hop session. */
static ehlod_verdict
pass_on(struct hop *h, const struct ehlod_client_reply *r)
{
	char buf[16];
	const char *enh = r->enhanced, *text = r->text;

	if (r->reason != EHLOD_REASON_REPLY && r->status != EHLOD_CLIENT_OK)
		return refuse_local(h, r);
	if (r->code == 421) {
		host->log(h->s, LOG_NOTICE, "relay=%s, next hop closed the "
		    "session: %d %s", h->cf->next_hop, r->code, r->text);
		host->reply(h->s, 451, "4.4.2", "next hop closed the session:"
		    " %s", r->text);
		return EHLOD_TEMPFAIL;
	}
	if (*enh == '\0') {
		buf[0] = '\0';
		text = split_enhanced(r->code, r->text, buf, sizeof(buf));
		enh = *buf ? buf : default_enhanced(r->code);
	}
	host->reply(h->s, r->code, enh, "%s", text);
	if (r->status == EHLOD_CLIENT_OK)
		return EHLOD_ACCEPT;
	return r->status == EHLOD_CLIENT_TEMPFAIL ? EHLOD_TEMPFAIL :
	    EHLOD_REJECT;
}

/* LMTP: one reply for many (see DESCRIPTION). */
static ehlod_verdict
lmtp_verdict(struct hop *h, const struct ehlod_client_reply *r)
{
	const struct ehlod_client_rcpt *bad = NULL;
	size_t ok = 0;
	int temp = 0;

	for (size_t i = 0; i < r->nrcpts; i++) {
		if (r->rcpts[i].status == EHLOD_CLIENT_OK) {
			ok++;
			continue;
		}
		temp |= r->rcpts[i].status == EHLOD_CLIENT_TEMPFAIL;
		if (bad == NULL)
			bad = &r->rcpts[i];
	}
	if (bad == NULL) {
		host->reply(h->s, 250, "2.0.0", "Ok: delivered to %zu"
		    " recipient(s): %s", ok, r->text);
		return EHLOD_ACCEPT;
	}
	if (ok == 0 && !temp)
		return pass_on(h, r);
	host->reply(h->s, 451, ok > 0 ? "4.3.0" : "4.0.0", "next hop %s"
	    " <%s>: %d %s%s", ok > 0 ? "delivered to some recipients"
	    " but refused" : "refused", bad->address, bad->code, bad->text,
	    ok > 0 ? "; try again (the others may get a duplicate)" : "");
	return EHLOD_TEMPFAIL;
}

/* A recipient another relay instance forwarded is not ours to send. */
static int
mine(ehlod_ctx *s, size_t i)
{
	const char *by = host->rcpt_get(s, i, EHLOD_KEY_RELAY);

	return by == NULL || strcmp(by, host->get(s, EHLOD_ITEM_INSTANCE)) == 0;
}

/* Our share is delivered: marked "" (delivered), so that a later
 * instance does not wait for it.  Returns 1 when another instance still
 * has recipients to deliver itself, after us. */
static int
shared(ehlod_ctx *s)
{
	int others = 0;

	for (size_t i = 0; i < host->rcpt_count(s); i++) {
		const char *by = host->rcpt_get(s, i, EHLOD_KEY_RELAY);
		if (mine(s, i))
			host->rcpt_set(s, i, EHLOD_KEY_RELAY, "");
		else if (by[0] != '\0')
			others = 1;
	}
	return others;
}

static ehlod_verdict
data_verdict(struct hop *h, const struct ehlod_client_reply *r)
{
	ehlod_verdict v;

	if (r->nrcpts > 0)
		return lmtp_verdict(h, r);
	if (r->status != EHLOD_CLIENT_OK)
		return pass_on(h, r);
	v = pass_on(h, r);
	/* Our share is delivered; the other relay delivers the rest. */
	if (v == EHLOD_ACCEPT && shared(h->s))
		return EHLOD_CONTINUE;
	host->reply(h->s, r->code, *r->enhanced ? r->enhanced : "2.0.0",
	    "Ok: relayed: %s", r->text);
	return v;
}

/* ------------------------------------------------- the next hop's steps */

/* Who the client is, for a next hop that offers XFORWARD: its IP
 * policies and Received header then see the client, not us. */
static void
tell_client(struct hop *h)
{
	ehlod_ctx *s = h->s;
	const char *name = host->get(s, EHLOD_ITEM_CLIENT_NAME);
	const char *proto = host->get(s, EHLOD_ITEM_PROTOCOL);
	struct ehlod_client_xforward xf = {
		.struct_size = sizeof(xf),
		.name = name != NULL && strcmp(name, "unknown") ? name : NULL,
		.addr = host->get(s, EHLOD_ITEM_CLIENT_ADDR),
		.port = host->get(s, EHLOD_ITEM_CLIENT_PORT),
		.proto = proto != NULL && strncasecmp(proto, "ESMTP", 5) == 0 ?
		    "ESMTP" : "SMTP",
		.helo = host->get(s, EHLOD_ITEM_HELO),
		.source = "REMOTE",
	};

	ehlod_client_xforward(h->c, h->cf->xforward ? &xf : NULL);
}

static void
send_mail(struct hop *h)
{
	tell_client(h);
	await(h, W_MAIL);
	if (ehlod_client_mail(h->c, &h->mail, hop_cb, h) == 0)
		return;
	/* Cannot happen with a ready session; answer rather than hang. */
	h->wait = W_NONE;
	host->reply(h->s, 451, "4.3.0", "relay: next hop session not ready");
	host->resume(h->s, EHLOD_TEMPFAIL);
}

static void
open_hop(struct hop *h)
{
	h->c = ehlod_client_new(host->event_base(), h->cf->server,
	    &h->cf->opts);
	await(h, W_OPEN);
	if (h->c != NULL && ehlod_client_open(h->c, &h->mail, hop_cb, h) == 0)
		return;
	h->wait = W_NONE;
	count(h, RC_FAILURES, 1);
	host->log(h->s, LOG_WARNING, "relay=%s, cannot start a session",
	    h->cf->next_hop);
	host->reply(h->s, 451, "4.3.0", "relay: cannot start a session with "
	    "the next hop");
	host->resume(h->s, EHLOD_TEMPFAIL);
}

static void forward_late(struct hop *h);
static void rcpt_resume(struct hop *h);
static ehlod_verdict rcpt_now(struct hop *h);

static void
on_late_reply(struct hop *h, const struct ehlod_client_reply *r)
{
	if (r->status == EHLOD_CLIENT_OK) {
		fwd_set(h, h->rcpt_idx, h->rcpt);
		forward_late(h);
		return;
	}
	if (r->reason != EHLOD_REASON_REPLY) {
		host->resume(h->s, refuse_local(h, r));
		return;
	}
	/* DATA refused: the client keeps the whole transaction. */
	host->reply(h->s, r->status == EHLOD_CLIENT_TEMPFAIL ? 451 : 554,
	    r->status == EHLOD_CLIENT_TEMPFAIL ? "4.0.0" : "5.0.0",
	    "next hop refused <%s>: %d %s", h->rcpt, r->code, r->text);
	host->resume(h->s, r->status == EHLOD_CLIENT_TEMPFAIL ?
	    EHLOD_TEMPFAIL : EHLOD_REJECT);
}

static void
hop_cb(struct ehlod_client *c, const struct ehlod_client_reply *r, void *arg)
{
	struct hop *h = arg;
	enum hop_wait w = h->wait;
	ehlod_verdict v;

	(void)c;
	h->wait = W_NONE;
	if (w != W_NONE)
		count_reply(h, r);
	switch (w) {
	case W_OPEN:
		if (r->status == EHLOD_CLIENT_OK) {
			count(h, RC_SESSIONS, 1);
			send_mail(h);
			return;
		}
		host->resume(h->s, pass_on(h, r));
		break;
	case W_MAIL:
		if (r->status == EHLOD_CLIENT_OK) {
			/* The client had its 250 at MAIL: the recipient
			 * waiting behind MAIL gets the next reply. */
			h->in_txn = 1;
			h->mail_due = 0;
			rcpt_resume(h);
			return;
		}
		/* The next hop's refusal of MAIL answers that recipient. */
		host->resume(h->s, pass_on(h, r));
		break;
	case W_RCPT:
		v = pass_on(h, r);
		if (v == EHLOD_ACCEPT)
			fwd_set(h, h->rcpt_idx, h->rcpt);
		host->log(h->s, LOG_INFO, "relay=%s, to=<%s>, next hop said %d",
		    h->cf->next_hop, h->rcpt, r->code);
		host->resume(h->s, v);
		break;
	case W_LATE_RCPT:
		on_late_reply(h, r);
		break;
	case W_DATA:
		h->in_txn = 0;
		v = data_verdict(h, r);
		if (r->status == EHLOD_CLIENT_OK)
			count(h, RC_MESSAGES, 1);
		host->log(h->s, v == EHLOD_ACCEPT ? LOG_INFO : LOG_NOTICE,
		    "relay=%s, status=%s, next hop said %d %s", h->cf->next_hop,
		    ehlod_client_status_name(r->status), r->code, r->text);
		host->resume(h->s, v);
		break;
	case W_RSET:
		h->in_txn = 0;
		if (h->mail_next) {
			h->mail_next = 0;
			if (ehlod_client_ready(h->c))
				send_mail(h);
			else
				open_hop((hop_drop(h), h));
			return;
		}
		break;
	case W_NONE:
		break;
	}
	/* The session with the next hop ended (421, lost, timeout). */
	if (h->c != NULL && h->wait == W_NONE && !ehlod_client_ready(h->c))
		hop_drop(h);
}

/* ------------------------------------------------------------ the hooks */

static int
no_loop(ehlod_ctx *s)
{
	if (host->event_base() != NULL)
		return 0;
	host->reply(s, 451, "4.3.0", "relaying is not possible in this host");
	return 1;
}

static enum ehlod_client_body
body_of(ehlod_ctx *s)
{
	const char *b = host->txn_get(s, EHLOD_KEY_BODY);

	if (b != NULL && strcasecmp(b, "BINARYMIME") == 0)
		return EHLOD_BODY_BINARYMIME;
	if (host->flag(s, EHLOD_FLAG_8BITMIME) ||
	    (b != NULL && strcasecmp(b, "8BITMIME") == 0))
		return EHLOD_BODY_8BITMIME;
	if (b != NULL && strcasecmp(b, "7BIT") == 0)
		return EHLOD_BODY_7BIT;
	return EHLOD_BODY_AUTO;
}

static char *
dup_or_null(const char *v)
{
	return v ? xstrdup(v) : NULL;
}

/* The envelope as the client declared it; the host's strings may not
 * live as long as an RSET we wait behind, so they are copied. */
static int
take_mail(ehlod_ctx *s, struct hop *h, const char *from)
{
	const char *size = host->txn_get(s, EHLOD_KEY_SIZE);

	free(h->from);
	free(h->ret);
	free(h->envid);
	h->from = xstrdup(from);
	h->ret = dup_or_null(host->txn_get(s, EHLOD_KEY_DSN_RET));
	h->envid = dup_or_null(host->txn_get(s, EHLOD_KEY_DSN_ENVID));
	h->mail = (struct ehlod_client_mail)EHLOD_CLIENT_MAIL_INIT;
	h->mail.from = h->from;
	h->mail.body = body_of(s);
	h->mail.smtputf8 = host->flag(s, EHLOD_FLAG_SMTPUTF8) ? 1 : 0;
	h->mail.size = size ? strtoull(size, NULL, 10) : 0;
	h->mail.dsn_ret = h->ret;
	h->mail.dsn_envid = h->envid;
	return h->from ? 0 : -1;
}

/* MAIL only takes the envelope: the next hop hears of the transaction
 * at its first recipient (start_mail), so a transaction whose every
 * recipient is refused before this plugin costs the next hop nothing. */
static ehlod_verdict
relay_on_mail(ehlod_ctx *s, const char *reverse_path)
{
	struct hop *h = hop_get(s);
	struct txn_mark *m;

	if (no_loop(s))
		return EHLOD_TEMPFAIL;
	if (h == NULL || take_mail(s, h, reverse_path) < 0 ||
	    (m = host->txn_data(s)) == NULL) {
		host->reply(s, 451, "4.3.0", "out of memory");
		return EHLOD_TEMPFAIL;
	}
	m->h = h;
	fwd_clear(h);
	h->mail_due = 1;
	/* Later plugins (another relay instance) see MAIL too. */
	return EHLOD_CONTINUE;
}

/* Send the envelope taken at MAIL, over the kept session or a new one;
 * hop_cb sends the waiting recipient once the next hop took it. */
static ehlod_verdict
start_mail(struct hop *h)
{
	if (h->c != NULL && h->wait == W_RSET) {
		h->mail_next = 1;	/* hop_cb sends MAIL after the RSET */
		return EHLOD_PENDING;
	}
	if (h->c != NULL && (!ehlod_client_ready(h->c) || h->in_txn))
		hop_drop(h);	/* out of step with us: start afresh */
	if (h->c != NULL && h->rset_due) {
		h->rset_due = 0;
		if (ehlod_client_rset(h->c, hop_cb, h) == 0) {
			await(h, W_RSET);
			h->mail_next = 1;
			return EHLOD_PENDING;
		}
		hop_drop(h);
	}
	if (h->c == NULL)
		open_hop(h);
	else
		send_mail(h);
	return EHLOD_PENDING;
}

static void
rcpt_resume(struct hop *h)
{
	ehlod_verdict v = rcpt_now(h);

	if (v != EHLOD_PENDING)
		host->resume(h->s, v);
}

/* Forward a recipient: at once when the next hop has our MAIL, else
 * after it (w: W_RCPT at RCPT, W_LATE_RCPT at DATA). */
static ehlod_verdict
send_rcpt(struct hop *h, size_t idx, const char *mailbox, enum hop_wait w)
{
	free(h->rcpt);
	h->rcpt = xstrdup(mailbox);
	h->rcpt_idx = idx;
	h->rcpt_wait = w;
	return h->mail_due ? start_mail(h) : rcpt_now(h);
}

/* Whether this recipient is forwarded at RCPT (see DESCRIPTION). */
static int
forwardable(ehlod_ctx *s, const char *mailbox)
{
	const char *domain = address_domain(mailbox);
	const struct relay *cf = host->instance(s);

	if (host->flag(s, EHLOD_FLAG_RELAY) || domain == NULL)
		return 1;
	for (size_t i = 0; i < cf->domains.n; i++) {
		const char *d = cf->domains.v[i];

		if (strcmp(d, "*") == 0 || address_domain_matches(domain, d))
			return 1;
	}
	return 0;
}

/* RCPT for the recipient send_rcpt() recorded. */
static ehlod_verdict
rcpt_now(struct hop *h)
{
	ehlod_ctx *s = h->s;
	size_t idx = h->rcpt_idx;

	await(h, h->rcpt_wait);
	if (ehlod_client_rcpt(h->c, h->rcpt, host->rcpt_get(s, idx,
	    EHLOD_KEY_DSN_NOTIFY), host->rcpt_get(s, idx, EHLOD_KEY_DSN_ORCPT),
	    hop_cb, h) == 0)
		return EHLOD_PENDING;
	h->wait = W_NONE;
	host->reply(s, 451, "4.4.2", "lost the session with the next hop");
	return EHLOD_TEMPFAIL;
}

/* The next hop must be in our transaction and waiting for a command. */
static int
hop_lost(struct hop *h, ehlod_ctx *s)
{
	if (h != NULL && h->c != NULL && h->in_txn && h->wait == W_NONE &&
	    ehlod_client_ready(h->c))
		return 0;
	host->reply(s, 451, "4.4.2", "lost the session with the next hop; "
	    "start the transaction again");
	return 1;
}

static ehlod_verdict
relay_on_rcpt(ehlod_ctx *s, const char *forward_path)
{
	struct hop *h = hop_get(s);

	if (!forwardable(s, forward_path))
		return EHLOD_CONTINUE;
	if ((h == NULL || !h->mail_due) && hop_lost(h, s))
		return EHLOD_TEMPFAIL;
	/* Marked as ours, so that another relay instance leaves it alone. */
	host->rcpt_set(s, host->rcpt_count(s), EHLOD_KEY_RELAY,
	    host->get(s, EHLOD_ITEM_INSTANCE));
	return send_rcpt(h, host->rcpt_count(s), forward_path, W_RCPT);
}

/* DATA: forward the next recipient the host accepted without us; resume
 * with CONTINUE once every one is at the next hop.  Called from the hook
 * (returns the verdict) and from hop_cb (resumes). */
static ehlod_verdict
late_step(struct hop *h)
{
	size_t n = host->rcpt_count(h->s);

	for (size_t i = 0; i < n; i++) {
		const char *addr = host->rcpt_address(h->s, i);
		const char *fwd = fwd_get(h, i);

		if (fwd != NULL && strcmp(fwd, addr) == 0)
			continue;
		if (!mine(h->s, i))
			continue;
		if (fwd != NULL) {
			/* Our list and the next hop's differ: never guess. */
			host->reply(h->s, 451, "4.3.0", "relay: recipients out"
			    " of step with the next hop");
			return EHLOD_TEMPFAIL;
		}
		return send_rcpt(h, i, addr, W_LATE_RCPT);
	}
	return EHLOD_CONTINUE;
}

static void
forward_late(struct hop *h)
{
	ehlod_verdict v = late_step(h);

	if (v != EHLOD_PENDING)
		host->resume(h->s, v);
}

static ehlod_verdict
relay_on_data(ehlod_ctx *s)
{
	struct hop *h = hop_get(s);

	if ((h == NULL || !h->mail_due) && hop_lost(h, s))
		return EHLOD_TEMPFAIL;
	return late_step(h);
}

/* The host has read ahead what pull asked for. */
static void
pulled(void *arg)
{
	struct hop *h = arg;

	(void)ehlod_client_data_stream_ready(h->c);
}

/* The client library pulls the message as the next hop takes it: from
 * the host's spool, so a message of any size costs a few hundred KiB. */
static long
pull(void *arg, void *buf, size_t len, size_t offset)
{
	struct hop *h = arg;
	long r;

	if (!EHLOD_HOST_HAS(host, message_pread_nowait))
		return host->message_pread(h->s, buf, len, offset);
	r = host->message_pread_nowait(h->s, buf, len, offset, pulled, h);
	return r == EHLOD_READ_AGAIN ? EHLOD_CLIENT_READ_LATER : r;
}

/* 0 when the message is on its way (hop_cb answers), -1 with the reply
 * set when nothing went. */
static int
send_message(struct hop *h, ehlod_ctx *s)
{
	await(h, W_DATA);
	if (ehlod_client_data_stream(h->c, pull, h, hop_cb, h) == 0)
		return 0;
	h->wait = W_NONE;
	host->reply(s, 451, "4.4.2", "lost the session with the next hop");
	return -1;
}

static ehlod_verdict
relay_on_eom(ehlod_ctx *s)
{
	struct hop *h = hop_get(s);

	if (h != NULL && h->nfwd == 0)
		return EHLOD_CONTINUE;	/* no recipient of ours */
	if (hop_lost(h, s))
		return EHLOD_TEMPFAIL;
	return send_message(h, s) == 0 ? EHLOD_PENDING : EHLOD_TEMPFAIL;
}

#define O(name, type, field, def, flags, min, max, check) \
	{ name, type, offsetof(struct relay, field), def, flags, min, max, \
	  check }
static const struct ehlod_option relay_options[] = {
	O("next_hop", EHLOD_OPT_STRING, next_hop, NULL, EHLOD_OPT_REQUIRED,
	    0, 0, check_next_hop),
	O("domains", EHLOD_OPT_LIST, domains, "*", 0, 0, 0, NULL),
	O("starttls", EHLOD_OPT_STRING, starttls, "no", 0, 0, 0,
	    check_starttls),
	O("tls_verify", EHLOD_OPT_BOOL, tls_verify, "yes", 0, 0, 0, NULL),
	O("tls_ca_file", EHLOD_OPT_STRING, tls_ca_file, NULL, 0, 0, 0, NULL),
	O("helo_name", EHLOD_OPT_STRING, helo_name, NULL, 0, 0, 0, NULL),
	O("timeout", EHLOD_OPT_INT, timeout, "120", 0, 1, 86400, NULL),
	O("xforward", EHLOD_OPT_BOOL, xforward, "yes", 0, 0, 0, NULL),
	{ NULL, 0, 0, NULL, 0, 0, 0, NULL }
};

/* Indexed by enum relay_counter. */
static const struct ehlod_counter relay_counters[] = {
	{ "relay_hop_sessions_total", "Sessions opened with the next hop." },
	{ "relay_hop_failures_total", "Next hop not reachable, or the session"
	    " with it lost (network, TLS, protocol)." },
	{ "relay_hop_replies_total", "Steps the next hop answered." },
	{ "relay_hop_wait_microseconds_total", "Time waiting for those "
	    "answers; divided by relay_hop_replies_total, the mean latency." },
	{ "relay_hop_refusals_total", "Steps the next hop refused (4xx, "
	    "5xx)." },
	{ "relay_messages_total", "Messages the next hop accepted." },
	{ NULL, NULL }
};

EHLOD_PLUGIN_EXPORT const struct ehlod_plugin ehlod_plugin = {
	EHLOD_PLUGIN_HEADER,
	.name = "relay",
	.version = PACKAGE_VERSION,
	.description = "before-queue proxy: the next hop's verdict per step",
	.options = relay_options,
	.instance_size = sizeof(struct relay),
	.session_data_size = sizeof(struct hop),
	.session_cleanup = hop_cleanup,
	.txn_data_size = sizeof(struct txn_mark),
	.txn_cleanup = txn_mark_cleanup,
	.init = relay_init,
	.fini = relay_fini,
	.on_mail = relay_on_mail,
	.on_rcpt = relay_on_rcpt,
	.on_data = relay_on_data,
	.on_eom = relay_on_eom,
	.counters = relay_counters,
};
