/*
 * NAME
 *	dnsbl - refuse clients listed in DNS blocklists, without blocking
 * SUMMARY
 *	plugin dnsbl {
 *		zones = {"zen.example.org", "bl.example.net"}
 *		nameservers = {"127.0.0.1:53"}
 *		stage = "connect"
 *		timeout_ms = 3000
 *		on_error = "accept"
 *		message = "Service unavailable; client [%s] listed by %s"
 *	}
 * DESCRIPTION
 *	At the configured stage -- the connection, or each RCPT TO -- the
 *	plugin asks every zone at once whether the client's address is
 *	listed: an A query for the address reversed into the zone
 *	("192.0.2.1" in bl.example.net is 1.2.0.192.bl.example.net; IPv6
 *	addresses as 32 reversed nibbles, RFC 5782), through libevent's
 *	asynchronous resolver on the server's own event loop.  The hook
 *	answers PENDING and the server serves other sessions meanwhile; the
 *	answers resume the session:
 *
 *	o An A record in 127.0.0.0/8 from any zone lists the client: the
 *	  session gets 554 5.7.1 with the message, at once, without waiting
 *	  for the other zones.  At the connect stage that is the greeting,
 *	  and the session then serves only QUIT; at the rcpt stage each
 *	  RCPT TO is refused.
 *	o NXDOMAIN (or no A record) from every zone: the session goes on.
 *	o A failure -- time-out, SERVFAIL, no usable answer, or 127.255.255.x
 *	  (lists use it to refuse queries, e.g. from public resolvers) --
 *	  from any zone that did not list the client: on_error decides.
 *	  "accept" goes on (logged); "tempfail" answers 421 4.7.1 at the
 *	  connect stage (which closes the connection) or 451 4.7.1 at RCPT.
 *	  Answers outside 127/8 (resolvers that rewrite NXDOMAIN) list
 *	  nobody.
 *
 *	The whole lookup ends after timeout_ms whatever the name servers
 *	do.  A definite answer (listed or not) is remembered for the rest
 *	of the session, so later RCPTs do not ask again; after a failure
 *	the next RCPT asks again.  At the rcpt stage an authenticated
 *	client (AUTH) is not looked up: that is what the rcpt stage is for.
 *	A client address that is not IPv4 or IPv6 is not looked up.
 *
 *	Each worker process has its own resolver, made by init on the
 *	worker's event loop; "ehlod -t" and the master check the options
 *	only.  When a session ends while its queries are out (the client
 *	hung up), on_close cancels them.
 *
 *	The reply text cannot quote the zone's TXT record: libevent's
 *	resolver asks for A, AAAA and PTR records only.  Write what the
 *	client should know into message.
 *
 *	The hooks need no EHLO keyword, so the plugin also works inside a
 *	host MTA through ehlod-milter, if that host has an event loop.
 * CONFIGURATION
 *	zones (list of strings, required)
 *		The DNSBL zones, at most 16.  Each name is checked at start:
 *		letters, digits, '-', '_', labels of 1 to 63, at most 189
 *		characters.
 *	nameservers (list of strings, default: those of /etc/resolv.conf)
 *		"IP", "IP:port", "IPv6" or "[IPv6]:port".  DNSBLs often refuse
 *		queries from big public resolvers: use a local one.
 *	stage (string, default "connect")
 *		"connect" or "rcpt".
 *	timeout_ms (integer, default 3000)
 *		How long a lookup may take in all, 100 to 60000.
 *	on_error (string, default "accept")
 *		"accept" or "tempfail": what a DNS failure means.
 *	message (string, default "Service unavailable; client [%s] listed
 *	by %s")
 *		The text after 554 5.7.1 for a listed client: the first %s
 *		is the client's address, the second the zone, %% a percent
 *		sign; nothing else may follow a %.
 * SEE ALSO
 *	ehlod-plugin-dnsbl(5), the plugin's manual
 */
