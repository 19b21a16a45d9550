/*
 * NAME
 *	linereader.h - bounded CRLF line reader over a libevent buffer
 * DESCRIPTION
 *	SMTP command and reply lines end with CRLF.  The reader hands out one
 *	line at a time and never lets a line grow past its limit: an overlong
 *	line is reported once (LINE_TOO_LONG) and the rest of it, up to the
 *	next LF, is thrown away so the session stays in sync.  A bare LF ends
 *	a line too (reported through the bare_lf flag) because real clients
 *	send them in commands; DATA is read by its own stricter code.
 *
 *	It lives in core/ because it reads a libevent buffer and proto/ is
 *	plain C; the client library compiles this same file for the replies
 *	it reads.
 */
#ifndef EHLOD_CORE_LINEREADER_H
#define EHLOD_CORE_LINEREADER_H

#include <stddef.h>
#include <event2/buffer.h>

enum line_status {
	LINE_OK = 0,		/* *line holds a line, without its CRLF */
	LINE_NEED_MORE,		/* no complete line in the buffer yet */
	LINE_TOO_LONG		/* a line exceeded the limit; it is dropped */
};

struct linereader {
	size_t limit;		/* longest line accepted, CRLF included */
	int discarding;		/* inside the tail of an overlong line */
	char *buf;		/* the current line, limit + 1 bytes */
	int bare_lf;		/* the last line ended in LF without CR */
};

int linereader_init(struct linereader *lr, size_t limit);
void linereader_free(struct linereader *lr);
/* Change the limit (for instance when plugins are reloaded). */
int linereader_set_limit(struct linereader *lr, size_t limit);
/* Take one line out of in.  On LINE_OK, *line points into lr->buf, is
 * NUL-terminated and *len is its length. */
enum line_status linereader_next(struct linereader *lr, struct evbuffer *in,
    char **line, size_t *len);

#endif
