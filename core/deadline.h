/*
 * NAME
 *	deadline.h - whole-line and minimum-rate content deadlines
 * DESCRIPTION
 *	Checked after each input pass (session_process).
 */
#ifndef EHLOD_CORE_DEADLINE_H
#define EHLOD_CORE_DEADLINE_H

#include "smtpd.h"

void deadline_after_input(struct ehlod_session *s, size_t got, size_t left);

/* The bufferevent's read and write timeouts, in seconds (read 0: expire
 * at once).  Not set again when they already are these: libevent restarts
 * a timeout at each read or write by itself, and setting one re-adds both
 * events, two of them per command before.  _off: none (a pending hook's
 * own timer keeps the time); _forget: the bufferevent is new, so the next
 * call sets them whatever they were. */
void deadline_timeouts(struct ehlod_session *s, long rd, long wr);
void deadline_timeouts_off(struct ehlod_session *s);
void deadline_timeouts_forget(struct ehlod_session *s);
void deadline_content_begin(struct ehlod_session *s);
void deadline_content_end(struct ehlod_session *s);

#endif
