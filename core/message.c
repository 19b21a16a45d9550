/*
 * NAME
 *	message.c - the message content of one transaction
 * DESCRIPTION
 *	Implements message.h.  The content is kept in one growing buffer
 *	(bounded by the size limit) so header positions are plain offsets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <unistd.h>

#include "message.h"
#include "spool_writer.h"

void
message_init(struct message *m, size_t limit)
{
	memset(m, 0, sizeof(*m));
	m->limit = limit;
}

void
message_free(struct message *m)
{
	for (size_t i = 0; i < m->nhdrs; i++) {
		free(m->hdrs[i].name);
		free(m->hdrs[i].value);
	}
	free(m->hdrs);
	free(m->buf);
	free(m->received);
	if (m->spool)
		spool_file_release(m->spool);
	spool_ahead_free(&m->ahead);
	memset(m, 0, sizeof(*m));
}

void
message_spool_setup(struct message *m, size_t threshold, const char *dir)
{
	m->spool_threshold = threshold;
	m->spool_dir = dir;
}

void
message_spool_notify(struct message *m, void (*wake)(void *), void *arg)
{
	m->spool_wake = wake;
	m->spool_wake_arg = arg;
}

/* Octets in flight past which nothing more is handed over: at least a
 * read's worth, so a small threshold does not stall the writer. */
static size_t
in_flight_limit(const struct message *m)
{
	return m->spool_threshold > 65536 ? m->spool_threshold : 65536;
}

int
message_spool_held(const struct message *m)
{
	return m->spool && spool_file_in_flight(m->spool) >= in_flight_limit(m);
}

int
message_spool_busy(const struct message *m)
{
	return m->spool && spool_file_in_flight(m->spool) > 0;
}

static int
spool_fail(struct message *m)
{
	m->spool_failed = 1;
	message_drop(m);
	return -1;
}

void
message_spool_settle(struct message *m)
{
	if (m->spool && spool_file_error(m->spool))
		spool_fail(m);
}

int
message_spool(struct message *m)
{
	if (m->spool_threshold == 0 || !m->body_started || m->dropped ||
	    m->len <= m->spool_threshold || m->cursor <= m->body_offset ||
	    message_spool_held(m))
		return 0;
	size_t n = m->cursor - m->body_offset;
	char *copy = malloc(n);
	if (copy == NULL)
		return spool_fail(m);
	memcpy(copy, m->buf + m->body_offset, n);
	if (m->spool == NULL)
		m->spool = spool_file_new(m->spool_dir, m->spool_wake,
		    m->spool_wake_arg);
	if (spool_file_write(m->spool, copy, n, (off_t)m->spooled) < 0)
		return spool_fail(m);
	m->spooled += n;
	memmove(m->buf + m->body_offset, m->buf + m->cursor,
	    m->len - m->cursor);
	m->len -= n;
	m->cursor = m->scanned = m->body_offset;
	return 0;
}

static int
grow(struct message *m, size_t need)
{
	size_t cap = m->cap ? m->cap : 16384;

	while (cap < need)
		cap *= 2;
	if (cap > m->limit + 1)
		cap = m->limit + 1;
	char *nb = realloc(m->buf, cap);
	if (nb == NULL)
		return -1;
	m->buf = nb;
	m->cap = cap;
	return 0;
}

void
message_append(struct message *m, const char *p, size_t n)
{
	m->total += n;
	if (m->dropped && m->total > m->limit)
		m->overflow = 1;
	/* An empty piece (a milter's empty body chunk) may come with no
	 * buffer at all, and m->buf is NULL until the first octet. */
	if (m->overflow || m->dropped || n == 0)
		return;
	if (m->spooled + m->len + n > m->limit || (m->len + n > m->cap &&
	    grow(m, m->len + n) < 0)) {
		m->overflow = 1;
		return;
	}
	memcpy(m->buf + m->len, p, n);
	m->len += n;
}

