/*
 * NAME
 *	client.c - the RFC 1869 SMTP/LMTP client state machine
 * DESCRIPTION
 *	Implements ehlod/client.h on libevent bufferevents.  One explicit
 *	state (enum cstate) says which reply the client waits for; every
 *	reply the bounded line reader and the reply parser deliver goes to
 *	the handler of that state.
 *
 *	The RFC 1869 rules, and where they live:
 *	  - EHLO first, on every connection and again after STARTTLS; the
 *	    extension table is cleared whenever a session (re)starts, so
 *	    nothing is ever cached (send_hello, tls_done).
 *	  - 500/501/502/504/550/554 to EHLO: HELO, optionally after RSET
 *	    whose reply (503 and the like) is accepted; or QUIT when the job
 *	    needs an extension (on_ehlo, job_needs).
 *	  - 421 anywhere: a temporary failure; the server is closing, so we
 *	    close too (handle_reply).
 *	  - The server closes after EHLO, before or after its reply: a new
 *	    connection with HELO when the job can be done without
 *	    extensions, else a failure that says what was needed (on_close).
 *	  - An extension is only used when offered in this session: every
 *	    parameter and verb is decided from the table (build_mail, ...).
 *
 *	In the transaction the commands are queued (struct cmd).  With
 *	PIPELINING (RFC 2920) MAIL, every RCPT and DATA go out in one write
 *	and the replies are matched to the queue in order; without it the
 *	next command goes out when the previous one is answered.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "ehlod/client.h"
#include "address.h"
#include "ehlo_table.h"
#include "linereader.h"
#include "reply.h"
#include "auth.h"
#include "message.h"
#include "safety.h"

#define TRANSCRIPT_MAX (1024 * 1024)
#define CMD_LINE_MAX 2048	/* MAIL/RCPT with every parameter */
#define QUIT_TIMEOUT_SEC 10

enum cstate {
	CS_IDLE = 0,
	CS_CONNECTING,
	CS_GREETING,
	CS_EHLO,		/* EHLO or LHLO sent */
	CS_RSET,		/* RSET before the HELO fallback */
	CS_HELO,
	CS_STARTTLS,
	CS_TLS,			/* handshake running */
	CS_AUTH,
	CS_TXN,			/* replies matched to the command queue */
	CS_QUIT,
	CS_DONE,
	CS_READY,		/* session API: open, no step waiting */
	CS_STEP			/* session API: one step waiting (step_kind) */
};

enum cmd_kind { K_MAIL, K_RCPT, K_DATA, K_EOM, K_DOT, K_RSET };

struct cmd {
	enum cmd_kind kind;
	size_t idx;		/* recipient index for K_RCPT / LMTP K_EOM */
	char *line;		/* NULL: nothing to send (replies to data) */
};

struct ehlod_client {
	struct event_base *base;
	int own_base;
	struct evdns_base *dns;
	struct event *done_ev;
	ehlod_client_cb cb;
	void *cb_arg;

	/* where and how */
	char *host;		/* NULL for unix sockets */
	char *unix_path;
	int port;
	struct ehlod_client_opts o;
	char *helo_name;

	/* the job */
	const struct ehlod_client_job *job;
	int probe;
	struct client_msg msg;
	int need_8bit, need_utf8;

	/* the connection */
	enum cstate st;
	struct bufferevent *bev;
	SSL_CTX *ssl_ctx;
	struct linereader lr;
	struct reply_parser rp;
	int closing;		/* 421 seen or fatal: no QUIT */
	int ehlo_refused;	/* this connection: EHLO got an error */
	int force_helo;		/* reconnected after a close: HELO only */
	int tls_tried;		/* STARTTLS refused: go on in the clear */
	struct ehlo_table ext;
	char *greeting;
	struct client_auth *auth;

	/* the transaction */
	struct cmd *cmds;
	size_t ncmds, sent, replied, cap;
	int pipelining, bdat, mail_ok;
	int stop;		/* nothing more to send: end the session */
	size_t accepted;
	size_t *acc_idx;	/* accepted recipients, in order (LMTP) */

	/* the outcome */
	struct ehlod_client_result res;
	struct ehlod_client_rcpt *rcpts;
	int failed;		/* res holds a job-level failure */
	int notified;
	struct evbuffer *transcript;
	int transcript_full;
	char *transcript_str;	/* the last copy handed out */

	/* the session API (session.c's part of this file, below) */
	int session;		/* opened with ehlod_client_open */
	int free_when_done;	/* ehlod_client_close: free after QUIT */
	enum cmd_kind step_kind;
	ehlod_client_step_cb step_cb;
	void *step_arg;
	struct event *step_ev;
	struct ehlod_client_reply sr;	/* the reply handed to step_cb */
	struct ehlod_client_rcpt *sr_rcpts;	/* LMTP end of data */
	size_t sr_n;
	char **txn_acc;		/* recipients accepted in this transaction */
	size_t txn_nacc, txn_cap;
};

static void send_hello(struct ehlod_client *c);
static void proceed(struct ehlod_client *c);
static void finish(struct ehlod_client *c);
static void close_conn(struct ehlod_client *c);
static int connect_server(struct ehlod_client *c);
static void read_cb(struct bufferevent *bev, void *arg);
static void event_cb(struct bufferevent *bev, short what, void *arg);
static void session_ready(struct ehlod_client *c);
static void on_step(struct ehlod_client *c, const struct smtp_reply *r);
static void session_over(struct ehlod_client *c);
static void step_cb_fire(evutil_socket_t fd, short what, void *arg);
static void step_send_content(struct ehlod_client *c);
static const char *step_kind_name(struct ehlod_client *c);

/* ---------------------------------------------------------------- notes */

static void
vnote(struct ehlod_client *c, const char *prefix, const char *fmt, va_list ap)
{
	if (c->transcript_full)
		return;
	if (evbuffer_get_length(c->transcript) > TRANSCRIPT_MAX) {
		evbuffer_add_printf(c->transcript, "*: transcript truncated\n");
		c->transcript_full = 1;
		return;
	}
	evbuffer_add_printf(c->transcript, "%s", prefix);
	evbuffer_add_vprintf(c->transcript, fmt, ap);
	evbuffer_add(c->transcript, "\n", 1);
}

static void
note(struct ehlod_client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vnote(c, "*: ", fmt, ap);
	va_end(ap);
}

static void
note_prefixed(struct ehlod_client *c, const char *prefix, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vnote(c, prefix, fmt, ap);
	va_end(ap);
}

/* Send one command line; the transcript shows "shown" instead, so that
 * AUTH secrets never reach it. */
static void
send_cmd(struct ehlod_client *c, const char *line, const char *shown)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	evbuffer_add(out, line, strlen(line));
	evbuffer_add(out, "\r\n", 2);
	note_prefixed(c, "C: ", "%s", shown);
}

