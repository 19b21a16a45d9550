/*
 * NAME
 *	client_stream.c - a message pulled from the caller as it is sent
 * DESCRIPTION
 *	ehlod_client_data_stream(): the caller's message stays where it is
 *	(a relay's spool file) and is read twice.  First to judge it (8-bit
 *	octets, the server's SIZE) and to count the octets BDAT announces,
 *	MEASURE_TURN octets per turn of the event loop (a zero timer), so
 *	that a large message does not hold up the caller's other work; then
 *	from the start again, piece by piece, only as fast
 *	as the connection takes it: the output buffer is filled up to
 *	STREAM_AHEAD and refilled when it drains below STREAM_LOW (the
 *	bufferevent's write watermark calls client_stream_more).  Each piece
 *	is made ready for the wire (client_message.c) and handed to the
 *	output buffer by reference, so the library holds a few hundred KiB
 *	of any message, whatever its size.
 *
 *	Nothing may reach the server that it would take for something else,
 *	and no message other than the one judged: when the second read
 *	comes out longer or shorter than the first (the caller's octets
 *	changed) or fails, the connection is dropped before BDAT's last
 *	octet or DATA's final dot, so the server throws the message away,
 *	and the step fails with reason LOCAL.  The filling runs from the
 *	loop (a zero timer, or the write callback), never inside cmd_pump,
 *	because a failure clears the command queue.
 *
 *	A caller whose read says EHLOD_CLIENT_READ_LATER is not asked again
 *	until it calls ehlod_client_data_stream_ready(); the measuring or
 *	the sending then goes on from the loop where it stopped.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "private.h"

#define STREAM_CHUNK (64 * 1024)	/* one read of the caller's octets */
#define STREAM_AHEAD (256 * 1024)	/* output buffered before the socket */
#define MEASURE_TURN (16 * STREAM_CHUNK)	/* measured per loop turn */

struct cmd_stream {
	ehlod_client_read_cb read;
	void *arg;
	enum message_form form;
	size_t offset;		/* the next octet of the caller's to read */
	size_t size;		/* CRLF octets as measured: SIZE's, and
				 * BDAT's (whose form has no stuffing) */
	size_t sent;		/* octets of the form handed to the output */
	int has_8bit;
	int measuring;		/* the first read is still going */
	int waiting;		/* read said READ_LATER: until ready */
	size_t measured;	/* octets it has read */
	ehlod_client_step_cb cb;	/* the step, once measured */
	void *cbarg;
	int done;		/* all sent (DATA: with the final dot) */
	struct client_message msg;	/* the form, a piece at a time */
	char *chunk;
};

/* One loop turn of the first read: 1 while there is more, 2 when the
 * caller's read is not ready, 0 when the whole message is measured, -1
 * when the caller's read failed. */
static int
measure_some(struct cmd_stream *st)
{
	for (size_t turn = 0; turn < MEASURE_TURN; ) {
		long r = st->read(st->arg, st->chunk, STREAM_CHUNK,
		    st->measured);

		if (r == EHLOD_CLIENT_READ_LATER) {
			st->waiting = 1;
			return 2;
		}
		if (r < 0 || (size_t)r > STREAM_CHUNK)
			return -1;
		if (r == 0)
			break;
		st->measured += (size_t)r;
		turn += (size_t)r;
		client_message_add(&st->msg, st->chunk, (size_t)r);
		client_message_drop_built(&st->msg);
		if (turn >= MEASURE_TURN)
			return 1;
	}
	client_message_finish(&st->msg);
	st->size = st->msg.crlf_len;
	st->has_8bit = st->msg.has_8bit;
	client_message_free(&st->msg);
	client_message_begin(&st->msg, st->form, 0);
	st->measuring = 0;
	return 0;
}

struct cmd_stream *
client_stream_open(enum message_form form, ehlod_client_read_cb read,
    void *arg, ehlod_client_step_cb cb, void *cbarg)
{
	struct cmd_stream *st = xcalloc(1, sizeof(*st));

	st->read = read;
	st->arg = arg;
	st->form = form;
	st->chunk = xmalloc(STREAM_CHUNK);
	st->cb = cb;
	st->cbarg = cbarg;
	st->measuring = 1;
	client_message_begin(&st->msg, form, 0);
	return st;
}

ehlod_client_step_cb
client_stream_step(const struct cmd_stream *st, void **cbarg)
{
	*cbarg = st->cbarg;
	return st->cb;
}

/* From the loop: the transaction's stream measures on, or is judged. */
static void
measure_turn(struct ehlod_client *c)
{
	struct cmd_stream *st = c->txn.stream;
	int r;

	if (c->st != CONN_READY) {
		/* The session ended: its step has heard (session_over). */
		client_stream_free(st);
		c->txn.stream = NULL;
		return;
	}
	r = measure_some(st);
	if (r == 2)
		return;		/* ehlod_client_data_stream_ready goes on */
	if (r > 0)
		client_stream_start(c);
	else
		txn_stream_measured(c, r == 0);
}

