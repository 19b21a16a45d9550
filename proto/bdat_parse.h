/*
 * NAME
 *	bdat_parse.h - the argument of the BDAT command (RFC 3030)
 * SUMMARY
 *	#include "bdat_parse.h"
 *
 *	uint64_t size;
 *	int last;
 *	const char *why;
 *
 *	if (bdat_parse(args, &size, &last, &why) < 0)
 *		reply 501 with why
 * DESCRIPTION
 *	RFC 3030 section 2: bdat-cmd = "BDAT" SP chunk-size [ SP end-marker ]
 *	CR LF, chunk-size = 1*DIGIT, end-marker = "LAST".  args is what
 *	follows "BDAT " (the server has cut the verb and the spaces after
 *	it).  The size is 1 to 20 digits and must fit in 64 bits and in a
 *	size_t; "LAST" is matched without regard to case, after exactly one
 *	space; nothing may follow.  Returns 0, or -1 with why pointing at a
 *	static explanation.
 *
 *	Strict on purpose: the size says how many of the next octets are
 *	message content, and a size read wrongly would make the server take
 *	content for commands or commands for content.
 */
#ifndef EHLOD_PROTO_BDAT_PARSE_H
#define EHLOD_PROTO_BDAT_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define BDAT_SIZE_DIGITS 20

int bdat_parse(const char *args, uint64_t *size, int *last, const char **why);

#endif
