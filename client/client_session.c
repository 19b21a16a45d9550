/*
 * NAME
 *	client_session.c - the client's step-by-step API (ehlod/client.h)
 * DESCRIPTION
 *	ehlod_client_open, _mail, _rcpt, _data, _rset, _ready and _close:
 *	one step at a time over the transaction state machine
 *	(transaction.c), for a caller that answers its own client command by
 *	command with the server's verdict (the relay plugin).  Replies
 *	reach the caller from step_ev, never from inside its own call, so
 *	its callback may free the client.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "safety.h"
#include "private.h"

static void
sr_set(struct ehlod_client *c, const struct ehlod_client_reply *r)
{
	c->sr.status = r->status;
	c->sr.reason = r->reason;
	c->sr.code = r->code;
	c->sr.nrcpts = r->nrcpts;
	c->sr.rcpts = r->rcpts;	/* the transaction's, until the next data */
	set_str(&c->sr.step, r->step);
	set_str(&c->sr.enhanced, r->enhanced);
	set_str(&c->sr.text, r->text);
}

static void
deliver(struct ehlod_client *c)
{
	static const struct timeval now = { 0, 0 };

	event_add(c->step_ev, &now);
}

void
session_fire(evutil_socket_t fd, short what, void *arg)
{
	struct ehlod_client *c = arg;
	ehlod_client_step_cb cb = c->step_cb;

	(void)fd;
	(void)what;
	c->step_cb = NULL;
	if (cb != NULL)
		cb(c, &c->sr, c->step_arg);	/* may free c */
}

/* The transaction's answer to the waiting step. */
static void
step_got(struct ehlod_client *c, const struct ehlod_client_reply *r, void *arg)
{
	(void)arg;
	sr_set(c, r);
	if (c->st == CONN_READY)
		conn_idle_timeouts(c);
	deliver(c);
}

static void
session_ready(struct ehlod_client *c)
{
	struct ehlod_client_reply r;

	conn_idle_timeouts(c);
	if (!c->opening)
		return;
	c->opening = 0;
	memset(&r, 0, sizeof(r));
	r.code = 250;
	r.step = "open";
	r.enhanced = "";
	r.text = c->res.esmtp ? "session open with extensions" :
	    "session open without extensions (HELO)";
	sr_set(c, &r);
	deliver(c);
}

/* The session ended (conn_done): the waiting step learns why. */
void
session_over(struct ehlod_client *c)
{
	ehlod_client_step_cb cb = c->step_cb;

	if (c->free_when_done) {
		ehlod_client_free(c);
		return;
	}
	if (cb == NULL)
		return;
	c->sr.status = c->failed ? c->res.status : EHLOD_CLIENT_TEMPFAIL;
	c->sr.reason = c->failed ? c->res.reason : EHLOD_REASON_NETWORK;
	c->sr.code = c->failed ? c->res.code : 0;
	c->sr.nrcpts = 0;
	c->sr.rcpts = NULL;
	set_str(&c->sr.step, c->res.step && *c->res.step ? c->res.step :
	    "session");
	set_str(&c->sr.enhanced, c->res.enhanced);
	set_str(&c->sr.text, c->failed ? c->res.text : "session ended");
	c->step_cb = NULL;
	cb(c, &c->sr, c->step_arg);	/* may free c */
}

int
ehlod_client_ready(const struct ehlod_client *c)
{
	return c->session && c->st == CONN_READY && c->step_cb == NULL &&
	    cmd_idle(c);
}

static int
step_begin(struct ehlod_client *c, ehlod_client_step_cb cb, void *arg)
{
	if (!ehlod_client_ready(c))
		return -1;
	c->step_cb = cb;
	c->step_arg = arg;
	conn_set_timeouts(c, c->bev);
	return 0;
}

/* A caller's string judged (safety.h); 0 when refused. */
static int
arg_ok(struct ehlod_client *c, const char *step, const char *enh,
    const char *why, const char *value)
{
	char buf[600];

	if (why == NULL)
		return 1;
	if (value != NULL)
		txn_refuse(c, step_got, NULL, step, EHLOD_REASON_LOCAL, enh,
		    "%s: \"%s\"", why, shown(value, buf, sizeof(buf)));
	else
		txn_refuse(c, step_got, NULL, step, EHLOD_REASON_LOCAL, enh,
		    "%s", why);
	return 0;
}

int
ehlod_client_open(struct ehlod_client *c, const struct ehlod_client_mail *needs,
    ehlod_client_step_cb cb, void *arg)
{
	const char *why, *value = c->helo_name;
	struct ehlod_client_mail own;
	char buf[600];

	if (c->st != CONN_IDLE)
		return -1;
	c->session = 1;
	c->opening = 1;
	set_str(&c->res.step, "");
	set_str(&c->res.enhanced, "");
	set_str(&c->res.text, "");
	c->step_cb = cb;
	c->step_arg = arg;
	if (needs != NULL && client_copy_sized(&own, sizeof(own), needs,
	    MAIL_SIZE_1_0) < 0) {
		fail(c, EHLOD_CLIENT_PERMFAIL, EHLOD_REASON_LOCAL, "open", NULL,
		    "not sent: the size of needs is not set "
		    "(EHLOD_CLIENT_MAIL_INIT)");
		conn_done(c);
		return 0;
	}
	if (needs != NULL) {
		needs = &own;
		c->need_8bit = needs->body == EHLOD_BODY_8BITMIME;
		c->need_binary = needs->body == EHLOD_BODY_BINARYMIME;
		c->need_utf8 = needs->smtputf8 > 0;
	}
	why = client_refuse_helo(c->helo_name);
	if (why == NULL && needs != NULL) {
		why = client_refuse_sender(needs->from);
		value = needs->from;
	}
	if (why != NULL) {
		fail(c, EHLOD_CLIENT_PERMFAIL, EHLOD_REASON_LOCAL, "open", NULL,
		    "not sent: %s: \"%s\"", why, shown(value, buf, sizeof(buf)));
		conn_done(c);
		return 0;
	}
	if (conn_start(c, session_ready) < 0)
		conn_done(c);
	return 0;
}

