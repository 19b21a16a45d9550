/*
 * NAME
 *	data.h - reading DATA content: end detection, dot-unstuffing, bare
 *	CR and LF detection
 * DESCRIPTION
 *	RFC 5321 section 4.1.1.4: content ends with CRLF "." CRLF and a line
 *	starting with "." has that dot removed.  Only that exact sequence
 *	ends the content: a bare LF or CR (the SMTP smuggling trick, where
 *	another server would see "\n.\n" as the end) is flagged, the content
 *	goes on to the real end, and the message is refused there.
 */
#ifndef EHLOD_CORE_DATA_H
#define EHLOD_CORE_DATA_H

#include <stddef.h>

#include "message.h"

enum data_state {
	D_LINE_START = 0,
	D_IN_LINE,
	D_CR,			/* CR seen inside a line */
	D_DOT,			/* a line started with "." */
	D_DOT_CR		/* "." CR at the start of a line */
};

struct data_reader {
	enum data_state state;
	int bare_cr;
	int bare_lf;
};

void data_reader_init(struct data_reader *r);

/* Read up to len octets; unstuffed content goes to m.  Returns how many
 * octets were consumed; *done is set once the terminator has been read
 * (it is consumed and not stored). */
size_t data_scan(struct data_reader *r, const char *in, size_t len,
    struct message *m, int *done);

#endif
