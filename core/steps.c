/*
 * NAME
 *	steps.c - the step table's rows and the per-step plugin arrays
 * DESCRIPTION
 *	See steps.h.  The callers are generated from each row's call shape,
 *	so the chain runner calls a hook through one indirect call with no
 *	switch on the step.
 */
#include <stdlib.h>
#include <string.h>

#include "steps.h"

#define CALL_NONE(hook) return d->on_##hook(x);
#define CALL_ARG1(hook) return d->on_##hook(x, arg1);
#define CALL_ARG2(hook) return d->on_##hook(x, arg1, arg2);
#define CALL_DATA(hook) return d->on_##hook(x, data, len);
#define CALL_VOID(hook) d->on_##hook(x); return EHLOD_CONTINUE;
#define CALL_NOTE(hook) return EHLOD_CONTINUE;

/* Which shapes give a verdict; NOTE rows have no caller here. */
#define CHAINED_NONE 1
#define CHAINED_ARG1 1
#define CHAINED_ARG2 1
#define CHAINED_DATA 1
#define CHAINED_VOID 0
#define CHAINED_NOTE 0
#define HAS_CALL_NONE 1
#define HAS_CALL_ARG1 1
#define HAS_CALL_ARG2 1
#define HAS_CALL_DATA 1
#define HAS_CALL_VOID 1
#define HAS_CALL_NOTE 0

#define STEP_CALLER_(id, hook, shape, ...) \
static ehlod_verdict \
call_##hook(const struct ehlod_plugin *d, ehlod_ctx *x, const char *arg1, \
    const char *arg2, const unsigned char *data, size_t len) \
{ \
	(void)d; (void)x; (void)arg1; (void)arg2; (void)data; (void)len; \
	CALL_##shape(hook) \
}
STEP_TABLE(STEP_CALLER_)
#undef STEP_CALLER_

#define STEP_ROW_(id, hook, shape, rc, re, rt, tc, te, tt) \
	[STEP_##id] = { #hook, #id, offsetof(struct ehlod_plugin, on_##hook), \
	    HAS_CALL_##shape ? call_##hook : NULL, SHAPE_##shape, \
	    CHAINED_##shape, \
	    { rc, re, rt }, { tc, te, tt } },
const struct step_info step_table[STEP_COUNT_] = {
	STEP_TABLE(STEP_ROW_)
	[STEP_VERB] = { "verb", "VERB", 0, NULL, SHAPE_NONE, 1,
	    { 550, "5.7.1", "Command rejected" },
	    { 451, "4.3.0", "Try again later" } },
};
#undef STEP_ROW_

int
step_has_hook(const struct ehlod_plugin *d, enum step st)
{
	void (*fn)(void);

	if (st >= STEP_VERB)
		return 0;
	memcpy(&fn, (const char *)d + step_table[st].slot, sizeof(fn));
	return fn != NULL;
}

const struct step_reply *
step_default_reply(enum step st, ehlod_verdict v)
{
	return v == EHLOD_TEMPFAIL ? &step_table[st].tempfail :
	    &step_table[st].reject;
}

/* The arrays are sized for every plugin of the set by the caller
 * (chain_table_build), so this only fills the next entry. */
void
chain_table_add(struct chain_table *t, enum step st, struct plugin *p,
    const struct ehlod_plugin *d, size_t ctx_offset)
{
	size_t i = t->n[st]++;

	t->by_step[st][i] = p;
	memcpy(&t->link[st][i].fn, (const char *)d + step_table[st].slot,
	    sizeof(t->link[st][i].fn.none));
	t->link[st][i].ctx_offset = ctx_offset;
}

void
chain_table_free(struct chain_table *t)
{
	for (int st = 0; st < STEP_COUNT_; st++) {
		free(t->by_step[st]);
		free(t->link[st]);
	}
	memset(t, 0, sizeof(*t));
}