void
message_drop(struct message *m)
{
	free(m->buf);
	m->buf = NULL;
	if (m->spool)
		spool_file_release(m->spool);
	spool_ahead_free(&m->ahead);
	m->spool = NULL;
	m->spooled = 0;
	m->len = m->cap = m->cursor = m->scanned = 0;
	m->field_end = 0;
	m->dropped = 1;
}

/* Offset just past the CRLF (or LF) ending the line at off, or 0.  The
 * search goes on from where the last one stopped, so a line arriving in
 * many pieces is looked at once, not once per piece (a 50 MiB header
 * line cost quadratic time). */
static size_t
line_end(struct message *m, size_t off)
{
	size_t from = m->scanned > off ? m->scanned : off;
	const char *lf = memchr(m->buf + from, '\n', m->len - from);

	if (lf == NULL) {
		m->scanned = m->len;
		return 0;
	}
	m->scanned = (size_t)(lf - m->buf) + 1;
	return m->scanned;
}

static int
field_name_valid(const char *p, size_t len)
{
	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c < 33 || c > 126 || c == ':')
			return 0;
	}
	return 1;
}

static int
push_header(struct message *m, size_t at, const char *name, size_t nlen,
    const char *value, size_t vlen)
{
	if (m->nhdrs == m->hcap) {
		size_t cap = m->hcap ? m->hcap * 2 : 32;
		struct header *nh = realloc(m->hdrs, cap * sizeof(*nh));
		if (nh == NULL)
			return -1;
		m->hdrs = nh;
		m->hcap = cap;
	}
	char *n = strndup(name, nlen);
	char *v = strndup(value, vlen);
	if (n == NULL || v == NULL) {
		free(n);
		free(v);
		return -1;
	}
	memmove(&m->hdrs[at + 1], &m->hdrs[at],
	    (m->nhdrs - at) * sizeof(*m->hdrs));
	m->hdrs[at].name = n;
	m->hdrs[at].value = v;
	m->nhdrs++;
	return 0;
}

static int
end_headers(struct message *m, size_t body_offset)
{
	m->body_started = 1;
	m->body_offset = body_offset;
	m->cursor = body_offset;
	return -1;
}

/* The first line of the field at the cursor: 1 once it is known to be a
 * field (its end and colon remembered), 0 when more is needed, -1 when
 * the headers end there. */
static int
field_start(struct message *m, int complete)
{
	size_t start = m->cursor;
	size_t end = line_end(m, start);

	if (end == 0)
		return complete ? end_headers(m, start) : 0;
	const char *line = m->buf + start;
	if (line[0] == '\r' || line[0] == '\n')
		return end_headers(m, end);
	const char *colon = memchr(line, ':', end - start);
	if (colon == NULL || !field_name_valid(line, (size_t)(colon - line)))
		return end_headers(m, start);
	m->field_end = end;
	m->field_colon = (size_t)(colon - m->buf);
	return 1;
}

int
message_next_header(struct message *m, int complete, size_t *index)
{
	size_t start = m->cursor;

	if (m->body_started)
		return -1;
	if (start >= m->len)
		return complete ? end_headers(m, m->len) : 0;
	if (m->field_end == 0) {
		int r = field_start(m, complete);
		if (r <= 0)
			return r;
	}
	/* A field goes on while the next line starts with a blank. */
	size_t end = m->field_end;
	while (end < m->len && (m->buf[end] == ' ' || m->buf[end] == '\t')) {
		size_t next = line_end(m, end);
		if (next == 0)
			return complete ? end_headers(m, start) : 0;
		end = m->field_end = next;
	}
	if (end == m->len && !complete)
		return 0;
	const char *line = m->buf + start;
	const char *colon = m->buf + m->field_colon;
	size_t vlen = end - (m->field_colon + 1);
	while (vlen > 0 && (colon[vlen] == '\n' || colon[vlen] == '\r'))
		vlen--;
	m->field_end = 0;
	if (push_header(m, m->nhdrs, line, (size_t)(colon - line), colon + 1,
	    vlen) < 0)
		return end_headers(m, start);
	m->cursor = end;
	*index = m->nhdrs - 1;
	return 1;
}

