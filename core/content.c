/*
 * NAME
 *	content.c - message content: DATA and BDAT, header/body hooks, and
 *	the delivery step
 * DESCRIPTION
 *	Reading and hook processing are decoupled: content is stored as it
 *	arrives, and content_pump() walks the stored content through the
 *	header, end-of-header and body hooks, stopping whenever a hook is
 *	pending and going on from the done callback when it resumes.  When
 *	the content is complete and the hooks have seen it all, the core's
 *	own checks come first (bare CR/LF, size), then the end-of-message
 *	chain, which is the delivery step: the client hears 250 only when a
 *	plugin answered ACCEPT (stored or relayed) or DISCARD.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "content.h"
#include "deadline.h"
#include "chain.h"
#include "log.h"
#include "session_reply.h"
#include "smtp_state.h"
#include "smtpd.h"
#include "stats.h"
#include "txn.h"
#include "xmalloc.h"

static void finish_message(struct ehlod_session *s);

static void
set_timeout(struct ehlod_session *s, long seconds)
{
	deadline_timeouts(s, seconds, seconds);
}

/*
 * A spool disk that stops (a dead NFS server, a failing disk) would hold
 * a waiting session for ever: once the bufferevent's input is full,
 * libevent suspends its read timeout too.  So the wait has its own
 * limit, data_timeout without any write finishing; past it the client
 * hears 421 and its message is not taken (it tries again later), and the
 * file is closed once its writes come back.
 */
static void
spool_stalled(evutil_socket_t fd, short what, void *arg)
{
	struct ehlod_session *s = arg;
	(void)fd;
	(void)what;

	if (s->closing || s->bev == NULL || !message_spool_busy(&s->txn.msg))
		return;
	log_msg(LOG_WARNING, "%s: spool writer stalled: no write to %s "
	    "finished in %ld s; closing the session of [%s]:%s",
	    s->id, server->conf->spool_directory,
	    (long)server->conf->data_timeout, s->client_addr, s->client_port);
	stats_add(STAT_TIMEOUTS, 1);
	s->end_reason = EHLOD_SESSION_TIMEOUT;
	session_reply(s, 421, "4.3.0", "%s Error: the mail spool is not "
	    "keeping up; try again later", server->conf->hostname);
	/* The input loop closes the session once the reply is out. */
	bufferevent_trigger(s->bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS);
}

void
content_spool_wait(struct ehlod_session *s)
{
	struct timeval tv = { server->conf->data_timeout, 0 };

	if (s->spool_stall_ev == NULL)
		s->spool_stall_ev = evtimer_new(server->base, spool_stalled, s);
	if (s->spool_stall_ev == NULL || evtimer_pending(s->spool_stall_ev,
	    NULL))
		return;
	evtimer_add(s->spool_stall_ev, &tv);
}

void
content_spool_wait_free(struct ehlod_session *s)
{
	if (s->spool_stall_ev)
		event_free(s->spool_stall_ev);
	s->spool_stall_ev = NULL;
}

/* The spool writer finished a write of this session's file: take in a
 * failure, hand over what waited for room, finish a message that waited
 * for its writes, then let the input loop run as after any read (it
 * reads on if reading was held, and sends the replies made here).  The
 * wait's limit starts again with the next wait. */
static void
spool_written(void *arg)
{
	struct ehlod_session *s = arg;

	if (s->spool_stall_ev)
		evtimer_del(s->spool_stall_ev);
	message_spool_settle(&s->txn.msg);
	content_pump(s);
	if (s->bev)
		bufferevent_trigger(s->bev, EV_READ,
		    BEV_TRIG_IGNORE_WATERMARKS);
}

static void
content_begin(struct ehlod_session *s, int bdat)
{
	struct transaction *t = &s->txn;

	t->content = CONTENT_HEADERS;
	message_spool_notify(&t->msg, spool_written, s);
	if (bdat) {
		t->uses_bdat = 1;
		return;
	}
	s->state = S_DATA;
	s->mode = IN_DATA;
	data_reader_init(&t->reader);
	set_timeout(s, server->conf->data_timeout);
	deadline_content_begin(s);
}

