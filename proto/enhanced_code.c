/*
 * NAME
 *	enhanced_code.c - RFC 3463 enhanced status codes
 * DESCRIPTION
 *	Implements enhanced_code.h: one scanner for the server's checks of
 *	plugin replies, the client's and the relay's reading of replies.
 */
#include "enhanced_code.h"

/* 1 to 3 digits at p into *v; returns past them, or NULL. */
static const char *
enhanced_code_number(const char *p, int *v)
{
	int n = 0, x = 0;

	while (p[n] >= '0' && p[n] <= '9') {
		if (n == 3)
			return NULL;
		x = x * 10 + (p[n] - '0');
		n++;
	}
	if (n == 0)
		return NULL;
	*v = x;
	return p + n;
}

size_t
enhanced_code_scan(const char *text, struct enhanced_code *ec)
{
	const char *p;

	if (text == NULL || text[0] < '0' || text[0] > '9' || text[1] != '.')
		return 0;
	ec->cls = text[0] - '0';
	p = enhanced_code_number(text + 2, &ec->subject);
	if (p == NULL || *p != '.')
		return 0;
	p = enhanced_code_number(p + 1, &ec->detail);
	if (p == NULL)
		return 0;
	return (size_t)(p - text);
}

int
enhanced_code_split(const char *text, struct enhanced_code *ec)
{
	size_t n = enhanced_code_scan(text, ec);

	if (n == 0 || text[n] != '\0')
		return -1;
	if (ec->cls != 2 && ec->cls != 4 && ec->cls != 5)
		return -1;
	return 0;
}

int
enhanced_code_fits(const char *text, int reply_code)
{
	struct enhanced_code ec;
	size_t n = enhanced_code_scan(text, &ec);

	return n > 0 && text[n] == '\0' && ec.cls == reply_code / 100;
}
