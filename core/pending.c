/*
 * NAME
 *	pending.c - parking a hook chain on PENDING and resuming it
 * DESCRIPTION
 *	A PENDING answer parks the chain in the session: input processing
 *	stops (later pipelined commands wait their turn) and the command
 *	timeout is suspended, since the client is waiting for us; a timer
 *	bounds the wait instead.  host->resume() only records the verdict
 *	and activates the resume event, so the chain always goes on from
 *	the event loop, never from inside the plugin that called resume.
 *	ehlod-milter (bev NULL) has no socket timeouts to suspend: its
 *	callback threads bound their waits themselves.
 */
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "deadline.h"
#include "log.h"
#include "pending.h"
#include "smtpd.h"

static void
resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ehlod_session *s = arg;
	(void)fd;
	(void)what;

	s->resume_scheduled = 0;
	if (s->pending)
		s->pend_ops->resumed(s, s->resume_verdict);
}

int
pending_open(struct ehlod_session *s, const struct pending_ops *ops)
{
	s->pend_ops = ops;
	s->resume_ev = event_new(server->base, -1, 0, resume_cb, s);
	return s->resume_ev ? 0 : -1;
}

void
pending_close(struct ehlod_session *s)
{
	if (s->resume_ev)
		event_free(s->resume_ev);
	if (s->pending_timer)
		event_free(s->pending_timer);
	s->resume_ev = NULL;
	s->pending_timer = NULL;
}

void
pending_drop(struct ehlod_session *s)
{
	if (s->resume_scheduled)
		event_del(s->resume_ev);
	s->resume_scheduled = 0;
	s->pending = NULL;
}

/* A plugin that never resumes must not hold a session for ever: after
 * command_timeout the front-end ends it (no 250 was given, so nothing
 * is lost). */
static void
expired_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ehlod_session *s = arg;
	(void)fd;
	(void)what;

	log_msg(LOG_ERR, "%s: plugin %s did not answer within %ld seconds; "
	    "closing the session", s->id, s->pending ? s->pending->name : "?",
	    server->conf->command_timeout);
	pending_drop(s);
	s->pend_ops->expired(s);
}

static void
suspend_timeouts(struct ehlod_session *s)
{
	struct timeval deadline = { server->conf->command_timeout, 0 };

	deadline_timeouts_off(s);
	if (s->pending_timer == NULL)
		s->pending_timer = evtimer_new(server->base, expired_cb, s);
	if (s->pending_timer)
		evtimer_add(s->pending_timer, &deadline);
}

static void
restore_timeouts(struct ehlod_session *s)
{
	struct timeval tv = { server->conf->command_timeout, 0 };

	if (s->pending_timer)
		evtimer_del(s->pending_timer);
	if (s->mode == IN_DATA || s->mode == IN_CHUNK)
		tv.tv_sec = server->conf->data_timeout;
	deadline_timeouts(s, tv.tv_sec, tv.tv_sec);
}

void
pending_park(struct ehlod_session *s, struct plugin *p)
{
	s->pending = p;
	/* A plugin reading the client's next line (AUTH) waits for the
	 * client: its timeout stays. */
	if (s->bev && s->mode != IN_PLUGIN_LINE && s->pend_ops &&
	    s->pend_ops->expired)
		suspend_timeouts(s);
}

struct plugin *
pending_take(struct ehlod_session *s)
{
	struct plugin *p = s->pending;

	s->pending = NULL;
	if (s->bev)
		restore_timeouts(s);
	return p;
}

void
pending_resume(struct ehlod_session *s, struct plugin *p, ehlod_verdict v)
{
	if (s == NULL || s->pending == NULL || s->resume_scheduled) {
		log_msg(LOG_WARNING, "%s: resume without a pending hook "
		    "ignored", s ? s->id : "-");
		return;
	}
	if (s->pending != p) {
		log_msg(LOG_WARNING, "%s: plugin %s resumed a hook of plugin "
		    "%s; ignored", s->id, p->name, s->pending->name);
		return;
	}
	s->resume_verdict = v;
	s->resume_scheduled = 1;
	event_active(s->resume_ev, EV_TIMEOUT, 0);
}
