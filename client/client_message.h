/*
 * NAME
 *	client_message.h - a message made ready for the wire (client side)
 * DESCRIPTION
 *	The client takes a message with LF or CRLF line ends and needs it
 *	in two forms: CRLF-normalised for BDAT (RFC 3030 sends octets as
 *	they are) and additionally dot-stuffed for DATA (RFC 5321 4.5.2).
 *	It also needs to know the size for SIZE= (RFC 1870) and whether the
 *	body has 8-bit octets (RFC 6152).  The xtext of ENVID= and ORCPT=
 *	(RFC 3461 4) is proto/esmtp.c's.
 */
#ifndef EHLOD_CLIENT_MESSAGE_H
#define EHLOD_CLIENT_MESSAGE_H

#include <stddef.h>

struct client_message {
	char *crlf;		/* CRLF line ends, ends with CRLF */
	size_t crlf_len;	/* also the SIZE= value */
	char *stuffed;		/* crlf, dot-stuffed, without the final "." */
	size_t stuffed_len;
	int has_8bit;		/* an octet above 127 */
};

/* Returns 0, or -1 when out of memory. */
int client_message_prepare(struct client_message *m, const void *data,
    size_t len);
void client_message_free(struct client_message *m);

/* What client_message_prepare would give for crlf_len and has_8bit,
 * without making a copy: the job judges its message before connecting. */
void client_message_measure(const void *data, size_t len,
    size_t *crlf_len, int *has_8bit);

#endif
