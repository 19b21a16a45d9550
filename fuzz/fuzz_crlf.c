/*
 * fuzz_crlf - libFuzzer target: CRLF to LF across chunk boundaries
 * DESCRIPTION
 *	The input is message content as a client sends it; its first octet
 *	seeds the cut points.  proto/crlf.c converts it in those pieces
 *	(some empty), and the result must equal a per-octet reference run
 *	over the whole input: only CRLF pairs lose their CR, a CR at a
 *	piece's end waits for the next octet, and no call writes more than
 *	its piece plus the CR it held.  This is the conversion maildir makes
 *	of every message, in the event loop and in its delivery threads.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crlf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What the conversion means, one octet at a time. */
static size_t
reference(const uint8_t *in, size_t len, uint8_t *out)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		if (!(in[i] == '\r' && i + 1 < len && in[i + 1] == '\n'))
			out[n++] = in[i];
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct crlf st = { 0 };
	uint8_t *want, *got;
	size_t nwant, ngot = 0, at = 0;
	unsigned seed;

	if (size < 1)
		return 0;
	seed = data[0];
	data++;
	size--;
	want = malloc(size + 1);
	got = malloc(size + 1);
	if (want == NULL || got == NULL)
		abort();
	nwant = reference(data, size, want);
	while (at < size) {
		size_t piece, n;

		seed = seed * 1103515245u + 12345u;
		piece = (seed >> 16) % 9;	/* 0..8: empty pieces too */
		if (piece > size - at)
			piece = size - at;
		n = crlf_to_lf(&st, data + at, piece, got + ngot);
		if (n > piece + 1)
			abort();
		ngot += n;
		at += piece;
	}
	ngot += crlf_finish(&st, got + ngot);
	if (ngot != nwant || memcmp(got, want, ngot) != 0)
		abort();
	free(want);
	free(got);
	return 0;
}
