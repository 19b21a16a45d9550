/*
 * NAME
 *	linereader.c - bounded CRLF line reader over a libevent buffer
 * DESCRIPTION
 *	Implements linereader.h.  The reader looks for LF with
 *	evbuffer_search_eol() only within the limit, so an endless line never
 *	makes it scan or copy more than the limit; the tail of an overlong
 *	line is drained without copying.
 */
#include <stdlib.h>
#include <string.h>

#include "linereader.h"
#include "xmalloc.h"

int
linereader_init(struct linereader *lr, size_t limit)
{
	memset(lr, 0, sizeof(*lr));
	return linereader_set_limit(lr, limit);
}

void
linereader_free(struct linereader *lr)
{
	free(lr->buf);
	lr->buf = NULL;
}

int
linereader_set_limit(struct linereader *lr, size_t limit)
{
	lr->buf = xrealloc(lr->buf, limit + 1);
	lr->limit = limit;
	return 0;
}

/* Offset of the first LF within the first max octets, or -1. */
static ssize_t
find_lf(struct evbuffer *in, size_t max)
{
	struct evbuffer_ptr end;
	struct evbuffer_ptr lf;

	if (evbuffer_ptr_set(in, &end, max < evbuffer_get_length(in) ?
	    max : evbuffer_get_length(in), EVBUFFER_PTR_SET) < 0)
		return -1;
	lf = evbuffer_search_range(in, "\n", 1, NULL, &end);
	return lf.pos;
}

/* Throw away the rest of an overlong line.  Returns 1 once its LF has
 * been seen and dropped, 0 when more input is needed. */
static int
drain_tail(struct linereader *lr, struct evbuffer *in)
{
	size_t have = evbuffer_get_length(in);
	ssize_t lf = find_lf(in, have);

	if (lf < 0) {
		evbuffer_drain(in, have);
		return 0;
	}
	evbuffer_drain(in, (size_t)lf + 1);
	lr->discarding = 0;
	return 1;
}

enum line_status
linereader_next(struct linereader *lr, struct evbuffer *in, char **line,
    size_t *len)
{
	if (lr->discarding && !drain_tail(lr, in))
		return LINE_NEED_MORE;
	ssize_t lf = find_lf(in, lr->limit);
	if (lf < 0) {
		if (evbuffer_get_length(in) < lr->limit)
			return LINE_NEED_MORE;
		lr->discarding = 1;
		drain_tail(lr, in);
		return LINE_TOO_LONG;
	}
	size_t n = (size_t)lf;
	evbuffer_remove(in, lr->buf, n + 1);
	lr->bare_lf = !(n > 0 && lr->buf[n - 1] == '\r');
	if (!lr->bare_lf)
		n--;
	lr->buf[n] = '\0';
	*line = lr->buf;
	*len = n;
	return LINE_OK;
}