void
content_data_begin(struct ehlod_session *s)
{
	content_begin(s, 0);
}

/* host->read_chunk(): the BDAT verb's handler hands the next size octets
 * to the host.  The first chunk of a transaction with recipients begins
 * its content. */
int
content_chunk_begin(struct ehlod_session *s, size_t size, int last)
{
	struct transaction *t = &s->txn;

	if (s->bev == NULL || s->state == S_CONNECTED || s->state == S_DATA)
		return -1;
	t->chunk_left = size;
	t->chunk_size = size;
	t->chunk_last = last != 0;
	s->mode = IN_CHUNK;
	/* Without recipients the chunk is read and dropped, then refused
	 * (content_read_chunk): RFC 3030 clients send it anyway. */
	if (s->state != S_RCPT)
		return 0;
	if (t->chunks++ == 0)
		content_begin(s, 1);
	return 0;
}

void
content_arrived(struct transaction *t)
{
	switch (t->content) {
	case CONTENT_HEADERS:
		t->content = CONTENT_IN_HEADERS;
		break;
	case CONTENT_BODY:
		t->content = CONTENT_IN_BODY;
		break;
	case CONTENT_NONE:
		/* ehlod-milter: its hooks ran step by step as the MTA sent
		 * the message; there is no walk to catch up. */
		t->content = CONTENT_DONE;
		break;
	default:
		break;
	}
}

int
content_is_complete(const struct transaction *t)
{
	return t->content >= CONTENT_IN_HEADERS;
}

static int
refused(const struct transaction *t)
{
	return t->data_verdict == EHLOD_REJECT ||
	    t->data_verdict == EHLOD_TEMPFAIL;
}

/* Refused or discarded: the rest is only counted, no hook sees it. */
static int
dropping(const struct transaction *t)
{
	return t->data_verdict != EHLOD_CONTINUE;
}

/* The header hooks are through: the body's turn. */
static void
headers_walked(struct transaction *t)
{
	t->content = t->content == CONTENT_IN_HEADERS ? CONTENT_IN_BODY :
	    CONTENT_BODY;
}

/* Remember the first refusal; it is sent when the content is complete. */
static void
hook_step_done(struct ehlod_session *s, ehlod_verdict v, struct plugin *p)
{
	struct transaction *t = &s->txn;

	if ((v == EHLOD_REJECT || v == EHLOD_TEMPFAIL) && !refused(t)) {
		t->data_verdict = v;
		t->data_reply = s->reply;
		memset(&s->reply, 0, sizeof(s->reply));
		t->reply_plugin = p;
	} else if (v == EHLOD_DISCARD && !refused(t)) {
		t->data_verdict = v;
	}
	/* Whatever arrives now is only counted: the smallest limit a plugin
	 * enforces bounds the memory, not message_size_limit. */
	if (dropping(t) && !t->msg.dropped)
		message_drop(&t->msg);
	pending_reply_clear(&s->reply);
	if (!s->pumping)
		content_pump(s);
}

/* The body hooks get the body in chunks of at least BODY_CHUNK_MIN
 * octets: a message that arrives in a few reads costs each plugin one
 * call, not one per read.  Shorter chunks go out when there will be no
 * more (the content is complete or over its limit), at the end of a BDAT
 * chunk (its reply waits for the hooks), and past the spool threshold
 * (only what the hooks have seen moves to the spool file). */
#define BODY_CHUNK_MIN 65536

static int
body_chunk_due(const struct ehlod_session *s)
{
	const struct transaction *t = &s->txn;
	const struct message *m = &t->msg;

	return content_is_complete(t) || m->overflow ||
	    (s->mode != IN_DATA && s->mode != IN_CHUNK) ||
	    m->len - m->cursor >= BODY_CHUNK_MIN ||
	    (m->spool_threshold > 0 && m->len > m->spool_threshold);
}

