/*
 * NAME
 *	session_reply.c - sending SMTP replies
 * DESCRIPTION
 *	Every reply the server sends goes through session_reply_text(): it
 *	splits multi-line text, adds the RFC 3463 enhanced code only when the
 *	session offered ENHANCEDSTATUSCODES (RFC 2034 section 3), strips
 *	control characters a plugin may have let into the text, and marks the
 *	session for closing after a 421.  Refusals are logged here, once, with
 *	the plugin that decided them.
 *
 *	Replies on a plain connection are written at once (write-through):
 *	those of a batch of commands at the end of session_process(), any
 *	other right after it is queued.  Only what the socket does not take
 *	waits for libevent's write event, which is otherwise left off: an
 *	event added and removed per reply cost two epoll_ctl calls and a
 *	loop turn, a quarter of the system calls of a message.  TLS
 *	sessions, and a session about to close or to start TLS (whose end of
 *	output write_cb acts on), keep libevent's writing: so a session is
 *	marked closing before its last reply is queued, not after.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>

#include "anvil.h"
#include "enhanced_code.h"
#include "log.h"
#include "session_reply.h"
#include "smtp_state.h"
#include "smtpd.h"
#include "stats.h"
#include "txn.h"
#include "xmalloc.h"

int
session_offers_enhanced(const struct ehlod_session *s)
{
	if (!s->ehlo_done || !s->flags[EHLOD_FLAG_ESMTP])
		return 0;
	for (size_t i = 0; i < s->plugins->n; i++) {
		const char *kw = s->plugins->v[i].d.ehlo_keyword;
		if (kw && s->offered[i] &&
		    strcasecmp(kw, "ENHANCEDSTATUSCODES") == 0)
			return 1;
	}
	return 0;
}

/* "250-2.1.0 text" CRLF, built by hand: a printf per reply line was a
 * tenth of the cost of a message. */
static void
put_line(struct evbuffer *out, int code, int last, const char *enh,
    const char *text, size_t len)
{
	char line[1100];
	size_t n = 0, elen = enh ? strlen(enh) : 0;

	if (code < 100 || code > 999)
		code = 451;
	line[n++] = (char)('0' + code / 100);
	line[n++] = (char)('0' + code / 10 % 10);
	line[n++] = (char)('0' + code % 10);
	line[n++] = last ? ' ' : '-';
	if (elen > 0 && elen < 32) {
		memcpy(line + n, enh, elen);
		n += elen;
		line[n++] = ' ';
	}
	for (size_t i = 0; i < len && i < 1023; i++) {
		unsigned char c = (unsigned char)text[i];
		line[n++] = (c < 32 || c == 127) ? ' ' : (char)c;
	}
	line[n++] = '\r';
	line[n++] = '\n';
	evbuffer_add(out, line, n);
}

/* The last reply, for outcome reports. */
static void
remember_reply(struct ehlod_session *s, int code, const char *enhanced,
    const char *text)
{
	const char *enh = enhanced != NULL &&
	    enhanced_code_fits(enhanced, code) ? enhanced : "";
	size_t n = strnlen(enh, sizeof(s->last_enhanced) - 1);

	s->last_code = code;
	memcpy(s->last_enhanced, enh, n);
	s->last_enhanced[n] = '\0';
	free(s->last_text);
	s->last_text = xstrdup(text);
}

void
session_reply_text(struct ehlod_session *s, int code, const char *enhanced,
    const char *text)
{
	const char *enh = NULL;

	if (code == 421) {
		s->closing = 1;
		if (s->end_reason == 0)
			s->end_reason = EHLOD_SESSION_CLOSED;
	}
	remember_reply(s, code, enhanced, text);
	if (s->bev == NULL)
		return;
	if (enhanced_code_fits(enhanced, code) && session_offers_enhanced(s))
		enh = enhanced;
	struct evbuffer *out = bufferevent_get_output(s->bev);
	const char *p = text ? text : "";
	for (;;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		put_line(out, code, nl == NULL || nl[1] == '\0', enh, p, len);
		if (nl == NULL || nl[1] == '\0')
			break;
		p = nl + 1;
	}
	session_reply_flush(s);
}

/* batch_end: session_process() calls, and frees a closing session whose
 * output is gone; anywhere else only write_cb can. */
static int
writes_through(const struct ehlod_session *s, int batch_end)
{
	return (!s->closing || batch_end) && !s->tls_switch &&
	    bufferevent_openssl_get_ssl(s->bev) == NULL;
}

static void
flush(struct ehlod_session *s, int batch_end)
{
	struct evbuffer *out;

	if (s->bev == NULL)
		return;
	out = bufferevent_get_output(s->bev);
	if (evbuffer_get_length(out) == 0)
		return;
	if (writes_through(s, batch_end)) {
		/* A socket bufferevent keeps the front of its output frozen
		 * but while it writes itself; so do we.  A failed write
		 * leaves the octets queued: libevent's write then meets the
		 * same error and ends the session through event_cb. */
		evbuffer_unfreeze(out, 1);
		(void)evbuffer_write(out, bufferevent_getfd(s->bev));
		evbuffer_freeze(out, 1);
		if (evbuffer_get_length(out) == 0)
			return;
	}
	bufferevent_enable(s->bev, EV_WRITE);
}

