/*
 * NAME
 *	auth_parse.h - the auth plugin's parsers (RFC 4954, RFC 4422)
 * SUMMARY
 *	#include "auth_parse.h"
 * DESCRIPTION
 *	The pure parts of the auth plugin, apart from SASL sessions.
 *
 *	auth_parse_args() splits the AUTH argument "mechanism
 *	[SP initial-response]".  The mechanism (RFC 4422 section 3.1:
 *	1*20(UPPER-ALPHA / DIGIT / "-" / "_"), accepted in lower case too)
 *	is copied in upper case into mech (mechlen octets with the NUL);
 *	*initial is the response text or NULL.  Returns -1 for a bad
 *	mechanism name or anything beyond one response.
 *
 *	auth_parse_response() decodes one client response.  An initial
 *	response (on the AUTH line) of "=" is the empty response (RFC 4954
 *	section 4); in the exchange an empty line is, and "*" cancels.
 *	Base64 is taken only with its padding.  out holds
 *	auth_parse_decoded_max(strlen(text)) octets.
 *
 *	auth_parse_xtext_valid() is 1 when the value of AUTH= is RFC 3461
 *	section 4 xtext; an empty value says nothing and is refused.
 */
#ifndef EHLOD_PLUGINS_AUTH_PARSE_H
#define EHLOD_PLUGINS_AUTH_PARSE_H

#include <stddef.h>

enum auth_response {
	AUTH_RESPONSE_OK = 0,
	AUTH_RESPONSE_CANCEL = -1,	/* the client sent "*" */
	AUTH_RESPONSE_BAD = -2		/* not base64 */
};

int auth_parse_args(const char *args, char *mech, size_t mechlen,
    const char **initial);
size_t auth_parse_decoded_max(size_t len);
enum auth_response auth_parse_response(const char *text, int initial,
    char *out, size_t outmax, unsigned *outlen);
int auth_parse_xtext_valid(const char *v);

#endif
