/*
 * NAME
 *	plugin_events.c - plugins' timers and descriptor watches
 * DESCRIPTION
 *	host->timer(), host->watch(), host->watch_persistent() and
 *	host->cancel() for ehlod and ehlod-milter.  Each event is owned by
 *	the session it was set in (or by the instance, for an instance
 *	ctx), so none can fire after its owner ends: plugin_events_end_session() and host_cancel_events()
 *	(at unload) cancel what is left.
 */
#include <stdlib.h>
#include <event2/event.h>

#include "loader.h"
#include "plugin_events.h"
#include "smtpd.h"
#include "xmalloc.h"

struct ehlod_event {
	struct event *ev;
	struct ehlod_ctx *c;
	ehlod_timer_cb timer_cb;
	ehlod_watch_cb watch_cb;
	void *arg;
	struct ehlod_event *next;
};

/* Events set with an instance ctx (no session). */
static struct ehlod_event *instance_events;

static struct ehlod_event **
event_list(struct ehlod_event *e)
{
	return e->c->s ? &e->c->s->events : &instance_events;
}

static void
event_unlink(struct ehlod_event *e)
{
	for (struct ehlod_event **pp = event_list(e); *pp; pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			return;
		}
}

static unsigned
watch_events(short what)
{
	unsigned events = 0;

	if (what & EV_READ)
		events |= EHLOD_WATCH_READ;
	if (what & EV_WRITE)
		events |= EHLOD_WATCH_WRITE;
	if (what & EV_TIMEOUT)
		events |= EHLOD_WATCH_TIMEOUT;
	return events;
}

/* A persistent watch stays as it is; its callback may cancel it, so e
 * is not touched after the call. */
static void
persistent_fire(evutil_socket_t fd, short what, void *arg)
{
	struct ehlod_event *e = arg;
	(void)fd;

	e->watch_cb(e->c, e->arg, watch_events(what));
}

static void
event_fire(evutil_socket_t fd, short what, void *arg)
{
	struct ehlod_event *e = arg;
	unsigned events = watch_events(what);
	(void)fd;

	event_unlink(e);
	event_free(e->ev);
	/* The callback gets the ctx it was set with: it acts for its own
	 * instance whatever else is pending on the session. */
	if (e->timer_cb)
		e->timer_cb(e->c, e->arg);
	else
		e->watch_cb(e->c, e->arg, events);
	free(e);
}

static ehlod_event *
event_make(ehlod_ctx *c, int fd, short what, unsigned msec)
{
	struct ehlod_event *e;
	struct timeval tv = { msec / 1000, (msec % 1000) * 1000 };

	if (server->base == NULL || c == NULL || c->p == NULL)
		return NULL;
	e = xcalloc(1, sizeof(*e));
	e->ev = event_new(server->base, fd, what, (what & EV_PERSIST) ?
	    persistent_fire : event_fire, e);
	if (e->ev == NULL) {
		free(e);
		return NULL;
	}
	e->c = c;
	e->next = *event_list(e);
	*event_list(e) = e;
	event_add(e->ev, msec || fd < 0 ? &tv : NULL);
	return e;
}

ehlod_event *
plugin_events_timer(ehlod_ctx *c, unsigned msec, ehlod_timer_cb cb, void *arg)
{
	struct ehlod_event *e;

	if (cb == NULL || (e = event_make(c, -1, 0, msec)) == NULL)
		return NULL;
	e->timer_cb = cb;
	e->arg = arg;
	return e;
}

/* EHLOD_WATCH_READ/WRITE as libevent's flags. */
static short
watch_what(unsigned events)
{
	short what = 0;

	if (events & EHLOD_WATCH_READ)
		what |= EV_READ;
	if (events & EHLOD_WATCH_WRITE)
		what |= EV_WRITE;
	return what;
}

ehlod_event *
plugin_events_watch(ehlod_ctx *c, int fd, unsigned events, unsigned msec,
    ehlod_watch_cb cb, void *arg)
{
	struct ehlod_event *e;
	short what = watch_what(events);

	if (cb == NULL || fd < 0 || (what == 0 && msec == 0) ||
	    (e = event_make(c, fd, what, msec)) == NULL)
		return NULL;
	e->watch_cb = cb;
	e->arg = arg;
	return e;
}

ehlod_event *
plugin_events_watch_persistent(ehlod_ctx *c, int fd, unsigned events,
    ehlod_watch_cb cb, void *arg)
{
	struct ehlod_event *e;
	short what = watch_what(events);

	if (cb == NULL || fd < 0 || what == 0 ||
	    (e = event_make(c, fd, what | EV_PERSIST, 0)) == NULL)
		return NULL;
	e->watch_cb = cb;
	e->arg = arg;
	return e;
}

void
plugin_events_cancel(ehlod_event *e)
{
	if (e == NULL)
		return;
	event_unlink(e);
	event_free(e->ev);
	free(e);
}

void
plugin_events_end_session(struct ehlod_session *s)
{
	while (s->events)
		plugin_events_cancel(s->events);
}

void
host_cancel_events(struct plugin *p)
{
	struct ehlod_event **pp = &instance_events;

	while (*pp) {
		if ((*pp)->c->p == p)
			plugin_events_cancel(*pp);
		else
			pp = &(*pp)->next;
	}
}

