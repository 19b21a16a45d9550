/*
 * NAME
 *	session.c - one SMTP session: connection, input loop, TLS switch,
 *	end
 * DESCRIPTION
 *	session_process() is the only place input is taken: it runs while
 *	no hook is pending (a plugin's line exchange excepted) and hands each
 *	line or octet to the current input mode.  Replies collect in the
 *	output buffer and libevent writes them when the loop comes round,
 *	so a pipelined batch gets its replies in one write (RFC 2920).
 *	The read high-water mark bounds what a client can queue up while we
 *	wait for a plugin; the output bound stops taking input from a client
 *	that does not read its replies, so that together a session holds at
 *	most INPUT_HIGH_WATER + OUTPUT_HIGH_WATER + one reply of buffers.
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "anvil.h"
#include "commands.h"
#include "content.h"
#include "deadline.h"
#include "chain.h"
#include "log.h"
#include "pending.h"
#include "session.h"
#include "session_reply.h"
#include "smtp_state.h"
#include "smtpd.h"
#include "stats.h"
#include "txn.h"
#include "xmalloc.h"

#define INPUT_HIGH_WATER (256 * 1024)
/* Past this much unsent output no more input is taken; it resumes once
 * the output has drained.  A pipelined batch of ordinary replies is far
 * below it. */
#define OUTPUT_HIGH_WATER (64 * 1024)

struct server *server;

static void read_cb(struct bufferevent *bev, void *arg);
static void tls_begin(struct ehlod_session *s);
static void write_cb(struct bufferevent *bev, void *arg);
static void event_cb(struct bufferevent *bev, short what, void *arg);

static void
addr_to_text(const struct sockaddr *sa, socklen_t len, char *host,
    size_t hlen, char *port, size_t plen)
{
	if (getnameinfo(sa, len, host, (socklen_t)hlen, port, (socklen_t)plen,
	    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(host, hlen, "unknown");
		snprintf(port, plen, "0");
	}
	/* IPv4-mapped IPv6 clients read better as IPv4. */
	if (strncmp(host, "::ffff:", 7) == 0 && strchr(host + 7, '.'))
		memmove(host, host + 7, strlen(host + 7) + 1);
}

static void
set_timeouts(struct ehlod_session *s, long seconds)
{
	deadline_timeouts_forget(s);	/* a new bufferevent */
	deadline_timeouts(s, seconds, seconds);
}

/* The front-end's side of pending.c: what follows a resume or a hook
 * that never answered. */
static void
resumed(struct ehlod_session *s, ehlod_verdict v)
{
	chain_resume(s, v);
	session_process(s);
}

static void
expired(struct ehlod_session *s)
{
	session_reply(s, 421, "4.3.0", "%s Error: timeout in a plugin",
	    server->conf->hostname);
	session_process(s);
}

static const struct pending_ops pending_ops = { resumed, expired };

static struct ehlod_session *
session_alloc(void)
{
	static unsigned long counter;
	struct ehlod_session *s = xcalloc(1, sizeof(*s));

	snprintf(s->id, sizeof(s->id), "%05X%06lX",
	    (unsigned)log_pid() & 0xfffff, ++counter & 0xffffff);
	smtp_state_init(s);
	linereader_init(&s->lr, s->plugins->line_limit);
	return s;
}

struct ehlod_session *
session_detached(void)
{
	struct ehlod_session *s = session_alloc();

	snprintf(s->client_addr, sizeof(s->client_addr), "127.0.0.1");
	s->flags[EHLOD_FLAG_ESMTP] = 1;
	return s;
}

static void
greet_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ehlod_session *s = arg;
	(void)fd;
	(void)what;

	s->greet_wait = 0;
	session_reply(s, 220, NULL, "%s ESMTP ehlod", server->conf->hostname);
	session_process(s);
}

