/*
 * NAME
 *	connection.c - the client's connection: from connect to QUIT
 * DESCRIPTION
 *	Connects, reads replies (the bounded line reader and the reply
 *	parser) and hands each to the command queue, and runs the
 *	handshake that makes a connection ready for transactions: the
 *	greeting, EHLO (LHLO) with the RFC 1869 rules, then STARTTLS
 *	(client_starttls.c) and AUTH (login.c).  When ready it calls
 *	on_ready: the job driver (job.c) or the session API
 *	(client_session.c).
 *
 *	The RFC 1869 rules, and where they live:
 *	  - EHLO first, on every connection and again after STARTTLS; the
 *	    extension table is cleared whenever a session (re)starts, so
 *	    nothing is ever cached (conn_send_hello).
 *	  - 500/501/502/504/550/554 to EHLO: HELO, optionally after RSET
 *	    whose reply (503 and the like) is accepted; or QUIT when the job
 *	    needs an extension (on_ehlo, job_needs).
 *	  - 421 anywhere: a temporary failure; the server is closing, so we
 *	    close too (handle_reply).
 *	  - Section 4.7: the server closes the connection right after EHLO,
 *	    before its reply or after it, whatever its code (but 421, which
 *	    says it is closing for now): a new connection with HELO when
 *	    the job can be done without extensions, else a failure that
 *	    says what was needed (closed_after_ehlo, reconnect_with_helo).
 *	    Only once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>

#include "client_auth.h"
#include "private.h"

static int connect_server(struct ehlod_client *c);

/* ----------------------------------------------------------- timeouts */

void
conn_set_timeouts(struct ehlod_client *c, struct bufferevent *bev)
{
	struct timeval rt = { c->o.timeout_sec, 0 };
	struct timeval wt = { c->o.connect_timeout_sec, 0 };

	bufferevent_set_timeouts(bev, &rt, &wt);
}

/* No reply is awaited while idle: only the write timeout stays. */
void
conn_idle_timeouts(struct ehlod_client *c)
{
	struct timeval wt = { c->o.connect_timeout_sec, 0 };

	if (c->bev != NULL)
		bufferevent_set_timeouts(c->bev, NULL, &wt);
}

/* ----------------------------------------------------------- the end */

void
conn_close(struct ehlod_client *c)
{
	if (c->bev != NULL) {
		bufferevent_free(c->bev);
		c->bev = NULL;
	}
}

void
conn_done_fire(evutil_socket_t fd, short what, void *arg)
{
	struct ehlod_client *c = arg;

	(void)fd;
	(void)what;
	c->notified = 1;
	if (c->own_base)
		event_base_loopbreak(c->base);
	if (c->session) {
		session_over(c);	/* may free c: nothing after this */
		return;
	}
	if (c->cb)
		c->cb(c, c->cb_arg);	/* may free c: nothing after this */
}

/* Over: results settled, the user told from the loop (never from inside
 * our own call stack, so the callback may free the client). */
void
conn_done(struct ehlod_client *c)
{
	static const struct timeval now = { 0, 0 };

	conn_close(c);
	cmd_clear(c);
	c->st = CONN_DONE;
	if (!c->session)
		job_settle(c);
	note(c, "result: %s", ehlod_client_status_name(c->res.status));
	event_add(c->done_ev, &now);
}

static void
on_quit(struct ehlod_client *c, struct cmd *cmd, const struct smtp_reply *r)
{
	(void)cmd;
	(void)r;
	conn_done(c);
}

/* End politely: QUIT, unless the server is going away or a reply is
 * still due (it would be taken for QUIT's). */
void
conn_finish(struct ehlod_client *c)
{
	struct timeval tv = { QUIT_TIMEOUT_SEC, 0 };

	if (c->bev == NULL || c->closing || cmd_waiting(c) != NULL) {
		conn_done(c);
		return;
	}
	cmd_clear(c);
	c->st = CONN_QUIT;
	cmd_push(c, xstrdup("QUIT"), "QUIT", CMD_ALONE, on_quit);
	cmd_pump(c);
	bufferevent_set_timeouts(c->bev, &tv, &tv);
}

/* ------------------------------------------------ greeting, EHLO, HELO */

static void on_ehlo(struct ehlod_client *c, struct cmd *cmd,
    const struct smtp_reply *r);
static void on_helo(struct ehlod_client *c, struct cmd *cmd,
    const struct smtp_reply *r);

static void
reset_session(struct ehlod_client *c)
{
	ehlo_table_free(&c->ext);
	c->res.esmtp = 0;
	c->res.authenticated = 0;
	client_auth_free(c->auth);
	c->auth = NULL;
}

