/*
 * NAME
 *	xmalloc.c - allocation that cannot fail
 * DESCRIPTION
 *	Implements xmalloc.h.  Built into libproto.la for the programs and
 *	into libproto_plugin.la (hidden) for the plugins, so there is one
 *	copy of the policy.  A zero size asks for one byte, so that the
 *	result is never NULL.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

static void __attribute__((noreturn))
out_of_memory(void)
{
	/* stderr is unbuffered: this needs no allocation. */
	fputs("out of memory\n", stderr);
	abort();
}

static void *
checked(void *p)
{
	if (p == NULL)
		out_of_memory();
	return p;
}

void *
xmalloc(size_t size)
{
	return checked(malloc(size ? size : 1));
}

void *
xcalloc(size_t nmemb, size_t size)
{
	if (nmemb == 0 || size == 0)
		nmemb = size = 1;
	return checked(calloc(nmemb, size));
}

void *
xrealloc(void *p, size_t size)
{
	return checked(realloc(p, size ? size : 1));
}

void *
xreallocarray(void *p, size_t nmemb, size_t size)
{
	if (nmemb == 0 || size == 0)
		nmemb = size = 1;
	if (nmemb > SIZE_MAX / size)
		out_of_memory();
	return checked(realloc(p, nmemb * size));
}

char *
xstrdup(const char *s)
{
	return checked(strdup(s ? s : ""));
}

char *
xstrndup(const char *s, size_t n)
{
	return checked(strndup(s ? s : "", n));
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *out = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&out, fmt, ap);
	va_end(ap);
	if (n < 0)
		out_of_memory();
	return out;
}
