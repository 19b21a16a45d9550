/*
 * NAME
 *	hooks.c - running a hook over the plugins, with pending and resume
 * DESCRIPTION
 *	A chain asks each plugin that has the step's hook, in config order,
 *	until one answers something other than CONTINUE.  A PENDING answer
 *	parks the chain in the session: input processing stops (later
 *	pipelined commands wait their turn) and the command timeout is
 *	suspended, since the client is waiting for us.  host->resume() marks
 *	the verdict and activates an event, so the chain always goes on from
 *	the event loop, never from inside the plugin that called resume.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "session.h"
#include "stats.h"

void
chain_clear(struct chain *c)
{
	free(c->arg1);
	free(c->arg2);
	memset(c, 0, sizeof(*c));
}

static int
has_hook(const struct ehlod_plugin *d, enum step step)
{
	switch (step) {
	case STEP_CONNECT: return d->on_connect != NULL;
	case STEP_HELO: return d->on_helo != NULL;
	case STEP_MAIL: return d->on_mail != NULL;
	case STEP_RCPT: return d->on_rcpt != NULL;
	case STEP_DATA: return d->on_data != NULL;
	case STEP_HEADER: return d->on_header != NULL;
	case STEP_EOH: return d->on_eoh != NULL;
	case STEP_BODY: return d->on_body != NULL;
	case STEP_EOM: return d->on_eom != NULL;
	case STEP_UNKNOWN: return d->on_unknown != NULL;
	default: return 0;
	}
}

static ehlod_verdict
call_hook(struct ehlod_session *s, struct plugin *p, struct chain *c)
{
	const struct ehlod_plugin *d = &p->d;
	ehlod_ctx *x = CTX(s, p);

	switch (c->step) {
	case STEP_CONNECT: return d->on_connect(x);
	case STEP_HELO: return d->on_helo(x, c->arg1);
	case STEP_MAIL: return d->on_mail(x, c->arg1);
	case STEP_RCPT: return d->on_rcpt(x, c->arg1);
	case STEP_DATA: return d->on_data(x);
	case STEP_HEADER: return d->on_header(x, c->arg1, c->arg2);
	case STEP_EOH: return d->on_eoh(x);
	case STEP_BODY: return d->on_body(x, c->data, c->len);
	case STEP_EOM: return d->on_eom(x);
	case STEP_UNKNOWN: return d->on_unknown(x, c->arg1);
	case STEP_VERB: return c->verb->handler(x, c->arg1);
	default: return EHLOD_CONTINUE;
	}
}

static void
finish(struct ehlod_session *s, ehlod_verdict v, struct plugin *p)
{
	chain_done_fn done = s->chain.done;

	stats_verdict(p ? (int)(p - server->plugins->v) : -1, s->chain.step, v);
	s->chain.active = 0;
	done(s, v, p);
}

/* A plugin that never resumes must not hold a session for ever: after
 * command_timeout the session is closed with 421 (no 250 was given, so
 * nothing is lost). */
static void
pending_expired(evutil_socket_t fd, short what, void *arg)
{
	struct ehlod_session *s = arg;
	(void)fd;
	(void)what;

	log_msg(LOG_ERR, "%s: plugin %s did not answer within %ld seconds; "
	    "closing the session", s->id, s->pending ? s->pending->name : "?",
	    server->conf->command_timeout);
	s->pending = NULL;
	s->resume_scheduled = 0;
	event_del(s->resume_ev);
	session_reply(s, 421, "4.3.0", "%s Error: timeout in a plugin",
	    server->conf->hostname);
	session_process(s);
}

static void
suspend_timeouts(struct ehlod_session *s, int suspend)
{
	if (s->bev == NULL)
		return;
	if (suspend) {
		struct timeval deadline = { server->conf->command_timeout, 0 };
		bufferevent_set_timeouts(s->bev, NULL, NULL);
		if (s->pending_timer == NULL)
			s->pending_timer = evtimer_new(server->base,
			    pending_expired, s);
		if (s->pending_timer)
			evtimer_add(s->pending_timer, &deadline);
		return;
	}
	if (s->pending_timer)
		evtimer_del(s->pending_timer);
	struct timeval tv = { server->conf->command_timeout, 0 };
	if (s->mode == IN_DATA || s->mode == IN_CHUNK)
		tv.tv_sec = server->conf->data_timeout;
	bufferevent_set_timeouts(s->bev, &tv, &tv);
}

static void
chain_run(struct ehlod_session *s)
{
	struct chain *c = &s->chain;
	struct plugin_set *set = server->plugins;

	for (; c->next < set->n; c->next++) {
		struct plugin *p = &set->v[c->next];
		if (c->step != STEP_VERB && (!has_hook(&p->d, c->step) ||
		    !PLUGIN_ACTIVE(s, p)))
			continue;
		pending_reply_clear(&s->reply);
		s->current = p;
		ehlod_verdict v = call_hook(s, p, c);
		s->current = NULL;
		if (v == EHLOD_PENDING) {
			s->pending = p;
			/* A plugin reading the client's next line (AUTH)
			 * waits for the client: its timeout stays. */
			suspend_timeouts(s, s->mode != IN_PLUGIN_LINE);
			return;
		}
		if (v == EHLOD_CONTINUE && c->step != STEP_VERB) {
			pending_reply_clear(&s->reply);
			continue;
		}
		finish(s, v, p);
		return;
	}
	finish(s, EHLOD_CONTINUE, NULL);
}

void
chain_start(struct ehlod_session *s, enum step step, const char *arg1,
    const char *arg2, const void *data, size_t len, chain_done_fn done)
{
	struct chain *c = &s->chain;

	chain_clear(c);
	c->step = step;
	c->arg1 = arg1 ? strdup(arg1) : NULL;
	c->arg2 = arg2 ? strdup(arg2) : NULL;
	/* Body chunks point into the message buffer, which cannot move:
	 * nothing is read while a chain is pending. */
	c->data = (unsigned char *)data;
	c->len = len;
	c->done = done;
	c->active = 1;
	chain_run(s);
}

void
chain_start_verb(struct ehlod_session *s, struct plugin *p,
    const struct ehlod_verb *verb, const char *args, chain_done_fn done)
{
	struct chain *c = &s->chain;

	chain_clear(c);
	c->step = STEP_VERB;
	c->arg1 = strdup(args);
	c->verb = verb;
	c->next = p->index;
	c->done = done;
	c->active = 1;
	chain_run(s);
}

void
chain_resume(struct ehlod_session *s, ehlod_verdict v)
{
	struct plugin *p = s->pending;

	s->pending = NULL;
	suspend_timeouts(s, 0);
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
	struct plugin_set *set = server->plugins;

	for (size_t i = 0; i < set->n; i++) {
		struct plugin *p = &set->v[i];
		void (*fn)(ehlod_ctx *) = which == STEP_RSET_HOOK ?
		    p->d.on_rset : p->d.on_close;
		if (fn == NULL || !PLUGIN_ACTIVE(s, p))
			continue;
		s->current = p;
		fn(CTX(s, p));
		s->current = NULL;
	}
}
