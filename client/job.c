/*
 * NAME
 *	job.c - the client's whole-job API (ehlod/client.h)
 * DESCRIPTION
 *	ehlod_client_start and ehlod_client_run: one message to a list of
 *	recipients, or a probe.  A driver over the transaction state
 *	machine (transaction.c), the same one the step API uses: with
 *	PIPELINING (RFC 2920) MAIL, every RCPT and DATA are handed over at
 *	once and the command queue sends them in one write; without it the
 *	next step is handed over when the previous one is answered.  With
 *	BDAT the message follows the last RCPT reply, once a recipient was
 *	accepted.
 *
 *	Before connecting, the job is judged: every address, the HELO name
 *	and the DSN values with the server's grammar (safety.h), and what
 *	the message needs (8BITMIME, SMTPUTF8, BINARYMIME) for the RFC 1869
 *	fall-backs (job_needs).  The result keeps one entry per recipient.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "address.h"
#include "esmtp.h"
#include "safety.h"
#include "private.h"
#include "utf8.h"

/* What the job cannot do without, given nothing is offered (HELO); NULL
 * when it can be done without any extension.  RFC 1869 4.5 / 4.7. */
const char *
job_needs(struct ehlod_client *c)
{
	if (c->o.lmtp)
		return "LMTP has no HELO fallback";
	if (c->o.starttls == EHLOD_TLS_MUST)
		return "STARTTLS (required by the options)";
	if (c->o.auth_user != NULL)
		return "AUTH (credentials were given)";
	if (c->j.probe)
		return NULL;
	if (c->need_binary)
		return "BINARYMIME and CHUNKING (the message is binary)";
	if (c->need_8bit)
		return "8BITMIME (the message has 8-bit octets)";
	if (c->need_utf8)
		return "SMTPUTF8 (an address has UTF-8 characters)";
	return NULL;
}

/* ------------------------------------------------------------ results */

/* Recipients without a final answer share the job's failure; then the
 * job's status is derived from the recipients. */
void
job_settle(struct ehlod_client *c)
{
	int any_temp = 0, any_perm = 0;

	for (size_t i = 0; i < c->res.nrcpts; i++) {
		struct ehlod_client_rcpt *rc = &c->j.rcpts[i];

		if (rc->step == NULL || (c->failed && rc->status == EHLOD_CLIENT_OK)) {
			rc->status = c->failed ? c->res.status : EHLOD_CLIENT_TEMPFAIL;
			rc->reason = c->failed ? c->res.reason : EHLOD_REASON_PROTOCOL;
			rc->code = c->failed ? c->res.code : 0;
			set_str(&rc->step, c->failed ? c->res.step : "end of data");
			set_str(&rc->enhanced, c->failed ? c->res.enhanced : "");
			set_str(&rc->text, c->failed ? c->res.text : "no final reply");
		}
		any_temp |= rc->status == EHLOD_CLIENT_TEMPFAIL;
		any_perm |= rc->status == EHLOD_CLIENT_PERMFAIL;
	}
	if (c->failed)
		return;
	c->res.status = any_temp ? EHLOD_CLIENT_TEMPFAIL :
	    any_perm ? EHLOD_CLIENT_PERMFAIL : EHLOD_CLIENT_OK;
	if (c->res.status != EHLOD_CLIENT_OK)
		c->res.reason = EHLOD_REASON_REPLY;
}

void
job_free(struct ehlod_client *c)
{
	struct job_state *js = &c->j;

	for (size_t i = 0; js->rcpts && i < c->res.nrcpts; i++)
		rcpt_clear(&js->rcpts[i]);
	for (size_t i = 0; js->orcpt && i < c->res.nrcpts; i++)
		free(js->orcpt[i]);
	free(js->rcpts);
	free(js->orcpt);
	free(js->acc_idx);
	js->rcpts = NULL;
	js->orcpt = NULL;
	js->acc_idx = NULL;
}

/* ------------------------------------------------------- the driver */

static void on_mail(struct ehlod_client *c, const struct ehlod_client_reply *r,
    void *arg);
static void on_rcpt(struct ehlod_client *c, const struct ehlod_client_reply *r,
    void *arg);
static void on_data(struct ehlod_client *c, const struct ehlod_client_reply *r,
    void *arg);

