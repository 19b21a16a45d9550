/*
 * NAME
 *	netaddr.h - addresses and networks in configuration ("192.0.2.1",
 *	"2001:db8::/32") and matching a peer against them
 * DESCRIPTION
 *	Pure code with no session and no event loop, so the configuration
 *	reader can check proxy_trusted and xforward_trusted without pulling
 *	in the PROXY reader.  The names keep their historical proxy_ prefix:
 *	they are spelled that way in config.h and in the tests.
 */
#ifndef EHLOD_CORE_NETADDR_H
#define EHLOD_CORE_NETADDR_H

#include <stddef.h>
#include <sys/socket.h>

/* An address or network, "192.0.2.1", "2001:db8::/32". */
struct proxy_net {
	int family;		/* AF_INET or AF_INET6 */
	unsigned char addr[16];
	unsigned prefix;	/* bits */
};

/* 0 and *out filled, or -1 when text is not an address/CIDR. */
int proxy_net_parse(const char *text, struct proxy_net *out);
/* 1 when the address is in one of the networks. */
int proxy_trusted(const struct sockaddr *sa, const struct proxy_net *nets,
    size_t n);

#endif
