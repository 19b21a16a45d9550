/*
 * NAME
 *	client_message.c - a message made ready for the wire (client side)
 * DESCRIPTION
 *	See client_message.h.  A bare CR or a bare LF both become CRLF:
 *	RFC 5321 2.3.8 forbids them on the wire, and servers such as ours
 *	refuse them, so the client repairs them rather than have the
 *	message bounce.
 */
#include <stdlib.h>
#include <string.h>

#include "client_message.h"

/* CRLF-normalise; the result always ends in CRLF (an empty message stays
 * empty).  The worst case doubles the size. */
static int
normalise(struct client_message *m, const unsigned char *in, size_t len)
{
	size_t o = 0;

	if ((m->crlf = malloc(2 * len + 3)) == NULL)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = in[i];

		if (ch > 127)
			m->has_8bit = 1;
		if (ch == '\r') {
			if (i + 1 < len && in[i + 1] == '\n')
				i++;
			m->crlf[o++] = '\r';
			m->crlf[o++] = '\n';
		} else if (ch == '\n') {
			m->crlf[o++] = '\r';
			m->crlf[o++] = '\n';
		} else {
			m->crlf[o++] = (char)ch;
		}
	}
	if (o > 0 && m->crlf[o - 1] != '\n') {
		m->crlf[o++] = '\r';
		m->crlf[o++] = '\n';
	}
	m->crlf_len = o;
	return 0;
}

void
client_message_measure(const void *data, size_t len, size_t *crlf_len,
    int *has_8bit)
{
	const unsigned char *in = data;
	size_t o = 0;

	*has_8bit = 0;
	for (size_t i = 0; i < len; i++) {
		if (in[i] > 127)
			*has_8bit = 1;
		if (in[i] == '\r' && i + 1 < len && in[i + 1] == '\n')
			i++;
		o += in[i] == '\r' || in[i] == '\n' ? 2 : 1;
	}
	if (len > 0 && in[len - 1] != '\n' && in[len - 1] != '\r')
		o += 2;
	*crlf_len = o;
}

/* Double a "." at the start of every line (RFC 5321 4.5.2). */
static int
stuff(struct client_message *m)
{
	size_t dots = 0, o = 0;
	int bol = 1;

	for (size_t i = 0; i < m->crlf_len; i++) {
		if (bol && m->crlf[i] == '.')
			dots++;
		bol = m->crlf[i] == '\n';
	}
	if ((m->stuffed = malloc(m->crlf_len + dots + 1)) == NULL)
		return -1;
	bol = 1;
	for (size_t i = 0; i < m->crlf_len; i++) {
		if (bol && m->crlf[i] == '.')
			m->stuffed[o++] = '.';
		m->stuffed[o++] = m->crlf[i];
		bol = m->crlf[i] == '\n';
	}
	m->stuffed_len = o;
	return 0;
}

int
client_message_prepare(struct client_message *m, const void *data,
    size_t len)
{
	memset(m, 0, sizeof(*m));
	if (normalise(m, data, len) < 0 || stuff(m) < 0) {
		client_message_free(m);
		return -1;
	}
	return 0;
}

void
client_message_free(struct client_message *m)
{
	free(m->crlf);
	free(m->stuffed);
	memset(m, 0, sizeof(*m));
}