/* greet_pause: hold the 220 back; input before it is early talk. */
static int
greet_pause(struct ehlod_session *s)
{
	struct timeval tv = { server->conf->greet_pause, 0 };

	s->greet_ev = evtimer_new(server->base, greet_cb, s);
	if (s->greet_ev == NULL || evtimer_add(s->greet_ev, &tv) < 0)
		return -1;
	s->greet_wait = 1;
	return 0;
}

static void
connect_done(struct ehlod_session *s, ehlod_verdict v, struct plugin *p)
{
	if (v == EHLOD_REJECT) {
		s->refused = 1;
		step_reply_verdict(s, STEP_CONNECT, v, p, "CONNECT", NULL);
		return;
	}
	if (v == EHLOD_TEMPFAIL) {
		s->closing = 1;	/* before the reply: see cmd_quit */
		step_reply_verdict(s, STEP_CONNECT, v, p, "CONNECT", NULL);
		return;
	}
	pending_reply_clear(&s->reply);
	if (server->conf->greet_pause > 0 && s->bev && greet_pause(s) == 0)
		return;
	session_reply(s, 220, NULL, "%s ESMTP ehlod", server->conf->hostname);
}

static void implicit_tls(struct ehlod_session *s);

/*
 * Limits are judged before any plugin runs: 421 4.7.0, logged, closed.
 * On an implicit-TLS listener the 421 waits for the handshake, since the
 * client reads nothing in plain text (RFC 8314 section 3.3); the
 * handshake is the price of a clear answer, as in Postfix's wrapper
 * mode.  Those sessions are over a limit already, so they get little:
 * LIMIT_TLS_SECONDS for the handshake and the reply, and past
 * LIMIT_TLS_MAX of them in a worker the connection is closed at once, so
 * that a flood of connections that never finish a handshake holds
 * nothing.
 */
#define LIMIT_TLS_MAX 16
#define LIMIT_TLS_SECONDS 10

static void
answer_over_limit(struct ehlod_session *s, const char *why)
{
	session_reply(s, 421, "4.7.0", "%s %s", server->conf->hostname, why);
	session_process(s);
}

static int
over_limit(struct ehlod_session *s)
{
	const struct config *c = server->conf;
	const char *limit = "max_sessions_per_worker";
	const char *why = NULL;
	int tls = s->listener && s->listener->tls == LISTENER_TLS_IMPLICIT;

	if (c->max_sessions_per_worker > 0 &&
	    server->nsessions > (size_t)c->max_sessions_per_worker)
		why = "Too many connections, try again later";
	else if ((why = anvil_connect(c, s->client_addr, &limit)) == NULL) {
		s->anvil_counted = 1;
		return 0;
	}
	log_msg(LOG_WARNING, "%s: limit: %s reached for unknown[%s]:%s; "
	    "%s", s->id, limit, s->client_addr, s->client_port,
	    !tls ? "answered 421" : server->tls_refusals < LIMIT_TLS_MAX ?
	    "answering 421 after the TLS handshake" : "closed: too many "
	    "such handshakes already");
	stats_add(stats_limit_counter(limit), 1);
	if (tls && server->tls_refusals >= LIMIT_TLS_MAX) {
		session_free(s);
		return 1;
	}
	if (tls) {
		s->limit_reply = why;
		server->tls_refusals++;
		implicit_tls(s);
		return 1;
	}
	answer_over_limit(s, why);
	return 1;
}

/* RFC 8314 section 3.3: on an implicit-TLS listener the handshake comes
 * first; the connect hooks and the greeting follow in tls_established(). */
static void
implicit_tls(struct ehlod_session *s)
{
	s->ssl_ctx = listener_tls_context(s->listener, s->plugins);
	if (s->ssl_ctx == NULL) {
		log_msg(LOG_ERR, "%s: listener %s: no TLS context for implicit "
		    "TLS; closing", s->id, s->listener->name);
		session_free(s);
		return;
	}
	s->tls_on_connect = 1;
	tls_begin(s);
}

void
session_new(struct bufferevent *bev, const struct sockaddr *peer,
    socklen_t peerlen)
{
	session_new_via(bev, peer, peerlen, NULL, 0);
}

