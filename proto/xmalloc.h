/*
 * NAME
 *	xmalloc.h - allocation that cannot fail
 * DESCRIPTION
 *	The one out-of-memory policy of ehlod, its client, ehlod-milter and
 *	the plugins (HACKING.md, "Out of memory"): when the allocator has
 *	nothing left, "out of memory" goes to stderr and the process
 *	aborts, as OpenSMTPD's xmalloc does.  A caller therefore never sees
 *	NULL and never passes a NULL born of an allocation failure on to a
 *	hook.  Buffers whose size a client controls are the exception:
 *	they use malloc and answer the client (see HACKING.md).
 */
#ifndef EHLOD_PROTO_XMALLOC_H
#define EHLOD_PROTO_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t size);
/* realloc of nmemb * size bytes; aborts on overflow too. */
void *xreallocarray(void *p, size_t nmemb, size_t size);
/* A copy of s, of "" when s is NULL. */
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

#endif
