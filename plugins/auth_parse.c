/*
 * NAME
 *	auth_parse.c - the auth plugin's parsers
 * DESCRIPTION
 *	Implements auth_parse.h.  Apart from the plugin so that the unit
 *	test links this file as the plugin does, instead of including the
 *	plugin's source.  The xtext grammar is proto/esmtp.c's.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sasl/sasl.h>
#include <sasl/saslutil.h>

#include "auth_parse.h"
#include "esmtp.h"
#include "xmalloc.h"

/* RFC 4422 section 3.1: sasl-mech = 1*20(UPPER-ALPHA / DIGIT / "-" /
 * "_").  Clients may write it in lower case. */
static int
auth_parse_mech_char(int c)
{
	return isascii(c) && (isalnum(c) || c == '-' || c == '_');
}

int
auth_parse_args(const char *args, char *mech, size_t mechlen,
    const char **initial)
{
	size_t n = strcspn(args, " ");
	const char *rest;

	if (n == 0 || n >= mechlen)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!auth_parse_mech_char((unsigned char)args[i]))
			return -1;
		mech[i] = (char)toupper((unsigned char)args[i]);
	}
	mech[n] = '\0';
	*initial = NULL;
	if (args[n] == '\0')
		return 0;
	rest = args + n + 1;
	if (*rest == '\0' || strchr(rest, ' ') != NULL)
		return -1;
	*initial = rest;
	return 0;
}

size_t
auth_parse_decoded_max(size_t len)
{
	return len / 4 * 3 + 3;
}

enum auth_response
auth_parse_response(const char *text, int initial, char *out, size_t outmax,
    unsigned *outlen)
{
	size_t len = strlen(text);

	*outlen = 0;
	out[0] = '\0';
	if (!initial && strcmp(text, "*") == 0)
		return AUTH_RESPONSE_CANCEL;
	if ((initial && strcmp(text, "=") == 0) || (!initial && len == 0))
		return AUTH_RESPONSE_OK;
	if (len == 0 || len % 4 != 0 || outmax < auth_parse_decoded_max(len))
		return AUTH_RESPONSE_BAD;
	if (sasl_decode64(text, (unsigned)len, out, (unsigned)outmax,
	    outlen) != SASL_OK)
		return AUTH_RESPONSE_BAD;
	return AUTH_RESPONSE_OK;
}

int
auth_parse_xtext_valid(const char *v)
{
	size_t len = strlen(v);
	char *decoded;
	long n;

	if (len == 0)
		return 0;
	decoded = xmalloc(len + 1);
	n = esmtp_xtext_decode(v, decoded, len + 1);
	free(decoded);
	return n >= 0;
}
