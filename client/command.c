/*
 * NAME
 *	command.c - the client's command queue
 * DESCRIPTION
 *	Every command the client sends, from EHLO to QUIT, is a struct cmd
 *	in one queue, oldest first, and every reply goes to the oldest
 *	command that was sent and is not yet answered (replies come in
 *	order, RFC 5321 and RFC 2920).  A command may expect several
 *	replies: LMTP's end of data gets one per accepted recipient
 *	(RFC 2033 4.2).
 *
 *	When a command goes out is decided here alone.  Without PIPELINING
 *	a command waits until the one before it is answered.  With it
 *	(RFC 2920 3.1), a command marked CMD_PIPE (MAIL, RCPT, RSET) goes
 *	out behind unanswered CMD_PIPE commands, and one marked CMD_LAST
 *	(DATA) may end such a group, but nothing goes out behind it; the
 *	others (EHLO, STARTTLS, AUTH, the message) wait for silence.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "private.h"

/* A command line, bounded like every line we send. */
char *
cmd_line(const char *fmt, ...)
{
	char line[CMD_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	return xstrdup(line);
}

static void
cmd_free(struct cmd *p)
{
	free(p->line);
	free(p->shown);
	free(p->addr);
	free(p->data_owned);
	client_stream_free(p->stream);
	free(p);
}

void
cmd_free_sent(const void *data, size_t len, void *arg)
{
	(void)data;
	(void)len;
	free(arg);
}

struct cmd *
cmd_push(struct ehlod_client *c, char *line, const char *name, int pipeline,
    cmd_reply_fn on_reply)
{
	struct cmd *p = xcalloc(1, sizeof(*p));

	p->line = line;
	p->name = name;
	p->pipeline = pipeline;
	p->replies = 1;
	p->on_reply = on_reply;
	if (c->q_tail != NULL)
		c->q_tail->next = p;
	else
		c->q_head = p;
	c->q_tail = p;
	return p;
}

static void
write_line(struct ehlod_client *c, const char *line, const char *shown_as)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	evbuffer_add(out, line, strlen(line));
	evbuffer_add(out, "\r\n", 2);
	note_prefixed(c, "C: ", "%s", shown_as ? shown_as : line);
}

/* A message the command owns goes by reference: the output buffer frees
 * it once written (or when the connection goes), so a large message is
 * never held twice. */
static void
write_data(struct ehlod_client *c, struct cmd *p)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	if (p->data_owned != NULL && p->data_len > 0 &&
	    evbuffer_add_reference(out, p->data, p->data_len, cmd_free_sent,
	    p->data_owned) == 0)
		p->data_owned = NULL;
	else
		evbuffer_add(out, p->data, p->data_len);
	note(c, "%zu octets of message sent%s", p->data_len,
	    p->line == NULL ? " (dot-stuffed)" : "");
}

static void
send_one(struct ehlod_client *c, struct cmd *p)
{
	p->sent = 1;
	if (p->line != NULL)
		write_line(c, p->line, p->shown);
	if (p->stream != NULL)
		client_stream_start(c);	/* from the loop: it may fail */
	if (p->data != NULL)
		write_data(c, p);
	if (p->line == NULL && p->data != NULL)
		write_line(c, ".", NULL);	/* the end of DATA's message */
}

void
cmd_pump(struct ehlod_client *c)
{
	int waiting = 0, may_follow = 1;

	if (c->bev == NULL)
		return;
	for (struct cmd *p = c->q_head; p != NULL; p = p->next) {
		if (!p->sent) {
			if (waiting && !(c->pipelining && p->pipeline &&
			    may_follow))
				return;
			send_one(c, p);
		}
		waiting = 1;
		may_follow = may_follow && p->pipeline == CMD_PIPE;
	}
}

/* The reply goes to the oldest command waiting.  The command is out of
 * the queue while its handler runs, so that the handler may clear the
 * queue (a failure, QUIT); it goes back to the head when it expects
 * more replies and the connection is still there. */
void
cmd_dispatch(struct ehlod_client *c, const struct smtp_reply *r)
{
	struct cmd *p = c->q_head;

	c->q_head = p->next;
	if (c->q_head == NULL)
		c->q_tail = NULL;
	p->next = NULL;
	p->replies--;
	p->on_reply(c, p, r);
	if (p->replies > 0 && c->bev != NULL && c->st != CONN_DONE) {
		p->next = c->q_head;
		c->q_head = p;
		if (c->q_tail == NULL)
			c->q_tail = p;
	} else {
		cmd_free(p);
	}
	cmd_pump(c);
}

struct cmd *
cmd_waiting(const struct ehlod_client *c)
{
	return c->q_head != NULL && c->q_head->sent ? c->q_head : NULL;
}

int
cmd_idle(const struct ehlod_client *c)
{
	return c->q_head == NULL;
}

void
cmd_clear(struct ehlod_client *c)
{
	while (c->q_head != NULL) {
		struct cmd *p = c->q_head;

		c->q_head = p->next;
		cmd_free(p);
	}
	c->q_tail = NULL;
}
