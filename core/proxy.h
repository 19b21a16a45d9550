/*
 * NAME
 *	proxy.h - the PROXY protocol (v1 text, v2 binary) in front of a
 *	session
 * DESCRIPTION
 *	With proxy_protocol on, a connection from one of proxy_trusted must
 *	begin with a PROXY header (HAProxy's proxy-protocol.txt); the
 *	session then takes the header's source address as the client's.
 *	The parser is pure (bytes in, result out) so it can be unit tested.
 */
#ifndef EHLOD_CORE_PROXY_H
#define EHLOD_CORE_PROXY_H

#include <stddef.h>
#include <sys/socket.h>
#include <event2/bufferevent.h>

#include "netaddr.h"

/* The v1 line is at most 107 octets, CRLF included (the spec's bound). */
#define PROXY_V1_MAX 107
/* A v2 header is 16 octets and its length field; 536 is the buffer size
 * the spec suggests: it holds the longest address block (UNIX, 216) and
 * room for TLVs.  Anything longer is refused rather than buffered. */
#define PROXY_V2_MAX 536

enum proxy_result {
	PROXY_NEED_MORE = 0,	/* a valid prefix; read more */
	PROXY_OK,
	PROXY_BAD
};

struct proxy_header {
	int version;		/* 1 or 2 */
	int local;		/* no address given: use the real peer */
	struct sockaddr_storage src;	/* when !local */
	socklen_t srclen;
	size_t len;		/* octets the header took */
	const char *error;	/* why, when PROXY_BAD */
};

/* Parse the octets received so far. */
enum proxy_result proxy_parse(const unsigned char *buf, size_t len,
    struct proxy_header *h);

/* accept_cb's path when proxy_protocol is on: checks the peer, reads the
 * header and not one octet more, then calls session_new_via() (or closes
 * the connection). */
void proxy_accept(struct bufferevent *bev, const struct sockaddr *peer,
    socklen_t peerlen);

#endif
