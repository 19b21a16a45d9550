/*
 * NAME
 *	crlf.c - CRLF line ends to LF, across chunk boundaries
 * DESCRIPTION
 *	Implements crlf.h.  Plain C with no dependency beyond libc, so
 *	that plugins link it (built with hidden visibility) as well as the
 *	programs and the unit tests.
 */
#include <stddef.h>

#include "crlf.h"

size_t
crlf_to_lf(struct crlf *st, const unsigned char *in, size_t len,
    unsigned char *out)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (st->held_cr) {
			st->held_cr = 0;
			if (in[i] != '\n')
				out[n++] = '\r';
		}
		if (in[i] == '\r') {
			st->held_cr = 1;
			continue;
		}
		out[n++] = in[i];
	}
	return n;
}

size_t
crlf_finish(struct crlf *st, unsigned char *out)
{
	if (!st->held_cr)
		return 0;
	st->held_cr = 0;
	out[0] = '\r';
	return 1;
}