#include "autoconfig.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <event2/dns.h>
#include <event2/util.h>

#include <ehlod/plugin.h>

#include "dnsbl_query.h"
#include "xmalloc.h"

#define ZONES_MAX 16
#define TIMEOUT_MIN 100
#define TIMEOUT_MAX 60000
#define REPLY_MAX 512
#define RESOLV_CONF "/etc/resolv.conf"

enum stage { STAGE_CONNECT, STAGE_RCPT };
enum outcome { OUTCOME_NONE = 0, OUTCOME_CLEAN, OUTCOME_LISTED,
	OUTCOME_ERROR };

struct run;

/* One A query, for one zone. */
struct query {
	struct run *run;
	struct evdns_request *req;	/* NULL once its callback has run */
	size_t zone;
};

/* What the plugin knows about one session: session data. */
struct client {
	enum outcome known;	/* OUTCOME_CLEAN or _LISTED once known */
	size_t zone;		/* the zone that listed the client */
	char answer[INET_ADDRSTRLEN];
	struct run *run;	/* the lookup under way, or NULL */
};

/*
 * One lookup: a query per zone.  libevent calls back exactly once for
 * every request it accepted -- with the answer, or with DNS_ERR_CANCEL
 * after evdns_cancel_request() -- and always from the event loop, never
 * from inside evdns_base_resolve_ipv4().  So a run lives until its last
 * callback, even when the decision (or the session's end) came first:
 * a finished run has client NULL and only counts down.
 */
struct run {
	struct dnsbl *d;	/* the instance: outlives any session */
	struct client *client;	/* NULL once finished or orphaned */
	ehlod_ctx *s;
	ehlod_event *timer;
	size_t outstanding;	/* callbacks still due */
	size_t answered;	/* zones with their answer in */
	size_t errors;		/* zones that failed */
	int in_hook;		/* still inside the hook that started it */
	int decided_in_hook;
	ehlod_verdict verdict;	/* when decided_in_hook */
	struct run *prev, *next;	/* every run, for fini */
	size_t nq;
	struct query q[];
};

static const struct ehlod_host *host;

/* One instance: its options (filled in by the host) and its resolver. */
struct dnsbl {
	struct ehlod_list zone_list;
	struct ehlod_list nameservers;
	const char *stage_name;
	long long timeout;
	const char *on_error;
	const char *message;
	/* made by init */
	struct evdns_base *dns;
	char *zones[ZONES_MAX];
	size_t nzones;
	enum stage stage;
	unsigned timeout_ms;
	int tempfail_on_error;
	struct run *runs;
};

/* ---- verdicts ---------------------------------------------------- */

static ehlod_verdict
listed_verdict(ehlod_ctx *s, const struct client *c)
{
	struct dnsbl *d = host->instance(s);
	char text[REPLY_MAX];
	const char *addr = host->get(s, EHLOD_ITEM_CLIENT_ADDR);

	dnsbl_format(d->message, addr ? addr : "", d->zones[c->zone], text,
	    sizeof(text));
	host->reply(s, 554, "5.7.1", "%s", text);
	return EHLOD_REJECT;
}

static ehlod_verdict
error_verdict(ehlod_ctx *s, const char *why)
{
	struct dnsbl *d = host->instance(s);
	if (!d->tempfail_on_error) {
		host->log(s, LOG_WARNING, "DNSBL lookup failed (%s); "
		    "on_error = accept", why);
		return EHLOD_CONTINUE;
	}
	host->log(s, LOG_WARNING, "DNSBL lookup failed (%s); "
	    "on_error = tempfail", why);
	if (d->stage == STAGE_CONNECT)
		host->reply(s, 421, "4.7.1", "Service temporarily "
		    "unavailable; DNSBL lookup failed, try again later");
	else
		host->reply(s, 451, "4.7.1", "DNSBL lookup failed, try again "
		    "later");
	return EHLOD_TEMPFAIL;
}