/* One step of hook work; returns 0 when there is nothing to do now. */
static int
pump_step(struct ehlod_session *s)
{
	struct transaction *t = &s->txn;
	struct message *m = &t->msg;
	size_t idx;

	if (t->content == CONTENT_HEADERS ||
	    t->content == CONTENT_IN_HEADERS) {
		int r = message_next_header(m, content_is_complete(t) ||
		    m->overflow, &idx);
		if (r == 0)
			return 0;
		if (r == 1) {
			chain_start(s, STEP_HEADER, m->hdrs[idx].name,
			    message_header_value(m, idx), NULL, 0,
			    hook_step_done);
			return 1;
		}
		headers_walked(t);
		chain_start(s, STEP_EOH, NULL, NULL, NULL, 0, hook_step_done);
		return 1;
	}
	/* A failed write drops the content; the 452 comes at the end. */
	message_spool(m);
	if (m->cursor < m->len && body_chunk_due(s)) {
		size_t from = m->cursor;
		m->cursor = m->len;
		chain_start(s, STEP_BODY, NULL, NULL, m->buf + from,
		    m->len - from, hook_step_done);
		return 1;
	}
	if (t->content == CONTENT_IN_BODY)
		t->content = CONTENT_DONE;
	return 0;
}

void
content_pump(struct ehlod_session *s)
{
	struct transaction *t = &s->txn;

	if (s->pumping)
		return;
	s->pumping = 1;
	while (!s->pending && t->content != CONTENT_DONE && !dropping(t))
		if (!pump_step(s))
			break;
	s->pumping = 0;
	if (content_is_complete(t) && !s->pending &&
	    (t->content == CONTENT_DONE || dropping(t)))
		finish_message(s);
}

/* DATA: returns after all available input has been read. */
int
content_read(struct ehlod_session *s)
{
	struct transaction *t = &s->txn;
	struct evbuffer *in = bufferevent_get_input(s->bev);
	int done = 0;

	while (!done && evbuffer_get_length(in) > 0) {
		struct evbuffer_iovec vec[8];
		int n = evbuffer_peek(in, -1, NULL, vec, 8);
		size_t consumed = 0;
		for (int i = 0; i < n && !done; i++)
			consumed += data_scan(&t->reader, vec[i].iov_base,
			    vec[i].iov_len, &t->msg, &done);
		evbuffer_drain(in, consumed);
	}
	if (done) {
		content_arrived(t);
		s->mode = IN_WAIT;
	}
	content_pump(s);
	return done;
}

/* BDAT: the first chunk of a transaction runs on_data, as DATA does
 * (plugin.h).  Called once the BDAT verb handler has finished, since a
 * chain cannot start inside another; a refusal is kept like a header
 * hook's and answers the chunks. */
void
content_bdat_data(struct ehlod_session *s)
{
	chain_start(s, STEP_DATA, NULL, NULL, NULL, 0, hook_step_done);
}

/* A BDAT outside a transaction with recipients: RFC 3030 clients send the
 * chunk whatever we answer, so it was read and dropped, never taken as
 * commands; now it is refused. */
static int
chunk_dropped(struct ehlod_session *s)
{
	if (s->txn.chunk_left > 0)
		return 0;
	s->mode = IN_COMMAND;
	session_reply(s, 503, "5.5.1", "%s", s->state == S_MAIL ?
	    "No valid recipients" : "Need MAIL and RCPT before BDAT");
	return 1;
}

