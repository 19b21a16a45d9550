/*
 * NAME
 *	transaction.c - the client's one transaction state machine
 * DESCRIPTION
 *	MAIL, RCPT, DATA (or BDAT) and RSET, each a command in the queue
 *	(command.c) whose reply is handed to the caller's callback as a
 *	struct ehlod_client_reply.  Both public APIs run on this: the
 *	session API (client_session.c) one step at a time, the job driver
 *	(job.c) pipelining MAIL, RCPT and DATA when the server allows it.
 *
 *	What is decided here, from what this session's EHLO offered: the
 *	MAIL parameters (SIZE, BODY, SMTPUTF8, RET, ENVID) and the RCPT ones
 *	(NOTIFY, ORCPT), each only when offered; DATA or BDAT; BDAT, raw
 *	octets and nothing else for BODY=BINARYMIME (RFC 3030 3); and a
 *	step refused unsent, answered at once with reason NEEDS_EXTENSION,
 *	when the transaction needs what the server lacks.  It remembers the
 *	recipients the server accepted, in order: LMTP's end of data
 *	(RFC 2033 4.2) gets one reply for each of them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esmtp.h"
#include "private.h"

/* --------------------------------------------------------- the replies */

struct answer {
	struct ehlod_client_reply r;
	char enh[REPLY_ENHANCED_MAX];
	char text[1024];
};

static void
answer_from(struct ehlod_client *c, struct answer *a, const char *step,
    const struct smtp_reply *r)
{
	memset(&a->r, 0, sizeof(a->r));
	reply_parts(c, r, a->enh, sizeof(a->enh), a->text, sizeof(a->text));
	a->r.code = r->code;
	a->r.status = status_of(r->code);
	a->r.reason = a->r.status == EHLOD_CLIENT_OK ? EHLOD_REASON_NONE :
	    EHLOD_REASON_REPLY;
	a->r.step = step;
	a->r.enhanced = a->enh;
	a->r.text = a->text;
}

static void
answer(struct ehlod_client *c, struct cmd *cmd, const char *step,
    const struct smtp_reply *r)
{
	struct answer a;

	answer_from(c, &a, step, r);
	if (cmd->cb != NULL)
		cmd->cb(c, &a.r, cmd->arg);
}

/* A step answered by the library itself, nothing sent: the callback is
 * called at once. */
static void
refuse_with(struct ehlod_client *c, ehlod_client_step_cb cb, void *arg,
    enum ehlod_client_status status, const char *step,
    enum ehlod_client_reason reason, const char *enh, const char *fmt,
    va_list ap)
{
	struct answer a;

	vsnprintf(a.text, sizeof(a.text), fmt, ap);
	memset(&a.r, 0, sizeof(a.r));
	snprintf(a.enh, sizeof(a.enh), "%s", enh);
	a.r.status = status;
	a.r.reason = reason;
	a.r.step = step;
	a.r.enhanced = a.enh;
	a.r.text = a.text;
	note(c, "%s not sent: %s", step, a.text);
	cb(c, &a.r, arg);
}

/* Refused for good: the same request would be refused again. */
void
txn_refuse(struct ehlod_client *c, ehlod_client_step_cb cb, void *arg,
    const char *step, enum ehlod_client_reason reason, const char *enh,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	refuse_with(c, cb, arg, EHLOD_CLIENT_PERMFAIL, step, reason, enh,
	    fmt, ap);
	va_end(ap);
}

/* Not sent for a local trouble that may pass (a read that failed). */
static void
txn_defer(struct ehlod_client *c, ehlod_client_step_cb cb, void *arg,
    const char *step, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	refuse_with(c, cb, arg, EHLOD_CLIENT_TEMPFAIL, step,
	    EHLOD_REASON_LOCAL, "", fmt, ap);
	va_end(ap);
}

static struct cmd *
push_step(struct ehlod_client *c, char *line, const char *name, int pipeline,
    cmd_reply_fn fn, ehlod_client_step_cb cb, void *arg)
{
	struct cmd *p = cmd_push(c, line, name, pipeline, fn);

	p->cb = cb;
	p->arg = arg;
	return p;
}

static void xforward_drop(struct txn *t);

/* ---------------------------------------------------- accepted rcpts */

void
txn_forget(struct ehlod_client *c)
{
	for (size_t i = 0; i < c->txn.nacc; i++)
		free(c->txn.acc[i]);
	c->txn.nacc = 0;
	client_stream_free(c->txn.stream);
	c->txn.stream = NULL;
}