void
conn_send_hello(struct ehlod_client *c)
{
	/* Never cache: whatever the last EHLO said is gone now. */
	reset_session(c);
	if (c->o.lmtp)
		cmd_push(c, cmd_line("LHLO %s", c->helo_name), "LHLO",
		    CMD_ALONE, on_ehlo);
	else if (c->force_helo)
		cmd_push(c, cmd_line("HELO %s", c->helo_name), "HELO",
		    CMD_ALONE, on_helo);
	else
		cmd_push(c, cmd_line("EHLO %s", c->helo_name), "EHLO",
		    CMD_ALONE, on_ehlo);
	cmd_pump(c);
}

static void
on_greeting(struct ehlod_client *c, struct cmd *cmd,
    const struct smtp_reply *r)
{
	char text[512];

	(void)cmd;
	reply_text(r, text, sizeof(text));
	set_str((const char **)&c->greeting, text);
	if (r->code != 220) {
		fail_reply(c, "greeting", r);
		conn_finish(c);
		return;
	}
	conn_send_hello(c);
}

static int
helo_fallback_code(int code)
{
	return code == 500 || code == 501 || code == 502 || code == 504 ||
	    code == 550 || code == 554;
}

static void
send_helo_fallback(struct ehlod_client *c)
{
	cmd_push(c, cmd_line("HELO %s", c->helo_name), "HELO", CMD_ALONE,
	    on_helo);
}

static void
on_rset_fallback(struct ehlod_client *c, struct cmd *cmd,
    const struct smtp_reply *r)
{
	(void)cmd;
	/* RFC 1869 4.7: many servers answer 503 here; that is fine. */
	if (REPLY_CLASS(r->code) != 2)
		note(c, "RSET answered %d: going on with HELO", r->code);
	send_helo_fallback(c);
}

static void
on_ehlo(struct ehlod_client *c, struct cmd *cmd, const struct smtp_reply *r)
{
	const char *needs;

	c->last_was_ehlo = 1;
	if (REPLY_CLASS(r->code) == 2) {
		ehlo_table_parse(&c->ext, r);
		c->res.esmtp = 1;
		conn_proceed(c);
		return;
	}
	if (c->o.lmtp || !helo_fallback_code(r->code)) {
		fail_reply(c, cmd->name, r);
		conn_finish(c);
		return;
	}
	if ((needs = job_needs(c)) != NULL) {
		fail(c, EHLOD_CLIENT_PERMFAIL, EHLOD_REASON_NEEDS_EXTENSION,
		    "EHLO", NULL, "server refused EHLO (%d) and the job needs %s",
		    r->code, needs);
		conn_finish(c);
		return;
	}
	c->ehlo_refused = 1;
	c->res.helo_fallback = 1;
	note(c, "EHLO refused: falling back to HELO without extensions");
	if (c->o.rset_before_helo)
		cmd_push(c, xstrdup("RSET"), "RSET", CMD_ALONE, on_rset_fallback);
	else
		send_helo_fallback(c);
}

static void
on_helo(struct ehlod_client *c, struct cmd *cmd, const struct smtp_reply *r)
{
	(void)cmd;
	if (REPLY_CLASS(r->code) != 2) {
		fail_reply(c, "HELO", r);
		conn_finish(c);
		return;
	}
	ehlo_table_free(&c->ext);
	c->res.esmtp = 0;
	c->res.helo_fallback = 1;
	conn_proceed(c);
}

/* After a good EHLO, HELO or LHLO: STARTTLS and AUTH when asked, then
 * the connection is ready. */
void
conn_proceed(struct ehlod_client *c)
{
	if (c->o.starttls != EHLOD_TLS_NO && !c->res.tls && !c->tls_tried) {
		if (ehlo_table_has(&c->ext, "STARTTLS")) {
			tls_send_starttls(c);
			return;
		}
		if (c->o.starttls == EHLOD_TLS_MUST) {
			fail(c, EHLOD_CLIENT_TEMPFAIL, EHLOD_REASON_TLS,
			    "STARTTLS", NULL, "the server does not offer STARTTLS");
			conn_finish(c);
			return;
		}
	}
	if (c->o.auth_user != NULL && !c->res.authenticated) {
		login_start(c);
		return;
	}
	c->st = CONN_READY;
	c->pipelining = ehlo_table_has(&c->ext, "PIPELINING") &&
	    !c->o.no_pipelining;
	c->on_ready(c);
}

/* --------------------------------------------------------- the events */

