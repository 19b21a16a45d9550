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
 *	HELO is the original client's, passed on: xtext can carry any
 *	octet, and a CR or LF in it would start a new line in the log and
 *	in the Received header.  Each octet a HELO command could not hold
 *	(address_helo_valid: controls, space, DEL) becomes "?", as Postfix
 *	does with the names it is told, rather than a 501 that would make
 *	the proxy defer the mail for a client's odd greeting.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "esmtp.h"
#include "log.h"
#include "netaddr.h"
#include "session_reply.h"
#include "smtpd.h"
#include "xforward.h"
#include "xmalloc.h"

#define XFORWARD_VALUE_MAX 255

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

static int
unavailable(const char *v)
{
	return strcasecmp(v, "[UNAVAILABLE]") == 0 ||
	    strcasecmp(v, "[TEMPUNAVAIL]") == 0;
}

/* ADDR may carry Postfix's "IPV6:" prefix. */
static int
valid_addr(char *v)
{
	unsigned char buf[16];

	if (strncasecmp(v, "IPV6:", 5) == 0)
		memmove(v, v + 5, strlen(v + 5) + 1);
	return inet_pton(AF_INET, v, buf) == 1 ||
	    inet_pton(AF_INET6, v, buf) == 1;
}

static int
valid_port(const char *v)
{
	char *end;
	long n = strtol(v, &end, 10);

	return *v && *end == '\0' && n >= 0 && n <= 65535;
}

/* Make v a name address_helo_valid() takes (v is not empty). */
static void
neuter_helo(char *v)
{
	for (; *v != '\0'; v++) {
		unsigned char c = (unsigned char)*v;

		if (c <= 32 || c == 127)
			*v = '?';
	}
}

static int
apply(struct ehlod_session *s, const char *name, char *value)
{
	if (unavailable(value))
		return 0;
	if (strcasecmp(name, "ADDR") == 0) {
		if (!valid_addr(value))
			return -1;
		if (!s->xforward_peer[0])
			memcpy(s->xforward_peer, s->client_addr,
			    sizeof(s->xforward_peer));
		/* valid_addr keeps it within an IPv6 literal's length */
		snprintf(s->client_addr, sizeof(s->client_addr), "%.63s",
		    value);
		/* relay_networks judge the real client, not the proxy. */
		s->flags[EHLOD_FLAG_RELAY] = s->flags[EHLOD_FLAG_AUTH] ||
		    listener_relays(s->listener, s->client_addr);
	} else if (strcasecmp(name, "PORT") == 0) {
		if (!valid_port(value))
			return -1;
		snprintf(s->client_port, sizeof(s->client_port), "%.7s",
		    value);
	} else if (strcasecmp(name, "HELO") == 0) {
		if (value[0] == '\0')
			return 0;	/* as unknown */
		neuter_helo(value);
		free(s->helo);
		s->helo = xstrdup(value);
	} else if (strcasecmp(name, "NAME") && strcasecmp(name, "PROTO") &&
	    strcasecmp(name, "IDENT") && strcasecmp(name, "SOURCE"))
		return -1;
	return 0;
}

void
xforward_command(struct ehlod_session *s, char *arg)
{
	char value[XFORWARD_VALUE_MAX + 1];
	char *save = NULL;

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
	if (*arg == '\0') {
		session_reply(s, 501, "5.5.4", "Syntax: XFORWARD attribute=value"
		    "...");
		session_count_error(s);
		return;
	}
	for (char *t = strtok_r(arg, " ", &save); t; t = strtok_r(NULL, " ",
	    &save)) {
		char *eq = strchr(t, '=');
		if (eq == NULL || eq == t ||
		    esmtp_xtext_decode(eq + 1, value, sizeof(value)) < 0) {
			session_reply(s, 501, "5.5.4", "Bad XFORWARD attribute: "
			    "%.40s", t);
			session_count_error(s);
			return;
		}
		*eq = '\0';
		if (apply(s, t, value) < 0) {
			session_reply(s, 501, "5.5.4", "Bad XFORWARD %s value",
			    t);
			session_count_error(s);
			return;
		}
	}
	log_msg(LOG_INFO, "%s: xforward from [%s]: client=[%s]:%s helo=<%s>",
	    s->id, s->xforward_peer[0] ? s->xforward_peer : s->client_addr,
	    s->client_addr, s->client_port, s->helo ? s->helo : "");
	session_reply(s, 250, "2.0.0", "Ok");
}
