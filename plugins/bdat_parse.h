/*
 * NAME
 *	bdat_parse.h - the argument of the BDAT command (RFC 3030)
 * SUMMARY
 *	#include "bdat_parse.h"
 *
 *	uint64_t size;
 *	int last;
 *	const char *why;
 *
 *	if (bdat_parse(args, &size, &last, &why) < 0)
 *		reply 501 with why
 * DESCRIPTION
 *	RFC 3030 section 2: bdat-cmd = "BDAT" SP chunk-size [ SP end-marker ]
 *	CR LF, chunk-size = 1*DIGIT, end-marker = "LAST".  args is what
 *	follows "BDAT " (the server has cut the verb and the spaces after
 *	it).  The size is 1 to 20 digits and must fit in 64 bits and in a
 *	size_t; "LAST" is matched without regard to case, after exactly one
 *	space; nothing may follow.  Returns 0, or -1 with why pointing at a
 *	static explanation.
 *
 *	Strict on purpose: the size says how many of the next octets are
 *	message content, and a size read wrongly would make the server take
 *	content for commands or commands for content.
 *
 *	Kept in a header, like crlf.h, so the unit test checks the very
 *	code the plugin runs.
 */
#ifndef EHLOD_PLUGINS_BDAT_PARSE_H
#define EHLOD_PLUGINS_BDAT_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <strings.h>

#define BDAT_SIZE_DIGITS 20

static inline int
bdat_fail(const char **why, const char *text)
{
	*why = text;
	return -1;
}

static inline int
bdat_parse(const char *args, uint64_t *size, int *last, const char **why)
{
	uint64_t n = 0;
	size_t i = 0;

	for (; args[i] >= '0' && args[i] <= '9'; i++) {
		unsigned d = (unsigned)(args[i] - '0');

		if (i == BDAT_SIZE_DIGITS)
			return bdat_fail(why, "chunk size has more than 20 "
			    "digits");
		if (n > (UINT64_MAX - d) / 10)
			return bdat_fail(why, "chunk size is too large");
		n = n * 10 + d;
	}
	if (i == 0)
		return bdat_fail(why, "chunk size must be digits");
	if ((uint64_t)(size_t)n != n)
		return bdat_fail(why, "chunk size is too large");
	if (args[i] == '\0') {
		*last = 0;
	} else if (args[i] == ' ' && strcasecmp(args + i + 1, "LAST") == 0) {
		*last = 1;
	} else {
		return bdat_fail(why, "only LAST may follow the chunk size");
	}
	*size = n;
	return 0;
}

#endif
