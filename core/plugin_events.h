/*
 * NAME
 *	plugin_events.h - plugins' timers and descriptor watches
 * DESCRIPTION
 *	The host functions timer, watch, watch_persistent and cancel
 *	(plugin.h), and the end of a session's events.
 *	host_cancel_events(), for an instance's own, is declared in
 *	loader.h, which calls it at unload.
 */
#ifndef EHLOD_CORE_PLUGIN_EVENTS_H
#define EHLOD_CORE_PLUGIN_EVENTS_H

#include <ehlod/plugin.h>

struct ehlod_session;

ehlod_event *plugin_events_timer(ehlod_ctx *c, unsigned msec,
    ehlod_timer_cb cb, void *arg);
ehlod_event *plugin_events_watch(ehlod_ctx *c, int fd, unsigned events,
    unsigned msec, ehlod_watch_cb cb, void *arg);
ehlod_event *plugin_events_watch_persistent(ehlod_ctx *c, int fd,
    unsigned events, ehlod_watch_cb cb, void *arg);
void plugin_events_cancel(ehlod_event *e);
/* Every timer and watch set in session s goes. */
void plugin_events_end_session(struct ehlod_session *s);

#endif
