/*
 * NAME
 *	report.c - outcome reports: how a transaction or a session ended
 * DESCRIPTION
 *	Hooks decide; reports tell.  When a transaction ends (delivered,
 *	discarded, refused or deferred at end of data, reset, aborted) and
 *	when a session ends, every instance with on_report hears it, with
 *	the instance that decided and the reply the client got, so that a
 *	quota or rate plugin counts only what was really delivered.  Called
 *	by txn_free and at the session's end in ehlod and ehlod-milter
 *	alike, while the instance's state is still there.
 */
#include <string.h>

#include "report.h"
#include "smtpd.h"

static void
tell(struct ehlod_session *s, struct ehlod_report *r, struct plugin *by)
{
	const struct chain_table *t = &s->plugins->chains;

	r->by = by ? by->name : NULL;
	for (size_t i = 0; i < t->n[STEP_REPORT]; i++) {
		struct plugin *p = t->by_step[STEP_REPORT][i];
		if (!PLUGIN_ACTIVE(s, p))
			continue;
		r->by_me = by == p;
		p->d.on_report(CTX(s, p), r);
	}
}

static void
reply_of(struct ehlod_session *s, struct ehlod_report *r)
{
	r->code = s->last_code;
	r->enhanced = s->last_enhanced[0] ? s->last_enhanced : NULL;
	r->text = s->last_text;
}

void
report_txn(struct ehlod_session *s)
{
	struct transaction *t = &s->txn;
	struct ehlod_report r;

	memset(&r, 0, sizeof(r));
	r.kind = EHLOD_REPORT_TXN;
	r.outcome = t->outcome;
	if (r.outcome == 0)
		r.outcome = s->ending ? EHLOD_TXN_ABORTED : EHLOD_TXN_RESET;
	if (r.outcome != EHLOD_TXN_RESET && r.outcome != EHLOD_TXN_ABORTED)
		reply_of(s, &r);
	r.rcpts = t->nrcpts;
	tell(s, &r, t->outcome_by);
}

void
report_session(struct ehlod_session *s)
{
	struct ehlod_report r;

	memset(&r, 0, sizeof(r));
	r.kind = EHLOD_REPORT_SESSION;
	r.outcome = s->end_reason ? s->end_reason : EHLOD_SESSION_DISCONNECT;
	if (r.outcome != EHLOD_SESSION_DISCONNECT)
		reply_of(s, &r);
	tell(s, &r, NULL);
}
