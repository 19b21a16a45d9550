/*
 * NAME
 *	proxy.c - the PROXY protocol (v1 text, v2 binary) in front of a
 *	session
 * DESCRIPTION
 *	Implements proxy.h.  The header is read by a small pre-session
 *	reader, not by a state of the session: until the header is parsed
 *	there is no client address, and a session must never exist without
 *	one (its connect hooks, its log lines and its Received header all
 *	use it).  So the reader owns the bufferevent until the header is
 *	complete, then hands it to session_new() with the header's source
 *	address, and session_new() runs exactly as for a direct connection.
 *	Anything else (untrusted peer, bad or missing header, timeout) is
 *	logged in one line and the connection closed without a word of
 *	SMTP: a proxy that does not speak the protocol we expect must not
 *	get a greeting it could pass on as ours.
 *
 *	The reader takes only the header's octets off the socket: it peeks
 *	(MSG_PEEK) and consumes the octets it has parsed, all of them while
 *	the header is incomplete (they are all header), exactly up to its
 *	end once it is whole.  Whatever follows, SMTP commands or an
 *	implicit-TLS listener's ClientHello, is still in the socket for the
 *	session, which reads it as from a direct connection.  At most
 *	PROXY_V2_MAX octets are held while reading.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <event2/buffer.h>
#include <event2/event.h>

#include "log.h"
#include "proxy.h"
#include "session.h"
#include "smtpd.h"
#include "xmalloc.h"

static const unsigned char v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

static enum proxy_result
bad(struct proxy_header *h, const char *why)
{
	h->error = why;
	return PROXY_BAD;
}

/* A port of the v1 line: 1 to 5 digits, at most 65535. */
static int
v1_port(const char *s, unsigned short *out)
{
	unsigned long v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 5 || strspn(s, "0123456789") != n)
		return -1;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned long)(s[i] - '0');
	if (v > 65535)
		return -1;
	*out = (unsigned short)v;
	return 0;
}

/* The next space-separated field of the v1 line, copied into out. */
static const char *
v1_field(const char *p, char *out, size_t outlen, int last)
{
	const char *end = last ? p + strlen(p) : strchr(p, ' ');
	size_t n;

	if (end == NULL || end == p)
		return NULL;
	n = (size_t)(end - p);
	if (n >= outlen)
		return NULL;
	memcpy(out, p, n);
	out[n] = '\0';
	return last ? end : end + 1;
}

static enum proxy_result
v1_addresses(const char *p, int family, struct proxy_header *h)
{
	char src[64], dst[64], sport[8], dport[8];
	unsigned char a[16], unused_addr[16];
	unsigned short port, unused_port;

	if ((p = v1_field(p, src, sizeof(src), 0)) == NULL ||
	    (p = v1_field(p, dst, sizeof(dst), 0)) == NULL ||
	    (p = v1_field(p, sport, sizeof(sport), 0)) == NULL ||
	    (p = v1_field(p, dport, sizeof(dport), 1)) == NULL)
		return bad(h, "v1 header has not 4 fields");
	if (inet_pton(family, src, a) != 1 ||
	    inet_pton(family, dst, unused_addr) != 1)
		return bad(h, "v1 header has a bad address");
	if (v1_port(sport, &port) < 0 || v1_port(dport, &unused_port) < 0)
		return bad(h, "v1 header has a bad port");
	memset(&h->src, 0, sizeof(h->src));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&h->src;
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, a, 4);
		sin->sin_port = htons(port);
		h->srclen = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&h->src;
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, a, 16);
		sin6->sin6_port = htons(port);
		h->srclen = sizeof(*sin6);
	}
	return PROXY_OK;
}

