/*
 * NAME
 *	chain.c - running a hook over the plugins
 * DESCRIPTION
 *	A chain asks each plugin that has the step's hook, in config order,
 *	until one answers something other than CONTINUE; it walks the step's
 *	array of the chain table (steps.h), so plugins without the hook are
 *	never looked at.  A PENDING answer parks the chain (pending.c);
 *	chain_resume() goes on from the plugin after the one that was
 *	pending, once its verdict is back.
 */
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "log.h"
#include "pending.h"
#include "smtpd.h"
#include "stats.h"
#include "txn.h"
#include "xmalloc.h"

void
chain_clear(struct chain *c)
{
	free(c->own1);
	free(c->own2);
	memset(c, 0, sizeof(*c));
}

/* The chain table of the session's listener (only its active plugins),
 * else the whole set's. */
static const struct chain_table *
session_chains(const struct ehlod_session *s)
{
	if (s->listener && s->listener->enabled)
		return &s->listener->chains;
	return &s->plugins->chains;
}

/* The caller's strings live only until it returns, which it does while
 * a hook is pending: keep copies from then on.  The common path (no
 * hook pending) copies nothing. */
static void
chain_keep_args(struct chain *c)
{
	if (c->arg1 && c->own1 == NULL) {
		c->own1 = xstrdup(c->arg1);
		c->arg1 = c->own1;
	}
	if (c->arg2 && c->own2 == NULL) {
		c->own2 = xstrdup(c->arg2);
		c->arg2 = c->own2;
	}
}

static void
finish(struct ehlod_session *s, ehlod_verdict v, struct plugin *p)
{
	chain_done_fn done = s->chain.done;

	stats_verdict(p ? (int)(p - s->plugins->v) : -1, s->chain.step, v);
	s->chain.active = 0;
	done(s, v, p);
}

/* A verdict other than CONTINUE from plugin p: park the chain on PENDING,
 * else end it. */
static void
chain_stop(struct ehlod_session *s, struct plugin *p, ehlod_verdict v)
{
	struct chain *c = &s->chain;

	if (v == EHLOD_PENDING)
		chain_keep_args(c);
	if (v != EHLOD_PENDING) {
		finish(s, v, p);
		return;
	}
	pending_park(s, p);
}

/* A plugin's own command: one handler, whose CONTINUE ends it too. */
static void
verb_run(struct ehlod_session *s)
{
	struct chain *c = &s->chain;
	struct plugin *p = c->only;

	pending_reply_clear(&s->reply);
	s->current = p;
	ehlod_verdict v = c->verb->handler(CTX(s, p), c->arg1);
	s->current = NULL;
	chain_stop(s, p, v);
}

/* Walk the links from l to end calling CALL (an expression of l and
 * the plugin's ctx cx), until one answers other than CONTINUE: l is then
 * its link. */
#define CHAIN_WALK(CALL) \
	for (; l < end; l++) { \
		ehlod_ctx *cx = (ehlod_ctx *)(base + l->ctx_offset); \
		r = (CALL); \
		if (r != EHLOD_CONTINUE) \
			break; \
	}

/* The hot path: one direct call of the hook function per plugin that has
 * it on this listener (the table holds the functions and where each
 * plugin's ctx is, one loop per call shape), no allocation, and no store
 * per call: s->walking tells the host API that the plugin running is
 * the one called (nothing else runs during a walk).  A reply a plugin
 * set and then went on (CONTINUE) from is not looked for after each
 * call: the reply records who set it (reply_by), and the plugin that
 * decides keeps only its own. */
static void
chain_run(struct ehlod_session *s)
{
	struct chain *c = &s->chain;

	if (c->step == STEP_VERB) {
		verb_run(s);
		return;
	}
	const struct chain_table *t = session_chains(s);
	const struct chain_link *l = t->link[c->step] + c->next;
	const struct chain_link *end = t->link[c->step] + t->n[c->step];
	char *base = (char *)s->ctx;
	const char *a1 = c->arg1, *a2 = c->arg2;
	const unsigned char *data = c->data;
	size_t len = c->len;
	ehlod_verdict r = EHLOD_CONTINUE;

	pending_reply_clear(&s->reply);
	s->walking = 1;
	switch (step_table[c->step].shape) {
	case SHAPE_ARG1:
		CHAIN_WALK(l->fn.arg1(cx, a1));
		break;
	case SHAPE_ARG2:
		CHAIN_WALK(l->fn.arg2(cx, a1, a2));
		break;
	case SHAPE_DATA:
		CHAIN_WALK(l->fn.data(cx, data, len));
		break;
	default:
		CHAIN_WALK(l->fn.none(cx));
		break;
	}
	s->walking = 0;
	/* Read again, not kept in registers the walk needs. */
	t = session_chains(s);
	struct plugin *const *v = t->by_step[c->step];
	size_t i = (size_t)(l - t->link[c->step]), n = t->n[c->step];
	if (i < n) {
		if (s->reply_by != v[i])
			pending_reply_clear(&s->reply);
		c->next = i;
		chain_stop(s, v[i], r);
		return;
	}
	c->next = n;
	pending_reply_clear(&s->reply);
	finish(s, EHLOD_CONTINUE, NULL);
}

/* What every chain starts with; the caller adds its step's own fields
 * and then runs it. */
static struct chain *
chain_begin(struct ehlod_session *s, enum step step, const char *arg1,
    chain_done_fn done)
{
	struct chain *c = &s->chain;

	chain_clear(c);
	c->step = step;
	c->arg1 = arg1;
	c->done = done;
	c->active = 1;
	return c;
}

void
chain_start(struct ehlod_session *s, enum step step, const char *arg1,
    const char *arg2, const void *data, size_t len, chain_done_fn done)
{
	struct chain *c = chain_begin(s, step, arg1, done);

	c->arg2 = arg2;
	/* Body chunks point into the message buffer, which cannot move:
	 * nothing is read while a chain is pending. */
	c->data = data;
	c->len = len;
	chain_run(s);
}

void
chain_start_verb(struct ehlod_session *s, struct plugin *p,
    const struct ehlod_verb *verb, const char *args, chain_done_fn done)
{
	struct chain *c = chain_begin(s, STEP_VERB, args, done);

	c->verb = verb;
	c->only = p;
	chain_run(s);
}

void
chain_resume(struct ehlod_session *s, ehlod_verdict v)
{
	struct plugin *p = pending_take(s);

	if (v == EHLOD_PENDING) {
		log_msg(LOG_WARNING, "%s: plugin %s resumed with PENDING; "
		    "treated as TEMPFAIL", s->id, p->name);
		v = EHLOD_TEMPFAIL;
	}
	if (v == EHLOD_CONTINUE && s->chain.step != STEP_VERB) {
		pending_reply_clear(&s->reply);
		s->chain.next++;
		chain_run(s);
		return;
	}
	finish(s, v, p);
}

void
session_call_void_hook(struct ehlod_session *s, int which)
{
	const struct chain_table *t = session_chains(s);
	enum step st = which == STEP_RSET ? STEP_RSET : STEP_CLOSE;

	for (size_t i = 0; i < t->n[st]; i++) {
		struct plugin *p = t->by_step[st][i];
		s->current = p;
		step_table[st].call(&p->d, CTX(s, p), NULL, NULL, NULL, 0);
		s->current = NULL;
	}
}
