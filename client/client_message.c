/*
 * NAME
 *	client_message.c - a message made ready for the wire (client side)
 * DESCRIPTION
 *	See client_message.h.  A bare CR or a bare LF both become CRLF:
 *	RFC 5321 2.3.8 forbids them on the wire, and servers such as ours
 *	refuse them, so the client repairs them rather than have the
 *	message bounce.  The repair and the dot-stuffing run on each piece
 *	as it comes, with the state that crosses pieces (a CR whose LF may
 *	be in the next piece, the start of a line) kept in the message.
 */
#include <stdlib.h>
#include <string.h>

#include "client_message.h"

void
client_message_begin(struct client_message *m, enum message_form form,
    size_t size_hint)
{
	memset(m, 0, sizeof(*m));
	m->form = form;
	m->bol = 1;
	if (size_hint == 0)
		return;
	/* A few per cent for repaired line ends and stuffed dots; more is
	 * grown into. */
	m->out_cap = size_hint + size_hint / 32 + 64;
	m->out = malloc(m->out_cap);
	if (m->out == NULL)
		m->out_cap = 0;
}

/* Room for at least want more octets. */
static int
reserve(struct client_message *m, size_t want)
{
	size_t cap = m->out_cap ? m->out_cap : 4096;
	char *p;

	if (m->out_cap - m->out_len >= want)
		return 0;
	while (cap - m->out_len < want)
		cap *= 2;
	if ((p = realloc(m->out, cap)) == NULL) {
		m->failed = 1;
		return -1;
	}
	m->out = p;
	m->out_cap = cap;
	return 0;
}

static void
put_eol(struct client_message *m)
{
	m->out[m->out_len++] = '\r';
	m->out[m->out_len++] = '\n';
	m->crlf_len += 2;
	m->bol = 1;
}

/* n octets without CR or LF, as they are; a dot starting a line is
 * doubled for DATA. */
static void
put_text(struct client_message *m, const unsigned char *p, size_t n)
{
	if (m->bol && p[0] == '.' && m->form == FORM_STUFFED)
		m->out[m->out_len++] = '.';
	memcpy(m->out + m->out_len, p, n);
	m->out_len += n;
	m->crlf_len += n;
	m->bol = 0;
}

/* How many octets from p on hold no CR and no LF.  glibc's memchr looks
 * at many octets per step; a message is mostly such runs. */
static size_t
plain_run(const unsigned char *p, size_t n)
{
	const unsigned char *lf = memchr(p, '\n', n);
	size_t upto = lf != NULL ? (size_t)(lf - p) : n;
	const unsigned char *cr = memchr(p, '\r', upto);

	return cr != NULL ? (size_t)(cr - p) : upto;
}

/* No early exit, so that the compiler can look at many octets at once. */
static int
has_8bit_octet(const unsigned char *p, size_t n)
{
	unsigned char any = 0;

	for (size_t i = 0; i < n; i++)
		any |= p[i];
	return any >> 7;
}

int
client_message_add(struct client_message *m, const void *data, size_t len)
{
	const unsigned char *in = data;

	if (m->failed)
		return -1;
	if (len == 0)
		return 0;
	if (!m->has_8bit)
		m->has_8bit = has_8bit_octet(in, len);
	if (m->form == FORM_RAW) {
		if (reserve(m, len) < 0)
			return -1;
		memcpy(m->out + m->out_len, in, len);
		m->out_len += len;
		m->crlf_len += len;
		return 0;
	}
	/* Worst case: every octet a bare line end, or a stuffed dot. */
	if (reserve(m, 2 * len + 2) < 0)
		return -1;
	for (size_t i = 0; i < len;) {
		size_t run;

		if (m->held_cr) {
			m->held_cr = 0;
			put_eol(m);
			if (in[i] == '\n') {
				i++;	/* it was CRLF */
				continue;
			}
		}
		run = plain_run(in + i, len - i);
		if (run > 0) {
			put_text(m, in + i, run);
			i += run;
			continue;
		}
		if (in[i] == '\r')
			m->held_cr = 1;
		else
			put_eol(m);
		i++;
	}
	return 0;
}

int
client_message_finish(struct client_message *m)
{
	if (m->failed || reserve(m, 2) < 0)
		return -1;
	if (m->form == FORM_RAW)
		return 0;
	if (m->held_cr) {
		m->held_cr = 0;
		put_eol(m);
	}
	if (!m->bol)
		put_eol(m);
	return 0;
}

int
client_message_prepare(struct client_message *m, enum message_form form,
    const void *data, size_t len)
{
	client_message_begin(m, form, len);
	if (client_message_add(m, data, len) < 0 ||
	    client_message_finish(m) < 0) {
		client_message_free(m);
		return -1;
	}
	return 0;
}

char *
client_message_take(struct client_message *m)
{
	char *out = m->out;

	m->out = NULL;
	m->out_cap = 0;
	return out;
}

char *
client_message_take_built(struct client_message *m, size_t *len)
{
	char *out = m->out;

	*len = m->out_len;
	m->out = NULL;
	m->out_len = m->out_cap = 0;
	return out;
}

void
client_message_drop_built(struct client_message *m)
{
	m->out_len = 0;
}

void
client_message_free(struct client_message *m)
{
	free(m->out);
	memset(m, 0, sizeof(*m));
}

void
client_message_measure(const void *data, size_t len, size_t *crlf_len,
    int *has_8bit)
{
	const unsigned char *in = data;
	size_t o = 0;

	*has_8bit = has_8bit_octet(in, len);
	for (size_t i = 0; i < len;) {
		size_t run = plain_run(in + i, len - i);

		o += run;
		i += run;
		if (i == len)
			break;
		/* CRLF, a bare CR or a bare LF: two octets on the wire. */
		if (in[i] == '\r' && i + 1 < len && in[i + 1] == '\n')
			i++;
		o += 2;
		i++;
	}
	if (len > 0 && in[len - 1] != '\n' && in[len - 1] != '\r')
		o += 2;
	*crlf_len = o;
}