static void
send_line(struct ehlod_client *c, const char *fmt, ...)
{
	char line[CMD_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	send_cmd(c, line, line);
}

/* ------------------------------------------------------------- results */

static char *
xstrdup(const char *s)
{
	char *d = strdup(s ? s : "");

	if (d == NULL)
		abort();	/* the transcript and results cannot go on */
	return d;
}

static void
set_str(const char **field, const char *value)
{
	free((char *)*field);
	*field = xstrdup(value);
}

static enum ehlod_client_status
status_of(int code)
{
	return REPLY_CLASS(code) == 4 ? EHLOD_CLIENT_TEMPFAIL :
	    EHLOD_CLIENT_PERMFAIL;
}

/* Text and enhanced code of a reply, the enhanced code only when offered
 * (RFC 2034: otherwise "5.1.1" in the text is just text). */
static void
reply_parts(struct ehlod_client *c, const struct smtp_reply *r,
    char *enh, size_t enhlen, char *text, size_t textlen)
{
	size_t skip = 0;

	enh[0] = '\0';
	if (ehlo_table_has(&c->ext, "ENHANCEDSTATUSCODES"))
		skip = reply_enhanced(r, enh, enhlen);
	reply_text(r, text, textlen);
	if (skip > 0)
		memmove(text, text + skip, strlen(text + skip) + 1);
}

/* The job failed as a whole; the first failure is the one reported. */
static void
fail(struct ehlod_client *c, enum ehlod_client_status status,
    enum ehlod_client_reason reason, const char *step,
    const struct smtp_reply *r, const char *fmt, ...)
{
	char text[1024], enh[REPLY_ENHANCED_MAX];
	va_list ap;

	if (c->failed)
		return;
	c->failed = 1;
	c->res.status = status;
	c->res.reason = reason;
	set_str(&c->res.step, step);
	enh[0] = '\0';
	if (r != NULL) {
		reply_parts(c, r, enh, sizeof(enh), text, sizeof(text));
		c->res.code = r->code;
	} else {
		va_start(ap, fmt);
		vsnprintf(text, sizeof(text), fmt, ap);
		va_end(ap);
	}
	set_str(&c->res.enhanced, enh);
	set_str(&c->res.text, text);
	note(c, "failed at %s: %s", step, text);
}

static void
fail_reply(struct ehlod_client *c, const char *step, const struct smtp_reply *r)
{
	fail(c, status_of(r->code), EHLOD_REASON_REPLY, step, r, NULL);
}

static void
rcpt_set_from(struct ehlod_client *c, struct ehlod_client_rcpt *rc,
    const char *step, const struct smtp_reply *r)
{
	char text[1024], enh[REPLY_ENHANCED_MAX];

	reply_parts(c, r, enh, sizeof(enh), text, sizeof(text));
	rc->code = r->code;
	rc->status = REPLY_CLASS(r->code) == 2 ? EHLOD_CLIENT_OK :
	    status_of(r->code);
	rc->reason = rc->status == EHLOD_CLIENT_OK ? EHLOD_REASON_NONE :
	    EHLOD_REASON_REPLY;
	set_str(&rc->step, step);
	set_str(&rc->enhanced, enh);
	set_str(&rc->text, text);
}

static void
rcpt_set(struct ehlod_client *c, size_t i, const char *step,
    const struct smtp_reply *r)
{
	rcpt_set_from(c, &c->rcpts[i], step, r);
}

/* Recipients without a final answer share the job's failure; then the
 * job's status is derived from the recipients. */
static void
settle_results(struct ehlod_client *c)
{
	int any_temp = 0, any_perm = 0;

	for (size_t i = 0; i < c->res.nrcpts; i++) {
		struct ehlod_client_rcpt *rc = &c->rcpts[i];

		if (rc->step == NULL || (c->failed && rc->status == EHLOD_CLIENT_OK)) {
			rc->status = c->failed ? c->res.status : EHLOD_CLIENT_TEMPFAIL;
			rc->reason = c->failed ? c->res.reason : EHLOD_REASON_PROTOCOL;
			rc->code = c->failed ? c->res.code : 0;
			set_str(&rc->step, c->failed ? c->res.step : "end of data");
			set_str(&rc->enhanced, c->failed ? c->res.enhanced : "");
			set_str(&rc->text, c->failed ? c->res.text : "no final reply");
		}
		any_temp |= rc->status == EHLOD_CLIENT_TEMPFAIL;
		any_perm |= rc->status == EHLOD_CLIENT_PERMFAIL;
	}
	if (c->failed)
		return;
	c->res.status = any_temp ? EHLOD_CLIENT_TEMPFAIL :
	    any_perm ? EHLOD_CLIENT_PERMFAIL : EHLOD_CLIENT_OK;
	if (c->res.status != EHLOD_CLIENT_OK)
		c->res.reason = EHLOD_REASON_REPLY;
}

/* ----------------------------------------------------------- finishing */

static void
done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ehlod_client *c = arg;

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

/* The job is over: results settled, user told from the loop (never from
 * inside our own call stack, so the callback may free the client). */
static void
done(struct ehlod_client *c)
{
	static const struct timeval now = { 0, 0 };

	close_conn(c);
	c->st = CS_DONE;
	settle_results(c);
	note(c, "result: %s", ehlod_client_status_name(c->res.status));
	event_add(c->done_ev, &now);
}

static void
close_conn(struct ehlod_client *c)
{
	if (c->bev != NULL) {
		bufferevent_free(c->bev);
		c->bev = NULL;
	}
}

/* End the session politely: QUIT unless the server is going away. */
static void
finish(struct ehlod_client *c)
{
	struct timeval tv = { QUIT_TIMEOUT_SEC, 0 };

	if (c->bev == NULL || c->closing) {
		done(c);
		return;
	}
	c->st = CS_QUIT;
	send_line(c, "QUIT");
	bufferevent_set_timeouts(c->bev, &tv, &tv);
}

/* ------------------------------------------------------ job judgements */

/* What the job cannot do without, given nothing is offered (HELO); NULL
 * when it can be done without any extension.  RFC 1869 4.5 / 4.7. */
static const char *
job_needs(struct ehlod_client *c)
{
	if (c->o.lmtp)
		return "LMTP has no HELO fallback";
	if (c->o.starttls == EHLOD_TLS_MUST)
		return "STARTTLS (required by the options)";
	if (c->o.auth_user != NULL)
		return "AUTH (credentials were given)";
	if (c->probe)
		return NULL;
	if (c->need_8bit)
		return "8BITMIME (the message has 8-bit octets)";
	if (c->need_utf8)
		return "SMTPUTF8 (an address has UTF-8 characters)";
	return NULL;
}

/* Checks against what this session offers, before MAIL. */
static int
job_fits(struct ehlod_client *c)
{
	long long limit = ehlo_table_size_limit(&c->ext);

	if (c->need_8bit && !ehlo_table_has(&c->ext, "8BITMIME")) {
		fail(c, EHLOD_CLIENT_PERMFAIL, EHLOD_REASON_NEEDS_EXTENSION,
		    "MAIL", NULL, "the message has 8-bit octets but the server"
		    " does not offer 8BITMIME");
		return 0;
	}
	if (c->need_utf8 && !ehlo_table_has(&c->ext, "SMTPUTF8")) {
		fail(c, EHLOD_CLIENT_PERMFAIL, EHLOD_REASON_NEEDS_EXTENSION,
		    "MAIL", NULL, "an address has UTF-8 characters but the"
		    " server does not offer SMTPUTF8");
		return 0;
	}
	if (limit > 0 && (long long)c->msg.crlf_len > limit) {
		fail(c, EHLOD_CLIENT_PERMFAIL, EHLOD_REASON_NEEDS_EXTENSION,
		    "MAIL", NULL, "message size %zu exceeds the server's SIZE"
		    " limit %lld", c->msg.crlf_len, limit);
		return 0;
	}
	return 1;
}

/* ------------------------------------------------------- the commands */

static int
push_cmd(struct ehlod_client *c, enum cmd_kind kind, size_t idx, char *line)
{
	if (c->ncmds >= c->cap) {
		free(line);
		return -1;
	}
	c->cmds[c->ncmds++] = (struct cmd){ kind, idx, line };
	return 0;
}

static void
free_cmds(struct ehlod_client *c)
{
	for (size_t i = 0; i < c->ncmds; i++)
		free(c->cmds[i].line);
	c->ncmds = c->sent = c->replied = 0;
}

/* Append " KEY=xtext(value)" to line. */
static void
add_xtext(char *line, size_t len, const char *key, const char *prefix,
    const char *value)
{
	char x[CMD_LINE_MAX];
	size_t used = strlen(line), kl = strlen(key), pl = strlen(prefix), xl;

	if (client_xtext_encode(value, x, sizeof(x)) < 0)
		return;
	xl = strlen(x);
	if (used + 2 + kl + pl + xl >= len)
		return;		/* too long: leave the optional parameter out */
	line[used++] = ' ';
	memcpy(line + used, key, kl);
	used += kl;
	line[used++] = '=';
	memcpy(line + used, prefix, pl);
	memcpy(line + used + pl, x, xl + 1);
}

static char *
build_mail(struct ehlod_client *c)
{
	const struct ehlod_client_job *j = c->job;
	char line[CMD_LINE_MAX];
	size_t n;

	snprintf(line, sizeof(line), "MAIL FROM:<%s>", j->from ? j->from : "");
	n = strlen(line);
	if (ehlo_table_has(&c->ext, "SIZE"))
		n += snprintf(line + n, sizeof(line) - n, " SIZE=%zu", c->msg.crlf_len);
	if (c->need_8bit && ehlo_table_has(&c->ext, "8BITMIME"))
		n += snprintf(line + n, sizeof(line) - n, " BODY=8BITMIME");
	if (c->need_utf8 && ehlo_table_has(&c->ext, "SMTPUTF8"))
		n += snprintf(line + n, sizeof(line) - n, " SMTPUTF8");
	if (ehlo_table_has(&c->ext, "DSN")) {
		if (j->dsn_ret)
			snprintf(line + n, sizeof(line) - n, " RET=%s", j->dsn_ret);
		if (j->dsn_envid)
			add_xtext(line, sizeof(line), "ENVID", "", j->dsn_envid);
	} else if (j->dsn_ret || j->dsn_envid || j->dsn_notify || j->dsn_orcpt) {
		note(c, "DSN not offered: RET, ENVID, NOTIFY and ORCPT not sent");
	}
	return xstrdup(line);
}

static char *
build_rcpt(struct ehlod_client *c, size_t i)
{
	const struct ehlod_client_job *j = c->job;
	char line[CMD_LINE_MAX];
	size_t n;

	snprintf(line, sizeof(line), "RCPT TO:<%s>", j->rcpts[i]);
	n = strlen(line);
	if (!ehlo_table_has(&c->ext, "DSN"))
		return xstrdup(line);
	if (j->dsn_notify)
		snprintf(line + n, sizeof(line) - n, " NOTIFY=%s", j->dsn_notify);
	if (j->dsn_orcpt)
		add_xtext(line, sizeof(line), "ORCPT", "rfc822;", j->rcpts[i]);
	return xstrdup(line);
}

/* Send what the queue allows: everything up to and including DATA when
 * pipelining, else one command once the previous one is answered. */
static void
pump(struct ehlod_client *c)
{
	while (c->sent < c->ncmds && c->cmds[c->sent].line != NULL) {
		if (!c->pipelining && c->sent > c->replied)
			return;
		send_line(c, "%s", c->cmds[c->sent].line);
		c->sent++;
	}
}

static void
start_transaction(struct ehlod_client *c)
{
	const struct ehlod_client_job *j = c->job;

	if (!job_fits(c)) {
		finish(c);
		return;
	}
	c->pipelining = ehlo_table_has(&c->ext, "PIPELINING") && !c->o.no_pipelining;
	c->bdat = c->o.chunking && ehlo_table_has(&c->ext, "CHUNKING");
	c->mail_ok = 0;
	c->stop = 0;
	c->accepted = 0;
	free_cmds(c);
	push_cmd(c, K_MAIL, 0, build_mail(c));
	for (size_t i = 0; i < j->nrcpts; i++)
		push_cmd(c, K_RCPT, i, build_rcpt(c, i));
	/* BDAT goes out once the recipients are known (send_content). */
	if (!c->bdat)
		push_cmd(c, K_DATA, 0, xstrdup("DATA"));
	c->st = CS_TXN;
	pump(c);
}

/* After DATA's 354 or the last RCPT with BDAT: the content, and one
 * expected reply (SMTP) or one per accepted recipient (LMTP). */
static void
send_content(struct ehlod_client *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	if (c->bdat) {
		send_line(c, "BDAT %zu LAST", c->msg.crlf_len);
		evbuffer_add(out, c->msg.crlf, c->msg.crlf_len);
		note(c, "%zu octets of message sent", c->msg.crlf_len);
	} else {
		evbuffer_add(out, c->msg.stuffed, c->msg.stuffed_len);
		note(c, "%zu octets of message sent (dot-stuffed)", c->msg.stuffed_len);
		send_line(c, ".");
	}
	c->sent = c->ncmds;
	if (!c->o.lmtp) {
		push_cmd(c, K_EOM, 0, NULL);
		return;
	}
	for (size_t k = 0; k < c->accepted; k++)
		push_cmd(c, K_EOM, c->acc_idx[k], NULL);
}

static const char *
eom_step(struct ehlod_client *c)
{
	return c->bdat ? "BDAT" : "end of data";
}

/* The last reply of the queue has been handled: carry on or end. */
static void
txn_next(struct ehlod_client *c)
{
	if (c->stop) {
		finish(c);
		return;
	}
	if (c->replied < c->ncmds) {
		pump(c);
		return;
	}
	/* The queue is empty.  With BDAT, content follows the recipients. */
	if (c->bdat && c->ncmds > 0 && c->cmds[c->ncmds - 1].kind == K_RCPT &&
	    c->mail_ok && c->accepted > 0) {
		send_content(c);
		return;
	}
	finish(c);
}

static void
on_mail(struct ehlod_client *c, const struct smtp_reply *r)
{
	if (REPLY_CLASS(r->code) == 2) {
		c->mail_ok = 1;
		return;
	}
	fail_reply(c, "MAIL", r);
	/* Without pipelining nothing else was sent: stop here.  With it, the
	 * RCPT and DATA replies (503) still have to be read. */
	if (!c->pipelining)
		c->stop = 1;
}

static void
on_rcpt(struct ehlod_client *c, size_t i, const struct smtp_reply *r)
{
	if (!c->mail_ok)
		return;		/* the MAIL failure speaks for them */
	rcpt_set(c, i, "RCPT", r);
	if (REPLY_CLASS(r->code) == 2)
		c->acc_idx[c->accepted++] = i;
	/* Without pipelining, DATA is not sent when nobody was accepted. */
	if (!c->pipelining && i + 1 == c->job->nrcpts && c->accepted == 0)
		c->stop = 1;
}

static void
on_data(struct ehlod_client *c, const struct smtp_reply *r)
{
	if (r->code == 354 && (c->accepted == 0 || !c->mail_ok)) {
		/* RFC 2920 3.1: DATA accepted although every recipient
		 * failed; end it with an empty message. */
		send_line(c, ".");
		push_cmd(c, K_DOT, 0, NULL);
		c->sent = c->ncmds;
		return;
	}
	if (r->code == 354) {
		send_content(c);
		return;
	}
	if (c->accepted == 0 || !c->mail_ok)
		return;		/* the expected 503/554: failures are known */
	fail_reply(c, "DATA", r);
}

static void
on_eom(struct ehlod_client *c, const struct cmd *cmd, const struct smtp_reply *r)
{
	if (c->o.lmtp) {
		rcpt_set(c, cmd->idx, eom_step(c), r);
		return;
	}
	for (size_t k = 0; k < c->accepted; k++)
		rcpt_set(c, c->acc_idx[k], eom_step(c), r);
}

static void
on_txn(struct ehlod_client *c, const struct smtp_reply *r)
{
	struct cmd *cmd;

	if (c->replied >= c->ncmds) {
		fail(c, EHLOD_CLIENT_TEMPFAIL, EHLOD_REASON_PROTOCOL,
		    "transaction", NULL, "reply to no command: %d", r->code);
		c->closing = 1;
		finish(c);
		return;
	}
	cmd = &c->cmds[c->replied++];
	switch (cmd->kind) {
	case K_MAIL:
		on_mail(c, r);
		break;
	case K_RCPT:
		on_rcpt(c, cmd->idx, r);
		break;
	case K_DATA:
		on_data(c, r);
		break;
	case K_EOM:
		on_eom(c, cmd, r);
		break;
	case K_DOT:
	case K_RSET:		/* the job never sends RSET in a transaction */
		break;
	}
	txn_next(c);
}

/* ------------------------------------------------ greeting, EHLO, HELO */

static void
reset_session(struct ehlod_client *c)
{
	ehlo_table_free(&c->ext);
	c->res.esmtp = 0;
	c->res.authenticated = 0;
	client_auth_free(c->auth);
	c->auth = NULL;
}

static void
send_hello(struct ehlod_client *c)
{
	/* Never cache: whatever the last EHLO said is gone now. */
	reset_session(c);
	if (c->o.lmtp) {
		c->st = CS_EHLO;
		send_line(c, "LHLO %s", c->helo_name);
	} else if (c->force_helo) {
		c->st = CS_HELO;
		send_line(c, "HELO %s", c->helo_name);
	} else {
		c->st = CS_EHLO;
		send_line(c, "EHLO %s", c->helo_name);
	}
}

static void
on_greeting(struct ehlod_client *c, const struct smtp_reply *r)
{
	char text[512];

	reply_text(r, text, sizeof(text));
	set_str((const char **)&c->greeting, text);
	if (r->code != 220) {
		fail_reply(c, "greeting", r);
		finish(c);
		return;
	}
	send_hello(c);
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
	c->st = CS_HELO;
	send_line(c, "HELO %s", c->helo_name);
}

static void
on_ehlo(struct ehlod_client *c, const struct smtp_reply *r)
{
	const char *needs;

	if (REPLY_CLASS(r->code) == 2) {
		ehlo_table_parse(&c->ext, r);
		c->res.esmtp = 1;
		proceed(c);
		return;
	}
	if (c->o.lmtp || !helo_fallback_code(r->code)) {
		fail_reply(c, c->o.lmtp ? "LHLO" : "EHLO", r);
		finish(c);
		return;
	}
	if ((needs = job_needs(c)) != NULL) {
		fail(c, EHLOD_CLIENT_PERMFAIL, EHLOD_REASON_NEEDS_EXTENSION,
		    "EHLO", NULL, "server refused EHLO (%d) and the job needs %s",
		    r->code, needs);
		finish(c);
		return;
	}
	c->ehlo_refused = 1;
	c->res.helo_fallback = 1;
	note(c, "EHLO refused: falling back to HELO without extensions");
	if (!c->o.rset_before_helo) {
		send_helo_fallback(c);
		return;
	}
	c->st = CS_RSET;
	send_line(c, "RSET");
}

static void
on_rset(struct ehlod_client *c, const struct smtp_reply *r)
{
	/* RFC 1869 4.7: many servers answer 503 here; that is fine. */
	if (REPLY_CLASS(r->code) != 2)
		note(c, "RSET answered %d: going on with HELO", r->code);
	send_helo_fallback(c);
}

static void
on_helo(struct ehlod_client *c, const struct smtp_reply *r)
{
	if (REPLY_CLASS(r->code) != 2) {
		fail_reply(c, "HELO", r);
		finish(c);
		return;
	}
	ehlo_table_free(&c->ext);
	c->res.esmtp = 0;
	c->res.helo_fallback = 1;
	proceed(c);
}

/* ----------------------------------------------------------- STARTTLS */

static int
is_ip_literal(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static int
make_ssl_ctx(struct ehlod_client *c)
{
	if (c->ssl_ctx)
		return 0;
	if ((c->ssl_ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return -1;
	SSL_CTX_set_min_proto_version(c->ssl_ctx, TLS1_2_VERSION);
	if (c->o.tls_ca_file)
		SSL_CTX_load_verify_locations(c->ssl_ctx, c->o.tls_ca_file, NULL);
	else
		SSL_CTX_set_default_verify_paths(c->ssl_ctx);
	SSL_CTX_set_verify(c->ssl_ctx,
	    c->o.tls_verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
	return 0;
}

static SSL *
make_ssl(struct ehlod_client *c)
{
	const char *name = c->o.tls_server_name ? c->o.tls_server_name : c->host;
	SSL *ssl;

	if (make_ssl_ctx(c) < 0 || (ssl = SSL_new(c->ssl_ctx)) == NULL)
		return NULL;
	if (name == NULL)
		return ssl;
	if (is_ip_literal(name)) {
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name);
		return ssl;
	}
	SSL_set_tlsext_host_name(ssl, name);
	SSL_set1_host(ssl, name);
	return ssl;
}

static void
set_timeouts(struct ehlod_client *c, struct bufferevent *bev)
{
	struct timeval rt = { c->o.timeout_sec, 0 };
	struct timeval wt = { c->o.connect_timeout_sec, 0 };

	bufferevent_set_timeouts(bev, &rt, &wt);
}

static void
start_tls(struct ehlod_client *c)
{
	struct bufferevent *tls;
	SSL *ssl = make_ssl(c);
	struct evbuffer *in = bufferevent_get_input(c->bev);

	if (ssl == NULL) {
		fail(c, EHLOD_CLIENT_TEMPFAIL, EHLOD_REASON_TLS, "STARTTLS",
		    NULL, "cannot set up TLS");
		finish(c);
		return;
	}
	/* RFC 3207 5: nothing the server sent before the handshake counts. */
	evbuffer_drain(in, evbuffer_get_length(in));
	tls = bufferevent_openssl_filter_new(c->base, c->bev, ssl,
	    BUFFEREVENT_SSL_CONNECTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (tls == NULL) {
		SSL_free(ssl);
		fail(c, EHLOD_CLIENT_TEMPFAIL, EHLOD_REASON_TLS, "STARTTLS",
		    NULL, "cannot set up TLS");
		finish(c);
		return;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(tls, 1);
	set_timeouts(c, tls);	/* a filter does not inherit them */
	c->bev = tls;
	bufferevent_setcb(tls, read_cb, NULL, event_cb, c);
	bufferevent_enable(tls, EV_READ | EV_WRITE);
	c->st = CS_TLS;
	note(c, "TLS handshake");
}

static void
tls_done(struct ehlod_client *c)
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);

	c->res.tls = 1;
	note(c, "TLS established: %s %s%s", SSL_get_version(ssl),
	    SSL_get_cipher_name(ssl),
	    c->o.tls_verify ? ", certificate verified" : ", not verified");
	/* RFC 3207 4.2: forget everything and EHLO again. */
	send_hello(c);
}

static void
on_starttls(struct ehlod_client *c, const struct smtp_reply *r)
{
	if (r->code == 220) {
		start_tls(c);
		return;
	}
	if (c->o.starttls == EHLOD_TLS_MUST) {
		/* Like an MTA, defer: TLS may work on the next attempt. */
		fail(c, EHLOD_CLIENT_TEMPFAIL, EHLOD_REASON_TLS, "STARTTLS",
		    r, NULL);
		finish(c);
		return;
	}
	note(c, "STARTTLS refused: going on without TLS");
	c->tls_tried = 1;
	proceed(c);
}

/* --------------------------------------------------------------- AUTH */

static void
auth_failed(struct ehlod_client *c, const char *why)
{
	fail(c, EHLOD_CLIENT_PERMFAIL, EHLOD_REASON_AUTH, "AUTH", NULL, "%s", why);
	finish(c);
}

static void
start_auth(struct ehlod_client *c)
{
	const struct ehlo_entry *e = ehlo_table_find(&c->ext, "AUTH");
	const char *err = NULL, *mech = NULL;
	char *line, shown[128];

	c->auth = client_auth_new(c->host ? c->host : "localhost",
	    c->o.auth_user, c->o.auth_password, e->params, c->o.auth_mechs, &err);
	if (c->auth == NULL) {
		auth_failed(c, err);
		return;
	}
	if ((line = client_auth_start(c->auth, &mech, &err)) == NULL) {
		auth_failed(c, err ? err : "SASL failed");
		return;
	}
	c->st = CS_AUTH;
	snprintf(shown, sizeof(shown), "AUTH %s%s", mech,
	    strchr(line + 5, ' ') ? " ****" : "");
	send_cmd(c, line, shown);
	free(line);
}

static void
on_auth(struct ehlod_client *c, const struct smtp_reply *r)
{
	const char *err = NULL;
	char *line;

	if (r->code == 235) {
		c->res.authenticated = 1;
		proceed(c);
		return;
	}
	if (r->code != 334) {
		fail(c, status_of(r->code), EHLOD_REASON_AUTH, "AUTH", r, NULL);
		finish(c);
		return;
	}
	if ((line = client_auth_step(c->auth, r->lines[0], &err)) == NULL) {
		/* RFC 4954 4: "*" cancels; the server answers 501. */
		note(c, "SASL: %s", err ? err : "failed");
		send_line(c, "*");
		return;
	}
	send_cmd(c, line, "****");
	free(line);
}

/* ------------------------------------------------ after a good (E|L)HLO */

static void
proceed(struct ehlod_client *c)
{
	if (c->o.starttls != EHLOD_TLS_NO && !c->res.tls && !c->tls_tried) {
		if (ehlo_table_has(&c->ext, "STARTTLS")) {
			c->st = CS_STARTTLS;
			send_line(c, "STARTTLS");
			return;
		}
		if (c->o.starttls == EHLOD_TLS_MUST) {
			fail(c, EHLOD_CLIENT_TEMPFAIL, EHLOD_REASON_TLS,
			    "STARTTLS", NULL, "the server does not offer STARTTLS");
			finish(c);
			return;
		}
	}
	if (c->o.auth_user != NULL && !c->res.authenticated) {
		if (!ehlo_table_has(&c->ext, "AUTH")) {
			auth_failed(c, "the server does not offer AUTH");
			return;
		}
		if (!c->res.tls && !c->o.auth_plaintext) {
			auth_failed(c, "AUTH refused without TLS: the "
			    "credentials would cross the network in clear "
			    "(use STARTTLS, or allow plaintext AUTH "
			    "explicitly)");
			return;
		}
		start_auth(c);
		return;
	}
	if (c->session) {
		session_ready(c);
		return;
	}
	if (c->probe) {
		finish(c);
		return;
	}
	start_transaction(c);
}

/* --------------------------------------------------------- the events */

static void
handle_reply(struct ehlod_client *c, const struct smtp_reply *r)
{
	if (r->code == 421 && c->st != CS_QUIT) {
		/* The server is closing: a temporary failure, no QUIT. */
		fail(c, EHLOD_CLIENT_TEMPFAIL, EHLOD_REASON_REPLY,
		    c->st == CS_GREETING ? "greeting" : c->st == CS_EHLO ?
		    (c->o.lmtp ? "LHLO" : "EHLO") : c->st == CS_HELO ? "HELO" :
		    c->st == CS_TXN ? "transaction" : "session", r, NULL);
		c->closing = 1;
		finish(c);
		return;
	}
	switch (c->st) {
	case CS_GREETING:	on_greeting(c, r); break;
	case CS_EHLO:		on_ehlo(c, r); break;
	case CS_RSET:		on_rset(c, r); break;
	case CS_HELO:		on_helo(c, r); break;
	case CS_STARTTLS:	on_starttls(c, r); break;
	case CS_AUTH:		on_auth(c, r); break;
	case CS_TXN:		on_txn(c, r); break;
	case CS_QUIT:		done(c); break;
	case CS_STEP:		on_step(c, r); break;
	default:
		fail(c, EHLOD_CLIENT_TEMPFAIL, EHLOD_REASON_PROTOCOL,
		    "session", r, NULL);
		c->closing = 1;
		finish(c);
	}
}

static void
protocol_error(struct ehlod_client *c, const char *why)
{
	fail(c, EHLOD_CLIENT_TEMPFAIL, EHLOD_REASON_PROTOCOL, "reply", NULL,
	    "malformed reply: %s", why);
	c->closing = 1;
	finish(c);
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	struct ehlod_client *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct smtp_reply r;
	const char *why = NULL;
	char *line;
	size_t len;

	while (c->bev == bev && c->st != CS_DONE && c->st != CS_TLS) {
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

/* RFC 1869 4.5: the connection went away right after EHLO (no reply,
 * or an error reply and then the close). */
static int
closed_after_ehlo(struct ehlod_client *c)
{
	if (c->o.lmtp || c->force_helo)
		return 0;
	return c->st == CS_EHLO ||
	    (c->ehlo_refused && (c->st == CS_HELO || c->st == CS_RSET));
}

static void
reconnect_with_helo(struct ehlod_client *c)
{
	const char *needs = job_needs(c);

	close_conn(c);
	if (needs != NULL) {
		fail(c, EHLOD_CLIENT_PERMFAIL, EHLOD_REASON_NEEDS_EXTENSION,
		    "EHLO", NULL, "server closed the connection after EHLO and"
		    " the job needs %s", needs);
		done(c);
		return;
	}
	note(c, "server closed the connection after EHLO: reconnecting to use HELO");
	c->force_helo = 1;
	c->res.helo_fallback = 1;
	if (connect_server(c) < 0)
		done(c);
}

static const char *
step_name(struct ehlod_client *c)
{
	switch (c->st) {
	case CS_CONNECTING: return "connect";
	case CS_GREETING: return "greeting";
	case CS_EHLO: return c->o.lmtp ? "LHLO" : "EHLO";
	case CS_RSET: return "RSET";
	case CS_HELO: return "HELO";
	case CS_STARTTLS: case CS_TLS: return "STARTTLS";
	case CS_AUTH: return "AUTH";
	case CS_STEP: return step_kind_name(c);
	case CS_TXN: return c->replied < c->ncmds &&
	    c->cmds[c->replied].kind == K_EOM ? eom_step(c) : "transaction";
	default: return "session";
	}
}

/* The handshake failed: say why, the certificate check first. */
static void
tls_error(struct ehlod_client *c, unsigned long e, char *why, size_t len)
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
	long v = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
	char err[200];

	ERR_error_string_n(e, err, sizeof(err));
	if (v != X509_V_OK)
		snprintf(why, len, "TLS handshake failed: certificate: %s (%s)",
		    X509_verify_cert_error_string(v), err);
	else
		snprintf(why, len, "TLS handshake failed: %s", err);
}

static void
on_close(struct ehlod_client *c, short what)
{
	char why[256];
	unsigned long e;

	if (c->st == CS_QUIT) {
		done(c);
		return;
	}
	if (c->st == CS_READY && !(what & BEV_EVENT_TIMEOUT))
		note(c, "the server closed the idle session");
	if (what & BEV_EVENT_TIMEOUT)
		snprintf(why, sizeof(why), "timeout waiting for the server");
	else if (what & BEV_EVENT_EOF)
		snprintf(why, sizeof(why), "connection closed by the server");
	else if (c->st == CS_TLS && (e = bufferevent_get_openssl_error(c->bev)) != 0)
		tls_error(c, e, why, sizeof(why));
	else
		snprintf(why, sizeof(why), "%s", evutil_socket_error_to_string(
		    EVUTIL_SOCKET_ERROR()));
	note(c, "%s", why);
	if (closed_after_ehlo(c) && !c->failed) {
		reconnect_with_helo(c);
		return;
	}
	fail(c, EHLOD_CLIENT_TEMPFAIL, c->st == CS_TLS ? EHLOD_REASON_TLS :
	    EHLOD_REASON_NETWORK, step_name(c), NULL, "%s", why);
	close_conn(c);
	done(c);
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct ehlod_client *c = arg;

	if (bev != c->bev)
		return;
	if (what & BEV_EVENT_CONNECTED) {
		if (c->st == CS_TLS) {
			tls_done(c);
			return;
		}
		note(c, "connected");
		c->st = CS_GREETING;
		return;
	}
	on_close(c, what);
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
		c->dns = evdns_base_new(c->base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
	return bufferevent_socket_connect_hostname(c->bev, c->dns, AF_UNSPEC,
	    c->host, c->port);
}

static int
connect_server(struct ehlod_client *c)
{
	c->res.connections++;
	c->ehlo_refused = 0;
	c->closing = 0;
	c->tls_tried = 0;
	c->res.tls = 0;
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
	bufferevent_setcb(c->bev, read_cb, NULL, event_cb, c);
	set_timeouts(c, c->bev);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	c->st = CS_CONNECTING;
	if (c->unix_path)
		note(c, "connection %d to unix:%s", c->res.connections, c->unix_path);
	else
		note(c, "connection %d to %s port %d", c->res.connections, c->host, c->port);
	if ((c->unix_path ? connect_unix(c) : connect_inet(c)) < 0) {
		fail(c, EHLOD_CLIENT_TEMPFAIL, EHLOD_REASON_NETWORK, "connect",
		    NULL, "cannot connect: %s", strerror(errno));
		close_conn(c);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ the API */

void
ehlod_client_opts_init(struct ehlod_client_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->tls_verify = 1;
	o->timeout_sec = 300;
	o->connect_timeout_sec = 30;
}

/* "host", "host:port", "[v6]:port", "v6", "unix:/path". */
static int
parse_server(struct ehlod_client *c, const char *spec)
{
	const char *colon;
	char *end;
	long port;

	c->port = c->o.lmtp ? 24 : 25;
	if (strncmp(spec, "unix:", 5) == 0) {
		c->unix_path = xstrdup(spec + 5);
		return *c->unix_path && strlen(c->unix_path) <
		    sizeof(((struct sockaddr_un *)0)->sun_path) ? 0 : -1;
	}
	if (spec[0] == '[') {
		const char *rb = strchr(spec, ']');

		if (rb == NULL)
			return -1;
		c->host = strndup(spec + 1, (size_t)(rb - spec - 1));
		colon = rb[1] == ':' ? rb + 1 : NULL;
		if (rb[1] != '\0' && colon == NULL)
			return -1;
	} else if ((colon = strchr(spec, ':')) != NULL && strchr(colon + 1, ':')) {
		c->host = xstrdup(spec);	/* a bare IPv6 address */
		colon = NULL;
	} else {
		c->host = colon ? strndup(spec, (size_t)(colon - spec)) : xstrdup(spec);
	}
	if (c->host == NULL || *c->host == '\0')
		return -1;
	if (colon == NULL)
		return 0;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || port < 1 || port > 65535)
		return -1;
	c->port = (int)port;
	return 0;
}

static char *
default_helo(void)
{
	char name[256];

	if (gethostname(name, sizeof(name)) < 0 || name[0] == '\0')
		return xstrdup("localhost");
	name[sizeof(name) - 1] = '\0';
	return xstrdup(name);
}

static const char *
opt_dup(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void
copy_opts(struct ehlod_client *c, const struct ehlod_client_opts *o)
{
	c->o = *o;
	c->o.helo_name = NULL;
	c->o.tls_ca_file = opt_dup(o->tls_ca_file);
	c->o.tls_server_name = opt_dup(o->tls_server_name);
	c->o.auth_user = opt_dup(o->auth_user);
	c->o.auth_password = opt_dup(o->auth_password);
	c->o.auth_mechs = opt_dup(o->auth_mechs);
	if (c->o.timeout_sec == 0)
		c->o.timeout_sec = 300;
	if (c->o.connect_timeout_sec == 0)
		c->o.connect_timeout_sec = 30;
	c->helo_name = o->helo_name ? xstrdup(o->helo_name) : default_helo();
}

struct ehlod_client *
ehlod_client_new(struct event_base *base, const char *server,
    const struct ehlod_client_opts *opts)
{
	struct ehlod_client *c = calloc(1, sizeof(*c));
	struct ehlod_client_opts defaults;

	if (c == NULL)
		return NULL;
	if (opts == NULL) {
		ehlod_client_opts_init(&defaults);
		opts = &defaults;
	}
	copy_opts(c, opts);
	c->own_base = base == NULL;
	c->base = base ? base : event_base_new();
	c->transcript = evbuffer_new();
	ehlo_table_init(&c->ext);
	reply_parser_init(&c->rp, 0, 0);
	linereader_init(&c->lr, REPLY_LINE_MAX);
	if (c->base == NULL || c->transcript == NULL)
		goto fail;
	c->done_ev = evtimer_new(c->base, done_cb, c);
	c->step_ev = evtimer_new(c->base, step_cb_fire, c);
	if (c->done_ev == NULL || c->step_ev == NULL)
		goto fail;
	if (parse_server(c, server) < 0) {
		ehlod_client_free(c);
		errno = EINVAL;
		return NULL;
	}
	return c;
fail:
	ehlod_client_free(c);
	errno = ENOMEM;
	return NULL;
}

static void
free_results(struct ehlod_client *c)
{
	for (size_t i = 0; c->rcpts && i < c->res.nrcpts; i++) {
		free((char *)c->rcpts[i].address);
		free((char *)c->rcpts[i].step);
		free((char *)c->rcpts[i].enhanced);
		free((char *)c->rcpts[i].text);
	}
	free(c->rcpts);
	free((char *)c->res.step);
	free((char *)c->res.enhanced);
	free((char *)c->res.text);
}

void
ehlod_client_free(struct ehlod_client *c)
{
	if (c == NULL)
		return;
	close_conn(c);
	if (c->done_ev)
		event_free(c->done_ev);
	if (c->step_ev)
		event_free(c->step_ev);
	free((char *)c->sr.step);
	free((char *)c->sr.enhanced);
	free((char *)c->sr.text);
	for (size_t i = 0; i < c->sr_n; i++) {
		free((char *)c->sr_rcpts[i].address);
		free((char *)c->sr_rcpts[i].step);
		free((char *)c->sr_rcpts[i].enhanced);
		free((char *)c->sr_rcpts[i].text);
	}
	free(c->sr_rcpts);
	for (size_t i = 0; i < c->txn_nacc; i++)
		free(c->txn_acc[i]);
	free(c->txn_acc);
	if (c->dns)
		evdns_base_free(c->dns, 0);
	client_auth_free(c->auth);
	if (c->ssl_ctx)
		SSL_CTX_free(c->ssl_ctx);
	free_cmds(c);
	free(c->cmds);
	free(c->acc_idx);
	free_results(c);
	client_msg_free(&c->msg);
	ehlo_table_free(&c->ext);
	reply_parser_free(&c->rp);
	linereader_free(&c->lr);
	if (c->transcript)
		evbuffer_free(c->transcript);
	free(c->transcript_str);
	if (c->own_base && c->base)
		event_base_free(c->base);
	free(c->host);
	free(c->unix_path);
	free(c->greeting);
	free(c->helo_name);
	free((char *)c->o.tls_ca_file);
	free((char *)c->o.tls_server_name);
	free((char *)c->o.auth_user);
	free((char *)c->o.auth_password);
	free((char *)c->o.auth_mechs);
	free(c);
}

static int
addresses_have_utf8(const struct ehlod_client_job *j)
{
	if (j->from && address_has_8bit(j->from))
		return 1;
	for (size_t i = 0; i < j->nrcpts; i++)
		if (address_has_8bit(j->rcpts[i]))
			return 1;
	return 0;
}

static int
setup_job(struct ehlod_client *c, const struct ehlod_client_job *j)
{
	c->res.nrcpts = j->nrcpts;
	c->cap = 2 * j->nrcpts + 4;
	c->rcpts = calloc(j->nrcpts ? j->nrcpts : 1, sizeof(*c->rcpts));
	c->cmds = calloc(c->cap, sizeof(*c->cmds));
	c->acc_idx = calloc(j->nrcpts ? j->nrcpts : 1, sizeof(*c->acc_idx));
	if (!c->rcpts || !c->cmds || !c->acc_idx)
		return -1;
	c->res.rcpts = c->rcpts;
	for (size_t i = 0; i < j->nrcpts; i++)
		c->rcpts[i].address = xstrdup(j->rcpts[i]);
	if (client_msg_prepare(&c->msg, j->data ? j->data : "", j->len) < 0)
		return -1;
	c->need_8bit = j->body == EHLOD_BODY_8BITMIME ||
	    (j->body == EHLOD_BODY_AUTO && c->msg.has_8bit);
	c->need_utf8 = j->smtputf8 > 0 || (j->smtputf8 < 0 && addresses_have_utf8(j));
	return 0;
}

/* Nothing that would change a command line is sent: the job or session
 * ends before connecting, with the reason. */
static int
refuse_unsafe(struct ehlod_client *c, const char *why)
{
	if (why == NULL)
		why = client_refuse_helo(c->helo_name);
	if (why == NULL)
		return 0;
	fail(c, EHLOD_CLIENT_PERMFAIL, EHLOD_REASON_LOCAL, "start", NULL,
	    "%s", why);
	done(c);
	return 1;
}

int
ehlod_client_start(struct ehlod_client *c, const struct ehlod_client_job *job,
    ehlod_client_cb cb, void *arg)
{
	if (c->st != CS_IDLE)
		return -1;
	set_str(&c->res.step, "");
	set_str(&c->res.enhanced, "");
	set_str(&c->res.text, "");
	c->cb = cb;
	c->cb_arg = arg;
	c->job = job;
	c->probe = job == NULL;
	if (job != NULL && setup_job(c, job) < 0) {
		fail(c, EHLOD_CLIENT_TEMPFAIL, EHLOD_REASON_LOCAL, "start",
		    NULL, "out of memory");
		done(c);
		return 0;
	}
	if (job != NULL && job->nrcpts == 0) {
		fail(c, EHLOD_CLIENT_PERMFAIL, EHLOD_REASON_LOCAL, "start",
		    NULL, "no recipients");
		done(c);
		return 0;
	}
	if (refuse_unsafe(c, job ? client_refuse_job(job) : NULL))
		return 0;
	if (connect_server(c) < 0)
		done(c);
	return 0;
}

enum ehlod_client_status
ehlod_client_run(struct ehlod_client *c, const struct ehlod_client_job *job)
{
	if (ehlod_client_start(c, job, NULL, NULL) < 0)
		return EHLOD_CLIENT_PERMFAIL;
	while (!c->notified)
		if (event_base_loop(c->base, EVLOOP_ONCE) < 0)
			break;
	return c->res.status;
}

const struct ehlod_client_result *
ehlod_client_result(const struct ehlod_client *c)
{
	return &c->res;
}

const char *
ehlod_client_transcript(const struct ehlod_client *cc)
{
	struct ehlod_client *c = (struct ehlod_client *)cc;
	size_t n = evbuffer_get_length(c->transcript);
	char *p = malloc(n + 1);

	if (p == NULL)
		return "";
	evbuffer_copyout(c->transcript, p, n);
	p[n] = '\0';
	free(c->transcript_str);
	c->transcript_str = p;
	return p;
}

const char *
ehlod_client_greeting(const struct ehlod_client *c)
{
	return c->greeting ? c->greeting : "";
}

size_t
ehlod_client_ext_count(const struct ehlod_client *c)
{
	return c->ext.n;
}

const char *
ehlod_client_ext_keyword(const struct ehlod_client *c, size_t i)
{
	return i < c->ext.n ? c->ext.e[i].keyword : NULL;
}

const char *
ehlod_client_ext_params(const struct ehlod_client *c, size_t i)
{
	return i < c->ext.n ? c->ext.e[i].params : NULL;
}

const char *
ehlod_client_status_name(enum ehlod_client_status s)
{
	switch (s) {
	case EHLOD_CLIENT_OK: return "delivered";
	case EHLOD_CLIENT_TEMPFAIL: return "deferred";
	case EHLOD_CLIENT_PERMFAIL: return "bounced";
	}
	return "unknown";
}

/* ------------------------------------------------------ the session API */

/*
 * One step at a time: CS_READY when idle, CS_STEP while a command waits
 * for its reply.  The job machinery above does the connecting, EHLO
 * rules, STARTTLS and AUTH (proceed() ends in session_ready instead of
 * a transaction); a session-ending failure goes through fail() and
 * done() like a job's, and session_over() hands it to the waiting step.
 * Replies reach the caller from step_ev, never from inside our own
 * call stack, so the callback may free the client.
 */

/* No reply is awaited while idle: only the write timeout stays. */
static void
idle_timeouts(struct ehlod_client *c)
{
	struct timeval wt = { c->o.connect_timeout_sec, 0 };

	if (c->bev != NULL)
		bufferevent_set_timeouts(c->bev, NULL, &wt);
}

static const char *
step_kind_name(struct ehlod_client *c)
{
	switch (c->step_kind) {
	case K_MAIL: return "MAIL";
	case K_RCPT: return "RCPT";
	case K_DATA: return "DATA";
	case K_EOM: case K_DOT: return eom_step(c);
	case K_RSET: return "RSET";
	}
	return "session";
}

static void
sr_clear(struct ehlod_client *c)
{
	c->sr.status = EHLOD_CLIENT_OK;
	c->sr.reason = EHLOD_REASON_NONE;
	c->sr.code = 0;
	c->sr.nrcpts = 0;
	c->sr.rcpts = NULL;
	set_str(&c->sr.step, "");
	set_str(&c->sr.enhanced, "");
	set_str(&c->sr.text, "");
}

/* Fill the reply from the server's, and hand it over from the loop. */
static void
sr_from_reply(struct ehlod_client *c, const char *step,
    const struct smtp_reply *r)
{
	char text[1024], enh[REPLY_ENHANCED_MAX];

	reply_parts(c, r, enh, sizeof(enh), text, sizeof(text));
	c->sr.code = r->code;
	c->sr.status = REPLY_CLASS(r->code) == 2 ? EHLOD_CLIENT_OK :
	    status_of(r->code);
	c->sr.reason = c->sr.status == EHLOD_CLIENT_OK ? EHLOD_REASON_NONE :
	    EHLOD_REASON_REPLY;
	set_str(&c->sr.step, step);
	set_str(&c->sr.enhanced, enh);
	set_str(&c->sr.text, text);
}

static void
step_deliver(struct ehlod_client *c)
{
	static const struct timeval now = { 0, 0 };

	event_add(c->step_ev, &now);
}

static void
step_cb_fire(evutil_socket_t fd, short what, void *arg)
{
	struct ehlod_client *c = arg;
	ehlod_client_step_cb cb = c->step_cb;

	(void)fd;
	(void)what;
	c->step_cb = NULL;
	if (cb != NULL)
		cb(c, &c->sr, c->step_arg);	/* may free c */
}

/* A step answered by the library itself, nothing sent. */
static int
step_refuse(struct ehlod_client *c, ehlod_client_step_cb cb, void *arg,
    const char *step, enum ehlod_client_reason reason, const char *enh,
    const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	sr_clear(c);
	c->sr.status = EHLOD_CLIENT_PERMFAIL;
	c->sr.reason = reason;
	set_str(&c->sr.step, step);
	set_str(&c->sr.enhanced, enh);
	set_str(&c->sr.text, text);
	note(c, "%s not sent: %s", step, text);
	c->step_cb = cb;
	c->step_arg = arg;
	step_deliver(c);
	return 0;
}

static void
session_ready(struct ehlod_client *c)
{
	int was_open = c->step_kind == K_DOT;	/* see ehlod_client_open */

	c->st = CS_READY;
	idle_timeouts(c);
	if (!was_open)
		return;
	sr_clear(c);
	c->sr.code = 250;
	set_str(&c->sr.step, "open");
	set_str(&c->sr.text, c->res.esmtp ? "session open with extensions" :
	    "session open without extensions (HELO)");
	step_deliver(c);
}

/* The session ended (done()): the waiting step learns why. */
static void
session_over(struct ehlod_client *c)
{
	ehlod_client_step_cb cb = c->step_cb;

	c->st = CS_DONE;
	if (c->free_when_done) {
		ehlod_client_free(c);
		return;
	}
	if (cb == NULL)
		return;
	sr_clear(c);
	c->sr.status = c->failed ? c->res.status : EHLOD_CLIENT_TEMPFAIL;
	c->sr.reason = c->failed ? c->res.reason : EHLOD_REASON_NETWORK;
	c->sr.code = c->failed ? c->res.code : 0;
	set_str(&c->sr.step, c->res.step && *c->res.step ? c->res.step :
	    "session");
	set_str(&c->sr.enhanced, c->res.enhanced);
	set_str(&c->sr.text, c->failed ? c->res.text : "session ended");
	c->step_cb = NULL;
	cb(c, &c->sr, c->step_arg);	/* may free c */
}

static int
step_begin(struct ehlod_client *c, enum cmd_kind kind,
    ehlod_client_step_cb cb, void *arg)
{
	if (c->st != CS_READY || c->step_cb != NULL)
		return -1;
	c->step_kind = kind;
	c->step_cb = cb;
	c->step_arg = arg;
	c->st = CS_STEP;
	set_timeouts(c, c->bev);
	return 0;
}

static void
txn_forget(struct ehlod_client *c)
{
	for (size_t i = 0; i < c->txn_nacc; i++)
		free(c->txn_acc[i]);
	c->txn_nacc = 0;
}

static void
txn_remember(struct ehlod_client *c, const char *rcpt)
{
	if (c->txn_nacc == c->txn_cap) {
		size_t cap = c->txn_cap ? 2 * c->txn_cap : 16;
		char **p = realloc(c->txn_acc, cap * sizeof(*p));

		if (p == NULL)
			abort();	/* like xstrdup: results cannot go on */
		c->txn_acc = p;
		c->txn_cap = cap;
	}
	c->txn_acc[c->txn_nacc++] = xstrdup(rcpt);
}

int
ehlod_client_open(struct ehlod_client *c, const struct ehlod_client_mail *needs,
    ehlod_client_step_cb cb, void *arg)
{
	if (c->st != CS_IDLE)
		return -1;
	c->session = 1;
	c->probe = 0;
	c->job = NULL;
	set_str(&c->res.step, "");
	set_str(&c->res.enhanced, "");
	set_str(&c->res.text, "");
	if (needs != NULL) {
		c->need_8bit = needs->body == EHLOD_BODY_8BITMIME;
		c->need_utf8 = needs->smtputf8 > 0;
	}
	c->step_kind = K_DOT;	/* "opening": session_ready answers */
	c->step_cb = cb;
	c->step_arg = arg;
	if (refuse_unsafe(c, needs ? client_refuse_sender(needs->from) : NULL))
		return 0;
	if (connect_server(c) < 0)
		done(c);
	return 0;
}

/* The checks of job_fits, for one transaction of a session. */
static int
mail_fits(struct ehlod_client *c, const struct ehlod_client_mail *m,
    ehlod_client_step_cb cb, void *arg)
{
	long long limit = ehlo_table_size_limit(&c->ext);

	if (m->body == EHLOD_BODY_8BITMIME && !ehlo_table_has(&c->ext, "8BITMIME"))
		return step_refuse(c, cb, arg, "MAIL",
		    EHLOD_REASON_NEEDS_EXTENSION, "5.6.3", "the message is"
		    " 8-bit (BODY=8BITMIME) but the server does not offer"
		    " 8BITMIME"), 0;
	if (m->smtputf8 > 0 && !ehlo_table_has(&c->ext, "SMTPUTF8"))
		return step_refuse(c, cb, arg, "MAIL",
		    EHLOD_REASON_NEEDS_EXTENSION, "5.6.7", "the transaction"
		    " needs SMTPUTF8 but the server does not offer it"), 0;
	if (limit > 0 && m->size > (unsigned long long)limit)
		return step_refuse(c, cb, arg, "MAIL",
		    EHLOD_REASON_NEEDS_EXTENSION, "5.3.4", "message size %llu"
		    " exceeds the server's SIZE limit %lld", m->size, limit), 0;
	return 1;
}

static char *
build_session_mail(struct ehlod_client *c, const struct ehlod_client_mail *m)
{
	char line[CMD_LINE_MAX];
	size_t n;

	snprintf(line, sizeof(line), "MAIL FROM:<%s>", m->from ? m->from : "");
	n = strlen(line);
	if (m->size > 0 && ehlo_table_has(&c->ext, "SIZE"))
		n += snprintf(line + n, sizeof(line) - n, " SIZE=%llu", m->size);
	if (m->body != EHLOD_BODY_AUTO && ehlo_table_has(&c->ext, "8BITMIME"))
		n += snprintf(line + n, sizeof(line) - n, " BODY=%s",
		    m->body == EHLOD_BODY_8BITMIME ? "8BITMIME" : "7BIT");
	if (m->smtputf8 > 0 && ehlo_table_has(&c->ext, "SMTPUTF8"))
		n += snprintf(line + n, sizeof(line) - n, " SMTPUTF8");
	if (ehlo_table_has(&c->ext, "DSN")) {
		if (m->dsn_ret)
			snprintf(line + n, sizeof(line) - n, " RET=%s", m->dsn_ret);
		if (m->dsn_envid)
			add_xtext(line, sizeof(line), "ENVID", "", m->dsn_envid);
	}
	return xstrdup(line);
}

int
ehlod_client_mail(struct ehlod_client *c, const struct ehlod_client_mail *m,
    ehlod_client_step_cb cb, void *arg)
{
	char *line;

	const char *why;

	if (c->st != CS_READY || c->step_cb != NULL)
		return -1;
	why = client_refuse_sender(m->from);
	if (why == NULL)
		why = client_refuse_dsn(m->dsn_ret, NULL, NULL);
	if (why != NULL)
		return step_refuse(c, cb, arg, "MAIL", EHLOD_REASON_LOCAL,
		    "5.5.4", "%s", why);
	if (!mail_fits(c, m, cb, arg))
		return 0;
	line = build_session_mail(c, m);
	step_begin(c, K_MAIL, cb, arg);
	txn_forget(c);
	send_line(c, "%s", line);
	free(line);
	return 0;
}

int
ehlod_client_rcpt(struct ehlod_client *c, const char *rcpt, const char *notify,
    const char *orcpt, ehlod_client_step_cb cb, void *arg)
{
	char line[CMD_LINE_MAX];
	size_t n;
	const char *why = client_refuse_recipient(rcpt);

	if (why == NULL)
		why = client_refuse_dsn(NULL, notify, orcpt);
	if (why != NULL) {
		if (c->st != CS_READY || c->step_cb != NULL)
			return -1;
		return step_refuse(c, cb, arg, "RCPT", EHLOD_REASON_LOCAL,
		    "5.5.4", "%s", why);
	}
	if (step_begin(c, K_RCPT, cb, arg) < 0)
		return -1;
	snprintf(line, sizeof(line), "RCPT TO:<%s>", rcpt);
	n = strlen(line);
	if (ehlo_table_has(&c->ext, "DSN")) {
		if (notify)
			n += snprintf(line + n, sizeof(line) - n, " NOTIFY=%s", notify);
		if (orcpt && n < sizeof(line))
			snprintf(line + n, sizeof(line) - n, " ORCPT=%s", orcpt);
	}
	/* Remembered now; forgotten again when the server refuses it. */
	txn_remember(c, rcpt);
	send_line(c, "%s", line);
	return 0;
}

int
ehlod_client_data(struct ehlod_client *c, const void *data, size_t len,
    ehlod_client_step_cb cb, void *arg)
{
	long long limit = ehlo_table_size_limit(&c->ext);
	const char *stage;

	if (c->st != CS_READY || c->step_cb != NULL)
		return -1;
	client_msg_free(&c->msg);
	if (client_msg_prepare(&c->msg, data ? data : "", len) < 0)
		return step_refuse(c, cb, arg, "DATA", EHLOD_REASON_LOCAL, "",
		    "out of memory");
	if (c->msg.has_8bit && !ehlo_table_has(&c->ext, "8BITMIME"))
		return step_refuse(c, cb, arg, "DATA",
		    EHLOD_REASON_NEEDS_EXTENSION, "5.6.3", "the message has"
		    " 8-bit octets but the server does not offer 8BITMIME");
	if (limit > 0 && (long long)c->msg.crlf_len > limit)
		return step_refuse(c, cb, arg, "DATA",
		    EHLOD_REASON_NEEDS_EXTENSION, "5.3.4", "message size %zu"
		    " exceeds the server's SIZE limit %lld", c->msg.crlf_len,
		    limit);
	c->bdat = c->o.chunking && ehlo_table_has(&c->ext, "CHUNKING");
	stage = c->bdat ? "BDAT" : "DATA";
	if (c->o.lmtp && c->txn_nacc == 0)
		return step_refuse(c, cb, arg, stage, EHLOD_REASON_LOCAL, "",
		    "no recipient was accepted");
	if (!c->bdat) {
		step_begin(c, K_DATA, cb, arg);
		send_line(c, "DATA");
		return 0;
	}
	step_begin(c, K_EOM, cb, arg);
	step_send_content(c);
	return 0;
}

int
ehlod_client_rset(struct ehlod_client *c, ehlod_client_step_cb cb, void *arg)
{
	if (step_begin(c, K_RSET, cb, arg) < 0)
		return -1;
	txn_forget(c);
	send_line(c, "RSET");
	return 0;
}

int
ehlod_client_ready(const struct ehlod_client *c)
{
	return c->session && c->st == CS_READY && c->step_cb == NULL;
}

void
ehlod_client_close(struct ehlod_client *c)
{
	if (c == NULL)
		return;
	c->step_cb = NULL;
	event_del(c->step_ev);
	if (c->st == CS_READY && c->bev != NULL) {
		c->free_when_done = 1;
		finish(c);	/* QUIT; done() then frees us from the loop */
		return;
	}
	if (c->st == CS_DONE && evtimer_pending(c->done_ev, NULL)) {
		c->free_when_done = 1;	/* done_cb is on its way */
		return;
	}
	ehlod_client_free(c);
}

static void
sr_rcpts_reset(struct ehlod_client *c, size_t n)
{
	for (size_t i = 0; i < c->sr_n; i++) {
		free((char *)c->sr_rcpts[i].address);
		free((char *)c->sr_rcpts[i].step);
		free((char *)c->sr_rcpts[i].enhanced);
		free((char *)c->sr_rcpts[i].text);
	}
	free(c->sr_rcpts);
	c->sr_rcpts = NULL;
	c->sr_n = 0;
	if (n == 0)
		return;
	if ((c->sr_rcpts = calloc(n, sizeof(*c->sr_rcpts))) == NULL)
		abort();
	c->sr_n = n;
	for (size_t i = 0; i < n; i++)
		c->sr_rcpts[i].address = xstrdup(c->txn_acc[i]);
}

/* After 354, or at once with BDAT: the message, then the final reply
 * (SMTP) or one per accepted recipient (LMTP, RFC 2033 4.2). */
static void
step_send_content(struct ehlod_client *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	sr_rcpts_reset(c, c->o.lmtp ? c->txn_nacc : 0);
	c->replied = 0;		/* LMTP: replies received so far */
	if (c->bdat) {
		send_line(c, "BDAT %zu LAST", c->msg.crlf_len);
		evbuffer_add(out, c->msg.crlf, c->msg.crlf_len);
		note(c, "%zu octets of message sent", c->msg.crlf_len);
		return;
	}
	evbuffer_add(out, c->msg.stuffed, c->msg.stuffed_len);
	note(c, "%zu octets of message sent (dot-stuffed)", c->msg.stuffed_len);
	send_line(c, ".");
}

/* The step is answered: idle again, and the caller hears of it. */
static void
step_answered(struct ehlod_client *c)
{
	c->st = CS_READY;
	idle_timeouts(c);
	step_deliver(c);
}

/* LMTP: one more recipient's reply; the summary once all are in. */
static void
on_lmtp_eom(struct ehlod_client *c, const struct smtp_reply *r)
{
	size_t first_bad = c->sr_n;

	if (c->replied < c->sr_n)
		rcpt_set_from(c, &c->sr_rcpts[c->replied], eom_step(c), r);
	if (++c->replied < c->sr_n)
		return;
	for (size_t i = 0; i < c->sr_n && first_bad == c->sr_n; i++)
		if (c->sr_rcpts[i].status != EHLOD_CLIENT_OK)
			first_bad = i;
	{
		const struct ehlod_client_rcpt *rc =
		    &c->sr_rcpts[first_bad < c->sr_n ? first_bad : 0];

		sr_clear(c);
		c->sr.status = rc->status;
		c->sr.reason = rc->reason;
		c->sr.code = rc->code;
		set_str(&c->sr.step, rc->step);
		set_str(&c->sr.enhanced, rc->enhanced);
		set_str(&c->sr.text, rc->text);
	}
	c->sr.nrcpts = c->sr_n;
	c->sr.rcpts = c->sr_rcpts;
	txn_forget(c);
	step_answered(c);
}

static void
on_step(struct ehlod_client *c, const struct smtp_reply *r)
{
	switch (c->step_kind) {
	case K_DATA:
		if (r->code == 354) {
			c->step_kind = K_EOM;
			step_send_content(c);
			return;
		}
		sr_from_reply(c, "DATA", r);
		break;
	case K_EOM:
		if (c->o.lmtp) {
			on_lmtp_eom(c, r);
			return;
		}
		sr_from_reply(c, eom_step(c), r);
		txn_forget(c);
		break;
	case K_MAIL:
		sr_from_reply(c, "MAIL", r);
		break;
	case K_RCPT:
		sr_from_reply(c, "RCPT", r);
		if (REPLY_CLASS(r->code) != 2 && c->txn_nacc > 0)
			free(c->txn_acc[--c->txn_nacc]);
		break;
	case K_RSET:
	case K_DOT:
		sr_from_reply(c, "RSET", r);
		break;
	}
	step_answered(c);
}
