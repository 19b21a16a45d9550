/*
 * NAME
 *	enhanced_code.h - RFC 3463 enhanced status codes
 * SUMMARY
 *	#include "enhanced_code.h"
 *
 *	struct enhanced_code ec;
 *	size_t n = enhanced_code_scan(text, &ec);
 * DESCRIPTION
 *	An enhanced status code is "class.subject.detail" (RFC 3463 section
 *	2): a class digit, a subject and a detail of 1 to 3 digits each.  The
 *	server checks the codes plugins give it, the client and the relay
 *	plugin read them off the front of a reply's text; all of them use
 *	this one scanner.
 *
 *	enhanced_code_scan() returns the length of the code at the start of
 *	text and fills ec, or returns 0 when text does not start with one.
 *	It accepts any class digit and leaves what follows the code to the
 *	caller (end of string, a space before the reply text, ...).
 *
 *	enhanced_code_split() takes a whole string that is a code of class 2,
 *	4 or 5 and nothing else; it returns 0, or -1.
 *
 *	enhanced_code_fits() is 1 when text is a whole code whose class is
 *	the first digit of the reply code it goes with (a "5.x.x" code on a
 *	4xx reply does not fit).
 */
#ifndef EHLOD_PROTO_ENHANCED_CODE_H
#define EHLOD_PROTO_ENHANCED_CODE_H

#include <stddef.h>

struct enhanced_code {
	int cls;
	int subject;
	int detail;
};

size_t enhanced_code_scan(const char *text, struct enhanced_code *ec);
int enhanced_code_split(const char *text, struct enhanced_code *ec);
int enhanced_code_fits(const char *text, int reply_code);

#endif
