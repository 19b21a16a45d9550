/*
 * NAME
 *	session.h - one SMTP session: connection, input loop, end
 * DESCRIPTION
 *	The session is an explicit state machine (smtpd.h).  Input is
 *	processed in order and only while no plugin hook is pending, which
 *	is what keeps pipelined commands (RFC 2920) answered in order.
 */
#ifndef EHLOD_CORE_SESSION_H
#define EHLOD_CORE_SESSION_H

#include <event2/bufferevent.h>
#include "smtpd.h"

/* A session for a new connection.  Nothing is returned: the session may
 * already be gone when these return (refused over a limit, a failed TLS
 * start, a connect hook that closed it). */
void session_new(struct bufferevent *bev,
    const struct sockaddr *peer, socklen_t peerlen);
/* The same behind a proxy: client (the PROXY header's source address, or
 * NULL for the peer) becomes the session's client address. */
void session_new_via(struct bufferevent *bev,
    const struct sockaddr *peer, socklen_t peerlen,
    const struct sockaddr *client, socklen_t clientlen);
/* A session with no connection, for ehlod -t (EHLO parameters). */
struct ehlod_session *session_detached(void);
void session_free(struct ehlod_session *s);
void session_process(struct ehlod_session *s);
/* SIGTERM: send 421 to a session that is between transactions. */
void session_shutdown(struct ehlod_session *s);

#endif