static void
remember(struct ehlod_client *c, const char *rcpt)
{
	struct txn *t = &c->txn;

	if (t->nacc == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 16;
		t->acc = xreallocarray(t->acc, cap, sizeof(*t->acc));
		t->cap = cap;
	}
	t->acc[t->nacc++] = xstrdup(rcpt);
}

static void
lmtp_reset(struct ehlod_client *c, size_t n)
{
	struct txn *t = &c->txn;

	for (size_t i = 0; i < t->nlmtp; i++)
		rcpt_clear(&t->lmtp[i]);
	free(t->lmtp);
	t->lmtp = NULL;
	t->nlmtp = t->lmtp_seen = 0;
	if (n == 0)
		return;
	t->lmtp = xcalloc(n, sizeof(*t->lmtp));
	t->nlmtp = n;
	for (size_t i = 0; i < n; i++)
		t->lmtp[i].address = xstrdup(t->acc[i]);
}

void
txn_free(struct ehlod_client *c)
{
	txn_forget(c);
	xforward_drop(&c->txn);
	free(c->txn.acc);
	c->txn.acc = NULL;
	c->txn.cap = 0;
	lmtp_reset(c, 0);
	client_message_free(&c->txn.msg);
}

/* -------------------------------------------------------------- MAIL */

/* Append " KEY=xtext(value)" to line. */
static void
add_xtext(char *line, size_t len, const char *key, const char *value)
{
	char x[CMD_LINE_MAX];
	size_t used = strlen(line);

	if (esmtp_xtext_encode(value, x, sizeof(x)) < 0)
		return;
	if (used + strlen(key) + strlen(x) + 2 >= len)
		return;		/* too long: leave the optional parameter out */
	snprintf(line + used, len - used, " %s=%s", key, x);
}

static const char *
body_keyword(enum ehlod_client_body body)
{
	switch (body) {
	case EHLOD_BODY_7BIT: return "7BIT";
	case EHLOD_BODY_8BITMIME: return "8BITMIME";
	case EHLOD_BODY_BINARYMIME: return "BINARYMIME";
	case EHLOD_BODY_AUTO: break;
	}
	return NULL;
}

static char *
build_mail(struct ehlod_client *c, const struct ehlod_client_mail *m)
{
	char line[CMD_LINE_MAX];
	const char *body = body_keyword(m->body);
	size_t n;

	snprintf(line, sizeof(line), "MAIL FROM:<%s>", m->from ? m->from : "");
	n = strlen(line);
	if (m->size > 0 && ehlo_table_has(&c->ext, "SIZE"))
		n += snprintf(line + n, sizeof(line) - n, " SIZE=%llu", m->size);
	if (body != NULL && ehlo_table_has(&c->ext, "8BITMIME"))
		n += snprintf(line + n, sizeof(line) - n, " BODY=%s", body);
	if (m->smtputf8 > 0 && ehlo_table_has(&c->ext, "SMTPUTF8"))
		n += snprintf(line + n, sizeof(line) - n, " SMTPUTF8");
	if (ehlo_table_has(&c->ext, "DSN")) {
		if (m->dsn_ret)
			snprintf(line + n, sizeof(line) - n, " RET=%s", m->dsn_ret);
		if (m->dsn_envid)
			add_xtext(line, sizeof(line), "ENVID", m->dsn_envid);
	}
	return xstrdup(line);
}

/* What the transaction declares against what the server offers. */
static int
mail_fits(struct ehlod_client *c, const struct ehlod_client_mail *m,
    ehlod_client_step_cb cb, void *arg)
{
	long long limit = ehlo_table_size_limit(&c->ext);

	if (m->body == EHLOD_BODY_BINARYMIME &&
	    !(ehlo_table_has(&c->ext, "BINARYMIME") &&
	    ehlo_table_has(&c->ext, "CHUNKING")))
		return txn_refuse(c, cb, arg, "MAIL",
		    EHLOD_REASON_NEEDS_EXTENSION, "5.6.3", "the message is"
		    " binary (BODY=BINARYMIME) but the server does not offer"
		    " BINARYMIME with CHUNKING"), 0;
	if (m->body == EHLOD_BODY_8BITMIME && !ehlo_table_has(&c->ext, "8BITMIME"))
		return txn_refuse(c, cb, arg, "MAIL",
		    EHLOD_REASON_NEEDS_EXTENSION, "5.6.3", "the message is"
		    " 8-bit (BODY=8BITMIME) but the server does not offer"
		    " 8BITMIME"), 0;
	if (m->smtputf8 > 0 && !ehlo_table_has(&c->ext, "SMTPUTF8"))
		return txn_refuse(c, cb, arg, "MAIL",
		    EHLOD_REASON_NEEDS_EXTENSION, "5.6.7", "the transaction"
		    " needs SMTPUTF8 but the server does not offer it"), 0;
	if (limit > 0 && m->size > (unsigned long long)limit)
		return txn_refuse(c, cb, arg, "MAIL",
		    EHLOD_REASON_NEEDS_EXTENSION, "5.3.4", "message size %llu"
		    " exceeds the server's SIZE limit %lld", m->size, limit), 0;
	return 1;
}

