/*
 * NAME
 *	milter_steps.c - each milter step on the shared session model
 *	(plugin lock held)
 * DESCRIPTION
 *	The mapping from libmilter's protocol steps to plugin hooks, in one
 *	place.  Each job first brings the core's session and transaction up
 *	to date the way ehlod's command code does (HELO name, a new
 *	transaction at MAIL, accepted recipients, headers into the message's
 *	header list, body into the message buffer), then runs the hook chain
 *	with the core's chain_start(), so ordering, ACCEPT skipping later
 *	plugins, PENDING and resume are ehlod's own.  The chain's end hands
 *	the verdict and the deciding plugin's reply back to the waiting
 *	callback thread.
 *
 *	Differences a plugin may notice, all forced by the milter protocol:
 *	no plugin's keyword is offered (host->offered() is 0), MAIL/RCPT
 *	parameter handlers never run (the MTA owns its parameters), and the
 *	message buffer holds only the body (the headers are in the header
 *	list, as the MTA sent them; the MTA adds its own Received header).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <event2/event.h>

#include "content.h"
#include "chain.h"
#include "log.h"
#include "milter.h"
#include "pending.h"
#include "plugin_events.h"
#include "session_reply.h"
#include "smtp_state.h"
#include "txn.h"
#include "xmalloc.h"

static void
set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = v ? xstrdup(v) : NULL;
}

/* ehlod-milter's side of pending.c: the callback thread bounds the
 * wait (loop_run), so a resume only runs the chain on. */
static const struct pending_ops pending_ops = { chain_resume, NULL };

static int
session_setup(struct mconn *c)
{
	static unsigned long counter;
	struct ehlod_session *s = &c->s;

	if (c->ready)
		return 0;
	snprintf(s->id, sizeof(s->id), "M%04X%06lX",
	    (unsigned)getpid() & 0xffff, ++counter & 0xffffff);
	snprintf(s->client_addr, sizeof(s->client_addr), "unknown");
	snprintf(s->client_port, sizeof(s->client_port), "0");
	smtp_state_init(s);
	s->mode = IN_WAIT;
	c->ops_tail = &c->ops;
	c->ready = 1;
	if (pending_open(s, &pending_ops) == 0)
		return 0;
	log_msg(LOG_ERR, "%s: out of memory", s->id);
	return -1;
}

/* The transaction ends: RSET, a new MAIL or HELO, end of message, the
 * connection's end.  The rset hooks run only for an abandoned one. */
static void
end_txn(struct mconn *c, int rset_hooks)
{
	smtp_state_txn_end(&c->s, rset_hooks);
	hdr_ops_free(c->ops);
	c->ops = NULL;
	c->ops_tail = &c->ops;
}

/* A step of the message without a transaction (its MAIL job was skipped
 * after a timeout): start one, so the hooks find the data they expect. */
static void
txn_ensure(struct mconn *c)
{
	if (c->s.txn.slots == NULL)
		smtp_state_txn_open(&c->s, NULL);
}

static void
apply_session_macros(struct mconn *c, struct job *j)
{
	struct ehlod_session *s = &c->s;
	const char *const *m = j->mac;

	if (m[MAC_HOSTNAME])
		set_str(&c->hostname, m[MAC_HOSTNAME]);
	if (m[MAC_CLIENT_ADDR])
		snprintf(s->client_addr, sizeof(s->client_addr), "%s",
		    m[MAC_CLIENT_ADDR]);
	if (m[MAC_CLIENT_PORT])
		snprintf(s->client_port, sizeof(s->client_port), "%s",
		    m[MAC_CLIENT_PORT]);
	if (m[MAC_CLIENT_NAME])
		set_str(&c->client_name, m[MAC_CLIENT_NAME]);
	if (m[MAC_DAEMON_ADDR])
		snprintf(s->local_addr, sizeof(s->local_addr), "%s",
		    m[MAC_DAEMON_ADDR]);
	if (m[MAC_DAEMON_PORT])
		snprintf(s->local_port, sizeof(s->local_port), "%s",
		    m[MAC_DAEMON_PORT]);
}

/* TLS facts come with HELO and AUTH facts with MAIL (where Postfix and
 * Sendmail send them): absent at that step means absent. */
