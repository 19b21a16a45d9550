/*
 * NAME
 *	crlf.h - turn CRLF line ends into LF, across chunk boundaries
 * SUMMARY
 *	#include "crlf.h"
 *
 *	struct crlf st = { 0 };
 *	n = crlf_to_lf(&st, in, len, out);	out has room for len + 1
 *	...
 *	n = crlf_finish(&st, out);		out has room for 1
 * DESCRIPTION
 *	The host hands a delivery plugin the message with CRLF line ends, in
 *	chunks whose boundaries may fall anywhere -- also between a CR and
 *	its LF -- while a maildir file has plain LF line ends.  So a CR at
 *	the end of a chunk is held back until the next octet shows whether it
 *	begins a CRLF pair.  A CR that is not followed by LF is kept as it
 *	is, so that nothing but CRLF pairs is ever changed.
 *
 *	crlf_to_lf() converts len octets of in into out and returns how many
 *	octets it wrote: at most len + 1 (a CR held from the previous chunk,
 *	then the octets of this one).  crlf_finish() writes the CR still held
 *	at the end of the message, if any, and returns 0 or 1.
 *
 *	Kept in a header of its own so that the unit test checks the very
 *	code the maildir plugin runs.
 */
#ifndef EHLOD_PLUGINS_CRLF_H
#define EHLOD_PLUGINS_CRLF_H

#include <stddef.h>

struct crlf {
	int held_cr;		/* a CR was seen and not yet written */
};

static inline size_t
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

static inline size_t
crlf_finish(struct crlf *st, unsigned char *out)
{
	if (!st->held_cr)
		return 0;
	st->held_cr = 0;
	out[0] = '\r';
	return 1;
}

#endif
