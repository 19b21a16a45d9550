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
void deadline_content_begin(struct ehlod_session *s);
void deadline_content_end(struct ehlod_session *s);

#endif