/* "PROXY TCP4|TCP6|UNKNOWN ...\r\n" */
static enum proxy_result
parse_v1(const unsigned char *buf, size_t len, struct proxy_header *h)
{
	char line[PROXY_V1_MAX + 1];
	const unsigned char *cr;
	size_t n;

	h->version = 1;
	cr = memchr(buf, '\r', len < PROXY_V1_MAX ? len : PROXY_V1_MAX);
	n = cr ? (size_t)(cr - buf) : len;
	/* A bare LF would otherwise keep us waiting for a CR to come. */
	if (memchr(buf, '\n', n < PROXY_V1_MAX ? n : PROXY_V1_MAX))
		return bad(h, "v1 header does not end in CRLF");
	if (cr == NULL)
		return len >= PROXY_V1_MAX ? bad(h, "v1 header too long") :
		    PROXY_NEED_MORE;
	if (n + 1 >= len)
		return PROXY_NEED_MORE;
	if (cr[1] != '\n' || n + 2 > PROXY_V1_MAX)
		return bad(h, "v1 header does not end in CRLF");
	if (memchr(buf, '\0', n))
		return bad(h, "v1 header has a NUL");
	memcpy(line, buf, n);
	line[n] = '\0';
	h->len = n + 2;
	/* The spec: with UNKNOWN the rest of the line is to be ignored and
	 * the real connection's addresses used. */
	if (strcmp(line, "PROXY UNKNOWN") == 0 ||
	    strncmp(line, "PROXY UNKNOWN ", 14) == 0) {
		h->local = 1;
		return PROXY_OK;
	}
	if (strncmp(line, "PROXY TCP4 ", 11) == 0)
		return v1_addresses(line + 11, AF_INET, h);
	if (strncmp(line, "PROXY TCP6 ", 11) == 0)
		return v1_addresses(line + 11, AF_INET6, h);
	return bad(h, "v1 header has an unknown protocol");
}

static enum proxy_result
v2_addresses(const unsigned char *p, size_t alen, int fam,
    struct proxy_header *h)
{
	memset(&h->src, 0, sizeof(h->src));
	if (fam == 0x1) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&h->src;
		if (alen < 12)
			return bad(h, "v2 header too short for IPv4");
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, p, 4);
		memcpy(&sin->sin_port, p + 8, 2);	/* network order */
		h->srclen = sizeof(*sin);
		return PROXY_OK;
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&h->src;
	if (alen < 36)
		return bad(h, "v2 header too short for IPv6");
	sin6->sin6_family = AF_INET6;
	memcpy(&sin6->sin6_addr, p, 16);
	memcpy(&sin6->sin6_port, p + 32, 2);
	h->srclen = sizeof(*sin6);
	return PROXY_OK;
}

static enum proxy_result
parse_v2(const unsigned char *buf, size_t len, struct proxy_header *h)
{
	size_t alen, total;
	int cmd, fam, proto;

	h->version = 2;
	if (len < 16)
		return PROXY_NEED_MORE;
	if ((buf[12] >> 4) != 2)
		return bad(h, "v2 header has a bad version");
	cmd = buf[12] & 0x0f;
	fam = buf[13] >> 4;
	proto = buf[13] & 0x0f;
	alen = ((size_t)buf[14] << 8) | buf[15];
	total = 16 + alen;
	if (total > PROXY_V2_MAX)
		return bad(h, "v2 header too long");
	if (cmd > 1)
		return bad(h, "v2 header has an unknown command");
	if (len < total)
		return PROXY_NEED_MORE;
	h->len = total;
	/* LOCAL: the proxy's own connection (a health check); UNSPEC: the
	 * spec says to use the real addresses. */
	if (cmd == 0 || fam == 0) {
		h->local = 1;
		return PROXY_OK;
	}
	if ((fam != 0x1 && fam != 0x2) || proto != 0x1)
		return bad(h, "v2 header is not TCP over IPv4 or IPv6");
	return v2_addresses(buf + 16, alen, fam, h);
}

enum proxy_result
proxy_parse(const unsigned char *buf, size_t len, struct proxy_header *h)
{
	static const char v1_sig[] = "PROXY ";
	size_t n;

	memset(h, 0, sizeof(*h));
	n = len < sizeof(v2_sig) ? len : sizeof(v2_sig);
	if (len > 0 && memcmp(buf, v2_sig, n) == 0)
		return n < sizeof(v2_sig) ? PROXY_NEED_MORE :
		    parse_v2(buf, len, h);
	n = len < 6 ? len : 6;
	if (len > 0 && memcmp(buf, v1_sig, n) == 0)
		return n < 6 ? PROXY_NEED_MORE : parse_v1(buf, len, h);
	if (len == 0)
		return PROXY_NEED_MORE;
	return bad(h, "no PROXY header");
}

/* The pre-session reader: the connection until its header is in. */
struct proxy_conn {
	struct bufferevent *bev;	/* the session's, unused until then */
	struct event *ev;		/* readable */
	struct event *deadline;		/* the whole header's time */
	unsigned char buf[PROXY_V2_MAX];	/* header octets consumed */
	size_t have;
	const struct listener *listener;	/* accepted on */
	struct sockaddr_storage peer;
	socklen_t peerlen;
	char host[64];
	char port[8];
};