void
session_new_via(struct bufferevent *bev, const struct sockaddr *peer,
    socklen_t peerlen, const struct sockaddr *client, socklen_t clientlen)
{
	char peer_addr[64], peer_port[8];
	struct sockaddr_storage local;
	socklen_t llen = sizeof(local);
	struct ehlod_session *s = session_alloc();

	s->bev = bev;
	addr_to_text(peer, peerlen, peer_addr, sizeof(peer_addr), peer_port,
	    sizeof(peer_port));
	if (client == NULL) {
		client = peer;
		clientlen = peerlen;
	}
	addr_to_text(client, clientlen, s->client_addr, sizeof(s->client_addr),
	    s->client_port, sizeof(s->client_port));
	if (getsockname(bufferevent_getfd(bev), (struct sockaddr *)&local,
	    &llen) == 0)
		addr_to_text((struct sockaddr *)&local, llen, s->local_addr,
		    sizeof(s->local_addr), s->local_port,
		    sizeof(s->local_port));
	pending_open(s, &pending_ops);
	s->next = server->sessions;
	if (server->sessions)
		server->sessions->prev = s;
	server->sessions = s;
	server->nsessions++;
	stats_add(STAT_CONNECTIONS, 1);
	stats_add(STAT_SESSIONS, 1);
	bufferevent_setcb(bev, read_cb, write_cb, event_cb, s);
	bufferevent_setwatermark(bev, EV_READ, 0, INPUT_HIGH_WATER);
	set_timeouts(s, server->conf->command_timeout);
	/* Writing is write-through, the event only for a backlog
	 * (session_reply_flush); a new bufferevent has it on. */
	bufferevent_disable(bev, EV_WRITE);
	bufferevent_enable(bev, EV_READ);
	/* Behind a proxy the two differ: the peer is the proxy. */
	log_msg(LOG_INFO, "%s: connect from [%s]:%s client=[%s]:%s", s->id,
	    peer_addr, peer_port, s->client_addr, s->client_port);
	s->listener = server->accepting;
	if (listener_relays(s->listener, s->client_addr)) {
		s->flags[EHLOD_FLAG_RELAY] = 1;
		log_msg(LOG_INFO, "%s: client [%s] may relay: relay_networks "
		    "of listener %s", s->id, s->client_addr, s->listener->name);
	}
	if (over_limit(s))
		return;
	if (s->listener && s->listener->tls == LISTENER_TLS_IMPLICIT) {
		implicit_tls(s);
		return;
	}
	chain_start(s, STEP_CONNECT, NULL, NULL, NULL, 0, connect_done);
	session_process(s);
}

void
session_free(struct ehlod_session *s)
{
	/* Uncounted before the disconnect line: once that is logged the
	 * client's limits no longer include this session. */
	if (s->anvil_counted)
		anvil_disconnect(s->client_addr);
	s->anvil_counted = 0;
	if (s->bev) {
		log_msg(LOG_INFO, "%s: disconnect from [%s]:%s helo=<%s> "
		    "commands=%u errors=%u mail=%u rcpt=%u messages=%u", s->id,
		    s->client_addr, s->client_port, s->helo ? s->helo : "",
		    s->ncommands, s->errors, s->mails, s->rcpts, s->messages);
		smtp_state_end(s);
	}
	smtp_state_fini(s);
	if (s->greet_ev)
		event_free(s->greet_ev);
	content_spool_wait_free(s);
	if (s->limit_reply)
		server->tls_refusals--;
	s->limit_reply = NULL;
	if (s->bev) {
		bufferevent_free(s->bev);
		if (s->prev)
			s->prev->next = s->next;
		else
			server->sessions = s->next;
		if (s->next)
			s->next->prev = s->prev;
		server->nsessions--;
		stats_add(STAT_SESSIONS, -1);
	}
	linereader_free(&s->lr);
	free(s);
	if (server->draining && server->nsessions == 0 && server->base)
		event_base_loopexit(server->base, NULL);
}