static int
bdat_planned(struct ehlod_client *c)
{
	return c->need_binary || (c->o.chunking &&
	    ehlo_table_has(&c->ext, "CHUNKING"));
}

/* Checks against what this session offers, before MAIL. */
static int
job_fits(struct ehlod_client *c, size_t size)
{
	long long limit = ehlo_table_size_limit(&c->ext);
	const char *why = NULL;

	if (c->need_binary && !(ehlo_table_has(&c->ext, "BINARYMIME") &&
	    ehlo_table_has(&c->ext, "CHUNKING")))
		why = "the message is binary (BODY=BINARYMIME) but the server"
		    " does not offer BINARYMIME with CHUNKING";
	else if (c->need_8bit && !ehlo_table_has(&c->ext, "8BITMIME"))
		why = "the message has 8-bit octets but the server does not"
		    " offer 8BITMIME";
	else if (c->need_utf8 && !ehlo_table_has(&c->ext, "SMTPUTF8"))
		why = "an address has UTF-8 characters but the server does not"
		    " offer SMTPUTF8";
	if (why != NULL) {
		fail(c, EHLOD_CLIENT_PERMFAIL, EHLOD_REASON_NEEDS_EXTENSION,
		    "MAIL", NULL, "%s", why);
		return 0;
	}
	if (limit > 0 && (long long)size > limit) {
		fail(c, EHLOD_CLIENT_PERMFAIL, EHLOD_REASON_NEEDS_EXTENSION,
		    "MAIL", NULL, "message size %zu exceeds the server's SIZE"
		    " limit %lld", size, limit);
		return 0;
	}
	return 1;
}

static size_t
job_size(struct ehlod_client *c)
{
	const struct ehlod_client_job *j = c->j.job;
	size_t size;
	int has_8bit;

	if (c->need_binary)
		return j->len;
	client_message_measure(j->data ? j->data : "", j->len, &size,
	    &has_8bit);
	return size;
}

/* Every answer ends here: QUIT once nothing is awaited. */
static void
maybe_end(struct ehlod_client *c)
{
	if (c->j.waiting == 0)
		conn_finish(c);
}

static void
send_rcpt(struct ehlod_client *c, size_t i)
{
	const struct ehlod_client_job *j = c->j.job;

	c->j.waiting++;
	txn_rcpt(c, j->rcpts[i], j->dsn_notify,
	    c->j.orcpt ? c->j.orcpt[i] : NULL, on_rcpt, (void *)(uintptr_t)i);
}

static void
send_data(struct ehlod_client *c)
{
	const struct ehlod_client_job *j = c->j.job;

	c->j.waiting++;
	txn_data(c, j->data ? j->data : "", j->len, on_data, NULL);
}

/* Without pipelining: the step after an answer. */
static void
next_step(struct ehlod_client *c)
{
	struct job_state *js = &c->j;

	if (js->next_rcpt < js->job->nrcpts)
		send_rcpt(c, js->next_rcpt++);
	else if (js->mail_ok && js->accepted > 0)
		send_data(c);
	else
		maybe_end(c);
}

static void
on_mail(struct ehlod_client *c, const struct ehlod_client_reply *r, void *arg)
{
	struct job_state *js = &c->j;

	(void)arg;
	js->waiting--;
	if (c->st != CONN_READY)
		return;
	if (r->status == EHLOD_CLIENT_OK)
		js->mail_ok = 1;
	else
		fail_from(c, r);
	/* Without pipelining nothing else was sent: stop or go on.  With
	 * it, the RCPT and DATA replies (503) still have to be read. */
	if (!js->pipelining && !js->mail_ok)
		conn_finish(c);
	else if (!js->pipelining)
		next_step(c);
	else
		maybe_end(c);
}

static void
on_rcpt(struct ehlod_client *c, const struct ehlod_client_reply *r, void *arg)
{
	struct job_state *js = &c->j;
	size_t i = (size_t)(uintptr_t)arg;

	js->waiting--;
	if (c->st != CONN_READY)
		return;
	if (js->mail_ok) {	/* else the MAIL failure speaks for them */
		rcpt_from(&js->rcpts[i], r);
		if (r->status == EHLOD_CLIENT_OK)
			js->acc_idx[js->accepted++] = i;
	}
	if (!js->pipelining) {
		next_step(c);
		return;
	}
	/* With BDAT the message follows the recipients' replies. */
	if (bdat_planned(c) && i + 1 == js->job->nrcpts && js->mail_ok &&
	    js->accepted > 0) {
		send_data(c);
		return;
	}
	maybe_end(c);
}