static const char *
step_name(struct ehlod_client *c)
{
	struct cmd *w = cmd_waiting(c);

	if (c->st == CONN_CONNECTING)
		return "connect";
	if (c->st == CONN_TLS)
		return "STARTTLS";
	return w != NULL ? w->name : "session";
}

static void
handle_reply(struct ehlod_client *c, const struct smtp_reply *r)
{
	c->last_was_ehlo = 0;
	if (r->code == 421 && c->st != CONN_QUIT) {
		/* The server is closing: a temporary failure, no QUIT. */
		fail(c, EHLOD_CLIENT_TEMPFAIL, EHLOD_REASON_REPLY,
		    step_name(c), r, NULL);
		c->closing = 1;
		conn_finish(c);
		return;
	}
	if (cmd_waiting(c) == NULL) {
		fail(c, EHLOD_CLIENT_TEMPFAIL, EHLOD_REASON_PROTOCOL,
		    "session", NULL, "reply to no command: %d", r->code);
		c->closing = 1;
		conn_finish(c);
		return;
	}
	cmd_dispatch(c, r);
}

static void
protocol_error(struct ehlod_client *c, const char *why)
{
	fail(c, EHLOD_CLIENT_TEMPFAIL, EHLOD_REASON_PROTOCOL, "reply", NULL,
	    "malformed reply: %s", why);
	c->closing = 1;
	conn_finish(c);
}

void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct ehlod_client *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct smtp_reply r;
	const char *why = NULL;
	char *line;
	size_t len;

	while (c->bev == bev && c->st != CONN_DONE && c->st != CONN_TLS) {
		enum line_status ls = linereader_next(&c->lr, in, &line, &len);

		if (ls == LINE_NEED_MORE)
			return;
		if (ls == LINE_TOO_LONG) {
			protocol_error(c, "line too long");
			return;
		}
		note_prefixed(c, "S: ", "%s", line);
		switch (reply_parser_feed(&c->rp, line, len, &why)) {
		case REPLY_MORE:
			break;
		case REPLY_ERROR:
			protocol_error(c, why);
			return;
		case REPLY_DONE:
			reply_parser_take(&c->rp, &r);
			handle_reply(c, &r);
			reply_free(&r);
			break;
		}
	}
}

/* RFC 1869 4.7: the connection went away right after EHLO: no reply
 * yet, an error reply and then the close before HELO was answered, or
 * any reply and then the close.  A session whose opening was reported
 * to its user is not retried behind the user's back. */
static int
closed_after_ehlo(struct ehlod_client *c)
{
	struct cmd *w = cmd_waiting(c);

	if (c->o.lmtp || c->force_helo || c->failed)
		return 0;
	if (w != NULL && strcmp(w->name, "EHLO") == 0)
		return 1;
	if (c->ehlo_refused && w != NULL && (strcmp(w->name, "HELO") == 0 ||
	    strcmp(w->name, "RSET") == 0))
		return 1;
	return c->last_was_ehlo && (!c->session || c->opening);
}

/* EHLO got an error that is no HELO fall-back code (a 451, say), we sent
 * QUIT, and the server closed before answering it: the close, not the
 * code, is what RFC 1869 4.7 is about. */
static int
closed_after_refused_ehlo(struct ehlod_client *c)
{
	return c->last_was_ehlo && !c->o.lmtp && !c->force_helo &&
	    c->failed && c->res.reason == EHLOD_REASON_REPLY &&
	    c->res.code != 421 && strcmp(c->res.step, "EHLO") == 0;
}

static void
reconnect_with_helo(struct ehlod_client *c)
{
	const char *needs = job_needs(c);

	conn_close(c);
	cmd_clear(c);
	if (needs != NULL) {
		fail(c, EHLOD_CLIENT_PERMFAIL, EHLOD_REASON_NEEDS_EXTENSION,
		    "EHLO", NULL, "server closed the connection after EHLO and"
		    " the job needs %s", needs);
		conn_done(c);
		return;
	}
	note(c, "server closed the connection after EHLO: reconnecting to use HELO");
	c->force_helo = 1;
	c->res.helo_fallback = 1;
	txn_forget(c);
	if (connect_server(c) < 0)
		conn_done(c);
}