/* ---- runs -------------------------------------------------------- */

static void
run_free(struct run *r)
{
	struct dnsbl *d = r->d;
	if (r->prev)
		r->prev->next = r->next;
	else
		d->runs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	free(r);
}

/* Free a finished run once libevent has called back for every query. */
static void
run_release(struct run *r)
{
	if (r->client == NULL && r->outstanding == 0)
		run_free(r);
}

/* Stop the deadline and the queries still out.  Their callbacks come
 * later, with DNS_ERR_CANCEL, and only count down. */
static void
run_stop(struct run *r)
{
	struct dnsbl *d = r->d;
	if (r->timer) {
		host->cancel(r->timer);
		r->timer = NULL;
	}
	for (size_t i = 0; i < r->nq; i++)
		if (r->q[i].req)
			evdns_cancel_request(d->dns, r->q[i].req);
}

/* The lookup has its outcome: remember a definite one, and answer the
 * pending hook (or the hook still running). */
static void
run_finish(struct run *r, enum outcome o, size_t zone, const char *why)
{
	struct dnsbl *d = r->d;
	struct client *c = r->client;
	ehlod_ctx *s = r->s;
	const char *addr = host->get(s, EHLOD_ITEM_CLIENT_ADDR);
	ehlod_verdict v = EHLOD_CONTINUE;

	r->client = NULL;
	c->run = NULL;
	run_stop(r);
	if (o == OUTCOME_LISTED) {
		c->known = o;
		c->zone = zone;
		host->log(s, LOG_INFO, "client [%s] listed by %s (%s)",
		    addr ? addr : "", d->zones[zone], c->answer);
		v = listed_verdict(s, c);
	} else if (o == OUTCOME_CLEAN) {
		c->known = o;
		host->log(s, LOG_DEBUG, "client [%s] not listed",
		    addr ? addr : "");
	} else {
		v = error_verdict(s, why);
	}
	if (r->in_hook) {
		r->decided_in_hook = 1;
		r->verdict = v;
		return;
	}
	host->resume(s, v);
}

/* One zone's A records: 1 when one of them lists the client. */
static int
listing(struct run *r, int count, const uint32_t *a, int *refused)
{
	for (int i = 0; i < count; i++) {
		enum dnsbl_answer kind = dnsbl_classify(ntohl(a[i]));

		if (kind == DNSBL_REFUSED)
			*refused = 1;
		if (kind != DNSBL_LISTED)
			continue;
		evutil_inet_ntop(AF_INET, &a[i], r->client->answer,
		    sizeof(r->client->answer));
		return 1;
	}
	return 0;
}

/* Judge one zone's answer; returns 1 when the run is finished. */
static int
judge(struct run *r, struct query *q, int result, char type, int count,
    void *addresses)
{
	struct dnsbl *d = r->d;
	int refused = 0;

	if (result == DNS_ERR_NONE && type == DNS_IPv4_A &&
	    listing(r, count, addresses, &refused)) {
		run_finish(r, OUTCOME_LISTED, q->zone, NULL);
		return 1;
	}
	if (refused || (result != DNS_ERR_NONE &&
	    result != DNS_ERR_NOTEXIST && result != DNS_ERR_NODATA)) {
		r->errors++;
		host->log(r->s, LOG_WARNING, "zone %s: %s", d->zones[q->zone],
		    refused ? "the list refused the query (127.255.255.x)" :
		    evdns_err_to_string(result));
	}
	if (++r->answered < r->nq)
		return 0;
	if (r->errors)
		run_finish(r, OUTCOME_ERROR, 0, "no usable answer");
	else
		run_finish(r, OUTCOME_CLEAN, 0, NULL);
	return 1;
}