static void
on_data(struct ehlod_client *c, const struct ehlod_client_reply *r, void *arg)
{
	struct job_state *js = &c->j;

	(void)arg;
	js->waiting--;
	if (c->st != CONN_READY)
		return;
	if (!js->mail_ok || js->accepted == 0) {
		maybe_end(c);	/* the expected refusal: failures are known */
		return;
	}
	if (r->nrcpts > 0) {
		for (size_t k = 0; k < r->nrcpts && k < js->accepted; k++)
			rcpt_copy(&js->rcpts[js->acc_idx[k]], &r->rcpts[k]);
	} else if (strcmp(r->step, "DATA") == 0 && r->status != EHLOD_CLIENT_OK) {
		fail_from(c, r);
	} else {
		for (size_t k = 0; k < js->accepted; k++)
			rcpt_from(&js->rcpts[js->acc_idx[k]], r);
	}
	maybe_end(c);
}

static void
fill_mail(struct ehlod_client *c, struct ehlod_client_mail *m)
{
	const struct ehlod_client_job *j = c->j.job;

	memset(m, 0, sizeof(*m));
	m->from = j->from ? j->from : "";
	m->body = c->need_binary ? EHLOD_BODY_BINARYMIME : c->need_8bit ?
	    EHLOD_BODY_8BITMIME : EHLOD_BODY_AUTO;
	m->smtputf8 = c->need_utf8;
	m->size = job_size(c);
	m->dsn_ret = j->dsn_ret;
	m->dsn_envid = j->dsn_envid;
	if (!ehlo_table_has(&c->ext, "DSN") && (j->dsn_ret || j->dsn_envid ||
	    j->dsn_notify || j->dsn_orcpt))
		note(c, "DSN not offered: RET, ENVID, NOTIFY and ORCPT not sent");
}

/* The connection is ready (again, after a reconnect): the transaction
 * starts from the beginning. */
static void
job_ready(struct ehlod_client *c)
{
	struct job_state *js = &c->j;
	struct ehlod_client_mail m;

	if (js->probe || !job_fits(c, job_size(c))) {
		conn_finish(c);
		return;
	}
	js->pipelining = c->pipelining;
	js->mail_ok = 0;
	js->accepted = 0;
	js->next_rcpt = 0;
	js->waiting = 1;
	fill_mail(c, &m);
	txn_mail(c, &m, on_mail, NULL);
	if (!js->pipelining || c->st != CONN_READY)
		return;
	for (js->next_rcpt = 0; js->next_rcpt < js->job->nrcpts; js->next_rcpt++)
		send_rcpt(c, js->next_rcpt);
	if (!bdat_planned(c))
		send_data(c);
}

/* --------------------------------------------------------- starting */

/* Judge what the caller asks us to put on a command line (safety.h);
 * on failure the job fails before any connection, saying why and
 * showing the value with its control characters escaped. */
static int
refuse_bad(struct ehlod_client *c, const char *why, const char *value)
{
	char buf[600];

	if (why == NULL)
		return 0;
	if (value != NULL)
		fail(c, EHLOD_CLIENT_PERMFAIL, EHLOD_REASON_LOCAL, "start", NULL,
		    "not sent: %s: \"%s\"", why, shown(value, buf, sizeof(buf)));
	else
		fail(c, EHLOD_CLIENT_PERMFAIL, EHLOD_REASON_LOCAL, "start", NULL,
		    "not sent: %s", why);
	return -1;
}

static int
check_job(struct ehlod_client *c, const struct ehlod_client_job *j)
{
	if (refuse_bad(c, client_refuse_helo(c->helo_name), c->helo_name) < 0)
		return -1;
	if (j == NULL)
		return 0;
	if (refuse_bad(c, client_refuse_sender(j->from), j->from) < 0 ||
	    refuse_bad(c, client_refuse_dsn(j->dsn_ret, j->dsn_notify, NULL),
	    NULL) < 0)
		return -1;
	for (size_t i = 0; i < j->nrcpts; i++)
		if (refuse_bad(c, client_refuse_recipient(j->rcpts[i]),
		    j->rcpts[i]) < 0)
			return -1;
	return 0;
}