static void
on_mail(struct ehlod_client *c, struct cmd *cmd, const struct smtp_reply *r)
{
	answer(c, cmd, "MAIL", r);
}

/* XFORWARD before MAIL (ehlod_client_xforward): one line at a time, MAIL
 * only after the last 250, so that a refusal leaves no transaction open
 * at the next hop and nothing is judged by the proxy's own address. */
static void
xforward_drop(struct txn *t)
{
	for (size_t i = 0; i < t->xf_n; i++)
		free(t->xf_lines[i]);
	free(t->xf_mail);
	t->xf_mail = NULL;
	t->xf_n = t->xf_next = 0;
}

static void xforward_next(struct ehlod_client *c, ehlod_client_step_cb cb,
    void *arg);

static void
on_xforward(struct ehlod_client *c, struct cmd *cmd, const struct smtp_reply *r)
{
	if (REPLY_CLASS(r->code) != 2) {
		xforward_drop(&c->txn);
		answer(c, cmd, "XFORWARD", r);
		return;
	}
	xforward_next(c, cmd->cb, cmd->arg);
}

static void
xforward_next(struct ehlod_client *c, ehlod_client_step_cb cb, void *arg)
{
	struct txn *t = &c->txn;
	char *line;

	if (t->xf_next < t->xf_n) {
		line = t->xf_lines[t->xf_next];
		t->xf_lines[t->xf_next++] = NULL;
		push_step(c, line, "XFORWARD", CMD_ALONE, on_xforward, cb, arg);
	} else {
		line = t->xf_mail;
		t->xf_mail = NULL;
		xforward_drop(t);
		push_step(c, line, "MAIL", CMD_PIPE, on_mail, cb, arg);
	}
	cmd_pump(c);
}

void
txn_mail(struct ehlod_client *c, const struct ehlod_client_mail *m,
    ehlod_client_step_cb cb, void *arg)
{
	struct txn *t = &c->txn;

	if (!mail_fits(c, m, cb, arg))
		return;
	txn_forget(c);
	xforward_drop(t);
	t->binary = m->body == EHLOD_BODY_BINARYMIME;
	/* Only the session API: the job driver pipelines RCPT behind MAIL. */
	if (c->session && (t->xf_n = xforward_lines(c, t->xf_lines)) > 0) {
		t->xf_mail = build_mail(c, m);
		xforward_next(c, cb, arg);
		return;
	}
	push_step(c, build_mail(c, m), "MAIL", CMD_PIPE, on_mail, cb, arg);
	cmd_pump(c);
}

/* -------------------------------------------------------------- RCPT */

static void
on_rcpt(struct ehlod_client *c, struct cmd *cmd, const struct smtp_reply *r)
{
	if (REPLY_CLASS(r->code) == 2)
		remember(c, cmd->addr);
	answer(c, cmd, "RCPT", r);
}

void
txn_rcpt(struct ehlod_client *c, const char *rcpt, const char *notify,
    const char *orcpt, ehlod_client_step_cb cb, void *arg)
{
	char line[CMD_LINE_MAX];
	size_t n;
	struct cmd *p;

	snprintf(line, sizeof(line), "RCPT TO:<%s>", rcpt);
	n = strlen(line);
	if (ehlo_table_has(&c->ext, "DSN")) {
		if (notify)
			n += snprintf(line + n, sizeof(line) - n, " NOTIFY=%s", notify);
		if (orcpt && n < sizeof(line))
			snprintf(line + n, sizeof(line) - n, " ORCPT=%s", orcpt);
	}
	p = push_step(c, xstrdup(line), "RCPT", CMD_PIPE, on_rcpt, cb, arg);
	p->addr = xstrdup(rcpt);
	cmd_pump(c);
}

/* ------------------------------------------------------- DATA / BDAT */