static void
on_close(struct ehlod_client *c, short what)
{
	char why[256];
	unsigned long e;

	if (c->st == CONN_QUIT && closed_after_refused_ehlo(c)) {
		fail_forget(c);
		reconnect_with_helo(c);
		return;
	}
	if (c->st == CONN_QUIT) {
		conn_done(c);
		return;
	}
	if (c->st == CONN_READY && cmd_idle(c) && !(what & BEV_EVENT_TIMEOUT))
		note(c, "the server closed the idle session");
	if (c->st == CONN_TLS)
		tls_handshake_failed(c);
	if (what & BEV_EVENT_TIMEOUT)
		snprintf(why, sizeof(why), "timeout waiting for the server");
	else if (what & BEV_EVENT_EOF)
		snprintf(why, sizeof(why), "connection closed by the server");
	else if (c->st == CONN_TLS &&
	    (e = bufferevent_get_openssl_error(c->bev)) != 0)
		tls_error_text(c, e, why, sizeof(why));
	else
		snprintf(why, sizeof(why), "%s", evutil_socket_error_to_string(
		    EVUTIL_SOCKET_ERROR()));
	note(c, "%s", why);
	if (closed_after_ehlo(c)) {
		reconnect_with_helo(c);
		return;
	}
	fail(c, EHLOD_CLIENT_TEMPFAIL, c->st == CONN_TLS ? EHLOD_REASON_TLS :
	    EHLOD_REASON_NETWORK, step_name(c), NULL, "%s", why);
	conn_done(c);
}

/* The output drained below the watermark: a streamed message goes on. */
void
conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct ehlod_client *c = arg;

	if (bev == c->bev)
		client_stream_more(c);
}

void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct ehlod_client *c = arg;
	struct cmd *greeting;

	if (bev != c->bev)
		return;
	if (!(what & BEV_EVENT_CONNECTED)) {
		on_close(c, what);
		return;
	}
	if (c->st == CONN_TLS) {
		tls_established(c);
		return;
	}
	note(c, "connected");
	c->st = CONN_HANDSHAKE;
	/* The greeting is the reply to a command nobody sent. */
	greeting = cmd_push(c, NULL, "greeting", CMD_ALONE, on_greeting);
	greeting->sent = 1;
}

/* -------------------------------------------------------- connecting */

static int
connect_unix(struct ehlod_client *c)
{
	struct sockaddr_un sun;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", c->unix_path);
	return bufferevent_socket_connect(c->bev, (struct sockaddr *)&sun,
	    sizeof(sun));
}

static int
connect_inet(struct ehlod_client *c)
{
	struct sockaddr_storage ss;
	int sslen = sizeof(ss);
	char spec[300];

	snprintf(spec, sizeof(spec), strchr(c->host, ':') ? "[%s]:%d" : "%s:%d",
	    c->host, c->port);
	if (evutil_parse_sockaddr_port(spec, (struct sockaddr *)&ss, &sslen) == 0)
		return bufferevent_socket_connect(c->bev, (struct sockaddr *)&ss, sslen);
	if (c->dns == NULL)
		c->dns = c->o.dns;
	if (c->dns == NULL) {
		c->dns = evdns_base_new(c->base,
		    EVDNS_BASE_INITIALIZE_NAMESERVERS);
		c->own_dns = c->dns != NULL;
	}
	return bufferevent_socket_connect_hostname(c->bev, c->dns, AF_UNSPEC,
	    c->host, c->port);
}

static int
connect_server(struct ehlod_client *c)
{
	c->res.connections++;
	c->ehlo_refused = 0;
	c->last_was_ehlo = 0;
	c->closing = 0;
	c->tls_tried = 0;
	c->res.tls = 0;
	c->pipelining = 0;
	cmd_clear(c);
	reset_session(c);
	reply_parser_free(&c->rp);
	reply_parser_init(&c->rp, 0, 0);
	linereader_free(&c->lr);
	linereader_init(&c->lr, REPLY_LINE_MAX);
	c->bev = bufferevent_socket_new(c->base, -1,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (c->bev == NULL) {
		fail(c, EHLOD_CLIENT_TEMPFAIL, EHLOD_REASON_LOCAL, "connect",
		    NULL, "out of memory");
		return -1;
	}
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb,
	    c);
	client_stream_watch(c->bev);
	conn_set_timeouts(c, c->bev);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	c->st = CONN_CONNECTING;
	if (c->unix_path)
		note(c, "connection %d to unix:%s", c->res.connections, c->unix_path);
	else
		note(c, "connection %d to %s port %d", c->res.connections, c->host, c->port);
	if ((c->unix_path ? connect_unix(c) : connect_inet(c)) < 0) {
		fail(c, EHLOD_CLIENT_TEMPFAIL, EHLOD_REASON_NETWORK, "connect",
		    NULL, "cannot connect: %s", strerror(errno));
		conn_close(c);
		return -1;
	}
	return 0;
}

/* Start the first connection; on_ready runs once it is ready. */
int
conn_start(struct ehlod_client *c, void (*on_ready)(struct ehlod_client *))
{
	c->on_ready = on_ready;
	return connect_server(c);
}
