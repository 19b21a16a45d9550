/*
 * NAME
 *	crlf.c - CRLF line ends to LF, across chunk boundaries
 * DESCRIPTION
 *	Implements crlf.h.  Plain C with no dependency beyond libc, so
 *	that plugins link it (built with hidden visibility) as well as the
 *	programs and the unit tests.
 */
#include <stddef.h>
#include <string.h>

#include "crlf.h"

/* Runs without a CR are copied whole (memchr and memcpy, not a test per
 * octet): a large message passes through here once in the delivery
 * threads, and every message once in the event loop. */
size_t
crlf_to_lf(struct crlf *st, const unsigned char *in, size_t len,
    unsigned char *out)
{
	const unsigned char *end = in + len;
	size_t n = 0;

	if (len > 0 && st->held_cr) {
		st->held_cr = 0;
		if (in[0] != '\n')
			out[n++] = '\r';
	}
	while (in < end) {
		const unsigned char *cr = memchr(in, '\r', (size_t)(end - in));
		size_t run = (size_t)((cr != NULL ? cr : end) - in);

		memcpy(out + n, in, run);
		n += run;
		if (cr == NULL)
			break;
		if (cr + 1 == end) {
			st->held_cr = 1;	/* its LF may start the next chunk */
			break;
		}
		if (cr[1] != '\n')
			out[n++] = '\r';	/* not a line end: kept */
		in = cr + 1;
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
