/*
 * NAME
 *	dnsbl_query.h - DNSBL query names, answers and the reply text
 * SUMMARY
 *	#include "dnsbl_query.h"
 *
 *	dnsbl_reverse(addr, rev, sizeof(rev))
 *	dnsbl_query_name(addr, zone, name, sizeof(name))
 *	dnsbl_zone_check(zone, &why)
 *	dnsbl_classify(a_record_in_host_order)
 *	dnsbl_format_check(message, &why)
 *	dnsbl_format(message, client, zone, out, sizeof(out))
 * DESCRIPTION
 *	The pure parts of the dnsbl plugin, apart from the DNS traffic.
 *
 *	dnsbl_query_name() builds the name a DNSBL is asked about: the
 *	octets of an IPv4 address in reverse order ("192.0.2.1" in zone
 *	"bl.example" is "1.2.0.192.bl.example"), or the 32 nibbles of an
 *	IPv6 address in reverse order, as for ip6.arpa (RFC 5782 sections
 *	2.1 and 2.4).  It returns 0, or -1 when addr is not an IP address or
 *	the name would be longer than DNS allows (253 characters).
 *
 *	dnsbl_zone_check() accepts a zone of letters, digits, "-" and "_"
 *	in labels of 1 to 63 characters, short enough that every query name
 *	fits (189 characters: the reverse of an IPv6 address takes 64).  A
 *	trailing dot is allowed; it returns the length without it, or -1.
 *
 *	dnsbl_classify() judges one A record of an answer: 127.0.0.0/8
 *	lists the client (RFC 5782 section 2.1), except 127.255.255.0/24,
 *	which lists use to say "query refused" (for instance to queries
 *	that come through public resolvers) -- that is an error, not a
 *	listing.  Anything outside 127/8 is not a DNSBL answer (a resolver
 *	that rewrites NXDOMAIN sends such addresses) and lists nobody.
 *
 *	dnsbl_format() writes the reply text: the first "%s" of message is
 *	the client address, the second the zone, "%%" is "%".  The message
 *	comes from the admin, so it never reaches printf; dnsbl_format_check()
 *	refuses one with any other "%" sequence or more than two "%s", so a
 *	typo shows at start-up rather than in a reply.
 */
#ifndef EHLOD_PROTO_DNSBL_QUERY_H
#define EHLOD_PROTO_DNSBL_QUERY_H

#include <stddef.h>
#include <stdint.h>

#define DNSBL_NAME_MAX 253
#define DNSBL_REVERSE_MAX 64	/* 32 IPv6 nibbles, each with its dot */
#define DNSBL_ZONE_MAX (DNSBL_NAME_MAX - DNSBL_REVERSE_MAX)
#define DNSBL_LABEL_MAX 63

enum dnsbl_answer {
	DNSBL_NOT_LISTED = 0,
	DNSBL_LISTED,
	DNSBL_REFUSED		/* 127.255.255.x: the list refused to answer */
};

/* The reversed address with a trailing dot, into out (room for 65).
 * Returns 0, or -1 when addr is not an IP address. */
int dnsbl_reverse(const char *addr, char *out, size_t outlen);

int dnsbl_query_name(const char *addr, const char *zone, char *out,
    size_t outlen);

int dnsbl_zone_check(const char *zone, const char **why);

enum dnsbl_answer dnsbl_classify(uint32_t a);

int dnsbl_format_check(const char *fmt, const char **why);

void dnsbl_format(const char *fmt, const char *client, const char *zone,
    char *out, size_t outlen);

#endif
