/*
 * fuzz_auth - libFuzzer target: what a client sends the auth plugin
 *	(RFC 4954)
 * DESCRIPTION
 *	The first octet picks the parser: the AUTH command's argument
 *	("mechanism [initial-response]"), an initial response, a response
 *	in the exchange, or the value of MAIL's AUTH= parameter; the rest
 *	is the text as the client sent it.  The response's output buffer is
 *	allocated to the size the plugin allocates (auth_parse_decoded_max),
 *	so a write past it is caught; base64 itself is Cyrus SASL's
 *	sasl_decode64, run here as the plugin runs it.
 *
 *	Properties checked besides the sanitizers:
 *	- an accepted mechanism is 1 to 20 characters of RFC 4422's
 *	  alphabet, in upper case, and the initial response it leaves is a
 *	  non-empty part of the argument without a space;
 *	- a response is OK, CANCEL (only "*" in the exchange) or BAD; an
 *	  OK one decodes to the length its base64 text stands for, within
 *	  the buffer;
 *	- an AUTH= value taken as xtext holds no space, control or "=".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { P_ARGS, P_INITIAL, P_EXCHANGE, P_XTEXT, P_COUNT };

#define MECH_OUT 21	/* 20 characters (RFC 4422) and the NUL */

static void
check_args(const char *text)
{
	char mech[MECH_OUT];
	const char *initial = NULL;
	size_t n;

	if (auth_parse_args(text, mech, sizeof(mech), &initial) < 0)
		return;
	n = strlen(mech);
	if (n == 0 || n > 20 || strspn(mech, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-_") != n)
		abort();
	if (initial == NULL)
		return;
	if (initial <= text || initial > text + strlen(text) ||
	    *initial == '\0' || strchr(initial, ' ') != NULL)
		abort();
}

static void
check_response(const char *text, int initial)
{
	size_t len = strlen(text), max = auth_parse_decoded_max(len);
	char *out = malloc(max);
	unsigned outlen = 12345;
	enum auth_response r;

	if (out == NULL)
		abort();
	r = auth_parse_response(text, initial, out, max, &outlen);
	if (r == AUTH_RESPONSE_CANCEL && (initial || strcmp(text, "*") != 0))
		abort();
	if (r == AUTH_RESPONSE_OK) {
		int empty = initial ? strcmp(text, "=") == 0 : len == 0;

		if (outlen >= max)
			abort();
		if (empty && outlen != 0)
			abort();
		/* Four characters stand for three octets, less one for each
		 * "=" of padding (at most two). */
		if (!empty && (len % 4 != 0 || outlen > len / 4 * 3 ||
		    outlen + 2 < len / 4 * 3))
			abort();
	} else if (r != AUTH_RESPONSE_BAD && r != AUTH_RESPONSE_CANCEL) {
		abort();
	}
	free(out);
}

static void
check_xtext(const char *text)
{
	if (!auth_parse_xtext_valid(text))
		return;
	if (*text == '\0')
		abort();
	for (const char *p = text; *p != '\0'; p++)
		if ((unsigned char)*p <= 32 || (unsigned char)*p >= 127 ||
		    *p == '=')
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (size < 1)
		return 0;
	text = malloc(size);
	if (text == NULL)
		abort();
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	switch (data[0] % P_COUNT) {
	case P_ARGS:
		check_args(text);
		break;
	case P_INITIAL:
		check_response(text, 1);
		break;
	case P_EXCHANGE:
		check_response(text, 0);
		break;
	default:
		check_xtext(text);
		break;
	}
	free(text);
	return 0;
}