static void
plugin_line(struct ehlod_session *s, char *line)
{
	ehlod_line_cb cb = s->line_cb;
	void *arg = s->line_arg;
	struct plugin *saved = s->current;
	struct plugin *p = s->pending;

	s->line_cb = NULL;
	s->mode = IN_WAIT;
	s->current = s->pending;
	cb(CTX(s, p), arg, line);
	s->current = saved;
}

/* A command line or a plugin's line; returns 0 when input ran out. */
static int
take_line(struct ehlod_session *s, struct evbuffer *in)
{
	char *line;
	size_t len;

	switch (linereader_next(&s->lr, in, &line, &len)) {
	case LINE_NEED_MORE:
		return 0;
	case LINE_TOO_LONG:
		if (s->mode == IN_PLUGIN_LINE) {
			/* The 500 is the verb's final reply: set it as the
			 * pending reply, so that it is the only one. */
			s->line_cb = NULL;
			s->mode = IN_WAIT;
			pending_reply_clear(&s->reply);
			s->reply_by = s->pending;
			s->reply.set = 1;
			s->reply.code = 500;
			snprintf(s->reply.enhanced, sizeof(s->reply.enhanced),
			    "5.5.6");
			s->reply.text = xstrdup("Line too long");
			chain_resume(s, EHLOD_REJECT);
			return 1;
		}
		session_reply(s, 500, "5.5.2", "Line too long");
		session_count_error(s);
		return 1;
	case LINE_OK:
		break;
	}
	if (s->mode == IN_PLUGIN_LINE)
		plugin_line(s, line);
	else if (s->refused && strcasecmp(line, "QUIT") != 0)
		session_reply(s, 503, "5.5.1", "Error: no valid service; "
		    "send QUIT");
	else
		command_dispatch(s, line, len);
	return 1;
}

static size_t
output_length(const struct ehlod_session *s)
{
	return evbuffer_get_length(bufferevent_get_output(s->bev));
}

static int
may_read(struct ehlod_session *s)
{
	if (s->closing || s->tls_switch || s->greet_wait)
		return 0;
	if (output_length(s) > OUTPUT_HIGH_WATER)
		return 0;	/* the client is not reading its replies */
	if (s->pending && s->mode != IN_PLUGIN_LINE)
		return 0;
	if ((s->mode == IN_DATA || s->mode == IN_CHUNK) &&
	    message_spool_held(&s->txn.msg)) {
		if (!s->txn.spool_held) {	/* counted once a message */
			s->txn.spool_held = 1;
			stats_add(STAT_SPOOL_HELD, 1);
		}
		content_spool_wait(s);
		return 0;	/* the spool writer wakes us (content.c) */
	}
	return 1;
}

void
session_process(struct ehlod_session *s)
{
	struct evbuffer *in;
	size_t got;

	if (s->in_process || s->bev == NULL)
		return;
	s->in_process = 1;
	in = bufferevent_get_input(s->bev);
	got = evbuffer_get_length(in) > s->in_left ?
	    evbuffer_get_length(in) - s->in_left : 0;
	while (may_read(s)) {
		int progress = 0;
		switch (s->mode) {
		case IN_COMMAND:
		case IN_PLUGIN_LINE:
			progress = take_line(s, in);
			break;
		case IN_DATA:
			progress = evbuffer_get_length(in) > 0 &&
			    content_read(s);
			break;
		case IN_CHUNK:
			progress = content_read_chunk(s);
			break;
		case IN_WAIT:
			break;
		}
		if (!progress)
			break;
	}
	s->in_process = 0;
	if (s->bev == NULL)
		return;
	session_reply_flush_batch(s);
	s->in_left = evbuffer_get_length(in);
	if (!s->closing && output_length(s) > OUTPUT_HIGH_WATER) {
		/* Held until write_cb sees the output drained. */
		bufferevent_disable(s->bev, EV_READ);
		s->read_held = 1;
	}
	deadline_after_input(s, got, s->in_left);
	if (s->closing) {
		bufferevent_disable(s->bev, EV_READ);
		if (evbuffer_get_length(bufferevent_get_output(s->bev)) == 0)
			session_free(s);
	}
}