static void
apply_state_macros(struct mconn *c, struct job *j)
{
	struct ehlod_session *s = &c->s;
	const char *const *m = j->mac;

	if (m[MAC_TLS_VERSION] || j->kind == J_HELO) {
		set_str(&s->items[EHLOD_ITEM_TLS_VERSION], m[MAC_TLS_VERSION]);
		set_str(&s->items[EHLOD_ITEM_TLS_CIPHER], m[MAC_CIPHER]);
		s->flags[EHLOD_FLAG_TLS] = m[MAC_TLS_VERSION] != NULL;
	}
	if (m[MAC_AUTH_AUTHEN] || j->kind == J_MAIL) {
		set_str(&s->items[EHLOD_ITEM_AUTH_USER], m[MAC_AUTH_AUTHEN]);
		set_str(&s->items[EHLOD_ITEM_AUTH_MECH], m[MAC_AUTH_TYPE]);
		s->flags[EHLOD_FLAG_AUTH] = m[MAC_AUTH_AUTHEN] != NULL;
	}
	/* TLS and AUTH need EHLO: the client speaks ESMTP. */
	if (s->flags[EHLOD_FLAG_TLS] || s->flags[EHLOD_FLAG_AUTH])
		s->flags[EHLOD_FLAG_ESMTP] = 1;
	/* The MTA's queue id is the transaction id admins grep for. */
	if (m[MAC_QUEUE_ID] && m[MAC_QUEUE_ID][0] && s->txn.slots)
		snprintf(s->txn.id, sizeof(s->txn.id), "%s", m[MAC_QUEUE_ID]);
}

static const char *
step_name(enum job_kind k)
{
	static const char *const names[] = {
		"CONNECT", "HELO", "MAIL", "RCPT", "DATA", "HEADER", "EOH",
		"BODY", "END-OF-MESSAGE", "UNKNOWN", "ABORT", "CLOSE"
	};
	return names[k];
}

void
step_finish(struct mconn *c, ehlod_verdict v)
{
	struct ehlod_session *s = &c->s;
	struct job *j = c->running;

	c->running = NULL;
	if (j == NULL) {
		pending_reply_clear(&s->reply);
		return;
	}
	j->verdict = v;
	if ((v == EHLOD_REJECT || v == EHLOD_TEMPFAIL) && s->reply.set) {
		j->code = s->reply.code;
		memcpy(j->enhanced, s->reply.enhanced, sizeof(j->enhanced));
		j->text = s->reply.text;
		s->reply.text = NULL;
	}
	pending_reply_clear(&s->reply);
	loop_job_done(j);
}

static void
log_refusal(struct mconn *c, ehlod_verdict v, struct plugin *p)
{
	struct ehlod_session *s = &c->s;
	struct job *j = c->running;
	char what[300];

	if (v != EHLOD_REJECT && v != EHLOD_TEMPFAIL && v != EHLOD_DISCARD)
		return;
	if (j->kind == J_RCPT)
		snprintf(what, sizeof(what), "RCPT to=<%s>", j->arg1);
	else
		snprintf(what, sizeof(what), "%s", step_name(j->kind));
	if (v == EHLOD_DISCARD) {
		log_msg(LOG_INFO, "%s: discard: %s plugin=%s", s->id, what,
		    p ? p->name : "?");
		return;
	}
	/* One log line per event, even for a multi-line reply. */
	char text[1024];
	snprintf(text, sizeof(text), "%s", s->reply.set && s->reply.text ?
	    s->reply.text : "(the MTA's default reply)");
	for (char *q = text; *q; q++)
		if (*q == '\n' || *q == '\r')
			*q = '/';
	session_log_reject(s, step_name(j->kind), j->kind == J_RCPT ? j->arg1 :
	    NULL, s->reply.set ? s->reply.code : 0,
	    s->reply.set ? s->reply.enhanced : NULL, text, p ? p->name : "?");
}

static int
refused(ehlod_verdict v)
{
	return v == EHLOD_REJECT || v == EHLOD_TEMPFAIL;
}

/* For the outcome report: passed on means delivered, as far as the
 * plugins can know; the MTA's own later refusal is not told. */
