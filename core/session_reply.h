/*
 * NAME
 *	session_reply.h - replies to the client, and their log lines
 * DESCRIPTION
 *	Multi-line replies, enhanced status codes when offered (RFC 2034),
 *	and the reply a plugin set for its verdict.
 */
#ifndef EHLOD_CORE_SESSION_REPLY_H
#define EHLOD_CORE_SESSION_REPLY_H

#include "smtpd.h"

void session_reply(struct ehlod_session *s, int code, const char *enhanced,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void session_reply_text(struct ehlod_session *s, int code, const char *enhanced,
    const char *text);
void session_log_reject(struct ehlod_session *s, const char *verb,
    const char *rcpt, int code, const char *enhanced, const char *text,
    const char *plugin);
/* Send the reply a plugin set for its verdict, or the default. */
void session_reply_verdict(struct ehlod_session *s, ehlod_verdict v,
    struct plugin *decider, int def_code, const char *def_enhanced,
    const char *def_text, const char *what, const char *rcpt);
/* The same with the step table's default reply for the verdict. */
void step_reply_verdict(struct ehlod_session *s, enum step st,
    ehlod_verdict v, struct plugin *decider, const char *what,
    const char *rcpt);
int session_offers_enhanced(const struct ehlod_session *s);
/* Write what is queued now on a plain connection, else (or for what the
 * socket did not take) let libevent write it; nothing inside
 * session_process(), which calls the batch form once at its end (and
 * then frees a closing session whose output is gone). */
void session_reply_flush(struct ehlod_session *s);
void session_reply_flush_batch(struct ehlod_session *s);
/* The output drained: a plain connection's write event goes off again. */
void session_reply_drained(struct ehlod_session *s);
/* Counts one client error; at max_errors the session ends with 421. */
void session_count_error(struct ehlod_session *s);

#endif