int
ehlod_client_mail(struct ehlod_client *c, const struct ehlod_client_mail *mail,
    ehlod_client_step_cb cb, void *arg)
{
	struct ehlod_client_mail own, *m = &own;
	const char *from;

	if (step_begin(c, cb, arg) < 0)
		return -1;
	if (client_copy_sized(&own, sizeof(own), mail, MAIL_SIZE_1_0) < 0) {
		txn_refuse(c, step_got, NULL, "MAIL", EHLOD_REASON_LOCAL,
		    "5.5.4", "not sent: the size of the mail structure is not "
		    "set (EHLOD_CLIENT_MAIL_INIT)");
		return 0;
	}
	from = m->from ? m->from : "";
	if (arg_ok(c, "MAIL", "5.1.7", client_refuse_sender(from), from) &&
	    arg_ok(c, "MAIL", "5.5.4", client_refuse_dsn(m->dsn_ret, NULL,
	    NULL), NULL))
		txn_mail(c, m, step_got, NULL);
	return 0;
}

int
ehlod_client_rcpt(struct ehlod_client *c, const char *rcpt, const char *notify,
    const char *orcpt, ehlod_client_step_cb cb, void *arg)
{
	if (step_begin(c, cb, arg) < 0)
		return -1;
	if (arg_ok(c, "RCPT", "5.1.3", client_refuse_recipient(rcpt), rcpt) &&
	    arg_ok(c, "RCPT", "5.5.4", client_refuse_dsn(NULL, notify, orcpt),
	    NULL))
		txn_rcpt(c, rcpt, notify, orcpt, step_got, NULL);
	return 0;
}

int
ehlod_client_data_begin(struct ehlod_client *c, size_t size_hint)
{
	if (!ehlod_client_ready(c))
		return -1;
	txn_data_begin(c, size_hint);
	c->data_open = 1;
	return 0;
}

int
ehlod_client_data_add(struct ehlod_client *c, const void *data, size_t len)
{
	if (!c->data_open)
		return -1;
	return txn_data_add(c, data, len);
}

void
ehlod_client_data_cancel(struct ehlod_client *c)
{
	if (!c->data_open)
		return;
	c->data_open = 0;
	txn_data_cancel(c);
}

int
ehlod_client_data_end(struct ehlod_client *c, ehlod_client_step_cb cb,
    void *arg)
{
	if (!c->data_open || step_begin(c, cb, arg) < 0)
		return -1;
	c->data_open = 0;
	/* txn.bdat was decided at begin. */
	if (c->o.lmtp && c->txn.nacc == 0)
		txn_refuse(c, step_got, NULL, c->txn.bdat ? "BDAT" : "DATA",
		    EHLOD_REASON_LOCAL, "", "no recipient was accepted");
	else
		txn_data_end(c, step_got, NULL);
	return 0;
}

int
ehlod_client_data_stream(struct ehlod_client *c, ehlod_client_read_cb read,
    void *read_arg, ehlod_client_step_cb cb, void *arg)
{
	if (c->data_open || read == NULL || step_begin(c, cb, arg) < 0)
		return -1;
	if (c->o.lmtp && c->txn.nacc == 0)
		txn_refuse(c, step_got, NULL, "DATA", EHLOD_REASON_LOCAL, "",
		    "no recipient was accepted");
	else
		txn_data_stream(c, read, read_arg, step_got, NULL);
	return 0;
}

int
ehlod_client_data(struct ehlod_client *c, const void *data, size_t len,
    ehlod_client_step_cb cb, void *arg)
{
	if (ehlod_client_data_begin(c, len) < 0)
		return -1;
	/* Out of memory here is answered by end, as a failed step. */
	ehlod_client_data_add(c, data ? data : "", len);
	return ehlod_client_data_end(c, cb, arg);
}

int
ehlod_client_rset(struct ehlod_client *c, ehlod_client_step_cb cb, void *arg)
{
	if (step_begin(c, cb, arg) < 0)
		return -1;
	txn_rset(c, step_got, NULL);
	return 0;
}

void
ehlod_client_close(struct ehlod_client *c)
{
	if (c == NULL)
		return;
	c->step_cb = NULL;
	event_del(c->step_ev);
	if (c->st == CONN_READY && c->bev != NULL && cmd_idle(c)) {
		c->free_when_done = 1;
		conn_finish(c);	/* QUIT; conn_done then frees us from the loop */
		return;
	}
	if (c->st == CONN_DONE && evtimer_pending(c->done_ev, NULL)) {
		c->free_when_done = 1;	/* done_cb is on its way */
		return;
	}
	ehlod_client_free(c);
}
