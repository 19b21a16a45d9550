/*
 * NAME
 *	smtp_state.h - every change of a session's SMTP state, in one place
 * DESCRIPTION
 *	The session model shared by ehlod's SMTP front-end (commands.c,
 *	content.c, session.c) and ehlod-milter (milter/steps.c): what
 *	"greeted", "transaction begun", "recipient accepted" and
 *	"transaction ended" mean, with the hooks and outcome reports each
 *	implies.  The front-ends own their I/O and their replies.
 */
#ifndef EHLOD_CORE_SMTP_STATE_H
#define EHLOD_CORE_SMTP_STATE_H

#include <ehlod/plugin.h>

struct ehlod_session;

/* A new session's plugin state (its id and addresses are the caller's). */
void smtp_state_init(struct ehlod_session *s);
/* The session ends: an open transaction is aborted (rset hooks, its
 * report), then the close hooks and the session's report. */
void smtp_state_end(struct ehlod_session *s);
/* Free what smtp_state_init and the dialogue allocated. */
void smtp_state_fini(struct ehlod_session *s);

/* HELO/EHLO received: an implicit RSET (RFC 5321 4.1.4); ESMTP is judged
 * by the new greeting. */
void smtp_state_helo(struct ehlod_session *s, int esmtp);
/* HELO/EHLO accepted under the name given. */
void smtp_state_greeted(struct ehlod_session *s, const char *name);
/* A TLS handshake finished: the session starts over (RFC 3207 4.2). */
void smtp_state_restart(struct ehlod_session *s);

/* MAIL: a transaction opens for its parameters and hooks; -1 when out
 * of memory. */
int smtp_state_txn_open(struct ehlod_session *s, const char *mail_from);
/* MAIL accepted with verdict v (DISCARD marks the message). */
void smtp_state_mail_accepted(struct ehlod_session *s, ehlod_verdict v);
/* RCPT accepted with verdict v. */
void smtp_state_rcpt_accepted(struct ehlod_session *s, ehlod_verdict v,
    const char *mailbox);
/* RCPT refused: the values set for it go. */
void smtp_state_rcpt_refused(struct ehlod_session *s);
/* The transaction ends (RSET, refusal, new MAIL/HELO); the rset hooks
 * run when call_rset_hook and a begun transaction is abandoned. */
void smtp_state_txn_end(struct ehlod_session *s, int call_rset_hook);
/* The message's end was answered: the transaction is over. */
void smtp_state_txn_done(struct ehlod_session *s);

/* "ESMTPSA" and the like, for Received and log lines (RFC 3848). */
const char *smtp_state_protocol(const struct ehlod_session *s);

#endif
