/*
 * NAME
 *	client_message.h - a message made ready for the wire (client side)
 * DESCRIPTION
 *	The client takes a message with LF or CRLF line ends and sends it in
 *	one of three forms: CRLF-normalised for BDAT (RFC 3030 sends octets
 *	as they are), additionally dot-stuffed for DATA (RFC 5321 4.5.2), or
 *	untouched for BODY=BINARYMIME.  Only the form that will be sent is
 *	built, piece by piece as the caller hands the message over, so one
 *	copy is held whatever the caller's pieces.  The size for SIZE=
 *	(RFC 1870) and whether the body has 8-bit octets (RFC 6152) are
 *	counted on the way.  The xtext of ENVID= and ORCPT= (RFC 3461 4) is
 *	proto/esmtp.c's.
 */
#ifndef EHLOD_CLIENT_MESSAGE_H
#define EHLOD_CLIENT_MESSAGE_H

#include <stddef.h>

enum message_form {
	FORM_CRLF = 0,		/* line ends repaired: BDAT */
	FORM_STUFFED,		/* and dot-stuffed, no final ".": DATA */
	FORM_RAW		/* octets as they are: BINARYMIME */
};

struct client_message {
	enum message_form form;
	char *out;		/* the message in its form */
	size_t out_len, out_cap;
	size_t crlf_len;	/* CRLF-normalised size: the SIZE= value
				 * (the raw size for FORM_RAW) */
	int has_8bit;		/* an octet above 127 */
	int held_cr;		/* a piece ended in CR: its LF may follow */
	int bol;		/* the next octet starts a line */
	int failed;		/* out of memory: the message is unusable */
};

/* Start a message of the given form; size_hint (0: unknown) reserves
 * room for the expected size at once. */
void client_message_begin(struct client_message *m, enum message_form form,
    size_t size_hint);
/* Add a piece; -1 when out of memory (the message is then unusable). */
int client_message_add(struct client_message *m, const void *data,
    size_t len);
/* The end: a CR held back, and a final CRLF when the last line has none
 * (an empty message stays empty).  -1 when out of memory earlier. */
int client_message_finish(struct client_message *m);

/* begin, add and finish in one: returns 0, or -1 when out of memory. */
int client_message_prepare(struct client_message *m, enum message_form form,
    const void *data, size_t len);
/* What add and finish have built since the last call, for a message sent
 * a piece at a time (client_stream.c): take_built hands it over (the
 * caller frees it; *len its size), drop_built forgets it (measuring
 * only).  The sizes, the 8-bit flag and the line state carry on. */
char *client_message_take_built(struct client_message *m, size_t *len);
void client_message_drop_built(struct client_message *m);
/* Hand the built form over (the caller frees it); m keeps its sizes. */
char *client_message_take(struct client_message *m);
void client_message_free(struct client_message *m);

/* What client_message_prepare would give for crlf_len and has_8bit,
 * without making a copy: the job judges its message before connecting. */
void client_message_measure(const void *data, size_t len,
    size_t *crlf_len, int *has_8bit);

#endif