void
session_reply_flush(struct ehlod_session *s)
{
	if (!s->in_process)
		flush(s, 0);
}

void
session_reply_flush_batch(struct ehlod_session *s)
{
	flush(s, 1);
}

void
session_reply_drained(struct ehlod_session *s)
{
	if (s->bev != NULL && writes_through(s, 0))
		bufferevent_disable(s->bev, EV_WRITE);
}

void
session_reply(struct ehlod_session *s, int code, const char *enhanced,
    const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	/* Most replies are fixed text ("Ok"): no formatting to do. */
	if (strchr(fmt, '%') == NULL && strlen(fmt) < sizeof(text)) {
		session_reply_text(s, code, enhanced, fmt);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	session_reply_text(s, code, enhanced, text);
}

/*
 * Postfix's field order, so that log tools written for Postfix read it:
 *	ID: [QUEUEID: ]reject: RCPT from unknown[IP]: 554 5.7.1 TEXT;
 *	    from=<...> to=<...> proto=ESMTP helo=<...> plugin=NAME
 * The queue id is there once a transaction has one; to= only for RCPT.
 */
void
session_log_reject(struct ehlod_session *s, const char *verb,
    const char *rcpt, int code, const char *enhanced, const char *text,
    const char *plugin)
{
	const char *from = s->txn.slots ? s->txn.mail_from : NULL;
	const char *qid = s->txn.slots ? s->txn.id : "";
	char flat[1024];
	size_t n = 0;

	/* One log line per event, even for a multi-line reply. */
	for (const char *p = text ? text : ""; *p && n + 3 < sizeof(flat);
	    p++) {
		if (*p == '\n') {
			memcpy(flat + n, " / ", 3);
			n += 3;
			continue;
		}
		flat[n++] = (unsigned char)*p < 32 ? ' ' : *p;
	}
	flat[n] = '\0';
	log_msg(LOG_INFO, "%s: %s%sreject: %s from unknown[%s]: %d %s%s%s; "
	    "from=<%s>%s%s%s proto=%s helo=<%s> plugin=%s", s->id, qid,
	    qid[0] ? ": " : "", verb, s->client_addr, code,
	    enhanced ? enhanced : "", enhanced ? " " : "", flat,
	    from ? from : "", rcpt ? " to=<" : "", rcpt ? rcpt : "",
	    rcpt ? ">" : "", smtp_state_protocol(s), s->helo ? s->helo : "",
	    plugin);
}

static int
code_fits_verdict(int code, ehlod_verdict v)
{
	switch (v) {
	case EHLOD_REJECT:
		return (code >= 500 && code < 600) || code == 421;
	case EHLOD_TEMPFAIL:
		return code >= 400 && code < 500;
	default:
		return code >= 200 && code < 400;
	}
}

/* Failed logins are counted per client across sessions and workers
 * (anvil.c); past max_auth_failure_rate a minute the session ends. */
static void
auth_failure_limit(struct ehlod_session *s)
{
	long limit = server->conf->max_auth_failure_rate;

	if (anvil_auth_failed(s->client_addr) < (unsigned long)limit ||
	    limit <= 0)
		return;
	stats_add(STAT_LIMIT_AUTH_FAILURES, 1);
	log_msg(LOG_WARNING, "%s: limit: max_auth_failure_rate reached for "
	    "unknown[%s]:%s; answered 421", s->id, s->client_addr,
	    s->client_port);
	session_reply(s, 421, "4.7.0", "%s Error: too many failed logins "
	    "from your address", server->conf->hostname);
}

void
session_reply_verdict(struct ehlod_session *s, ehlod_verdict v,
    struct plugin *decider, int def_code, const char *def_enhanced,
    const char *def_text, const char *what, const char *rcpt)
{
	int code = def_code;
	const char *enh = def_enhanced;
	const char *text = def_text;
	struct pending_reply *r = &s->reply;

	if (r->set && code_fits_verdict(r->code, v)) {
		code = r->code;
		enh = r->enhanced[0] ? r->enhanced : NULL;
		text = r->text;
	} else if (r->set && decider) {
		log_msg(LOG_WARNING, "%s: plugin %s answered %d with a "
		    "verdict that needs another class of reply; using %d",
		    s->id, decider->name, r->code, def_code);
	}
	session_reply_text(s, code, enh, text);
	if (code >= 400)
		session_log_reject(s, what, rcpt, code, enh, text,
		    decider ? decider->name : "core");
	pending_reply_clear(r);
	if (code == 535 && what && strcmp(what, "AUTH") == 0)
		auth_failure_limit(s);
}

/* Counts one client error; at max_errors the session ends with 421. */
void
session_count_error(struct ehlod_session *s)
{
	if (++s->errors < (unsigned)server->conf->max_errors)
		return;
	session_reply(s, 421, "4.7.0", "%s Error: too many errors",
	    server->conf->hostname);
	log_msg(LOG_INFO, "%s: too many errors from [%s]:%s", s->id,
	    s->client_addr, s->client_port);
}

void
step_reply_verdict(struct ehlod_session *s, enum step st, ehlod_verdict v,
    struct plugin *decider, const char *what, const char *rcpt)
{
	const struct step_reply *d = step_default_reply(st, v);

	session_reply_verdict(s, v, decider, d->code, d->enhanced, d->text,
	    what, rcpt);
}
