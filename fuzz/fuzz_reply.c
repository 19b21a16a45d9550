/*
 * fuzz_reply - libFuzzer target: the client's reply parser and EHLO table
 * DESCRIPTION
 *	The input is what a hostile server sends.  It is cut into lines at
 *	LF (a CR before it dropped), and each line, an exact-size copy, goes
 *	to the incremental reply parser (proto/reply_parser.c) with the client's
 *	bounds.  Every complete reply is read the ways the client reads it:
 *	enhanced code, joined text, and as an EHLO reply into the keyword
 *	table (proto/ehlo_table.c) with the lookups the client makes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ehlo_table.h"
#include "reply_parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
use_reply(const struct smtp_reply *r)
{
	struct ehlo_table t;
	char enh[REPLY_ENHANCED_MAX], text[256];

	if (r->code < 200 || r->code > 599 || r->nlines == 0 ||
	    r->nlines > REPLY_MAX_LINES)
		abort();
	size_t took = reply_enhanced(r, enh, sizeof(enh));
	if (took > strlen(r->lines[0]) || (took && strlen(enh) >= sizeof(enh)))
		abort();
	reply_text(r, text, sizeof(text));
	if (strlen(text) >= sizeof(text))
		abort();
	ehlo_table_init(&t);
	if (ehlo_table_parse(&t, r) == 0) {
		if (t.n > EHLO_MAX_KEYWORDS)
			abort();
		for (size_t i = 0; i < t.n; i++)
			if (ehlo_table_find(&t, t.e[i].keyword) == NULL)
				abort();
		ehlo_table_has(&t, "PIPELINING");
		ehlo_table_has_param(&t, "AUTH", "PLAIN");
		ehlo_table_has_param(&t, "BODY", "8BITMIME");
		ehlo_table_size_limit(&t);
	}
	ehlo_table_free(&t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reply_parser p;
	size_t off = 0;

	reply_parser_init(&p, REPLY_MAX_LINES, REPLY_LINE_MAX - 2);
	while (off < size) {
		const uint8_t *nl = memchr(data + off, '\n', size - off);
		size_t len = nl ? (size_t)(nl - data) - off : size - off;
		size_t next = off + len + (nl != NULL);
		const char *why = NULL;

		if (len > 0 && data[off + len - 1] == '\r')
			len--;
		char *line = malloc(len ? len : 1);
		if (line == NULL)
			abort();
		memcpy(line, data + off, len);
		enum reply_status st = reply_parser_feed(&p, line, len, &why);
		free(line);
		off = next;
		if (st == REPLY_ERROR && why == NULL)
			abort();
		if (st == REPLY_DONE) {
			struct smtp_reply r;

			reply_parser_take(&p, &r);
			use_reply(&r);
			reply_free(&r);
		}
	}
	reply_parser_free(&p);
	return 0;
}
