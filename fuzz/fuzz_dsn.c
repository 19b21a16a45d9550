/*
 * fuzz_dsn - libFuzzer target: the DSN parameters of RFC 3461 and the
 *	UTF-8 check of RFC 3629
 * DESCRIPTION
 *	The first octet picks the parameter (RET, ENVID, NOTIFY, ORCPT,
 *	ORCPT in an SMTPUTF8 transaction) and, with its high bits, an output
 *	buffer smaller than the documented size; the rest is the value as a
 *	client sent it.  The output buffer is allocated to its exact size,
 *	so a write past it is caught.
 *
 *	Properties checked besides the sanitizers:
 *	- a refusal has a reason; an accepted value's output ends within
 *	  the buffer;
 *	- RET gives FULL or HDRS, the value's own word;
 *	- ENVID and an xtext ORCPT decode to printable US-ASCII only, so no
 *	  CR, LF or NUL reaches a delivery plugin;
 *	- NOTIFY gives one of the eight canonical forms, and parsing that
 *	  form again gives itself;
 *	- a raw UTF-8 ORCPT is accepted only in an SMTPUTF8 transaction,
 *	  with type utf-8, and is kept as sent;
 *	- utf8_valid() agrees with RFC 3629 section 4's table of well-formed
 *	  octet sequences, written out here independently, on the value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dsn_parse.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { P_RET, P_ENVID, P_NOTIFY, P_ORCPT, P_ORCPT_UTF8, P_COUNT };

static const size_t full_size[P_COUNT] = {
	[P_RET] = 8,
	[P_ENVID] = DSN_ENVID_OUT,
	[P_NOTIFY] = DSN_NOTIFY_OUT,
	[P_ORCPT] = DSN_ORCPT_OUT,
	[P_ORCPT_UTF8] = DSN_ORCPT_OUT,
};

/* RFC 3629 section 4, UTF8-tail = %x80-BF. */
static int
tail(uint8_t c)
{
	return c >= 0x80 && c <= 0xbf;
}

/* The length of the well-formed sequence at p (at most n octets), or 0:
 * the ABNF of RFC 3629 section 4, one alternative per line. */
static size_t
rfc3629_sequence(const uint8_t *p, size_t n)
{
	uint8_t c = p[0];

	if (c <= 0x7f)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && tail(p[1]) ? 2 : 0;
	if (n < 3)
		return 0;
	if ((c == 0xe0 && p[1] >= 0xa0 && p[1] <= 0xbf) ||
	    (((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef) &&
	    tail(p[1])) ||
	    (c == 0xed && p[1] >= 0x80 && p[1] <= 0x9f))
		return tail(p[2]) ? 3 : 0;
	if (n < 4)
		return 0;
	if ((c == 0xf0 && p[1] >= 0x90 && p[1] <= 0xbf) ||
	    (c >= 0xf1 && c <= 0xf3 && tail(p[1])) ||
	    (c == 0xf4 && p[1] >= 0x80 && p[1] <= 0x8f))
		return tail(p[2]) && tail(p[3]) ? 4 : 0;
	return 0;
}

static int
rfc3629_valid(const uint8_t *p, size_t n)
{
	while (n > 0) {
		size_t k = rfc3629_sequence(p, n);

		if (k == 0)
			return 0;
		p += k;
		n -= k;
	}
	return 1;
}

static void
check_printable(const char *p)
{
	for (; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if ((c < 32 && c != '\t') || c > 126)
			abort();
	}
}

static void
check_notify(const char *out)
{
	static const char *const canonical[] = {
		"NEVER", "SUCCESS", "FAILURE", "DELAY", "SUCCESS,FAILURE",
		"SUCCESS,DELAY", "FAILURE,DELAY", "SUCCESS,FAILURE,DELAY",
	};
	char again[DSN_NOTIFY_OUT];
	const char *why = NULL;
	size_t i;

	for (i = 0; i < sizeof(canonical) / sizeof(canonical[0]); i++)
		if (strcmp(out, canonical[i]) == 0)
			break;
	if (i == sizeof(canonical) / sizeof(canonical[0]))
		abort();
	if (dsn_parse_notify(out, again, sizeof(again), &why) != 0 ||
	    strcmp(again, out) != 0)
		abort();
}

static void
check_orcpt(const char *value, const char *out, int smtputf8)
{
	const char *semi = strchr(value, ';');
	size_t tlen;
	const char *addr;

	if (semi == NULL)
		abort();
	tlen = (size_t)(semi - value) + 1;
	if (strncmp(out, value, tlen) != 0)
		abort();
	addr = semi + 1;
	if (!utf8_has_8bit(addr, strlen(addr))) {
		if (out[tlen] == '\0')
			abort();
		check_printable(out + tlen);
		return;
	}
	if (!smtputf8 || strncasecmp(value, "utf-8;", 6) != 0 ||
	    strcmp(out + tlen, addr) != 0 ||
	    !rfc3629_valid((const uint8_t *)addr, strlen(addr)))
		abort();
}

static int
parse(int which, const char *value, char *out, size_t outlen,
    const char **why)
{
	switch (which) {
	case P_RET:
		return dsn_parse_ret(value, out, outlen, why);
	case P_ENVID:
		return dsn_parse_envid(value, out, outlen, why);
	case P_NOTIFY:
		return dsn_parse_notify(value, out, outlen, why);
	case P_ORCPT:
		return dsn_parse_orcpt(value, 0, out, outlen, why);
	default:
		return dsn_parse_orcpt(value, 1, out, outlen, why);
	}
}

static void
check_accepted(int which, const char *value, const char *out)
{
	switch (which) {
	case P_RET:
		if ((strcmp(out, "FULL") != 0 && strcmp(out, "HDRS") != 0) ||
		    strcasecmp(out, value) != 0)
			abort();
		break;
	case P_ENVID:
		check_printable(out);
		break;
	case P_NOTIFY:
		check_notify(out);
		break;
	default:
		check_orcpt(value, out, which == P_ORCPT_UTF8);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why = NULL;
	int which;
	size_t outlen;
	char *value, *out;

	if (size < 1)
		return 0;
	which = data[0] % P_COUNT;
	outlen = full_size[which];
	if (data[0] & 0x80)	/* a buffer too small, down to one octet */
		outlen = 1 + (data[0] >> 3 & 0x0f) % outlen;
	data++;
	size--;
	if (utf8_valid((const char *)data, size) != rfc3629_valid(data, size))
		abort();
	value = malloc(size + 1);
	out = malloc(outlen);
	if (value == NULL || out == NULL)
		abort();
	memcpy(value, data, size);
	value[size] = '\0';
	if (parse(which, value, out, outlen, &why) == 0) {
		if (memchr(out, '\0', outlen) == NULL)
			abort();
		check_accepted(which, value, out);
	} else if (why == NULL || why[0] == '\0') {
		abort();
	}
	free(value);
	free(out);
	return 0;
}
