/*
 * NAME
 *	xforward.c - XFORWARD: the real client, told by a trusted proxy
 * DESCRIPTION
 *	Behind Postfix's smtpd_proxy_filter (or another before-queue proxy)
 *	ehlod's peer is the proxy, so IP policies (dnsbl, rate limits in
 *	plugins) would judge the proxy.  Postfix's XFORWARD extension lets
 *	the proxy say who the client is: the keyword is offered, and the
 *	command accepted, only to peers in xforward_trusted.  Attributes
 *	(RFC-less, Postfix's XFORWARD_README): NAME ADDR PORT PROTO HELO
 *	IDENT SOURCE, values xtext-encoded, "[UNAVAILABLE]" and
 *	"[TEMPUNAVAIL]" meaning not known.  ADDR, PORT and HELO replace the
 *	session's; the others are accepted and logged.  Allowed outside a
 *	mail transaction only, as Postfix sends it.
 *
 *	The attributes are read by proto/xforward_parse.c, all of them
 *	before any is applied, so that a command answered 501 leaves the
 *	session as it was.
 *
 *	HELO is the original client's, passed on: xtext can carry any
 *	octet, and a CR or LF in it would start a new line in the log and
 *	in the Received header.  Each octet a HELO command could not hold
 *	(controls, space, DEL) becomes "?", as Postfix does with the names
 *	it is told, rather than a 501 that would make the proxy defer the
 *	mail for a client's odd greeting.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "netaddr.h"
#include "session_reply.h"
#include "smtpd.h"
#include "xforward.h"
#include "xforward_parse.h"
#include "xmalloc.h"

int
xforward_allowed(const struct ehlod_session *s)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	const char *peer = s->xforward_peer[0] ? s->xforward_peer :
	    s->client_addr;

	if (server->conf->nxforward_trusted == 0)
		return 0;
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, peer, &in4->sin_addr) == 1)
		ss.ss_family = AF_INET;
	else if (inet_pton(AF_INET6, peer, &in6->sin6_addr) == 1)
		ss.ss_family = AF_INET6;
	else
		return 0;
	return proxy_trusted((struct sockaddr *)&ss,
	    server->conf->xforward_trusted, server->conf->nxforward_trusted);
}

/* Only once the whole command was good: a 501 changes nothing. */
static void
apply(struct ehlod_session *s, const struct xforward_attrs *a)
{
	if (a->known[XFORWARD_ADDR]) {
		if (!s->xforward_peer[0])
			memcpy(s->xforward_peer, s->client_addr,
			    sizeof(s->xforward_peer));
		/* An address literal fits: at most 45 octets. */
		snprintf(s->client_addr, sizeof(s->client_addr), "%.63s",
		    a->value[XFORWARD_ADDR]);
		/* relay_networks judge the real client, not the proxy. */
		s->flags[EHLOD_FLAG_RELAY] = s->flags[EHLOD_FLAG_AUTH] ||
		    listener_relays(s->listener, s->client_addr);
	}
	if (a->known[XFORWARD_PORT])
		snprintf(s->client_port, sizeof(s->client_port), "%.7s",
		    a->value[XFORWARD_PORT]);
	if (a->known[XFORWARD_HELO]) {
		free(s->helo);
		s->helo = xstrdup(a->value[XFORWARD_HELO]);
	}
}

void
xforward_command(struct ehlod_session *s, char *arg)
{
	struct xforward_attrs attrs;
	char bad[XFORWARD_BAD_OUT];
	const char *why;

	if (!xforward_allowed(s)) {
		session_reply(s, 550, "5.7.0", "Error: insufficient "
		    "authorization");
		session_count_error(s);
		return;
	}
	if (s->state >= S_MAIL) {
		session_reply(s, 503, "5.5.1", "Error: MAIL transaction in "
		    "progress");
		session_count_error(s);
		return;
	}
	if (arg[strspn(arg, " ")] == '\0') {
		session_reply(s, 501, "5.5.4", "Syntax: XFORWARD attribute=value"
		    "...");
		session_count_error(s);
		return;
	}
	if (xforward_parse(arg, &attrs, bad, sizeof(bad), &why) < 0) {
		session_reply(s, 501, "5.5.4", "Bad XFORWARD attribute %s: %s",
		    bad, why);
		session_count_error(s);
		return;
	}
	apply(s, &attrs);
	log_msg(LOG_INFO, "%s: xforward from [%s]: client=[%s]:%s helo=<%s>",
	    s->id, s->xforward_peer[0] ? s->xforward_peer : s->client_addr,
	    s->client_addr, s->client_port, s->helo ? s->helo : "");
	session_reply(s, 250, "2.0.0", "Ok");
}