void
session_shutdown(struct ehlod_session *s)
{
	if (s->state > S_GREETED || s->mode != IN_COMMAND || s->pending ||
	    s->closing)
		return;	/* finishes its transaction first */
	session_reply(s, 421, "4.3.2", "%s Service shutting down",
	    server->conf->hostname);
	session_process(s);
}

/*
 * The TLS bufferevent works on the socket itself, not as a filter over
 * the plain one: its output is then empty only once the kernel has the
 * octets, so a last reply (221, 421) is not lost when the session is
 * freed right after it.
 */
static void
tls_begin(struct ehlod_session *s)
{
	SSL *ssl = SSL_new(s->ssl_ctx);
	evutil_socket_t fd = bufferevent_getfd(s->bev);
	struct bufferevent *tls;

	s->tls_switch = 0;
	/* RFC 3207 section 6: nothing the client sent before the
	 * handshake may be taken as a command afterwards. */
	evbuffer_drain(bufferevent_get_input(s->bev),
	    evbuffer_get_length(bufferevent_get_input(s->bev)));
	tls = ssl ? bufferevent_openssl_socket_new(server->base, fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS) : NULL;
	if (tls == NULL) {
		log_msg(LOG_ERR, "%s: cannot start TLS", s->id);
		if (ssl)
			SSL_free(ssl);
		s->closing = 1;
		session_free(s);
		return;
	}
	/* The socket is the TLS bufferevent's now. */
	bufferevent_setfd(s->bev, -1);
	bufferevent_free(s->bev);
	s->bev = tls;
	s->mode = IN_WAIT;
	bufferevent_setcb(tls, read_cb, write_cb, event_cb, s);
	bufferevent_setwatermark(tls, EV_READ, 0, INPUT_HIGH_WATER);
	set_timeouts(s, s->limit_reply ? LIMIT_TLS_SECONDS :
	    server->conf->command_timeout);
	bufferevent_enable(tls, EV_READ | EV_WRITE);
}

/* RFC 3207 section 4.2: after the handshake the session starts over. */
static void
tls_established(struct ehlod_session *s)
{
	SSL *ssl = bufferevent_openssl_get_ssl(s->bev);

	smtp_state_restart(s);
	s->mode = IN_COMMAND;
	s->flags[EHLOD_FLAG_TLS] = 1;
	s->flags[EHLOD_FLAG_ESMTP] = 0;
	free(s->items[EHLOD_ITEM_TLS_VERSION]);
	free(s->items[EHLOD_ITEM_TLS_CIPHER]);
	s->items[EHLOD_ITEM_TLS_VERSION] = xstrdup(SSL_get_version(ssl));
	s->items[EHLOD_ITEM_TLS_CIPHER] = xstrdup(SSL_get_cipher_name(ssl));
	log_msg(LOG_INFO, "%s: TLS established with [%s]:%s: %s with cipher "
	    "%s", s->id, s->client_addr, s->client_port,
	    SSL_get_version(ssl), SSL_get_cipher_name(ssl));
	if (s->tls_on_connect && s->limit_reply) {
		s->tls_on_connect = 0;
		answer_over_limit(s, s->limit_reply);
		return;
	}
	if (s->tls_on_connect) {
		s->tls_on_connect = 0;
		chain_start(s, STEP_CONNECT, NULL, NULL, NULL, 0, connect_done);
	}
	session_process(s);
}

/* RFC 5321 section 4.3.1 has the client wait for the greeting; one that
 * talks first is a bot that does not (postscreen's "pregreet"). */
