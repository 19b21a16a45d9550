/*
 * NAME
 *	bdat_parse.c - the argument of the BDAT command (RFC 3030)
 * DESCRIPTION
 *	Implements bdat_parse.h.  Plain C with no dependency beyond libc, so
 *	that plugins link it (built with hidden visibility) as well as the
 *	programs and the unit tests.
 */
#include <stddef.h>
#include <stdint.h>
#include <strings.h>

#include "bdat_parse.h"

static int
bdat_fail(const char **why, const char *text)
{
	*why = text;
	return -1;
}

int
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