static const char *
eom_step(struct ehlod_client *c)
{
	return c->txn.bdat ? "BDAT" : "end of data";
}

/* LMTP: one more recipient's reply; the summary once all are in: the
 * first failure, or the first reply when all succeeded. */
static void
on_lmtp_eom(struct ehlod_client *c, struct cmd *cmd, const struct smtp_reply *r)
{
	struct txn *t = &c->txn;
	struct answer a;
	struct ehlod_client_reply sum;
	const struct ehlod_client_rcpt *rc;
	size_t first_bad = t->nlmtp;

	answer_from(c, &a, eom_step(c), r);
	if (t->lmtp_seen < t->nlmtp)
		rcpt_from(&t->lmtp[t->lmtp_seen++], &a.r);
	if (cmd->replies > 0)
		return;
	for (size_t i = 0; i < t->nlmtp && first_bad == t->nlmtp; i++)
		if (t->lmtp[i].status != EHLOD_CLIENT_OK)
			first_bad = i;
	rc = &t->lmtp[first_bad < t->nlmtp ? first_bad : 0];
	memset(&sum, 0, sizeof(sum));
	sum.status = rc->status;
	sum.reason = rc->reason;
	sum.code = rc->code;
	sum.step = rc->step;
	sum.enhanced = rc->enhanced;
	sum.text = rc->text;
	sum.nrcpts = t->nlmtp;
	sum.rcpts = t->lmtp;
	txn_forget(c);
	if (cmd->cb != NULL)
		cmd->cb(c, &sum, cmd->arg);
}

static void
on_eom(struct ehlod_client *c, struct cmd *cmd, const struct smtp_reply *r)
{
	if (c->o.lmtp) {
		on_lmtp_eom(c, cmd, r);
		return;
	}
	txn_forget(c);
	answer(c, cmd, eom_step(c), r);
}

/* The message: BDAT with its octets, or after 354 the dot-stuffed text
 * and the final dot.  One reply, or one per accepted recipient (LMTP). */
static void
push_content(struct ehlod_client *c, ehlod_client_step_cb cb, void *arg)
{
	struct txn *t = &c->txn;
	struct cmd *p;

	size_t size = t->stream ? client_stream_size(t->stream) :
	    t->msg.out_len;

	lmtp_reset(c, c->o.lmtp ? t->nacc : 0);
	if (t->bdat)
		p = push_step(c, cmd_line("BDAT %zu LAST", size),
		    "BDAT", CMD_ALONE, on_eom, cb, arg);
	else
		p = push_step(c, NULL, "end of data", CMD_ALONE, on_eom, cb, arg);
	/* The command owns the octets (or their source) now; the output
	 * buffer takes them without a copy when they go (command.c). */
	if (t->stream != NULL) {
		p->stream = t->stream;
		t->stream = NULL;
	} else {
		p->data_len = t->msg.out_len;
		p->data_owned = client_message_take(&t->msg);
		p->data = p->data_owned;
	}
	if (c->o.lmtp && t->nacc > 0)
		p->replies = (unsigned)t->nacc;
	cmd_pump(c);
}

static void
on_empty_dot(struct ehlod_client *c, struct cmd *cmd, const struct smtp_reply *r)
{
	(void)r;
	txn_forget(c);
	if (cmd->cb != NULL)
		txn_refuse(c, cmd->cb, cmd->arg, "DATA", EHLOD_REASON_LOCAL, "",
		    "no recipient was accepted");
}

static void
on_data(struct ehlod_client *c, struct cmd *cmd, const struct smtp_reply *r)
{
	if (r->code == 354 && c->txn.nacc == 0) {
		/* RFC 2920 3.1: DATA accepted although every recipient
		 * failed; end it with an empty message. */
		push_step(c, xstrdup("."), "end of data", CMD_ALONE,
		    on_empty_dot, cmd->cb, cmd->arg);
		cmd_pump(c);
		return;
	}
	if (r->code == 354) {
		push_content(c, cmd->cb, cmd->arg);
		return;
	}
	answer(c, cmd, "DATA", r);
}

/* The form the message goes in: BINARYMIME octets as they are (BDAT),
 * else line ends repaired, and dot-stuffed for DATA. */
static enum message_form
form_for(struct ehlod_client *c)
{
	struct txn *t = &c->txn;

	t->bdat = t->binary || (c->o.chunking &&
	    ehlo_table_has(&c->ext, "CHUNKING"));
	return t->binary ? FORM_RAW : t->bdat ? FORM_CRLF : FORM_STUFFED;
}