static void
early_talker(struct ehlod_session *s)
{
	s->greet_wait = 0;
	evtimer_del(s->greet_ev);
	log_msg(LOG_INFO, "%s: early talker: [%s]:%s sent a command before "
	    "the greeting", s->id, s->client_addr, s->client_port);
	s->closing = 1;	/* before the reply: see cmd_quit */
	session_reply(s, 554, "5.5.1", "Error: talked before the greeting");
	bufferevent_disable(s->bev, EV_READ);
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	struct ehlod_session *s = arg;

	if (s->greet_wait && evbuffer_get_length(bufferevent_get_input(bev))) {
		early_talker(s);
		return;
	}
	session_process(s);
}

/*
 * An orderly end under TLS is announced with close_notify: OpenSSL 3
 * peers take a bare close as an error ("unexpected eof").  The output
 * is flushed to the socket here, so the alert goes straight after it.
 */
static void
tls_close_notify(struct ehlod_session *s)
{
	SSL *ssl;

	if (!s->flags[EHLOD_FLAG_TLS] || s->bev == NULL)
		return;
	ssl = bufferevent_openssl_get_ssl(s->bev);
	if (ssl)
		SSL_shutdown(ssl);
}

static void
write_cb(struct bufferevent *bev, void *arg)
{
	struct ehlod_session *s = arg;
	(void)bev;

	/* A deferred write callback can run in the same batch as a read
	 * callback that has just queued a reply: wait for that to go out. */
	if (output_length(s) > 0)
		return;
	session_reply_drained(s);
	if (s->closing) {
		tls_close_notify(s);
		session_free(s);
	} else if (s->tls_switch)
		tls_begin(s);
	else if (s->read_held) {
		/* The output has drained: take input again. */
		s->read_held = 0;
		bufferevent_enable(s->bev, EV_READ);
		session_process(s);
	}
}

static const char *
state_name(const struct ehlod_session *s)
{
	static const char *const names[] = {
		"CONNECT", "HELO", "MAIL", "RCPT", "DATA"
	};
	return names[s->state];
}

/* Between STARTTLS's 220 and the end of the handshake. */
static int
tls_handshaking(const struct ehlod_session *s)
{
	return !s->flags[EHLOD_FLAG_TLS] && s->bev &&
	    bufferevent_openssl_get_ssl(s->bev) != NULL;
}

/* "lost connection" alone hid why a handshake failed: say what OpenSSL
 * said (an unknown CA, no shared cipher, a plain-text client...). */
static void
log_tls_failure(struct ehlod_session *s, struct bufferevent *bev)
{
	char reason[256] = "the client closed the connection";
	unsigned long e;

	while ((e = bufferevent_get_openssl_error(bev)) != 0)
		ERR_error_string_n(e, reason, sizeof(reason));
	log_msg(LOG_WARNING, "%s: TLS handshake failed with unknown[%s]:%s: "
	    "%s", s->id, s->client_addr, s->client_port, reason);
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct ehlod_session *s = arg;
	(void)bev;

	if (what & BEV_EVENT_CONNECTED) {
		tls_established(s);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		s->end_reason = EHLOD_SESSION_TIMEOUT;
		log_msg(LOG_INFO, "%s: timeout after %s from unknown[%s]:%s",
		    s->id, s->last_verb[0] ? s->last_verb : state_name(s),
		    s->client_addr, s->client_port);
		/* A client that reads nothing gets no 421 queued behind the
		 * replies it ignored: the session just ends. */
		stats_add(STAT_TIMEOUTS, 1);
		if ((what & BEV_EVENT_WRITING) || s->closing ||
		    output_length(s) > 0) {
			session_free(s);
			return;
		}
		session_reply(s, 421, "4.4.2", "%s Error: timeout exceeded",
		    server->conf->hostname);
		bufferevent_disable(s->bev, EV_READ);
		bufferevent_enable(s->bev, EV_WRITE);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR) && tls_handshaking(s)) {
		log_tls_failure(s, bev);
		session_free(s);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		if (!s->closing)
			log_msg(LOG_INFO, "%s: lost connection after %s from "
			    "[%s]:%s", s->id, state_name(s), s->client_addr,
			    s->client_port);
		session_free(s);
	}
}