const char *
message_header_value(const struct message *m, size_t index)
{
	const char *v = m->hdrs[index].value;

	while (*v == ' ' || *v == '\t')
		v++;
	return v;
}

int
message_add_header(struct message *m, const char *name, const char *value)
{
	return message_insert_header(m, m->nhdrs, name, value);
}

int
message_insert_header(struct message *m, size_t index, const char *name,
    const char *value)
{
	char buf[8192];

	if (!field_name_valid(name, strlen(name)) || strchr(value, '\r') ||
	    strlen(value) + 2 > sizeof(buf))
		return -1;
	if (index > m->nhdrs)
		index = m->nhdrs;
	snprintf(buf, sizeof(buf), " %s", value);
	return push_header(m, index, name, strlen(name), buf, strlen(buf));
}

int
message_change_header(struct message *m, const char *name, size_t nth,
    const char *value)
{
	size_t seen = 0;

	for (size_t i = 0; i < m->nhdrs; i++) {
		if (strcasecmp(m->hdrs[i].name, name) != 0 || ++seen != nth)
			continue;
		if (value == NULL) {
			free(m->hdrs[i].name);
			free(m->hdrs[i].value);
			memmove(&m->hdrs[i], &m->hdrs[i + 1],
			    (m->nhdrs - i - 1) * sizeof(*m->hdrs));
			m->nhdrs--;
			return 0;
		}
		char *v = NULL;
		if (strchr(value, '\r') || asprintf(&v, " %s", value) < 0)
			return -1;
		free(m->hdrs[i].value);
		m->hdrs[i].value = v;
		return 0;
	}
	return -1;
}

/* Write text with every bare LF turned into CRLF (header values added by
 * plugins may fold with "\n\t"). */
static int
write_crlf(const char *p, size_t len, ehlod_sink sink, void *arg)
{
	const char *start = p, *end = p + len, *lf = p;

	while ((lf = memchr(lf, '\n', (size_t)(end - lf))) != NULL) {
		if (lf > p && lf[-1] == '\r') {
			lf++;
			continue;
		}
		if (sink(arg, start, (size_t)(lf - start)) < 0 ||
		    sink(arg, "\r\n", 2) < 0)
			return -1;
		start = ++lf;
	}
	return sink(arg, start, (size_t)(end - start));
}

static int
write_spooled(const struct message *m, ehlod_sink sink, void *arg)
{
	char chunk[65536];
	off_t off = 0;
	int fd = spool_file_fd(m->spool);

	if (fd < 0)
		return -1;

	while ((size_t)off < m->spooled) {
		size_t want = m->spooled - (size_t)off;
		if (want > sizeof(chunk))
			want = sizeof(chunk);
		ssize_t r = pread(fd, chunk, want, off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || sink(arg, chunk, (size_t)r) < 0)
			return -1;
		off += r;
	}
	return 0;
}

/* Received header, the header fields and the blank line. */
static int
write_head(const struct message *m, ehlod_sink sink, void *arg)
{
	if (m->received && (write_crlf(m->received, strlen(m->received),
	    sink, arg) < 0 || sink(arg, "\r\n", 2) < 0))
		return -1;
	for (size_t i = 0; i < m->nhdrs; i++) {
		const struct header *h = &m->hdrs[i];
		if (sink(arg, h->name, strlen(h->name)) < 0 ||
		    sink(arg, ":", 1) < 0 ||
		    write_crlf(h->value, strlen(h->value), sink, arg) < 0 ||
		    sink(arg, "\r\n", 2) < 0)
			return -1;
	}
	return sink(arg, "\r\n", 2);
}

static size_t
body_in_buf(const struct message *m)
{
	size_t body = m->body_started ? m->body_offset : m->len;

	return m->len - body;
}

