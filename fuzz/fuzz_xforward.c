/*
 * fuzz_xforward - libFuzzer target: the argument of Postfix's XFORWARD
 *	command
 * DESCRIPTION
 *	The first octet picks the size of the buffer that echoes a bad
 *	attribute (1 to XFORWARD_BAD_OUT octets, allocated to its exact
 *	size so that a write past it is caught); the rest is the argument
 *	as a trusted proxy sent it.
 *
 *	Properties checked besides the sanitizers:
 *	- a refusal has a reason, leaves the attributes as they were, and
 *	  echoes at most the buffer's size, without a control octet;
 *	- every known value is at most XFORWARD_VALUE_MAX octets and holds
 *	  no octet a HELO command could not carry (no CR, LF or NUL can
 *	  reach a log line or the Received header);
 *	- a known ADDR is an IP address, a known PORT 0 to 65535;
 *	- each known value, written as xtext again, parses to itself.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "esmtp.h"
#include "xforward_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[XFORWARD_ATTRS] = {
	"NAME", "ADDR", "PORT", "PROTO", "HELO", "IDENT", "SOURCE",
};

static int
printable(const char *v)
{
	for (; *v != '\0'; v++)
		if ((unsigned char)*v <= 32 || (unsigned char)*v == 127)
			return 0;
	return 1;
}

static void
check_known(enum xforward_attr attr, const char *v)
{
	unsigned char ip[16];
	char arg[16 + 3 * XFORWARD_VALUE_MAX + 1];
	struct xforward_attrs again;
	const char *why;
	char bad[XFORWARD_BAD_OUT];
	size_t n = strlen(names[attr]);

	if (strlen(v) > XFORWARD_VALUE_MAX || !printable(v))
		abort();
	if (attr == XFORWARD_ADDR && inet_pton(AF_INET, v, ip) != 1 &&
	    inet_pton(AF_INET6, v, ip) != 1)
		abort();
	if (attr == XFORWARD_PORT && (strspn(v, "0123456789") !=
	    strlen(v) || strlen(v) > 5 || atol(v) > 65535))
		abort();
	memcpy(arg, names[attr], n);
	arg[n] = '=';
	if (esmtp_xtext_encode(v, arg + n + 1, sizeof(arg) - n - 1) < 0)
		abort();
	if (xforward_parse(arg, &again, bad, sizeof(bad), &why) != 0 ||
	    !again.known[attr] || strcmp(again.value[attr], v) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xforward_attrs attrs, before;
	const char *why = NULL;
	size_t badlen;
	char *arg, *bad;

	if (size < 1)
		return 0;
	badlen = 1 + data[0] % XFORWARD_BAD_OUT;
	arg = malloc(size);
	bad = malloc(badlen);
	if (arg == NULL || bad == NULL)
		abort();
	memcpy(arg, data + 1, size - 1);
	arg[size - 1] = '\0';
	memset(&attrs, 0xa5, sizeof(attrs));
	before = attrs;
	if (xforward_parse(arg, &attrs, bad, badlen, &why) < 0) {
		if (why == NULL || memcmp(&attrs, &before, sizeof(attrs)) != 0 ||
		    strlen(bad) >= badlen || !printable(bad))
			abort();
	} else {
		for (int i = 0; i < XFORWARD_ATTRS; i++) {
			if (attrs.known[i] > 1)
				abort();
			if (attrs.known[i])
				check_known((enum xforward_attr)i,
				    attrs.value[i]);
		}
	}
	free(bad);
	free(arg);
	return 0;
}