static void
on_answer(int result, char type, int count, int ttl, void *addresses,
    void *arg)
{
	struct query *q = arg;
	struct run *r = q->run;

	q->req = NULL;		/* libevent frees the handle after us */
	r->outstanding--;
	if (r->client != NULL && result != DNS_ERR_CANCEL)
		judge(r, q, result, type, count, addresses);
	run_release(r);
}

static void
on_deadline(ehlod_ctx *s, void *arg)
{
	struct dnsbl *d = host->instance(s);
	struct run *r = arg;
	char why[64];

	r->timer = NULL;	/* the host frees a timer that has fired */
	snprintf(why, sizeof(why), "no answer within %u ms", d->timeout_ms);
	run_finish(r, OUTCOME_ERROR, 0, why);
	run_release(r);
}

static struct run *
run_new(ehlod_ctx *s, struct client *c)
{
	struct dnsbl *d = host->instance(s);
	struct run *r = xcalloc(1, sizeof(*r) + d->nzones * sizeof(r->q[0]));

	r->d = d;
	r->client = c;
	r->s = s;
	r->nq = d->nzones;
	r->next = d->runs;
	if (d->runs)
		d->runs->prev = r;
	d->runs = r;
	c->run = r;
	return r;
}

/* Send one query; a query libevent refuses counts as a failed zone. */
static void
run_ask(struct run *r, size_t i, const char *addr)
{
	struct dnsbl *d = r->d;
	struct query *q = &r->q[i];
	char name[DNSBL_NAME_MAX + 1];

	q->run = r;
	q->zone = i;
	if (dnsbl_query_name(addr, d->zones[i], name, sizeof(name)) == 0)
		q->req = evdns_base_resolve_ipv4(d->dns, name,
		    DNS_QUERY_NO_SEARCH, on_answer, q);
	if (q->req != NULL) {
		r->outstanding++;
		return;
	}
	r->errors++;
	if (++r->answered == r->nq)
		run_finish(r, OUTCOME_ERROR, 0, "no query could be sent");
}

static ehlod_verdict
run_start(ehlod_ctx *s, struct client *c, const char *addr)
{
	struct dnsbl *d = host->instance(s);
	struct run *r = run_new(s, c);
	ehlod_verdict v;

	r->in_hook = 1;
	for (size_t i = 0; i < d->nzones && r->client != NULL; i++)
		run_ask(r, i, addr);
	if (r->client != NULL) {
		r->timer = host->timer(s, d->timeout_ms, on_deadline, r);
		if (r->timer == NULL)
			host->log(s, LOG_WARNING, "no timer: the resolver's "
			    "own time-out applies");
	}
	r->in_hook = 0;
	if (!r->decided_in_hook)
		return EHLOD_PENDING;
	v = r->verdict;
	run_release(r);
	return v;
}

/* ---- hooks ------------------------------------------------------- */

/* Host-owned session data; on_close cuts it off from its run before the
 * host frees it. */
static struct client *
client_of(ehlod_ctx *s)
{
	return host->session_data(s);
}

static ehlod_verdict
check(ehlod_ctx *s)
{
	struct dnsbl *d = host->instance(s);
	const char *addr = host->get(s, EHLOD_ITEM_CLIENT_ADDR);
	char rev[DNSBL_REVERSE_MAX + 1];
	struct client *c;

	if (addr == NULL || dnsbl_reverse(addr, rev, sizeof(rev)) < 0)
		return EHLOD_CONTINUE;
	c = client_of(s);
	if (c == NULL)
		return error_verdict(s, "out of memory");
	if (c->known == OUTCOME_CLEAN)
		return EHLOD_CONTINUE;
	if (c->known == OUTCOME_LISTED)
		return listed_verdict(s, c);
	/* The server asks no hook while one is pending; never start a second
	 * run that would take the first one's place. */
	if (c->run != NULL)
		return error_verdict(s, "a lookup is already under way");
	if (d->dns == NULL)
		return error_verdict(s, "this host has no event loop");
	return run_start(s, c, addr);
}

