/*
 * fuzz_command - libFuzzer target: command lines as the server reads them
 * DESCRIPTION
 *	The input is the client's byte stream.  The bounded line reader cuts
 *	it into lines (core/linereader.c); each line's argument goes through
 *	the MAIL/RCPT splitter and the esmtp-param grammar (proto/esmtp.c),
 *	then its path through the address checker and its values through the
 *	xtext decoder, as the core does before any plugin sees them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>

#include "address.h"
#include "esmtp.h"
#include "utf8.h"
#include "../core/linereader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The shortest line limit the server uses (RFC 5321's 512), plus the
 * increments SIZE and 8BITMIME declare, so over-long lines are hit. */
#define LINE_LIMIT 552

static void
check_params(struct esmtp_param *params, size_t n)
{
	char out[512];

	for (size_t i = 0; i < n; i++) {
		const char *k = params[i].keyword, *v = params[i].value;

		esmtp_keyword_valid(k, strlen(k));
		if (v == NULL)
			continue;
		esmtp_value_valid(v, strlen(v), 0);
		esmtp_value_valid(v, strlen(v), 1);
		long len = esmtp_xtext_decode(v, out, sizeof(out));
		if (len >= (long)sizeof(out))
			abort();
	}
}

/* One line, split as the argument of MAIL (FROM:) or RCPT (TO:). */
static void
split_line(const char *line, size_t len, const char *prefix, unsigned flags)
{
	struct esmtp_param params[ESMTP_MAX_PARAMS];
	size_t n = 0;
	char *path, *arg = malloc(len + 1);
	const char *why, *mailbox;

	if (arg == NULL)
		return;
	memcpy(arg, line, len + 1);
	if (esmtp_split_command(arg, prefix, &path, params, &n, &why) ==
	    ESMTP_OK) {
		if (n > ESMTP_MAX_PARAMS)
			abort();
		check_params(params, n);
		if (address_check_path(path, flags, &mailbox, &why) == 0) {
			address_domain(mailbox);
			utf8_has_8bit(mailbox, strlen(mailbox));
		}
	}
	free(arg);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct linereader lr;
	struct evbuffer *in = evbuffer_new();
	enum line_status st;
	char *line;
	size_t len;

	if (in == NULL || linereader_init(&lr, LINE_LIMIT) < 0)
		abort();
	evbuffer_add(in, data, size);
	while ((st = linereader_next(&lr, in, &line, &len)) != LINE_NEED_MORE) {
		if (st != LINE_OK)
			continue;
		if (len + (lr.bare_lf ? 1 : 2) > LINE_LIMIT || strlen(line) > len)
			abort();
		/* The server answers 500 to a line holding a NUL. */
		if (strlen(line) != len)
			continue;
		esmtp_ehlo_param_valid(line, len);
		split_line(line, len, "FROM:", ADDRESS_ALLOW_EMPTY |
		    ADDRESS_ALLOW_UTF8);
		split_line(line, len, "TO:", ADDRESS_ALLOW_POSTMASTER);
	}
	linereader_free(&lr);
	evbuffer_free(in);
	return 0;
}