int
message_write(const struct message *m, ehlod_sink sink, void *arg)
{
	if (write_head(m, sink, arg) < 0)
		return -1;
	if (m->spool && write_spooled(m, sink, arg) < 0)
		return -1;
	size_t n = body_in_buf(m);
	if (n > 0 && sink(arg, m->buf + m->len - n, n) < 0)
		return -1;
	return 0;
}

static int
count_sink(void *arg, const void *data, size_t len)
{
	(void)data;
	*(size_t *)arg += len;
	return 0;
}

size_t
message_output_size(const struct message *m)
{
	size_t n = 0;

	write_head(m, count_sink, &n);
	return n + m->spooled + body_in_buf(m);
}

int
message_spool_fd(const struct message *m, size_t *offset, size_t *len)
{
	size_t head = 0;
	int fd;

	if (m->spool == NULL || m->spooled == 0 ||
	    (fd = spool_file_fd(m->spool)) < 0)
		return -1;
	write_head(m, count_sink, &head);
	*offset = head;
	*len = m->spooled;
	return fd;
}

/* message_pread's view of the head: the octets from off on, into buf. */
struct window {
	size_t pos;		/* head octets gone by */
	size_t off;
	char *buf;
	size_t len, got;
};

static int
window_sink(void *arg, const void *data, size_t len)
{
	struct window *w = arg;
	size_t skip = 0, n;

	if (w->pos + len <= w->off) {
		w->pos += len;
		return 0;
	}
	if (w->pos < w->off)
		skip = w->off - w->pos;
	n = len - skip;
	if (n > w->len - w->got)
		n = w->len - w->got;
	memcpy(w->buf + w->got, (const char *)data + skip, n);
	w->got += n;
	w->pos += skip + n;
	return w->got == w->len ? -1 : 0;	/* full: stop early */
}

static long
pread_spool(const struct message *m, char *buf, size_t len, size_t off)
{
	int fd = spool_file_fd(m->spool);

	if (fd < 0)
		return -1;
	for (;;) {
		ssize_t r = pread(fd, buf, len, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		return r <= 0 ? -1 : (long)r;	/* 0: the file shrank */
	}
}

long
message_pread(const struct message *m, void *buf, size_t len, size_t offset)
{
	struct window w = { 0, offset, buf, len, 0 };
	size_t spooled = m->spool ? m->spooled : 0, inbuf;

	if (len > LONG_MAX)
		len = w.len = LONG_MAX;
	/* A read that ends within the head, or at its end, is short: the
	 * caller asks again from where it got to. */
	if (len == 0 || write_head(m, window_sink, &w) < 0 || w.got > 0)
		return (long)w.got;
	offset -= w.pos;	/* into the body */
	if (offset < spooled) {
		size_t want = spooled - offset;

		return pread_spool(m, buf, want < len ? want : len, offset);
	}
	offset -= spooled;
	inbuf = body_in_buf(m);
	if (offset >= inbuf)
		return 0;
	if (len > inbuf - offset)
		len = inbuf - offset;
	memcpy(buf, m->buf + m->len - inbuf + offset, len);
	return (long)len;
}

long
message_pread_nowait(struct message *m, void *buf, size_t len,
    size_t offset, void (*ready)(void *), void *arg)
{
	size_t head = 0;

	if (m->spool == NULL || m->spooled == 0 || message_spool_busy(m) ||
	    spool_file_error(m->spool))
		return message_pread(m, buf, len, offset);
	write_head(m, count_sink, &head);
	/* The head, and the body not spooled: in memory.  A read of the
	 * head stops at its end (message_pread), so it never reaches the
	 * file. */
	if (offset < head || offset - head >= m->spooled)
		return message_pread(m, buf, len, offset);
	return spool_ahead_pread(&m->ahead, m->spool, m->spooled, buf, len,
	    offset - head, ready, arg);
}