size_t
client_stream_size(const struct cmd_stream *st)
{
	return st->size;
}

int
client_stream_has_8bit(const struct cmd_stream *st)
{
	return st->has_8bit;
}

void
client_stream_free(struct cmd_stream *st)
{
	if (st == NULL)
		return;
	client_message_free(&st->msg);
	free(st->chunk);
	free(st);
}

/* The next piece into out: 1 for more to come, 2 when the caller's read
 * is not ready, 0 at the end, -1 with why set when the connection must
 * be dropped. */
static int
next_piece(struct cmd_stream *st, struct evbuffer *out, const char **why)
{
	long r = st->read(st->arg, st->chunk, STREAM_CHUNK, st->offset);
	size_t n;
	char *piece;

	if (r == EHLOD_CLIENT_READ_LATER) {
		st->waiting = 1;
		return 2;
	}
	if (r < 0 || (size_t)r > STREAM_CHUNK) {
		*why = "cannot read the message to send";
		return -1;
	}
	if (r > 0) {
		st->offset += (size_t)r;
		client_message_add(&st->msg, st->chunk, (size_t)r);
	} else {
		client_message_finish(&st->msg);
	}
	piece = client_message_take_built(&st->msg, &n);
	/* The CRLF count is the measured one in every form; BDAT's octets
	 * are checked too, as they are what the server counts. */
	if (st->msg.crlf_len > st->size ||
	    (st->form != FORM_STUFFED && st->sent + n > st->size)) {
		free(piece);
		*why = "the message grew while it was being sent";
		return -1;
	}
	if (n > 0 && evbuffer_add_reference(out, piece, n, cmd_free_sent,
	    piece) < 0) {
		evbuffer_add(out, piece, n);
		free(piece);
	} else if (n == 0) {
		free(piece);
	}
	st->sent += n;
	if (r > 0)
		return 1;
	if (st->msg.crlf_len != st->size ||
	    (st->form != FORM_STUFFED && st->sent != st->size)) {
		*why = "the message shrank while it was being sent";
		return -1;
	}
	return 0;
}

/* Fill the output of the command being sent, if it streams. */
void
client_stream_more(struct ehlod_client *c)
{
	struct cmd *p = cmd_waiting(c);
	struct evbuffer *out;
	const char *why = NULL;
	int more = 1;

	if (p == NULL || p->stream == NULL || p->stream->done ||
	    p->stream->waiting || c->bev == NULL)
		return;
	out = bufferevent_get_output(c->bev);
	while (more == 1 && evbuffer_get_length(out) < STREAM_AHEAD)
		more = next_piece(p->stream, out, &why);
	if (more > 0)
		return;		/* the write callback or ready asks again */
	if (more < 0) {
		note(c, "%s: dropping the connection", why);
		fail(c, EHLOD_CLIENT_TEMPFAIL, EHLOD_REASON_LOCAL, p->name,
		    NULL, "%s", why);
		conn_done(c);
		return;
	}
	p->stream->done = 1;
	note(c, "%zu octets of message sent%s", p->stream->sent,
	    p->line == NULL ? " (dot-stuffed)" : "");
	if (p->line != NULL)
		return;
	evbuffer_add(out, ".\r\n", 3);	/* the end of DATA's message */
	note_prefixed(c, "C: ", ".");
}

void
client_stream_fire(evutil_socket_t fd, short what, void *arg)
{
	struct ehlod_client *c = arg;

	(void)fd;
	(void)what;
	if (c->txn.stream != NULL && c->txn.stream->measuring)
		measure_turn(c);
	else
		client_stream_more(c);
}

int
ehlod_client_data_stream_ready(struct ehlod_client *c)
{
	struct cmd *p;
	struct cmd_stream *st = NULL;

	if (c == NULL)
		return -1;
	if (c->txn.stream != NULL)
		st = c->txn.stream;	/* measuring, or waiting for 354 */
	else if ((p = cmd_waiting(c)) != NULL)
		st = p->stream;
	if (st == NULL || !st->waiting)
		return -1;
	st->waiting = 0;
	client_stream_start(c);	/* read is called from the loop only */
	return 0;
}

void
client_stream_start(struct ehlod_client *c)
{
	static const struct timeval now = { 0, 0 };

	event_add(c->stream_ev, &now);
}

/* The watermark that calls client_stream_more (through the write
 * callback) while a quarter of the window is still queued. */
void
client_stream_watch(struct bufferevent *bev)
{
	bufferevent_setwatermark(bev, EV_WRITE, STREAM_AHEAD / 4, 0);
}