/* BDAT: read what there is of the current chunk. */
int
content_read_chunk(struct ehlod_session *s)
{
	struct transaction *t = &s->txn;
	struct evbuffer *in = bufferevent_get_input(s->bev);
	int keep = s->state == S_RCPT && !refused(t);

	while (t->chunk_left > 0 && evbuffer_get_length(in) > 0) {
		struct evbuffer_iovec vec;
		if (evbuffer_peek(in, -1, NULL, &vec, 1) < 1)
			break;
		size_t take = vec.iov_len < t->chunk_left ? vec.iov_len :
		    t->chunk_left;
		if (keep)
			message_append(&t->msg, vec.iov_base, take);
		evbuffer_drain(in, take);
		t->chunk_left -= take;
	}
	if (s->state != S_RCPT)
		return chunk_dropped(s);
	if (t->chunk_left > 0) {
		content_pump(s);
		return 0;
	}
	if (t->chunk_last) {
		content_arrived(t);
		s->mode = IN_WAIT;
		content_pump(s);
		return 1;
	}
	s->mode = IN_COMMAND;
	/* The hooks see this chunk before its reply is chosen, so that a
	 * refusal it causes (SIZE over the limit) answers this chunk. */
	content_pump(s);
	if (t->msg.overflow)
		session_reply(s, 552, "5.3.4", "Message size exceeds fixed "
		    "maximum message size");
	else if (refused(t))
		session_reply(s, t->data_reply.code ? t->data_reply.code : 554,
		    t->data_reply.code ? t->data_reply.enhanced : "5.7.1",
		    "%s", t->data_reply.text ? t->data_reply.text :
		    "Transaction failed");
	else
		session_reply(s, 250, "2.0.0", "%zu octets received",
		    t->chunk_size);
	return 1;
}

/* RFC 5322 date of now, made once a second (per thread: ehlod-milter). */
static const char *
date_now(void)
{
	static _Thread_local time_t made_for = (time_t)-1;
	static _Thread_local char date[64];
	time_t now = time(NULL);
	struct tm tm;

	if (now == made_for)
		return date;
	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
	made_for = now;
	return date;
}

static void
make_received(struct ehlod_session *s)
{
	struct transaction *t = &s->txn;
	char tls[256] = "", forpart[300] = "";
	const char *date = date_now();
	if (s->flags[EHLOD_FLAG_TLS])
		snprintf(tls, sizeof(tls), "\n\t(using %s with cipher %s)",
		    s->items[EHLOD_ITEM_TLS_VERSION] ?
		    s->items[EHLOD_ITEM_TLS_VERSION] : "TLS",
		    s->items[EHLOD_ITEM_TLS_CIPHER] ?
		    s->items[EHLOD_ITEM_TLS_CIPHER] : "unknown");
	if (t->nrcpts == 1)
		snprintf(forpart, sizeof(forpart), "\n\tfor <%s>",
		    t->rcpts[0].address);
	free(t->msg.received);
	t->msg.received = xasprintf("Received: from %s (unknown [%s])%s\n"
	    "\tby %s (ehlod) with %s id %s%s; %s", s->helo ? s->helo : "",
	    s->client_addr, tls, server->conf->hostname, smtp_state_protocol(s),
	    t->id, forpart, date);
}