static int
addresses_have_utf8(const struct ehlod_client_job *j)
{
	if (j->from && utf8_has_8bit(j->from, strlen(j->from)))
		return 1;
	for (size_t i = 0; i < j->nrcpts; i++)
		if (utf8_has_8bit(j->rcpts[i], strlen(j->rcpts[i])))
			return 1;
	return 0;
}

/* ORCPT=rfc822;<xtext of the recipient> (RFC 3461 4.2). */
static char *
orcpt_of(const char *rcpt)
{
	char x[CMD_LINE_MAX - 16], line[CMD_LINE_MAX];

	if (esmtp_xtext_encode(rcpt, x, sizeof(x)) < 0)
		return NULL;	/* too long: leave the optional parameter out */
	snprintf(line, sizeof(line), "rfc822;%s", x);
	return xstrdup(line);
}

static void
setup_job(struct ehlod_client *c, const struct ehlod_client_job *j)
{
	struct job_state *js = &c->j;
	size_t n = j->nrcpts ? j->nrcpts : 1, size;
	int has_8bit;

	js->rcpts = xcalloc(n, sizeof(*js->rcpts));
	js->acc_idx = xcalloc(n, sizeof(*js->acc_idx));
	if (j->dsn_orcpt)
		js->orcpt = xcalloc(n, sizeof(*js->orcpt));
	c->res.nrcpts = j->nrcpts;
	c->res.rcpts = js->rcpts;
	for (size_t i = 0; i < j->nrcpts; i++) {
		js->rcpts[i].address = xstrdup(j->rcpts[i]);
		if (js->orcpt)
			js->orcpt[i] = orcpt_of(j->rcpts[i]);
	}
	client_message_measure(j->data ? j->data : "", j->len, &size,
	    &has_8bit);
	c->need_binary = j->body == EHLOD_BODY_BINARYMIME;
	c->need_8bit = !c->need_binary && (j->body == EHLOD_BODY_8BITMIME ||
	    (j->body == EHLOD_BODY_AUTO && has_8bit));
	c->need_utf8 = j->smtputf8 > 0 || (j->smtputf8 < 0 && addresses_have_utf8(j));
}

int
ehlod_client_start(struct ehlod_client *c, const struct ehlod_client_job *job,
    ehlod_client_cb cb, void *arg)
{
	if (c->st != CONN_IDLE)
		return -1;
	set_str(&c->res.step, "");
	set_str(&c->res.enhanced, "");
	set_str(&c->res.text, "");
	c->cb = cb;
	c->cb_arg = arg;
	c->j.probe = job == NULL;
	c->j.job = NULL;
	if (job != NULL && client_copy_sized(&c->j.copy, sizeof(c->j.copy),
	    job, JOB_SIZE_1_0) < 0) {
		fail(c, EHLOD_CLIENT_PERMFAIL, EHLOD_REASON_LOCAL, "start",
		    NULL, "the job's size is not set (EHLOD_CLIENT_JOB_INIT)");
		conn_done(c);
		return 0;
	}
	if (job != NULL) {
		job = c->j.job = &c->j.copy;
		setup_job(c, job);
	}
	if (job != NULL && job->nrcpts == 0) {
		fail(c, EHLOD_CLIENT_PERMFAIL, EHLOD_REASON_LOCAL, "start",
		    NULL, "no recipients");
		conn_done(c);
		return 0;
	}
	if (check_job(c, job) < 0 || conn_start(c, job_ready) < 0)
		conn_done(c);
	return 0;
}

enum ehlod_client_status
ehlod_client_run(struct ehlod_client *c, const struct ehlod_client_job *job)
{
	if (ehlod_client_start(c, job, NULL, NULL) < 0)
		return EHLOD_CLIENT_PERMFAIL;
	while (!c->notified)
		if (event_base_loop(c->base, EVLOOP_ONCE) < 0)
			break;
	return c->res.status;
}
