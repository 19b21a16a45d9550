/*
 * fuzz_bdat - libFuzzer target: BDAT framing (RFC 3030)
 * DESCRIPTION
 *	The input is a client's stream of "BDAT size [LAST]" commands, each
 *	followed by its chunk.  Lines are cut by the bounded line reader,
 *	the argument read by bdat_parse() (proto/bdat_parse.c, the code the
 *	chunking plugin runs), and exactly the declared number of octets is
 *	taken as content before the next command is read.  The framing must
 *	never take more octets than arrived, nor lose count of them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <event2/buffer.h>

#include "../core/linereader.h"
#include "bdat_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct linereader lr;
	struct evbuffer *in = evbuffer_new();
	size_t content = 0;
	enum line_status st;
	char *line;
	size_t len;

	if (in == NULL || linereader_init(&lr, 512) < 0)
		abort();
	evbuffer_add(in, data, size);
	while ((st = linereader_next(&lr, in, &line, &len)) != LINE_NEED_MORE) {
		uint64_t chunk;
		const char *why;
		int last;

		/* The server answers 500 to a line holding a NUL. */
		if (st != LINE_OK || strlen(line) != len ||
		    strncasecmp(line, "BDAT ", 5) != 0)
			continue;
		if (bdat_parse(line + 5, &chunk, &last, &why) < 0) {
			if (why == NULL)
				abort();
			continue;
		}
		if (last && strcasecmp(line + len - 4, "LAST") != 0)
			abort();
		size_t have = evbuffer_get_length(in);
		size_t take = chunk < have ? (size_t)chunk : have;
		if (evbuffer_drain(in, take) < 0)
			abort();
		content += take;
		if (evbuffer_get_length(in) != have - take || content > size)
			abort();
		if (last)
			break;
	}
	linereader_free(&lr);
	evbuffer_free(in);
	return 0;
}
