/*
 * NAME
 *	netaddr.c - parsing configured addresses/networks and matching a
 *	peer against them
 * DESCRIPTION
 *	Implements netaddr.h.  An IPv4 peer seen on a dual-stack socket as
 *	::ffff:a.b.c.d matches IPv4 networks.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "netaddr.h"

int
proxy_net_parse(const char *text, struct proxy_net *out)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(text, '/');
	size_t n = slash ? (size_t)(slash - text) : strlen(text);
	unsigned max;

	memset(out, 0, sizeof(*out));
	if (n == 0 || n >= sizeof(addr))
		return -1;
	memcpy(addr, text, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET, addr, out->addr) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, addr, out->addr) == 1)
		out->family = AF_INET6;
	else
		return -1;
	max = out->family == AF_INET ? 32 : 128;
	out->prefix = max;
	if (slash == NULL)
		return 0;
	const char *bits = slash + 1;
	size_t blen = strlen(bits);
	if (blen == 0 || blen > 3 || strspn(bits, "0123456789") != blen ||
	    (unsigned)atoi(bits) > max)
		return -1;
	out->prefix = (unsigned)atoi(bits);
	return 0;
}

static int
prefix_match(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;

	if (memcmp(a, b, whole) != 0)
		return 0;
	if (rest == 0)
		return 1;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
}

int
proxy_trusted(const struct sockaddr *sa, const struct proxy_net *nets,
    size_t n)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };
	const unsigned char *a;
	int family = sa->sa_family;

	if (family == AF_INET)
		a = (const unsigned char *)
		    &((const struct sockaddr_in *)sa)->sin_addr;
	else if (family == AF_INET6)
		a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
	else
		return 0;
	/* A dual-stack listener sees an IPv4 proxy as ::ffff:a.b.c.d. */
	if (family == AF_INET6 && memcmp(a, mapped, 12) == 0) {
		family = AF_INET;
		a += 12;
	}
	for (size_t i = 0; i < n; i++)
		if (nets[i].family == family &&
		    prefix_match(a, nets[i].addr, nets[i].prefix))
			return 1;
	return 0;
}
