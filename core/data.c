/*
 * NAME
 *	data.c - reading DATA content
 * DESCRIPTION
 *	Implements data.h as a byte-level state machine that copies runs of
 *	ordinary octets in bulk.  The message starts at D_LINE_START: the
 *	DATA command's own CRLF counts as the CRLF before a first-line ".".
 */
#include <string.h>

#include "data.h"

void
data_reader_init(struct data_reader *r)
{
	memset(r, 0, sizeof(*r));
}

/* Length of the run of octets, inside a line, that need no attention:
 * text without CR or LF, and every CRLF whose next line does not start
 * with a dot (which may be stuffing or the end), so that a message of
 * ordinary lines is copied in one piece, not three per line.  The run
 * stops before a CR that the state machine must see: a bare one, one at
 * the end of the input, or one whose next line starts with a dot.
 * memchr is the hot loop of every message, and libc's is vectorised. */
static size_t
plain_run(const char *in, size_t len)
{
	size_t from = 0;

	for (;;) {
		const char *cr = memchr(in + from, '\r', len - from);
		size_t end = cr ? (size_t)(cr - in) : len;
		const char *lf = memchr(in + from, '\n', end - from);

		if (lf != NULL)
			return (size_t)(lf - in);	/* a bare LF */
		if (cr == NULL)
			return len;
		if (end + 2 >= len || in[end + 1] != '\n' || in[end + 2] == '.')
			return end;
		from = end + 2;
	}
}

/* One octet inside a line (state D_IN_LINE). */
static void
in_line(struct data_reader *r, char c, struct message *m)
{
	if (c == '\r') {
		r->state = D_CR;
		return;
	}
	if (c == '\n')
		r->bare_lf = 1;	/* and stay inside the line: never an end */
	message_append(m, &c, 1);
	r->state = D_IN_LINE;
}

size_t
data_scan(struct data_reader *r, const char *in, size_t len,
    struct message *m, int *done)
{
	size_t i = 0;

	*done = 0;
	while (i < len) {
		char c = in[i];
		switch (r->state) {
		case D_IN_LINE: {
			size_t run = plain_run(in + i, len - i);
			if (run > 0) {
				message_append(m, in + i, run);
				i += run;
				continue;
			}
			in_line(r, c, m);
			break;
		}
		case D_LINE_START:
			if (c == '.')
				r->state = D_DOT;
			else
				in_line(r, c, m);
			break;
		case D_DOT:
			if (c == '\r')
				r->state = D_DOT_CR;
			else
				in_line(r, c, m);	/* the dot is dropped */
			break;
		case D_DOT_CR:
			if (c == '\n') {
				*done = 1;
				return i + 1;
			}
			r->bare_cr = 1;
			message_append(m, "\r", 1);
			r->state = D_IN_LINE;
			continue;	/* look at c again inside the line */
		case D_CR:
			if (c == '\n') {
				message_append(m, "\r\n", 2);
				r->state = D_LINE_START;
				break;
			}
			r->bare_cr = 1;
			message_append(m, "\r", 1);
			r->state = D_IN_LINE;
			continue;
		}
		i++;
	}
	return i;
}
