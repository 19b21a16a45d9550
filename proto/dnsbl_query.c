/*
 * NAME
 *	dnsbl_query.c - DNSBL query names, answers and the reply text
 * DESCRIPTION
 *	Implements dnsbl_query.h.  Plain C with no dependency beyond libc, so
 *	that plugins link it (built with hidden visibility) as well as the
 *	programs and the unit tests.
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "dnsbl_query.h"

int
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

int
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

static int
dnsbl_label_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

int
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

enum dnsbl_answer
dnsbl_classify(uint32_t a)
{
	if ((a >> 24) != 127)
		return DNSBL_NOT_LISTED;
	if ((a >> 8) == 0x7fffff)
		return DNSBL_REFUSED;
	return DNSBL_LISTED;
}

int
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
static void
dnsbl_append(char *out, size_t outlen, size_t *used, const char *text,
    size_t len)
{
	size_t room = outlen - 1 - *used;

	if (len > room)
		len = room;
	memcpy(out + *used, text, len);
	*used += len;
}

void
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
