/*
 * NAME
 *	dsn_parse.c - the DSN parameters of RFC 3461: RET, ENVID, NOTIFY, ORCPT
 * DESCRIPTION
 *	Implements dsn_parse.h.  Plain C with no dependency beyond libc, so
 *	that plugins link it (built with hidden visibility) as well as the
 *	programs and the unit tests.
 */
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "dsn_parse.h"
#include "esmtp.h"
#include "utf8.h"

static int
dsn_fail(const char **why, const char *text)
{
	*why = text;
	return -1;
}

/* Graphic characters, space and tab: RFC 3461's "printable (graphic and
 * white space) characters from the US-ASCII repertoire". */
static int
dsn_printable(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if ((c < 32 && c != '\t') || c > 126)
			return 0;
	}
	return 1;
}

int
dsn_parse_ret(const char *value, char *out, size_t outlen, const char **why)
{
	const char *word;

	if (strcasecmp(value, "FULL") == 0)
		word = "FULL";
	else if (strcasecmp(value, "HDRS") == 0)
		word = "HDRS";
	else
		return dsn_fail(why, "RET must be FULL or HDRS");
	if (strlen(word) >= outlen)
		return dsn_fail(why, "internal: buffer too small");
	memcpy(out, word, strlen(word) + 1);
	return 0;
}

/* Decode xtext into out; the decoded text must be printable. */
static int
dsn_xtext(const char *xtext, char *out, size_t outlen, const char **why)
{
	long n = esmtp_xtext_decode(xtext, out, outlen);

	if (n < 0)
		return dsn_fail(why, "not valid xtext (RFC 3461 section 4)");
	if (!dsn_printable(out, (size_t)n))
		return dsn_fail(why, "decodes to characters that are not "
		    "printable US-ASCII");
	return 0;
}

int
dsn_parse_envid(const char *value, char *out, size_t outlen,
    const char **why)
{
	if (strlen(value) > DSN_ENVID_MAX)
		return dsn_fail(why, "ENVID is longer than 100 characters");
	return dsn_xtext(value, out, outlen, why);
}

static unsigned
dsn_notify_word(const char *p, size_t len)
{
	static const struct {
		const char *word;
		unsigned bit;
	} words[] = {
		{ "NEVER", DSN_NOTIFY_NEVER },
		{ "SUCCESS", DSN_NOTIFY_SUCCESS },
		{ "FAILURE", DSN_NOTIFY_FAILURE },
		{ "DELAY", DSN_NOTIFY_DELAY },
	};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strlen(words[i].word) == len &&
		    strncasecmp(p, words[i].word, len) == 0)
			return words[i].bit;
	return 0;
}

/* The set of words in a NOTIFY value, or 0 after setting why. */
static unsigned
dsn_notify_bits(const char *value, const char **why)
{
	unsigned bits = 0;
	const char *p = value;

	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		unsigned bit = dsn_notify_word(p, len);

		if (bit == 0) {
			*why = len == 0 ? "empty NOTIFY keyword" : "NOTIFY "
			    "takes NEVER, SUCCESS, FAILURE, DELAY";
			return 0;
		}
		if (bits & bit) {
			*why = "a NOTIFY keyword appears twice";
			return 0;
		}
		bits |= bit;
		if (comma == NULL)
			return bits;
		p = comma + 1;
	}
}

int
dsn_parse_notify(const char *value, char *out, size_t outlen,
    const char **why)
{
	unsigned bits = dsn_notify_bits(value, why);

	if (bits == 0)
		return -1;
	if ((bits & DSN_NOTIFY_NEVER) && bits != DSN_NOTIFY_NEVER)
		return dsn_fail(why, "NOTIFY=NEVER must stand alone");
	if (outlen < DSN_NOTIFY_OUT)
		return dsn_fail(why, "internal: buffer too small");
	out[0] = '\0';
	if (bits & DSN_NOTIFY_NEVER)
		strcat(out, "NEVER");
	if (bits & DSN_NOTIFY_SUCCESS)
		strcat(out, "SUCCESS");
	if (bits & DSN_NOTIFY_FAILURE)
		strcat(out, out[0] ? ",FAILURE" : "FAILURE");
	if (bits & DSN_NOTIFY_DELAY)
		strcat(out, out[0] ? ",DELAY" : "DELAY");
	return 0;
}

/* RFC 6533 utf-8-addr-unitext: UTF-8 as it is, no controls, and none of
 * the characters xtext reserves ("+", "="). */
static int
dsn_unitext(const char *p, size_t len, const char **why)
{
	if (!utf8_valid(p, len))
		return dsn_fail(why, "ORCPT address is not valid UTF-8");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c < 32 || c == 127 || c == '+' || c == '=')
			return dsn_fail(why, "ORCPT utf-8 address has a "
			    "character unitext does not allow");
	}
	return 0;
}

int
dsn_parse_orcpt(const char *value, int smtputf8, char *out, size_t outlen,
    const char **why)
{
	const char *semi = strchr(value, ';');
	const char *addr;
	size_t tlen, alen;

	if (strlen(value) > DSN_ORCPT_VALUE_MAX)
		return dsn_fail(why, "ORCPT is longer than 500 characters");
	if (semi == NULL)
		return dsn_fail(why, "ORCPT must be addr-type;address");
	tlen = (size_t)(semi - value);
	if (!address_atom_valid(value, tlen, 0))
		return dsn_fail(why, "ORCPT addr-type must be an atom");
	addr = semi + 1;
	alen = strlen(addr);
	if (alen == 0)
		return dsn_fail(why, "ORCPT address is empty");
	if (outlen < tlen + 1 + alen + 1)
		return dsn_fail(why, "internal: buffer too small");
	memcpy(out, value, tlen + 1);		/* "type;" */
	/* Every xchar and hexchar decodes to one octet, so a non-empty
	 * xtext never decodes to an empty address. */
	if (!utf8_has_8bit(addr, alen))
		return dsn_xtext(addr, out + tlen + 1, outlen - tlen - 1, why);
	if (!smtputf8 || tlen != 5 || strncasecmp(value, "utf-8", 5) != 0)
		return dsn_fail(why, "8-bit ORCPT needs type utf-8 in an "
		    "SMTPUTF8 transaction (RFC 6533)");
	if (dsn_unitext(addr, alen, why) < 0)
		return -1;
	memcpy(out + tlen + 1, addr, alen + 1);
	return 0;
}
