/*
 * fuzz_client_message - libFuzzer target: a message made ready for the
 * wire, in pieces
 * DESCRIPTION
 *	The input's first octet picks the form (CRLF, dot-stuffed, raw) and
 *	seeds the cut points; the rest is the message, as a relay hands it
 *	to the client library a piece at a time.  client/client_message.c
 *	builds it in those pieces (some empty), copying runs of plain
 *	octets at once; the result, its SIZE= count and its 8-bit flag
 *	must equal a per-octet reference run over the whole input: a bare
 *	CR or LF becomes CRLF, CRLF stays, a dot opening a line is doubled
 *	for DATA, raw octets stay as they are.  client_message_measure()
 *	must agree on the count and the flag.  Every message ehlod relays
 *	goes through this code.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client_message.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct reference {
	uint8_t *out;
	size_t len, crlf_len;
	int has_8bit;
};

/* What the forms mean, one octet at a time, over the whole message. */
static void
reference(const uint8_t *in, size_t len, enum message_form form,
    struct reference *r)
{
	int bol = 1;

	r->len = r->crlf_len = 0;
	r->has_8bit = 0;
	for (size_t i = 0; i < len; i++) {
		if (in[i] > 127)
			r->has_8bit = 1;
		if (form == FORM_RAW) {
			r->out[r->len++] = in[i];
			r->crlf_len++;
			continue;
		}
		if (in[i] == '\r' || in[i] == '\n') {
			if (in[i] == '\r' && i + 1 < len && in[i + 1] == '\n')
				i++;
			r->out[r->len++] = '\r';
			r->out[r->len++] = '\n';
			r->crlf_len += 2;
			bol = 1;
			continue;
		}
		if (bol && in[i] == '.' && form == FORM_STUFFED)
			r->out[r->len++] = '.';
		r->out[r->len++] = in[i];
		r->crlf_len++;
		bol = 0;
	}
	if (form != FORM_RAW && !bol) {
		r->out[r->len++] = '\r';
		r->out[r->len++] = '\n';
		r->crlf_len += 2;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct client_message m;
	struct reference want;
	enum message_form form;
	size_t at = 0, crlf_len;
	unsigned seed;
	int has_8bit;

	if (size < 1)
		return 0;
	seed = data[0];
	form = (enum message_form)(data[0] % 3);
	data++;
	size--;
	want.out = malloc(2 * size + 2);
	if (want.out == NULL)
		abort();
	reference(data, size, form, &want);
	/* No size hint at times, so that the buffer grows as it goes. */
	client_message_begin(&m, form, (seed & 8) ? size : 0);
	while (at < size) {
		size_t piece;

		seed = seed * 1103515245u + 12345u;
		piece = (seed >> 16) % 97;	/* 0..96: empty pieces too */
		if (piece > size - at)
			piece = size - at;
		if (client_message_add(&m, data + at, piece) < 0)
			abort();
		at += piece;
	}
	if (client_message_finish(&m) < 0)
		abort();
	if (m.out_len != want.len || (want.len > 0 &&
	    memcmp(m.out, want.out, want.len) != 0) ||
	    m.crlf_len != want.crlf_len || m.has_8bit != want.has_8bit)
		abort();
	if (form != FORM_RAW) {
		client_message_measure(data, size, &crlf_len, &has_8bit);
		if (crlf_len != want.crlf_len || has_8bit != want.has_8bit)
			abort();
	}
	client_message_free(&m);
	free(want.out);
	return 0;
}
