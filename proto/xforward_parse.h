/*
 * NAME
 *	xforward_parse.h - the attributes of Postfix's XFORWARD command
 * SUMMARY
 *	#include "xforward_parse.h"
 *
 *	struct xforward_attrs a;
 *	char bad[XFORWARD_BAD_OUT];
 *	const char *why;
 *
 *	xforward_parse(arg, &a, bad, sizeof(bad), &why)
 * DESCRIPTION
 *	xforward_parse() reads the argument of an XFORWARD command (no RFC;
 *	Postfix's XFORWARD_README): one or more attribute=value separated
 *	by spaces.  The attributes are NAME ADDR PORT PROTO HELO IDENT
 *	SOURCE, in any case; each value is xtext (RFC 3461 section 4) of
 *	at most XFORWARD_VALUE_MAX octets once decoded.  "[UNAVAILABLE]"
 *	and "[TEMPUNAVAIL]" (any case) mean the proxy does not know; so does
 *	an empty HELO.  When an attribute comes twice the later one counts.
 *
 *	In each decoded value, every octet a HELO command could not carry
 *	(controls, NUL included, space and DEL) becomes "?", so that no CR
 *	or LF taken from the original client reaches a log line or the
 *	Received header, and no NUL cuts a value short.  For each
 *	attribute with a known value, a->known[attr] is 1 and
 *	a->value[attr] holds it:
 *	  ADDR: an IPv4 or IPv6 address, Postfix's "IPV6:" prefix removed;
 *	  PORT: decimal, 0 to 65535;
 *	  the others: the decoded text.
 *
 *	Returns 0, or -1 with why pointing at a short static explanation
 *	for the 501 reply and bad holding the attribute concerned as sent
 *	(at most badlen-1 octets of it, controls as "?"; empty when the
 *	argument has none).  *a is written only on success, so that a
 *	refused command changes nothing.
 */
#ifndef EHLOD_PROTO_XFORWARD_PARSE_H
#define EHLOD_PROTO_XFORWARD_PARSE_H

#include <stddef.h>

#define XFORWARD_VALUE_MAX 255
#define XFORWARD_BAD_OUT 41

enum xforward_attr {
	XFORWARD_NAME,
	XFORWARD_ADDR,
	XFORWARD_PORT,
	XFORWARD_PROTO,
	XFORWARD_HELO,
	XFORWARD_IDENT,
	XFORWARD_SOURCE,
	XFORWARD_ATTRS
};

struct xforward_attrs {
	unsigned char known[XFORWARD_ATTRS];
	char value[XFORWARD_ATTRS][XFORWARD_VALUE_MAX + 1];
};

int xforward_parse(const char *arg, struct xforward_attrs *a, char *bad,
    size_t badlen, const char **why);

#endif
