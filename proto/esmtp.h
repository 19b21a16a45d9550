/*
 * NAME
 *	esmtp.h - the esmtp-param grammar of RFC 1869 section 6 / RFC 5321 4.1.2
 * SUMMARY
 *	#include "esmtp.h"
 * DESCRIPTION
 *	Shared by the server core (to check MAIL FROM / RCPT TO arguments
 *	before any plugin sees them), the client (to build them) and the milter
 *	host (to split the ESMTP arguments an MTA hands over).
 *
 *	esmtp_split_command() takes the text after "MAIL" or "RCPT", checks
 *	"FROM:" / "TO:", cuts the <path> out and splits the parameters in
 *	place; it does not judge the path (see address.h) nor whether a
 *	parameter is known.
 */
#ifndef EHLOD_PROTO_ESMTP_H
#define EHLOD_PROTO_ESMTP_H

#include <stddef.h>

#define ESMTP_MAX_PARAMS 16

struct esmtp_param {
	char *keyword;		/* as sent; compare case-insensitively */
	char *value;		/* NULL when there was no "=" */
};

enum esmtp_status {
	ESMTP_OK = 0,
	ESMTP_BAD_PREFIX,	/* no "FROM:" / "TO:": 501 */
	ESMTP_BAD_PATH,		/* no <...> where the path should be: 501 */
	ESMTP_BAD_PARAM,	/* parameter grammar broken: 501 */
	ESMTP_TOO_MANY		/* more than ESMTP_MAX_PARAMS: 501 */
};

/* ehlo-keyword / esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") */
int esmtp_keyword_valid(const char *s, size_t len);

/* esmtp-value = 1*(%d33-60 / %d62-126), widened to UTF-8 octets when
 * utf8 is set (RFC 6531). */
int esmtp_value_valid(const char *s, size_t len, int utf8);

/* ehlo-param = 1*(%d33-126) */
int esmtp_ehlo_param_valid(const char *s, size_t len);

/*
 * Split the argument of MAIL or RCPT.  prefix is "FROM:" or "TO:" (matched
 * case-insensitively; RFC 5321 allows no space after the colon, but real
 * clients send one and we accept it).  On success *path points at the text
 * between '<' and '>' (NUL-terminated in arg), params[0..*nparams) at the
 * parameters.  why, when non-NULL, receives a static explanation.
 */
enum esmtp_status esmtp_split_command(char *arg, const char *prefix,
    char **path, struct esmtp_param *params, size_t *nparams,
    const char **why);

/* xtext (RFC 3461 section 4): decode into out (at most outlen-1 octets).
 * Returns the decoded length, or -1 when the text is not valid xtext. */
long esmtp_xtext_decode(const char *in, char *out, size_t outlen);
/* The reverse: "+", "=", controls, space and 8-bit octets as "+HH".
 * Returns the encoded length, or -1 when out is too small. */
long esmtp_xtext_encode(const char *in, char *out, size_t outlen);

#endif
