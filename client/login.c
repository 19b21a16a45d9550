/*
 * NAME
 *	login.c - AUTH (RFC 4954) for the client's connection
 * DESCRIPTION
 *	Part of the connection (connection.c): after EHLO (and STARTTLS),
 *	when the options give a user, AUTH runs through client_auth.c
 *	(Cyrus SASL) and every 334 challenge is answered as a command of
 *	its own in the queue.  Secrets never reach the transcript.
 *	Credentials are sent only under TLS, unless the caller allowed the
 *	clear (auth_plaintext).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_auth.h"
#include "private.h"

static void on_auth(struct ehlod_client *c, struct cmd *cmd,
    const struct smtp_reply *r);

static void
auth_failed(struct ehlod_client *c, const char *why)
{
	fail(c, EHLOD_CLIENT_PERMFAIL, EHLOD_REASON_AUTH, "AUTH", NULL, "%s", why);
	conn_finish(c);
}

/* No TLS and no permission for the clear.  A STARTTLS refused with a
 * 4xx reply may work on the next attempt: temporary.  Otherwise
 * (STARTTLS not asked for, not offered, refused for good) trying again
 * changes nothing: permanent. */
void
login_in_clear(struct ehlod_client *c)
{
	const char *tls = c->o.starttls == EHLOD_TLS_NO ?
	    "STARTTLS was not asked for" : c->tls_tried == 0 ?
	    "STARTTLS was not offered" : "STARTTLS was refused";
	int temp = REPLY_CLASS(c->tls_tried) == 4;

	fail(c, temp ? EHLOD_CLIENT_TEMPFAIL : EHLOD_CLIENT_PERMFAIL,
	    temp ? EHLOD_REASON_TLS : EHLOD_REASON_AUTH, "AUTH", NULL,
	    "AUTH refused without TLS: %s, and the credentials would cross"
	    " the network in clear (use STARTTLS, or allow plaintext AUTH"
	    " explicitly)", tls);
	conn_finish(c);
}

/* One line of the exchange; the transcript shows "shown_as". */
static void
push_auth_line(struct ehlod_client *c, char *line, const char *shown_as)
{
	struct cmd *p = cmd_push(c, line, "AUTH", CMD_ALONE, on_auth);

	p->shown = xstrdup(shown_as);
	cmd_pump(c);
}

void
login_start(struct ehlod_client *c)
{
	const struct ehlo_entry *e;
	const char *err = NULL, *mech = NULL;
	char *line, masked[128];

	if (!c->res.tls && !c->o.auth_plaintext) {
		login_in_clear(c);
		return;
	}
	if ((e = ehlo_table_find(&c->ext, "AUTH")) == NULL) {
		auth_failed(c, "the server does not offer AUTH");
		return;
	}
	c->auth = client_auth_new(c->host ? c->host : "localhost",
	    c->o.auth_user, c->o.auth_password, e->params, c->o.auth_mechs, &err);
	if (c->auth == NULL) {
		auth_failed(c, err);
		return;
	}
	if ((line = client_auth_start(c->auth, &mech, &err)) == NULL) {
		auth_failed(c, err ? err : "SASL failed");
		return;
	}
	snprintf(masked, sizeof(masked), "AUTH %s%s", mech,
	    strchr(line + 5, ' ') ? " ****" : "");
	push_auth_line(c, line, masked);
}

static void
on_auth(struct ehlod_client *c, struct cmd *cmd, const struct smtp_reply *r)
{
	const char *err = NULL;
	char *line;

	(void)cmd;
	if (r->code == 235) {
		c->res.authenticated = 1;
		conn_proceed(c);
		return;
	}
	if (r->code != 334) {
		fail(c, status_of(r->code), EHLOD_REASON_AUTH, "AUTH", r, NULL);
		conn_finish(c);
		return;
	}
	if ((line = client_auth_step(c->auth, r->lines[0], &err)) == NULL) {
		/* RFC 4954 4: "*" cancels; the server answers 501. */
		note(c, "SASL: %s", err ? err : "failed");
		push_auth_line(c, xstrdup("*"), "*");
		return;
	}
	push_auth_line(c, line, "****");
}