static void
eom_outcome(struct ehlod_session *s, ehlod_verdict v, struct plugin *p)
{
	static const int codes[] = { 250, 250, 554, 451, 250, 451 };

	s->txn.outcome = v == EHLOD_REJECT ? EHLOD_TXN_REFUSED :
	    v == EHLOD_TEMPFAIL ? EHLOD_TXN_TEMPFAILED :
	    v == EHLOD_DISCARD ? EHLOD_TXN_DISCARDED : EHLOD_TXN_DELIVERED;
	s->txn.outcome_by = p;
	s->last_code = s->reply.set ? s->reply.code : codes[v];
	snprintf(s->last_enhanced, sizeof(s->last_enhanced), "%s",
	    s->reply.set ? s->reply.enhanced : "");
	free(s->last_text);
	s->last_text = s->reply.set && s->reply.text ?
	    xstrdup(s->reply.text) : NULL;
}

/* What a finished chain changes in the model, as ehlod's *_done
 * functions do, before the verdict goes back. */
static void
chain_done(struct ehlod_session *s, ehlod_verdict v, struct plugin *p)
{
	struct mconn *c = (struct mconn *)s;
	struct job *j = c->running;

	log_refusal(c, v, p);
	switch (j->kind) {
	case J_HELO:
		if (!refused(v))
			smtp_state_greeted(s, j->arg1);
		break;
	case J_MAIL:
		if (refused(v))
			end_txn(c, 0);
		else
			smtp_state_mail_accepted(s, v);
		break;
	case J_RCPT:
		if (refused(v))
			smtp_state_rcpt_refused(s);
		else
			smtp_state_rcpt_accepted(s, v, j->arg1);
		break;
	case J_EOM:
		if (!refused(v) && v != EHLOD_DISCARD) {
			j->ops = c->ops;
			c->ops = NULL;
		}
		log_msg(LOG_INFO, "%s: %s: from=<%s>, rcpts=%zu, size=%zu, "
		    "status=%s, plugin=%s", s->id, s->txn.id,
		    s->txn.mail_from ? s->txn.mail_from : "", s->txn.nrcpts,
		    s->txn.msg.total, v == EHLOD_REJECT ? "rejected" :
		    v == EHLOD_TEMPFAIL ? "deferred" : v == EHLOD_DISCARD ?
		    "discarded" : "passed", p ? p->name : "-");
		/* The message is the MTA's now: the transaction is over. */
		eom_outcome(s, v, p);
		step_finish(c, v);
		smtp_state_txn_done(s);
		end_txn(c, 0);
		return;
	default:
		break;
	}
	step_finish(c, v);
}

static void
run_chain(struct mconn *c, enum step step, const char *a1, const char *a2,
    const void *data, size_t len)
{
	chain_start(&c->s, step, a1, a2, data, len, chain_done);
}

static void
begin_content(struct mconn *c)
{
	txn_ensure(c);
	c->s.state = S_DATA;
}

/* Headers go into the core's header list, so header changes by index
 * and host->message_read() see the message as the MTA will deliver it. */
static void
take_header(struct mconn *c, const char *name, const char *value)
{
	struct message *m = &c->s.txn.msg;
	char *clean = xstrdup(value);

	/* The model keeps line ends as bare LF; the MTA sends them so. */
	char *w = clean;
	for (const char *r = value; *r; r++)
		if (*r != '\r')
			*w++ = *r;
	*w = '\0';
	if (message_add_header(m, name, clean) < 0)
		log_msg(LOG_WARNING, "%s: header %s not kept in the model "
		    "(not valid or too long)", c->s.id, name);
	free(clean);
}

static void
start_body(struct mconn *c)
{
	struct message *m = &c->s.txn.msg;

	if (m->body_started)
		return;
	/* The buffer holds only the body: the headers are in the list. */
	m->body_started = 1;
	m->body_offset = 0;
}

static void
start_connect(struct mconn *c, struct job *j)
{
	struct ehlod_session *s = &c->s;

	if (j->addr[0]) {
		snprintf(s->client_addr, sizeof(s->client_addr), "%s",
		    j->addr);
		snprintf(s->client_port, sizeof(s->client_port), "%s",
		    j->port);
	}
	if (j->arg1)
		set_str(&c->client_name, j->arg1);
}

static void
start_close(struct mconn *c, struct job *j)
{
	struct ehlod_session *s = &c->s;

	if (c->ready) {
		log_msg(LOG_INFO, "%s: disconnect from [%s]:%s helo=<%s> "
		    "mail=%u rcpt=%u messages=%u", s->id, s->client_addr,
		    s->client_port, s->helo ? s->helo : "", s->mails, s->rcpts,
		    s->messages);
		smtp_state_end(s);
		end_txn(c, 0);
		smtp_state_fini(s);
	}
	free(c->client_name);
	free(c->hostname);
	free(c);
	loop_job_done(j);
}