static ehlod_verdict
dnsbl_on_connect(ehlod_ctx *s)
{
	struct dnsbl *d = host->instance(s);
	return d->stage == STAGE_CONNECT ? check(s) : EHLOD_CONTINUE;
}

static ehlod_verdict
dnsbl_on_rcpt(ehlod_ctx *s, const char *forward_path)
{
	struct dnsbl *d = host->instance(s);
	if (d->stage != STAGE_RCPT || host->flag(s, EHLOD_FLAG_AUTH))
		return EHLOD_CONTINUE;
	return check(s);
}

/* The session may end while its queries are out: cancel them, so that no
 * callback ever reaches a session that is gone. */
static void
dnsbl_on_close(ehlod_ctx *s)
{
	struct client *c = host->session_data(s);
	struct run *r;

	if (c == NULL)
		return;
	r = c->run;
	c->run = NULL;
	if (r != NULL) {
		r->client = NULL;
		run_stop(r);
		run_release(r);
	}
}

/* ---- configuration ----------------------------------------------- */

static const char *
check_zones(const void *value)
{
	const struct ehlod_list *l = value;
	static char why_buf[300];
	const char *why;

	if (l->n == 0 || l->n > ZONES_MAX)
		return "give 1 to 16 zones";
	for (size_t i = 0; i < l->n; i++)
		if (dnsbl_zone_check(l->v[i], &why) < 0) {
			snprintf(why_buf, sizeof(why_buf), "\"%.200s\": %s",
			    l->v[i], why);
			return why_buf;
		}
	return NULL;
}

static const char *
check_nameservers(const void *value)
{
	const struct ehlod_list *l = value;

	for (size_t i = 0; i < l->n; i++) {
		struct sockaddr_storage ss;
		int len = sizeof(ss);

		if (evutil_parse_sockaddr_port(l->v[i], (struct sockaddr *)&ss,
		    &len) < 0)
			return "each must be IP, IP:port or [IPv6]:port";
	}
	return NULL;
}

static const char *
check_stage(const void *value)
{
	const char *v = *(const char *const *)value;

	return strcasecmp(v, "connect") && strcasecmp(v, "rcpt") ?
	    "must be \"connect\" or \"rcpt\"" : NULL;
}

static const char *
check_on_error(const void *value)
{
	const char *v = *(const char *const *)value;

	return strcasecmp(v, "accept") && strcasecmp(v, "tempfail") ?
	    "must be \"accept\" or \"tempfail\"" : NULL;
}

static const char *
check_message(const void *value)
{
	const char *why;

	return dnsbl_format_check(*(const char *const *)value, &why) < 0 ?
	    why : NULL;
}

static void
config_read(struct dnsbl *d)
{
	const char *why;

	for (size_t i = 0; i < d->zone_list.n; i++) {
		int len = dnsbl_zone_check(d->zone_list.v[i], &why);
		d->zones[i] = xstrndup(d->zone_list.v[i], (size_t)(len < 0 ?
		    0 : len));
		d->nzones = i + 1;
	}
	d->stage = strcasecmp(d->stage_name, "rcpt") == 0 ? STAGE_RCPT :
	    STAGE_CONNECT;
	d->tempfail_on_error = strcasecmp(d->on_error, "tempfail") == 0;
	d->timeout_ms = (unsigned)d->timeout;
}

/* The resolver of this worker: the configured name servers or the
 * system's, and per-query time-outs that leave room for one retry
 * within timeout_ms (the plugin's own deadline ends the lookup). */
