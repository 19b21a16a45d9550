/*
 * NAME
 *	dnsbl_query.h - DNSBL query names, answers and the reply text
 * SUMMARY
 *	#include "dnsbl_query.h"
 *
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
 *
 *	Kept in a header, like crlf.h, so the unit test checks the very
 *	code the plugin runs.
 */
#ifndef EHLOD_PLUGINS_DNSBL_QUERY_H
#define EHLOD_PLUGINS_DNSBL_QUERY_H

#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define DNSBL_NAME_MAX 253
#define DNSBL_REVERSE_MAX 64	/* 32 IPv6 nibbles, each with its dot */
#define DNSBL_ZONE_MAX (DNSBL_NAME_MAX - DNSBL_REVERSE_MAX)
#define DNSBL_LABEL_MAX 63

enum dnsbl_answer {
	DNSBL_NOT_LISTED = 0,
	DNSBL_LISTED,
	DNSBL_REFUSED		/* 127.255.255.x: the list refused to answer */
};

/* The reversed address with a trailing dot, into out (room for 65). */
static inline int
dnsbl_reverse(const char *addr, char *out, size_t outlen)
{
	unsigned char b[16];
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	if (outlen < DNSBL_REVERSE_MAX + 1)
		return -1;
	if (inet_pton(AF_INET, addr, b) == 1) {
		snprintf(out, outlen, "%u.%u.%u.%u.", b[3], b[2], b[1], b[0]);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, b) != 1)
		return -1;
	for (int i = 15; i >= 0; i--) {
		out[n++] = hex[b[i] & 0xf];
		out[n++] = '.';
		out[n++] = hex[b[i] >> 4];
		out[n++] = '.';
	}
	out[n] = '\0';
	return 0;
}

static inline int
dnsbl_query_name(const char *addr, const char *zone, char *out,
    size_t outlen)
{
	char rev[DNSBL_REVERSE_MAX + 1];
	size_t rlen, zlen;

	if (dnsbl_reverse(addr, rev, sizeof(rev)) < 0)
		return -1;
	rlen = strlen(rev);
	zlen = strlen(zone);
	if (rlen + zlen >= outlen || rlen + zlen > DNSBL_NAME_MAX)
		return -1;
	memcpy(out, rev, rlen);
	memcpy(out + rlen, zone, zlen + 1);
	return 0;
}

static inline int
dnsbl_label_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static inline int
dnsbl_zone_check(const char *zone, const char **why)
{
	size_t len = strlen(zone), label = 0;

	if (len > 0 && zone[len - 1] == '.')
		len--;
	if (len == 0) {
		*why = "a zone is empty";
		return -1;
	}
	if (len > DNSBL_ZONE_MAX) {
		*why = "a zone is longer than 189 characters";
		return -1;
	}
	for (size_t i = 0; i <= len; i++) {
		if (i == len || zone[i] == '.') {
			if (label == 0 || label > DNSBL_LABEL_MAX) {
				*why = "a zone has an empty or overlong label";
				return -1;
			}
			label = 0;
			continue;
		}
		if (!dnsbl_label_char((unsigned char)zone[i])) {
			*why = "a zone may hold letters, digits, '-', '_' "
			    "and dots only";
			return -1;
		}
		label++;
	}
	return (int)len;
}

static inline enum dnsbl_answer
dnsbl_classify(uint32_t a)
{
	if ((a >> 24) != 127)
		return DNSBL_NOT_LISTED;
	if ((a >> 8) == 0x7fffff)
		return DNSBL_REFUSED;
	return DNSBL_LISTED;
}

static inline int
dnsbl_format_check(const char *fmt, const char **why)
{
	int conversions = 0;

	for (const char *p = fmt; *p; p++) {
		if (*p != '%')
			continue;
		p++;
		if (*p == '%')
			continue;
		if (*p != 's') {
			*why = "message may hold %s (twice at most) and %% only";
			return -1;
		}
		if (++conversions > 2) {
			*why = "message has more than two %s";
			return -1;
		}
	}
	return 0;
}

/* Append text to out at *used, truncating at outlen - 1. */
static inline void
dnsbl_append(char *out, size_t outlen, size_t *used, const char *text,
    size_t len)
{
	size_t room = outlen - 1 - *used;

	if (len > room)
		len = room;
	memcpy(out + *used, text, len);
	*used += len;
}

static inline void
dnsbl_format(const char *fmt, const char *client, const char *zone,
    char *out, size_t outlen)
{
	const char *args[2] = { client, zone };
	size_t used = 0;
	int next = 0;

	if (outlen == 0)
		return;
	for (const char *p = fmt; *p; p++) {
		if (p[0] == '%' && p[1] == '%') {
			dnsbl_append(out, outlen, &used, "%", 1);
			p++;
		} else if (p[0] == '%' && p[1] == 's') {
			const char *a = next < 2 ? args[next] : "";

			next++;
			dnsbl_append(out, outlen, &used, a, strlen(a));
			p++;
		} else {
			dnsbl_append(out, outlen, &used, p, 1);
		}
	}
	out[used] = '\0';
}

#endif
