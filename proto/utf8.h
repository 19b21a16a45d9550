/*
 * NAME
 *	utf8.h - is a string 8-bit, is it well-formed UTF-8
 * SUMMARY
 *	#include "utf8.h"
 *
 *	utf8_has_8bit(p, len)	1 when an octet is above 127
 *	utf8_valid(p, len)	1 when p is well-formed UTF-8 (RFC 3629)
 * DESCRIPTION
 *	RFC 6531 (SMTPUTF8) lets mailboxes and header fields carry UTF-8,
 *	and RFC 6533 lets an ORCPT of type utf-8 carry it raw.  The smtputf8
 *	and dsn plugins judge such strings with these two functions.
 *
 *	utf8_valid() follows RFC 3629 section 4: no overlong forms, no
 *	surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no truncated
 *	sequence.  ASCII, NUL included, is valid: callers that must refuse
 *	control characters do so themselves.
 *
 *	Kept in a header of its own, like crlf.h, so that the unit test
 *	checks the very code the plugins run.
 */
#ifndef EHLOD_PROTO_UTF8_H
#define EHLOD_PROTO_UTF8_H

#include <stddef.h>

static inline int
utf8_has_8bit(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)p[i] >= 0x80)
			return 1;
	return 0;
}

/* The length of the sequence a lead octet starts (0: not a lead octet)
 * and the smallest code point that sequence may encode. */
static inline size_t
utf8_lead(unsigned char c, unsigned long *cp, unsigned long *min)
{
	if (c >= 0xc2 && c <= 0xdf) {
		*cp = c & 0x1f;
		*min = 0x80;
		return 2;
	}
	if (c >= 0xe0 && c <= 0xef) {
		*cp = c & 0x0f;
		*min = 0x800;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		*cp = c & 0x07;
		*min = 0x10000;
		return 4;
	}
	return 0;
}

static inline int
utf8_valid(const char *p, size_t len)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t i = 0;

	while (i < len) {
		unsigned long cp, min;
		size_t n;

		if (s[i] < 0x80) {
			i++;
			continue;
		}
		n = utf8_lead(s[i], &cp, &min);
		if (n == 0 || len - i < n)
			return 0;
		for (size_t k = 1; k < n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n;
	}
	return 1;
}

#endif
