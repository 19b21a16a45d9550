/*
 * NAME
 *	xforward.h - Postfix's XFORWARD from trusted proxies (xforward.c)
 */
#ifndef EHLOD_XFORWARD_H
#define EHLOD_XFORWARD_H

struct ehlod_session;

#define XFORWARD_KEYWORD "XFORWARD NAME ADDR PORT PROTO HELO IDENT SOURCE"

/* 1 when the session's peer may use XFORWARD (xforward_trusted). */
int xforward_allowed(const struct ehlod_session *s);
/* The XFORWARD command: replies itself. */
void xforward_command(struct ehlod_session *s, char *arg);

#endif
