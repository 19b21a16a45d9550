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
 *	Used by the maildir plugin; in proto/ with the rest of the wire
 *	format so that plugin and unit test link one compiled copy.
 */
#ifndef EHLOD_PROTO_CRLF_H
#define EHLOD_PROTO_CRLF_H

#include <stddef.h>

struct crlf {
	int held_cr;		/* a CR was seen and not yet written */
};

size_t crlf_to_lf(struct crlf *st, const unsigned char *in, size_t len,
    unsigned char *out);

size_t crlf_finish(struct crlf *st, unsigned char *out);

#endif
