/*
 * NAME
 *	pending.h - a plugin hook that answered PENDING, and its resume
 * DESCRIPTION
 *	The one home of the pending/resume machinery shared by ehlod and
 *	ehlod-milter: parking a chain, host->resume() scheduling the
 *	verdict, the event that carries it back from the loop, the bound
 *	on a hook that never resumes, and dropping a parked hook.  The
 *	front-end says what happens next through struct pending_ops, so
 *	this file calls neither the chain runner nor the input loop.
 */
#ifndef EHLOD_CORE_PENDING_H
#define EHLOD_CORE_PENDING_H

#include <ehlod/plugin.h>

struct ehlod_session;
struct plugin;

struct pending_ops {
	/* From the loop: the pending plugin resumed with v. */
	void (*resumed)(struct ehlod_session *s, ehlod_verdict v);
	/* command_timeout passed with no resume (the parked hook is
	 * already dropped).  NULL: the front-end bounds waits itself. */
	void (*expired)(struct ehlod_session *s);
};

/* The session's resume event; -1 when it cannot be made. */
int pending_open(struct ehlod_session *s, const struct pending_ops *ops);
void pending_close(struct ehlod_session *s);
/* The chain went pending in plugin p. */
void pending_park(struct ehlod_session *s, struct plugin *p);
/* The chain goes on: returns the plugin that was pending. */
struct plugin *pending_take(struct ehlod_session *s);
/* host->resume() by plugin p; ignored (and logged) unless p is pending. */
void pending_resume(struct ehlod_session *s, struct plugin *p,
    ehlod_verdict v);
/* Forget the parked hook and any scheduled resume. */
void pending_drop(struct ehlod_session *s);

#endif
