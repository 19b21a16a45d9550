/*
 * NAME
 *	sockets.c - the master's listening sockets, kept across reloads
 * DESCRIPTION
 *	Implements sockets_open() and sockets_retire() (sockets.h).  The
 *	master binds as root, so a reload can listen on port 25 too.
 *	Addresses are matched as the resolver gives them, not as written:
 *	"localhost:2525" and "127.0.0.1:2525" are one socket.  A new
 *	address that overlaps a running one (a wildcard made specific on
 *	the same port) cannot be bound while that one listens; the reload
 *	then fails with the reason, and the running configuration stays.
 */
#include "autoconfig.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "listener.h"
#include "log.h"
#include "sockets.h"
#include "xmalloc.h"

/* The index of was's socket bound to ai's address and not yet carried
 * over, or -1. */
static long
find_socket(const struct socket_set *was, const struct addrinfo *ai)
{
	for (size_t i = 0; was != NULL && i < was->n; i++)
		if (!was->kept[i] && was->addrlens[i] == ai->ai_addrlen &&
		    memcmp(&was->addrs[i], ai->ai_addr, ai->ai_addrlen) == 0)
			return (long)i;
	return -1;
}

static in_port_t
port_of(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET6)
		return ((const struct sockaddr_in6 *)(const void *)sa)->
		    sin6_port;
	if (sa->sa_family == AF_INET)
		return ((const struct sockaddr_in *)(const void *)sa)->sin_port;
	return 0;
}

/* Why a bind failed, with what the admin can do about an overlap. */
static const char *
overlap_hint(const struct socket_set *was, const struct addrinfo *ai,
    int err)
{
	if (err != EADDRINUSE || was == NULL)
		return "";
	for (size_t i = 0; i < was->n; i++)
		if (was->addrs[i].ss_family == ai->ai_family &&
		    port_of((const struct sockaddr *)&was->addrs[i]) ==
		    port_of(ai->ai_addr))
			return " (the running configuration listens on an "
			    "overlapping address on that port: restart ehlod "
			    "to make this change)";
	return "";
}

