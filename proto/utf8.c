/*
 * NAME
 *	utf8.c - is a string 8-bit, is it well-formed UTF-8
 * DESCRIPTION
 *	Implements utf8.h.  Plain C with no dependency beyond libc, so
 *	that plugins link it (built with hidden visibility) as well as the
 *	programs and the unit tests.
 */
#include <stddef.h>

#include "utf8.h"

int
utf8_has_8bit(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)p[i] >= 0x80)
			return 1;
	return 0;
}

/* The length of the sequence a lead octet starts (0: not a lead octet)
 * and the smallest code point that sequence may encode. */
static size_t
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

int
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
