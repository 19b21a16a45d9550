/*
 * NAME
 *	xforward_parse.c - the attributes of Postfix's XFORWARD command
 * DESCRIPTION
 *	Implements xforward_parse.h.  The whole argument is checked into a
 *	scratch copy first and handed over only when every attribute is
 *	good: the session must not keep half of a command it answered 501.
 *	Plain C with no dependency beyond libc, like the rest of proto/.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "esmtp.h"
#include "xforward_parse.h"

/* The longest xtext that can decode to XFORWARD_VALUE_MAX octets. */
#define XTEXT_MAX (3 * XFORWARD_VALUE_MAX)

static const char *const names[XFORWARD_ATTRS] = {
	[XFORWARD_NAME] = "NAME",
	[XFORWARD_ADDR] = "ADDR",
	[XFORWARD_PORT] = "PORT",
	[XFORWARD_PROTO] = "PROTO",
	[XFORWARD_HELO] = "HELO",
	[XFORWARD_IDENT] = "IDENT",
	[XFORWARD_SOURCE] = "SOURCE",
};

static int
attr_of(const char *name, size_t len)
{
	for (int i = 0; i < XFORWARD_ATTRS; i++)
		if (strlen(names[i]) == len &&
		    strncasecmp(names[i], name, len) == 0)
			return i;
	return -1;
}

static int
unavailable(const char *v)
{
	return strcasecmp(v, "[UNAVAILABLE]") == 0 ||
	    strcasecmp(v, "[TEMPUNAVAIL]") == 0;
}

/* Postfix writes an IPv6 ADDR as "IPV6:2001:db8::1". */
static int
normal_addr(char *v)
{
	unsigned char buf[16];

	if (strncasecmp(v, "IPV6:", 5) == 0) {
		memmove(v, v + 5, strlen(v + 5) + 1);
		return inet_pton(AF_INET6, v, buf) == 1;
	}
	return inet_pton(AF_INET, v, buf) == 1 ||
	    inet_pton(AF_INET6, v, buf) == 1;
}

static int
valid_port(const char *v)
{
	size_t n = strspn(v, "0123456789");
	unsigned long port = 0;

	if (n == 0 || n > 5 || v[n] != '\0')
		return 0;
	for (size_t i = 0; i < n; i++)
		port = port * 10 + (unsigned long)(v[i] - '0');
	return port <= 65535;
}

/* Each of len octets a HELO command could not carry becomes "?". */
static void
neuter(char *v, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)v[i] <= 32 || (unsigned char)v[i] == 127)
			v[i] = '?';
}

static int
refuse(const char *t, size_t len, char *bad, size_t badlen,
    const char **why, const char *text)
{
	if (badlen > 0) {
		size_t n = len < badlen - 1 ? len : badlen - 1;

		memcpy(bad, t, n);
		bad[n] = '\0';
		neuter(bad, n);
	}
	*why = text;
	return -1;
}

/* One attribute=value of len octets at t into *a; NULL or the reason. */
static const char *
one_attr(const char *t, size_t len, struct xforward_attrs *a)
{
	const char *eq = memchr(t, '=', len);
	char xtext[XTEXT_MAX + 1], *v;
	size_t vlen;
	long n;
	int attr;

	if (eq == NULL || eq == t)
		return "attribute=value expected";
	if ((attr = attr_of(t, (size_t)(eq - t))) < 0)
		return "unknown attribute";
	vlen = len - (size_t)(eq - t) - 1;
	if (vlen > XTEXT_MAX)
		return "value too long";
	memcpy(xtext, eq + 1, vlen);
	xtext[vlen] = '\0';
	v = a->value[attr];
	if ((n = esmtp_xtext_decode(xtext, v, XFORWARD_VALUE_MAX + 1)) < 0)
		return "value not xtext, or too long";
	v[n] = '\0';
	neuter(v, (size_t)n);	/* a NUL too: it would cut the value */
	a->known[attr] = 0;
	if (unavailable(v) || (attr == XFORWARD_HELO && n == 0))
		return NULL;
	if (attr == XFORWARD_ADDR && !normal_addr(v))
		return "not an IP address";
	if (attr == XFORWARD_PORT && !valid_port(v))
		return "not a port number";
	a->known[attr] = 1;
	return NULL;
}

int
xforward_parse(const char *arg, struct xforward_attrs *a, char *bad,
    size_t badlen, const char **why)
{
	struct xforward_attrs next;
	const char *p = arg;
	int seen = 0;

	memset(&next, 0, sizeof(next));
	for (;;) {
		const char *reason;
		size_t len;

		p += strspn(p, " ");
		if (*p == '\0')
			break;
		len = strcspn(p, " ");
		if ((reason = one_attr(p, len, &next)) != NULL)
			return refuse(p, len, bad, badlen, why, reason);
		seen = 1;
		p += len;
	}
	if (!seen)
		return refuse("", 0, bad, badlen, why,
		    "attribute=value expected");
	memcpy(a, &next, sizeof(next));
	return 0;
}
