/*
 * NAME
 *	smtp_state.c - the one owner of a session's state changes
 * DESCRIPTION
 *	Implements smtp_state.h, as Postfix's smtpd_state.c owns init and
 *	reset: ehlod and ehlod-milter call the same functions, so changing
 *	what "recipient accepted" means is one edit here.  Replies and I/O
 *	stay with the front-ends; logging of envelope lines and the hooks
 *	and reports a change implies live here.
 */
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "log.h"
#include "pending.h"
#include "plugin_events.h"
#include "report.h"
#include "smtp_state.h"
#include "smtpd.h"
#include "txn.h"
#include "xmalloc.h"

void
smtp_state_init(struct ehlod_session *s)
{
	/* The set the session started with: a reload may swap
	 * server->plugins, never a session's. */
	s->plugins = server->plugins;
	s->offered = xcalloc(s->plugins->n + 1, 1);
	session_ctx_init(s);
	s->state = S_CONNECTED;
}

void
smtp_state_end(struct ehlod_session *s)
{
	s->ending = 1;
	smtp_state_txn_end(s, 1);
	session_call_void_hook(s, STEP_CLOSE);
	report_session(s);
}

void
smtp_state_fini(struct ehlod_session *s)
{
	plugin_events_end_session(s);
	if (s->txn.slots)
		txn_free(s);
	session_ctx_free(s);
	chain_clear(&s->chain);
	pending_reply_clear(&s->reply);
	pending_close(s);
	for (int i = 0; i < EHLOD_ITEM_COUNT_; i++) {
		free(s->items[i]);
		s->items[i] = NULL;
	}
	free(s->helo);
	s->helo = NULL;
	free(s->offered);
	s->offered = NULL;
}

void
smtp_state_helo(struct ehlod_session *s, int esmtp)
{
	smtp_state_txn_end(s, 1);
	s->flags[EHLOD_FLAG_ESMTP] = esmtp;
}

void
smtp_state_greeted(struct ehlod_session *s, const char *name)
{
	free(s->helo);
	s->helo = name ? xstrdup(name) : NULL;
	s->ehlo_done = 1;
	s->state = S_GREETED;
}

void
smtp_state_restart(struct ehlod_session *s)
{
	smtp_state_txn_end(s, 1);
	free(s->helo);
	s->helo = NULL;
	s->ehlo_done = 0;
	s->state = S_CONNECTED;
	memset(s->offered, 0, s->plugins->n);
}

int
smtp_state_txn_open(struct ehlod_session *s, const char *mail_from)
{
	txn_init(s);
	if (mail_from == NULL)
		return 0;
	s->txn.mail_from = xstrdup(mail_from);
	return 0;
}

void
smtp_state_mail_accepted(struct ehlod_session *s, ehlod_verdict v)
{
	if (v == EHLOD_DISCARD)
		s->txn.data_verdict = EHLOD_DISCARD;
	s->state = S_MAIL;
	s->mails++;
	/* The status= line names the sender of every message received
	 * whole, and the disconnect line counts the rest: one line per
	 * message, not one per command, keeps logging a small part of the
	 * cost of a message (bench/throughput). */
	log_msg(LOG_DEBUG, "%s: %s: from=<%s>", s->id, s->txn.id,
	    s->txn.mail_from);
}

void
smtp_state_rcpt_accepted(struct ehlod_session *s, ehlod_verdict v,
    const char *mailbox)
{
	struct transaction *t = &s->txn;

	if (v == EHLOD_DISCARD)
		t->data_verdict = EHLOD_DISCARD;
	txn_add_rcpt(s, mailbox);
	t->rcpts[t->nrcpts - 1].kv = t->cand_kv;
	t->cand_kv = NULL;
	s->state = S_RCPT;
	s->rcpts++;
	log_msg(LOG_DEBUG, "%s: %s: to=<%s>", s->id, t->id, mailbox);
}

void
smtp_state_rcpt_refused(struct ehlod_session *s)
{
	txn_kv_free(&s->txn.cand_kv);
}

/* A transaction whose MAIL hook is still pending has not begun (the
 * client never heard 250): it gets no rset hooks and is freed with the
 * session. */
void
smtp_state_txn_end(struct ehlod_session *s, int call_rset_hook)
{
	if (s->txn.slots && (s->state >= S_MAIL || s->pending == NULL)) {
		if (call_rset_hook)
			session_call_void_hook(s, STEP_RSET);
		txn_free(s);
	}
	s->state = s->ehlo_done ? S_GREETED : S_CONNECTED;
}

void
smtp_state_txn_done(struct ehlod_session *s)
{
	smtp_state_txn_end(s, 0);
	s->messages++;
}

const char *
smtp_state_protocol(const struct ehlod_session *s)
{
	static const char *const names[2][2][2][2] = {
		/* [esmtp][utf8][tls][auth] */
		{ { { "SMTP", "SMTP" }, { "SMTP", "SMTP" } },
		  { { "SMTP", "SMTP" }, { "SMTP", "SMTP" } } },
		{ { { "ESMTP", "ESMTPA" }, { "ESMTPS", "ESMTPSA" } },
		  { { "UTF8SMTP", "UTF8SMTPA" },
		    { "UTF8SMTPS", "UTF8SMTPSA" } } },
	};
	return names[s->flags[EHLOD_FLAG_ESMTP] != 0]
	    [s->flags[EHLOD_FLAG_SMTPUTF8] != 0]
	    [s->flags[EHLOD_FLAG_TLS] != 0][s->flags[EHLOD_FLAG_AUTH] != 0];
}
