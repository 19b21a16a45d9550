/*
 * NAME
 *	dsn_parse.h - the DSN parameters of RFC 3461: RET, ENVID, NOTIFY,
 *	ORCPT
 * SUMMARY
 *	#include "dsn_parse.h"
 *
 *	const char *why;
 *	char out[DSN_ORCPT_OUT];
 *
 *	dsn_parse_ret(value, out, sizeof(out), &why)
 *	dsn_parse_envid(value, out, sizeof(out), &why)
 *	dsn_parse_notify(value, out, sizeof(out), &why)
 *	dsn_parse_orcpt(value, smtputf8, out, sizeof(out), &why)
 * DESCRIPTION
 *	Each function checks one parameter value as the client sent it and
 *	writes its canonical form into out: what the dsn plugin stores for
 *	delivery plugins.  It returns 0, or -1 with why pointing at a short
 *	static explanation for the 501 reply (out is then undefined).
 *
 *	RET (RFC 3461 section 4.3): FULL or HDRS in any case; out is the
 *	upper-case word.
 *
 *	ENVID (section 4.4): xtext of at most 100 characters; out is the
 *	decoded text, which must be printable US-ASCII (graphic characters,
 *	space and tab), so no NUL, CR or LF can hide in it.
 *
 *	NOTIFY (section 4.1): NEVER alone, or a comma-separated list of
 *	SUCCESS, FAILURE and DELAY, each at most once, in any case; out is
 *	"NEVER" or the list in the order SUCCESS,FAILURE,DELAY.
 *
 *	ORCPT (section 4.2): addr-type ";" xtext, at most 500 characters
 *	with the "ORCPT=" keyword; addr-type is an RFC 5322 atom (rfc822,
 *	utf-8, ...).  The xtext is decoded and must be printable US-ASCII and
 *	not empty.  In an SMTPUTF8 transaction an ORCPT of type utf-8 may
 *	instead carry UTF-8 as it is (RFC 6533 utf-8-addr-unitext); it must
 *	then be well-formed, without controls, "+" or "=", and it is kept
 *	as sent (its \x{HEX} escapes, if any, included).  out is
 *	"addr-type;address", decoded; the value itself, once accepted, is
 *	the form to pass on to another server.
 *
 *	The xtext decoding is the shared one of esmtp.h, the atom check
 *	that of address.h.
 */
#ifndef EHLOD_PROTO_DSN_PARSE_H
#define EHLOD_PROTO_DSN_PARSE_H

#include <stddef.h>

#define DSN_ENVID_MAX 100	/* RFC 3461 section 4.4 */
#define DSN_ORCPT_MAX 500	/* section 4.2, "ORCPT=" included */
#define DSN_ORCPT_VALUE_MAX (DSN_ORCPT_MAX - 6)
#define DSN_ENVID_OUT (DSN_ENVID_MAX + 1)
#define DSN_NOTIFY_OUT 32
#define DSN_ORCPT_OUT (DSN_ORCPT_VALUE_MAX + 1)

int dsn_parse_ret(const char *value, char *out, size_t outlen,
    const char **why);

int dsn_parse_envid(const char *value, char *out, size_t outlen,
    const char **why);

/* NOTIFY keywords and the bit each one sets. */
#define DSN_NOTIFY_NEVER 1u
#define DSN_NOTIFY_SUCCESS 2u
#define DSN_NOTIFY_FAILURE 4u
#define DSN_NOTIFY_DELAY 8u

int dsn_parse_notify(const char *value, char *out, size_t outlen,
    const char **why);

int dsn_parse_orcpt(const char *value, int smtputf8, char *out, size_t outlen,
    const char **why);

#endif