static int
make_resolver(ehlod_ctx *inst, struct dnsbl *d, struct event_base *base)
{
	char seconds[32];
	size_t n = d->nameservers.n;

	d->dns = evdns_base_new(base, EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (d->dns == NULL) {
		host->log(inst, LOG_ERR, "cannot make a DNS resolver");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (evdns_base_nameserver_ip_add(d->dns,
		    d->nameservers.v[i]) != 0) {
			host->log(inst, LOG_ERR, "cannot use name server %s",
			    d->nameservers.v[i]);
			return -1;
		}
	if (n == 0 && evdns_base_resolv_conf_parse(d->dns,
	    DNS_OPTION_NAMESERVERS, RESOLV_CONF) != 0)
		host->log(inst, LOG_WARNING, "%s unreadable or without name "
		    "servers; asking 127.0.0.1", RESOLV_CONF);
	snprintf(seconds, sizeof(seconds), "%u.%03u", d->timeout_ms / 2000,
	    (d->timeout_ms / 2) % 1000);
	if (evdns_base_set_option(d->dns, "timeout:", seconds) != 0 ||
	    evdns_base_set_option(d->dns, "attempts:", "2") != 0)
		host->log(inst, LOG_WARNING, "cannot set the resolver's "
		    "time-out; its defaults apply");
	return 0;
}

static void
dnsbl_fini(ehlod_ctx *inst)
{
	struct dnsbl *d = host->instance(inst);

	/* Sessions are over by now; what is left are finished runs whose
	 * cancelled queries never called back.  Without their requests
	 * (freed with the resolver, no callbacks) they can go. */
	if (d->dns != NULL)
		evdns_base_free(d->dns, 0);
	d->dns = NULL;
	while (d->runs != NULL)
		run_free(d->runs);
	for (size_t i = 0; i < d->nzones; i++) {
		free(d->zones[i]);
		d->zones[i] = NULL;
	}
	d->nzones = 0;
}

static int
dnsbl_init(const struct ehlod_host *h, ehlod_ctx *inst)
{
	struct dnsbl *d;
	struct event_base *base;

	host = h;
	d = host->instance(inst);
	config_read(d);
	/* Only the workers resolve: init runs where sessions are served. */
	base = host->event_base ? host->event_base() : NULL;
	if (base != NULL && make_resolver(inst, d, base) < 0) {
		dnsbl_fini(inst);
		return -1;
	}
	return 0;
}

#define O(name, type, field, def, flags, min, max, check) \
	{ name, type, offsetof(struct dnsbl, field), def, flags, min, max, \
	  check }
static const struct ehlod_option dnsbl_options[] = {
	O("zones", EHLOD_OPT_LIST, zone_list, NULL, EHLOD_OPT_REQUIRED, 0, 0,
	    check_zones),
	O("nameservers", EHLOD_OPT_LIST, nameservers, NULL, 0, 0, 0,
	    check_nameservers),
	O("stage", EHLOD_OPT_STRING, stage_name, "connect", 0, 0, 0,
	    check_stage),
	O("timeout_ms", EHLOD_OPT_INT, timeout, "3000", 0, TIMEOUT_MIN,
	    TIMEOUT_MAX, NULL),
	O("on_error", EHLOD_OPT_STRING, on_error, "accept", 0, 0, 0,
	    check_on_error),
	O("message", EHLOD_OPT_STRING, message,
	    "Service unavailable; client [%s] listed by %s", 0, 0, 0,
	    check_message),
	{ NULL, 0, 0, NULL, 0, 0, 0, NULL }
};

EHLOD_PLUGIN_EXPORT const struct ehlod_plugin ehlod_plugin = {
	EHLOD_PLUGIN_HEADER,
	.name = "dnsbl",
	.version = PACKAGE_VERSION,
	.description = "refuse clients listed in DNS blocklists, looked up "
	    "asynchronously",
	.options = dnsbl_options,
	.instance_size = sizeof(struct dnsbl),
	.session_data_size = sizeof(struct client),
	.flags = EHLOD_PLUGIN_MILTER_HOOKS,
	.init = dnsbl_init,
	.fini = dnsbl_fini,
	.on_connect = dnsbl_on_connect,
	.on_rcpt = dnsbl_on_rcpt,
	.on_close = dnsbl_on_close,
};