void
txn_data_begin(struct ehlod_client *c, size_t size_hint)
{
	enum message_form form = form_for(c);

	client_message_free(&c->txn.msg);
	client_message_begin(&c->txn.msg, form, size_hint);
}

int
txn_data_add(struct ehlod_client *c, const void *data, size_t len)
{
	return client_message_add(&c->txn.msg, data, len);
}

void
txn_data_cancel(struct ehlod_client *c)
{
	client_message_free(&c->txn.msg);
}

/* What the server would refuse goes nowhere: 0 when the message may go,
 * else -1 with the step answered. */
static int
judge(struct ehlod_client *c, int has_8bit, size_t crlf_len,
    ehlod_client_step_cb cb, void *arg)
{
	long long limit = ehlo_table_size_limit(&c->ext);

	if (!c->txn.binary && has_8bit && !ehlo_table_has(&c->ext, "8BITMIME")) {
		txn_refuse(c, cb, arg, "DATA", EHLOD_REASON_NEEDS_EXTENSION,
		    "5.6.3", "the message has 8-bit octets but the server does"
		    " not offer 8BITMIME");
		return -1;
	}
	if (limit > 0 && (long long)crlf_len > limit) {
		txn_refuse(c, cb, arg, "DATA", EHLOD_REASON_NEEDS_EXTENSION,
		    "5.3.4", "message size %zu exceeds the server's SIZE limit"
		    " %lld", crlf_len, limit);
		return -1;
	}
	return 0;
}

/* Judged: BDAT with the octets, or DATA and the octets after 354. */
static void
send_message(struct ehlod_client *c, ehlod_client_step_cb cb, void *arg)
{
	if (c->txn.bdat) {
		push_content(c, cb, arg);
		return;
	}
	push_step(c, xstrdup("DATA"), "DATA", CMD_LAST, on_data, cb, arg);
	cmd_pump(c);
}

/* The message is whole in t->msg: judge it, then DATA or BDAT. */
void
txn_data_end(struct ehlod_client *c, ehlod_client_step_cb cb, void *arg)
{
	struct txn *t = &c->txn;

	if (client_message_finish(&t->msg) < 0) {
		client_message_free(&t->msg);
		txn_refuse(c, cb, arg, "DATA", EHLOD_REASON_LOCAL, "",
		    "out of memory");
		return;
	}
	if (judge(c, t->msg.has_8bit, t->msg.crlf_len, cb, arg) < 0)
		return;
	send_message(c, cb, arg);
}

/* The message read from the caller as it goes (client_stream.c): it is
 * measured from the loop first, then judged (txn_stream_measured). */
void
txn_data_stream(struct ehlod_client *c, ehlod_client_read_cb read,
    void *read_arg, ehlod_client_step_cb cb, void *arg)
{
	struct txn *t = &c->txn;

	client_message_free(&t->msg);
	client_stream_free(t->stream);
	t->stream = client_stream_open(form_for(c), read, read_arg, cb, arg);
	client_stream_start(c);
}

/* The stream is measured (ok), or the caller's read failed. */
void
txn_stream_measured(struct ehlod_client *c, int ok)
{
	struct txn *t = &c->txn;
	void *arg;
	ehlod_client_step_cb cb = client_stream_step(t->stream, &arg);

	if (!ok) {
		client_stream_free(t->stream);
		t->stream = NULL;
		txn_defer(c, cb, arg, "DATA",
		    "cannot read the message to send");
		return;
	}
	/* BDAT's size is the form's; SIZE= and this check count CRLF. */
	if (judge(c, client_stream_has_8bit(t->stream),
	    client_stream_size(t->stream), cb, arg) < 0) {
		client_stream_free(t->stream);
		t->stream = NULL;
		return;
	}
	send_message(c, cb, arg);
}

void
txn_data(struct ehlod_client *c, const void *data, size_t len,
    ehlod_client_step_cb cb, void *arg)
{
	txn_data_begin(c, len);
	txn_data_add(c, data ? data : "", len);
	txn_data_end(c, cb, arg);
}

/* -------------------------------------------------------------- RSET */

static void
on_rset(struct ehlod_client *c, struct cmd *cmd, const struct smtp_reply *r)
{
	txn_forget(c);
	answer(c, cmd, "RSET", r);
}

void
txn_rset(struct ehlod_client *c, ehlod_client_step_cb cb, void *arg)
{
	txn_forget(c);
	push_step(c, xstrdup("RSET"), "RSET", CMD_PIPE, on_rset, cb, arg);
	cmd_pump(c);
}