/* "192.0.2.1 port 25", for the log. */
static const char *
describe(const struct sockaddr *sa, socklen_t len)
{
	static char text[NI_MAXHOST + NI_MAXSERV + 8];
	char host[NI_MAXHOST], serv[NI_MAXSERV];

	if (getnameinfo(sa, len, host, sizeof(host), serv, sizeof(serv),
	    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		return "?";
	snprintf(text, sizeof(text), "%s port %s", host, serv);
	return text;
}

/* The listening socket, -1 (logged) when it cannot be bound, or -2 when
 * the host has no such family ("*" gives IPv6 on a host without it). */
static int
bind_address(const struct listener *l, const struct listen_addr *a,
    const struct addrinfo *ai, const struct socket_set *was)
{
	int one = 1, err;
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
	    ai->ai_protocol);

	if (fd < 0 && errno == EAFNOSUPPORT)
		return -2;
	if (fd < 0) {
		listener_error_at(l, LISTENER_OPT_LISTEN, "cannot listen on "
		    "%s:%s: %s", a->host, a->port, strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
	    listen(fd, SOMAXCONN) == 0)
		return fd;
	err = errno;
	listener_error_at(l, LISTENER_OPT_LISTEN, "cannot listen on %s:%s: "
	    "%s%s", a->host, a->port, strerror(err), overlap_hint(was, ai, err));
	close(fd);
	return -1;
}

static void
add_socket(struct socket_set *s, int fd, const char *name,
    const struct addrinfo *ai)
{
	s->fds = xreallocarray(s->fds, s->n + 1, sizeof(*s->fds));
	s->names = xreallocarray(s->names, s->n + 2, sizeof(*s->names));
	s->addrs = xreallocarray(s->addrs, s->n + 1, sizeof(*s->addrs));
	s->addrlens = xreallocarray(s->addrlens, s->n + 1,
	    sizeof(*s->addrlens));
	s->kept = xreallocarray(s->kept, s->n + 1, sizeof(*s->kept));
	s->fds[s->n] = fd;
	s->names[s->n] = xstrdup(name);
	s->names[s->n + 1] = NULL;
	memset(&s->addrs[s->n], 0, sizeof(s->addrs[s->n]));
	memcpy(&s->addrs[s->n], ai->ai_addr, ai->ai_addrlen);
	s->addrlens[s->n] = ai->ai_addrlen;
	s->kept[s->n] = 0;
	s->n++;
}

static void
free_set(struct socket_set *s)
{
	for (size_t i = 0; s->names != NULL && i < s->n; i++)
		free(s->names[i]);
	free(s->fds);
	free(s->names);
	free(s->addrs);
	free(s->addrlens);
	free(s->kept);
	memset(s, 0, sizeof(*s));
}

/* One listen entry's addresses into out: taken from was or bound. */
static int
open_entry(const struct config *c, const struct listen_addr *a,
    struct socket_set *was, struct socket_set *out)
{
	struct addrinfo hints = { 0 }, *res;
	const char *host = strcmp(a->host, "*") == 0 ? NULL : a->host;
	const struct listener *l = &c->listeners[a->listener];
	const char *name = l->name;
	int rc = 0;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	rc = getaddrinfo(host, a->port, &hints, &res);
	if (rc != 0) {
		listener_error_at(l, LISTENER_OPT_LISTEN, "listen %s:%s: %s",
		    a->host, a->port, gai_strerror(rc));
		return -1;
	}
	rc = 0;
	for (const struct addrinfo *ai = res; ai != NULL && rc == 0;
	    ai = ai->ai_next) {
		long old = find_socket(was, ai);
		int fd;

		if (old >= 0) {
			was->kept[old] = 1;
			add_socket(out, was->fds[old], name, ai);
			out->kept[out->n - 1] = 1;	/* undone on failure */
			continue;
		}
		if ((fd = bind_address(l, a, ai, was)) < 0) {
			rc = fd == -2 ? 0 : -1;
			continue;
		}
		add_socket(out, fd, name, ai);
	}
	freeaddrinfo(res);
	return rc;
}

int
sockets_open(const struct config *c, struct socket_set *was,
    struct socket_set *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; was != NULL && i < was->n; i++)
		was->kept[i] = 0;
	for (size_t i = 0; i < c->nlisten; i++) {
		if (open_entry(c, &c->listen[i], was, out) == 0)
			continue;
		/* Only what this call bound is closed: out->kept marks
		 * the sockets it took from was. */
		for (size_t k = 0; k < out->n; k++)
			if (!out->kept[k])
				close(out->fds[k]);
		for (size_t k = 0; was != NULL && k < was->n; k++)
			was->kept[k] = 0;
		free_set(out);
		return -1;
	}
	if (out->n == 0) {
		log_msg(LOG_ERR, "no address to listen on");
		free_set(out);
		return -1;
	}
	for (size_t i = 0; i < out->n; i++) {
		if (was != NULL && !out->kept[i])
			log_msg(LOG_INFO, "reload: now listening on %s (listener "
			    "%s)", describe((const struct sockaddr *)
			    &out->addrs[i], out->addrlens[i]), out->names[i]);
		out->kept[i] = 0;
	}
	return 0;
}

void
sockets_retire(struct socket_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		if (!set->kept[i])
			close(set->fds[i]);
	free_set(set);
}

void
sockets_log_dropped(const struct socket_set *was)
{
	for (size_t i = 0; i < was->n; i++)
		if (!was->kept[i])
			log_msg(LOG_INFO, "reload: no longer listening on %s "
			    "(listener %s)", describe((const struct sockaddr *)
			    &was->addrs[i], was->addrlens[i]), was->names[i]);
}
