/*
 * NAME
 *	esmtp.c - the esmtp-param grammar
 * DESCRIPTION
 *	Implements esmtp.h: the keyword/value character classes of RFC 1869
 *	section 6 (RFC 5321 section 4.1.2) and the splitting of a MAIL/RCPT
 *	argument into its path and parameters.  Splitting works in place and
 *	allocates nothing, so a hostile line costs no memory.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "esmtp.h"

static int
is_alnum(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9');
}

int
esmtp_keyword_valid(const char *s, size_t len)
{
	if (len == 0 || !is_alnum((unsigned char)s[0]))
		return 0;
	for (size_t i = 1; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!is_alnum(c) && c != '-')
			return 0;
	}
	return 1;
}

int
esmtp_value_valid(const char *s, size_t len, int utf8)
{
	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 128 && utf8)
			continue;
		if (c < 33 || c > 126 || c == '=')
			return 0;
	}
	return 1;
}

int
esmtp_ehlo_param_valid(const char *s, size_t len)
{
	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 33 || c > 126)
			return 0;
	}
	return 1;
}

static enum esmtp_status
fail(enum esmtp_status st, const char **why, const char *text)
{
	if (why)
		*why = text;
	return st;
}

/* Find the '>' that closes the path.  Quoted local parts may hold '>',
 * so quotes and backslash escapes are honoured. */
static char *
path_end(char *p)
{
	int quoted = 0;

	for (; *p; p++) {
		if (quoted && *p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (*p == '"')
			quoted = !quoted;
		else if (*p == '>' && !quoted)
			return p;
	}
	return NULL;
}

/* Parameters are separated by one space in the grammar; runs of spaces,
 * which real clients send, are tolerated. */
static enum esmtp_status
split_params(char *p, struct esmtp_param *params, size_t *nparams,
    const char **why)
{
	size_t n = 0;

	for (;;) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		if (n == ESMTP_MAX_PARAMS)
			return fail(ESMTP_TOO_MANY, why, "too many parameters");
		char *start = p;
		while (*p && *p != ' ')
			p++;
		if (*p)
			*p++ = '\0';
		char *value = strchr(start, '=');
		if (value)
			*value++ = '\0';
		if (!esmtp_keyword_valid(start, strlen(start)))
			return fail(ESMTP_BAD_PARAM, why,
			    "malformed parameter keyword");
		if (value && !esmtp_value_valid(value, strlen(value), 1))
			return fail(ESMTP_BAD_PARAM, why,
			    "malformed parameter value");
		params[n].keyword = start;
		params[n].value = value;
		n++;
	}
	*nparams = n;
	return ESMTP_OK;
}

enum esmtp_status
esmtp_split_command(char *arg, const char *prefix, char **path,
    struct esmtp_param *params, size_t *nparams, const char **why)
{
	size_t plen = strlen(prefix);

	*nparams = 0;
	if (strncasecmp(arg, prefix, plen) != 0)
		return fail(ESMTP_BAD_PREFIX, why, "syntax: expected a path");
	char *p = arg + plen;
	while (*p == ' ')
		p++;
	if (*p != '<')
		return fail(ESMTP_BAD_PATH, why, "the path must be in <>");
	char *end = path_end(p + 1);
	if (end == NULL)
		return fail(ESMTP_BAD_PATH, why, "the path has no closing >");
	*path = p + 1;
	char *rest = end + 1;
	if (*rest != '\0' && *rest != ' ')
		return fail(ESMTP_BAD_PATH, why, "garbage after the path");
	*end = '\0';
	return split_params(rest, params, nparams, why);
}

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;	/* RFC 3461: upper-case hex only */
}

long
esmtp_xtext_decode(const char *in, char *out, size_t outlen)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		int c = *p;
		if (c < 33 || c > 126 || c == '=')
			return -1;
		if (c == '+') {
			int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = hi * 16 + lo;
			p += 2;
		}
		if (n + 1 >= outlen)
			return -1;
		out[n++] = (char)c;
	}
	if (outlen)
		out[n] = '\0';
	return (long)n;
}

long
esmtp_xtext_encode(const char *in, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		int plain = *p >= 33 && *p <= 126 && *p != '+' && *p != '=';
		size_t need = plain ? 1 : 3;
		if (n + need >= outlen)
			return -1;
		if (plain) {
			out[n++] = (char)*p;
			continue;
		}
		out[n++] = '+';
		out[n++] = hex[*p >> 4];
		out[n++] = hex[*p & 15];
	}
	if (outlen == 0)
		return -1;
	out[n] = '\0';
	return (long)n;
}