/* Model updates that come before the macros (which may override them). */
static void
prepare(struct mconn *c, struct job *j)
{
	struct ehlod_session *s = &c->s;

	switch (j->kind) {
	case J_CONNECT:
		start_connect(c, j);
		break;
	case J_HELO:
		/* ESMTP is judged anew from what follows. */
		smtp_state_helo(s, 0);
		end_txn(c, 0);
		break;
	case J_MAIL:
		end_txn(c, 1);
		smtp_state_txn_open(s, j->arg1);
		s->flags[EHLOD_FLAG_8BITMIME] = j->flag_8bit;
		s->flags[EHLOD_FLAG_SMTPUTF8] = j->flag_utf8;
		/* Parameters need EHLO: the client speaks ESMTP. */
		if (j->has_params)
			s->flags[EHLOD_FLAG_ESMTP] = 1;
		break;
	case J_RCPT:
		txn_ensure(c);
		txn_kv_free(&s->txn.cand_kv);
		break;
	case J_DATA:
	case J_HEADER:
	case J_EOH:
	case J_BODY:
	case J_EOM:
		begin_content(c);
		break;
	default:
		break;
	}
}

static void
run(struct mconn *c, struct job *j)
{
	struct message *m = &c->s.txn.msg;

	switch (j->kind) {
	case J_CONNECT:
		log_msg(LOG_INFO, "%s: connect from %s[%s]:%s", c->s.id,
		    c->client_name ? c->client_name : "unknown",
		    c->s.client_addr, c->s.client_port);
		run_chain(c, STEP_CONNECT, NULL, NULL, NULL, 0);
		break;
	case J_HELO:
		run_chain(c, STEP_HELO, j->arg1, NULL, NULL, 0);
		break;
	case J_MAIL:
		run_chain(c, STEP_MAIL, j->arg1, NULL, NULL, 0);
		break;
	case J_RCPT:
		run_chain(c, STEP_RCPT, j->arg1, NULL, NULL, 0);
		break;
	case J_DATA:
		run_chain(c, STEP_DATA, NULL, NULL, NULL, 0);
		break;
	case J_HEADER:
		take_header(c, j->arg1, j->arg2);
		run_chain(c, STEP_HEADER, j->arg1, j->arg2, NULL, 0);
		break;
	case J_EOH:
		start_body(c);
		run_chain(c, STEP_EOH, NULL, NULL, NULL, 0);
		break;
	case J_BODY:
		start_body(c);
		message_append(m, (const char *)j->data, j->len);
		/* The chunk stays in the job until the chain ends. */
		run_chain(c, STEP_BODY, NULL, NULL, j->data, j->len);
		break;
	case J_EOM:
		start_body(c);
		content_arrived(&c->s.txn);
		run_chain(c, STEP_EOM, NULL, NULL, NULL, 0);
		break;
	case J_UNKNOWN:
		run_chain(c, STEP_UNKNOWN, j->arg1, NULL, NULL, 0);
		break;
	case J_ABORT:
		end_txn(c, 1);
		step_finish(c, EHLOD_CONTINUE);
		break;
	case J_CLOSE:
		break;
	}
}

void
step_drop_parked(struct mconn *c)
{
	struct ehlod_session *s = &c->s;
	struct job *j = c->running;

	if (j == NULL)
		return;
	log_msg(LOG_WARNING, "%s: plugin %s did not finish %s within "
	    "milter_hook_timeout; its pending hook is dropped", s->id,
	    s->pending ? s->pending->name : "?", step_name(j->kind));
	pending_drop(s);
	/* Its timers would resume whatever chain runs next. */
	plugin_events_end_session(s);
	chain_clear(&s->chain);
	c->running = NULL;
	j->verdict = EHLOD_TEMPFAIL;
	pending_reply_clear(&s->reply);
	loop_job_done(j);
}

void
step_start(struct job *j)
{
	struct mconn *c = j->c;

	step_drop_parked(c);
	if (j->kind == J_CLOSE) {
		start_close(c, j);
		return;
	}
	c->running = j;
	if (session_setup(c) < 0) {
		step_finish(c, EHLOD_TEMPFAIL);
		return;
	}
	prepare(c, j);
	apply_session_macros(c, j);
	apply_state_macros(c, j);
	run(c, j);
}