static void
log_outcome(struct ehlod_session *s, const char *status, int code,
    const char *text, const char *plugin)
{
	struct transaction *t = &s->txn;
	char to[1024];
	size_t used = 0;

	stats_add(!strcmp(status, "sent") ? STAT_MSG_SENT :
	    !strcmp(status, "discarded") ? STAT_MSG_DISCARDED :
	    !strcmp(status, "rejected") ? STAT_MSG_REJECTED :
	    STAT_MSG_DEFERRED, 1);

	to[0] = '\0';
	for (size_t i = 0; i < t->nrcpts && used < sizeof(to) - 1; i++) {
		int n = snprintf(to + used, sizeof(to) - used, "%s<%s>",
		    i ? "," : "", t->rcpts[i].address);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	log_msg(LOG_INFO, "%s: %s: from=<%s>, to=%s, size=%zu, proto=%s, "
	    "helo=<%s>, status=%s (%d %s), plugin=%s", s->id, t->id,
	    t->mail_from ? t->mail_from : "", to, t->msg.total,
	    smtp_state_protocol(s), s->helo ? s->helo : "", status, code,
	    text ? text : "", plugin);
}

static void
end_transaction(struct ehlod_session *s)
{
	struct transaction *t = &s->txn;

	/* Refusals have no outcome yet: the reply just sent tells which. */
	if (t->outcome == 0)
		t->outcome = s->last_code / 100 == 5 ? EHLOD_TXN_REFUSED :
		    EHLOD_TXN_TEMPFAILED;
	smtp_state_txn_done(s);
	s->mode = IN_COMMAND;
	set_timeout(s, server->conf->command_timeout);
	deadline_content_end(s);
	if (server->draining == DRAIN_STOP)
		session_reply(s, 421, "4.3.2", "%s Service shutting down",
		    server->conf->hostname);
}

static void
eom_done(struct ehlod_session *s, ehlod_verdict v, struct plugin *p)
{
	const char *name = p ? p->name : "core";
	char queued[64];

	snprintf(queued, sizeof(queued), "Ok: queued as %s", s->txn.id);
	if (v == EHLOD_ACCEPT || v == EHLOD_DISCARD) {
		int own = s->reply.set && s->reply.code / 100 == 2;
		log_outcome(s, v == EHLOD_ACCEPT ? "sent" : "discarded",
		    own ? s->reply.code : 250, own ? s->reply.text : queued,
		    name);
		session_reply_verdict(s, EHLOD_ACCEPT, p, 250, "2.0.0", queued,
		    "end of data", NULL);
		s->txn.outcome = v == EHLOD_ACCEPT ? EHLOD_TXN_DELIVERED :
		    EHLOD_TXN_DISCARDED;
		s->txn.outcome_by = p;
	} else if (v == EHLOD_CONTINUE) {
		log_msg(LOG_ERR, "%s: %s: no plugin delivered the message; "
		    "configure a delivery plugin (maildir, relay, discard)",
		    s->id, s->txn.id);
		session_reply(s, 451, "4.3.0", "Local error: no delivery "
		    "configured");
	} else {
		log_outcome(s, v == EHLOD_REJECT ? "rejected" : "deferred",
		    s->reply.set ? s->reply.code : 0,
		    s->reply.set ? s->reply.text : "", name);
		step_reply_verdict(s, STEP_EOM, v, p, "end of data", NULL);
		s->txn.outcome_by = p;
	}
	end_transaction(s);
}

static void
refuse(struct ehlod_session *s, int code, const char *enh, const char *text)
{
	session_reply_text(s, code, enh, text);
	session_log_reject(s, "end of data", NULL, code, enh, text, "core");
	log_outcome(s, "rejected", code, text, "core");
	end_transaction(s);
}

static void
finish_message(struct ehlod_session *s)
{
	struct transaction *t = &s->txn;

	/* Delivery reads the spool file: wait for its writes (the writer
	 * calls content_pump again). */
	if (message_spool_busy(&t->msg)) {
		content_spool_wait(s);
		return;
	}

	if (!t->uses_bdat && (t->reader.bare_cr || t->reader.bare_lf)) {
		refuse(s, 550, "5.6.0", "Message refused: bare CR or LF in "
		    "the content (RFC 5321 section 2.3.8)");
		return;
	}
	if (t->msg.spool_failed) {
		refuse(s, 452, "4.3.1", "Insufficient system storage");
		return;
	}
	if (t->msg.overflow) {
		refuse(s, 552, "5.3.4", "Message size exceeds fixed maximum "
		    "message size");
		return;
	}
	if (refused(t)) {
		s->reply = t->data_reply;
		memset(&t->data_reply, 0, sizeof(t->data_reply));
		log_outcome(s, t->data_verdict == EHLOD_REJECT ? "rejected" :
		    "deferred", s->reply.set ? s->reply.code :
		    step_default_reply(STEP_EOM, t->data_verdict)->code,
		    s->reply.set ? s->reply.text : "", t->reply_plugin ?
		    t->reply_plugin->name : "core");
		t->outcome_by = t->reply_plugin;
		step_reply_verdict(s, STEP_EOM, t->data_verdict,
		    t->reply_plugin, "end of data", NULL);
		end_transaction(s);
		return;
	}
	if (t->data_verdict == EHLOD_DISCARD) {
		eom_done(s, EHLOD_DISCARD, NULL);
		return;
	}
	make_received(s);
	chain_start(s, STEP_EOM, NULL, NULL, NULL, 0, eom_done);
}
