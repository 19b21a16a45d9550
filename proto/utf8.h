/*
 * NAME
 *	utf8.h - is a string 8-bit, is it well-formed UTF-8
 * SUMMARY
 *	#include "utf8.h"
 *
 *	utf8_has_8bit(p, len)	1 when an octet is above 127
 *	utf8_valid(p, len)	1 when p is well-formed UTF-8 (RFC 3629)
 * DESCRIPTION
 *	RFC 6531 (SMTPUTF8) lets mailboxes and header fields carry UTF-8,
 *	and RFC 6533 lets an ORCPT of type utf-8 carry it raw.  The smtputf8
 *	and dsn plugins judge such strings with these two functions.
 *
 *	utf8_valid() follows RFC 3629 section 4: no overlong forms, no
 *	surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no truncated
 *	sequence.  ASCII, NUL included, is valid: callers that must refuse
 *	control characters do so themselves.
 */
#ifndef EHLOD_PROTO_UTF8_H
#define EHLOD_PROTO_UTF8_H

#include <stddef.h>

int utf8_has_8bit(const char *p, size_t len);

int utf8_valid(const char *p, size_t len);

#endif