static void
peer_text(struct proxy_conn *c)
{
	if (getnameinfo((struct sockaddr *)&c->peer, c->peerlen, c->host,
	    sizeof(c->host), c->port, sizeof(c->port),
	    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(c->host, sizeof(c->host), "unknown");
		snprintf(c->port, sizeof(c->port), "0");
	}
}

static void
conn_close(struct proxy_conn *c, const char *why)
{
	log_msg(LOG_INFO, "proxy: closed connection from [%s]:%s: %s",
	    c->host, c->port, why);
	if (c->ev != NULL)
		event_free(c->ev);
	if (c->deadline != NULL)
		event_free(c->deadline);
	bufferevent_free(c->bev);
	free(c);
}

static void
conn_done(struct proxy_conn *c, const struct proxy_header *h)
{
	struct bufferevent *bev = c->bev;

	/* A worker that is stopping takes no new session. */
	if (server->draining) {
		conn_close(c, "server is shutting down");
		return;
	}
	event_free(c->ev);
	event_free(c->deadline);
	server->accepting = c->listener;
	if (h->local)
		session_new_via(bev, (struct sockaddr *)&c->peer, c->peerlen,
		    NULL, 0);
	else
		session_new_via(bev, (struct sockaddr *)&c->peer, c->peerlen,
		    (const struct sockaddr *)&h->src, h->srclen);
	server->accepting = NULL;
	free(c);
}

/* Take n octets off the socket into c->buf after what it has (peeked
 * already, so they are there); 0, or -1 when the socket says otherwise. */
static int
consume(struct proxy_conn *c, int fd, size_t n)
{
	while (n > 0) {
		ssize_t got = recv(fd, c->buf + c->have, n, 0);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return -1;
		c->have += (size_t)got;
		n -= (size_t)got;
	}
	return 0;
}

static void
conn_expired(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_close(arg, "timeout waiting for the PROXY header");
}

static void
conn_read(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_conn *c = arg;
	struct proxy_header h;
	size_t len;
	ssize_t n;

	(void)what;
	/* Peeked into place: consume() then reads the same octets there. */
	n = recv(fd, c->buf + c->have, sizeof(c->buf) - c->have, MSG_PEEK);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c, "connection lost before the PROXY header");
		return;
	}
	len = c->have + (size_t)n;
	switch (proxy_parse(c->buf, len, &h)) {
	case PROXY_NEED_MORE:
		if (len >= PROXY_V2_MAX) {
			conn_close(c, "PROXY header too long");
			return;
		}
		/* All of it is header: take it, or the socket stays
		 * readable and the loop spins. */
		if (consume(c, fd, (size_t)n) < 0)
			conn_close(c, "connection lost before the PROXY header");
		return;
	case PROXY_BAD:
		conn_close(c, h.error);
		return;
	case PROXY_OK:
		if (consume(c, fd, h.len - c->have) < 0) {
			conn_close(c, "connection lost in the PROXY header");
			return;
		}
		conn_done(c, &h);
		return;
	}
}

void
proxy_accept(struct bufferevent *bev, const struct sockaddr *peer,
    socklen_t peerlen)
{
	struct proxy_conn *c;
	struct timeval tv = { server->conf->command_timeout, 0 };

	if (peerlen > sizeof(c->peer)) {
		bufferevent_free(bev);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->bev = bev;
	c->listener = server->accepting;
	memcpy(&c->peer, peer, peerlen);
	c->peerlen = peerlen;
	peer_text(c);
	if (!proxy_trusted(peer, server->conf->proxy_trusted,
	    server->conf->nproxy_trusted)) {
		conn_close(c, "peer not in proxy_trusted");
		return;
	}
	/* The bufferevent must not read: what follows the header is the
	 * session's (or TLS's) to read from the socket. */
	bufferevent_disable(bev, EV_READ | EV_WRITE);
	c->ev = event_new(server->base, bufferevent_getfd(bev),
	    EV_READ | EV_PERSIST, conn_read, c);
	/* For the whole header, not per read: a proxy trickling one octet
	 * at a time would otherwise hold the connection for hours. */
	c->deadline = evtimer_new(server->base, conn_expired, c);
	if (c->ev == NULL || c->deadline == NULL ||
	    event_add(c->ev, NULL) < 0 || evtimer_add(c->deadline, &tv) < 0) {
		conn_close(c, "out of memory");
		return;
	}
}
