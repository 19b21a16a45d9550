/*
 * NAME
 *	deadline.c - time limits on what a client sends, not on each read
 * DESCRIPTION
 *	The bufferevent's read timeout restarts with every read, so on its
 *	own it lets a client drip one octet per interval and hold a session
 *	for ever.  Over it sits one deadline per session:
 *
 *	- a command line (or a plugin's line) must be whole within
 *	  command_timeout of the moment part of it was first seen;
 *	- DATA and BDAT content start with data_timeout and earn one more
 *	  second for every min_data_rate octets that arrive, never more than
 *	  data_timeout ahead of now: a client that keeps up a minimum rate
 *	  can send a large message, one that trickles cannot.
 *
 *	The read timeout is set to the time left, so the expiry is the
 *	bufferevent's own timeout event (session.c logs and answers it).
 *	While a hook is pending the pending machinery (pending.c) owns the
 *	timeouts, and nothing here runs.
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "deadline.h"
#include "smtpd.h"

static long
now_seconds(void)
{
	struct timeval tv;

	event_base_gettimeofday_cached(server->base, &tv);
	return (long)tv.tv_sec;
}

void
deadline_timeouts(struct ehlod_session *s, long rd, long wr)
{
	struct timeval rtv = { rd, rd == 0 ? 1 : 0 };	/* 0: at once */
	struct timeval wtv = { wr, 0 };

	if (s->bev == NULL || (s->timeouts_known && s->timeouts_rd == rd &&
	    s->timeouts_wr == wr))
		return;
	bufferevent_set_timeouts(s->bev, &rtv, &wtv);
	s->timeouts_rd = rd;
	s->timeouts_wr = wr;
	s->timeouts_known = 1;
}

void
deadline_timeouts_off(struct ehlod_session *s)
{
	if (s->bev != NULL)
		bufferevent_set_timeouts(s->bev, NULL, NULL);
	s->timeouts_known = 0;
}

void
deadline_timeouts_forget(struct ehlod_session *s)
{
	s->timeouts_known = 0;
}

static void
arm(struct ehlod_session *s, long now)
{
	deadline_timeouts(s, s->deadline > now ? s->deadline - now : 0,
	    server->conf->command_timeout);
}

/* Back to the plain idle timeout once no line is half-way in. */
static void
disarm(struct ehlod_session *s)
{
	s->deadline_kind = DEADLINE_NONE;
	s->deadline = 0;
	deadline_timeouts(s, server->conf->command_timeout,
	    server->conf->command_timeout);
}

void
deadline_content_begin(struct ehlod_session *s)
{
	long now;

	if (s->bev == NULL)
		return;		/* ehlod-milter: the MTA keeps the time */
	now = now_seconds();
	s->deadline_kind = DEADLINE_CONTENT;
	s->deadline = now + server->conf->data_timeout;
	arm(s, now);
}

void
deadline_content_end(struct ehlod_session *s)
{
	if (s->bev && s->deadline_kind != DEADLINE_NONE)
		disarm(s);
}

static void
content_progress(struct ehlod_session *s, size_t got, long now)
{
	long limit = now + server->conf->data_timeout;
	long earned = (long)(got / (size_t)server->conf->min_data_rate);

	if (s->deadline_kind != DEADLINE_CONTENT) {
		deadline_content_begin(s);
		return;
	}
	s->deadline = s->deadline + earned > limit ? limit :
	    s->deadline + earned;
	arm(s, now);	/* libevent restarts the timeout at every read */
}

static void
line_progress(struct ehlod_session *s, size_t left, long now)
{
	if (left == 0) {
		if (s->deadline_kind != DEADLINE_NONE)
			disarm(s);
		return;
	}
	if (s->deadline_kind != DEADLINE_LINE) {
		s->deadline_kind = DEADLINE_LINE;
		s->deadline = now + server->conf->command_timeout;
	}
	arm(s, now);	/* libevent restarts the timeout at every read */
}

void
deadline_after_input(struct ehlod_session *s, size_t got, size_t left)
{
	if (s->bev == NULL || s->closing || s->tls_switch)
		return;
	if (s->pending && s->mode != IN_PLUGIN_LINE)
		return;
	switch (s->mode) {
	case IN_COMMAND:
	case IN_PLUGIN_LINE:
		line_progress(s, left, now_seconds());
		break;
	case IN_DATA:
	case IN_CHUNK:
		content_progress(s, got, now_seconds());
		break;
	case IN_WAIT:
		break;
	}
}
