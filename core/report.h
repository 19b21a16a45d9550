/*
 * NAME
 *	report.h - outcome reports: how a transaction or a session ended
 * DESCRIPTION
 *	Every instance's on_report hears them.
 */
#ifndef EHLOD_CORE_REPORT_H
#define EHLOD_CORE_REPORT_H

#include "smtpd.h"

void report_txn(struct ehlod_session *s);
void report_session(struct ehlod_session *s);

#endif
