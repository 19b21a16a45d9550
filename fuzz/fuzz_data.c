/*
 * fuzz_data - libFuzzer target: DATA content as the core reads it
 * DESCRIPTION
 *	The end at CRLF "." CRLF, dot-unstuffing and bare CR / bare LF
 *	detection (core/data.c), the header split the header hooks see
 *	(core/message.c) and the output a delivery plugin reads.  The first
 *	octets pick the size limit and the size of the pieces the input
 *	arrives in; the same input read whole must give the same content
 *	length, the same end and the same flags as read piece by piece,
 *	since TCP may cut it anywhere.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"
#include "message.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct outcome {
	size_t consumed;
	int done, bare_cr, bare_lf, overflow;
	size_t len, total;
};

static int
discard_sink(void *arg, const void *p, size_t len)
{
	size_t *n = arg;

	(void)p;
	*n += len;
	return 0;
}

/* Headers as the content pump splits them while content arrives. */
static void
take_headers(struct message *m, int complete)
{
	size_t idx;
	int r;

	while ((r = message_next_header(m, complete, &idx)) == 1) {
		if (idx >= m->nhdrs)
			abort();
		message_header_value(m, idx);
	}
}

static struct outcome
read_content(const char *in, size_t len, size_t step, size_t limit)
{
	struct data_reader r;
	struct message m;
	struct outcome o = { 0 };
	size_t written = 0;

	data_reader_init(&r);
	message_init(&m, limit);
	while (o.consumed < len && !o.done) {
		size_t n = step && len - o.consumed > step ? step :
		    len - o.consumed;
		size_t used = data_scan(&r, in + o.consumed, n, &m, &o.done);

		if (used > n || (!o.done && used != n))
			abort();
		o.consumed += used;
		take_headers(&m, o.done || m.overflow);
	}
	if (o.done && !m.overflow) {
		message_add_header(&m, "X-Fuzz", " yes");
		if (message_write(&m, discard_sink, &written) == 0 &&
		    written != message_output_size(&m))
			abort();
	}
	o.bare_cr = r.bare_cr;
	o.bare_lf = r.bare_lf;
	o.overflow = m.overflow;
	o.len = m.len;
	o.total = m.total;
	message_free(&m);
	return o;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outcome whole, pieces;
	size_t step, limit;

	if (size < 2)
		return 0;
	step = data[0] % 16 + 1;
	limit = data[1] & 0x80 ? (size_t)(data[1] & 0x7f) * 8 : 1 << 20;
	data += 2;
	size -= 2;
	whole = read_content((const char *)data, size, 0, limit);
	pieces = read_content((const char *)data, size, step, limit);
	if (whole.consumed != pieces.consumed || whole.done != pieces.done ||
	    whole.bare_cr != pieces.bare_cr ||
	    whole.bare_lf != pieces.bare_lf || whole.total != pieces.total ||
	    whole.overflow != pieces.overflow)
		abort();
	/* Past the limit what was stored depends on the pieces; only the
	 * count matters then (552 at the end). */
	if (!whole.overflow && whole.len != pieces.len)
		abort();
	return 0;
}
