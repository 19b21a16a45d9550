/*
 * NAME
 *	commands.c - the SMTP commands of RFC 5321 and plugin verbs
 * DESCRIPTION
 *	command_dispatch() takes one command line and answers it, in the
 *	order RFC 5321 section 4.1.4 allows: HELO/EHLO, then MAIL, RCPT,
 *	DATA.  MAIL and RCPT arguments are checked against the esmtp-param
 *	grammar before any plugin sees them (RFC 1869 section 6): 501 for
 *	syntax, 555 for a parameter no offered extension knows or for any
 *	parameter after HELO.  Each step then runs its hook chain and
 *	finishes in a *_done callback, which may run later if a plugin's
 *	hook was pending.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "config.h"
#include "esmtp.h"
#include "ehlo.h"
#include "log.h"
#include "session.h"
#include "xforward.h"
#include "stats.h"


/* Counts one client error; at max_errors the session ends with 421. */
void
session_count_error(struct ehlod_session *s)
{
	if (++s->errors < (unsigned)server->conf->max_errors)
		return;
	session_reply(s, 421, "4.7.0", "%s Error: too many errors",
	    server->conf->hostname);
	log_msg(LOG_INFO, "%s: too many errors from [%s]:%s", s->id,
	    s->client_addr, s->client_port);
}

static void
syntax_error(struct ehlod_session *s, int code, const char *enh, const char *text)
{
	session_reply_text(s, code, enh, text);
	session_count_error(s);
}

const char *
session_protocol(const struct ehlod_session *s)
{
	static const char *const names[2][2][2][2] = {
		/* [esmtp][utf8][tls][auth] */
		{ { { "SMTP", "SMTP" }, { "SMTP", "SMTP" } },
		  { { "SMTP", "SMTP" }, { "SMTP", "SMTP" } } },
		{ { { "ESMTP", "ESMTPA" }, { "ESMTPS", "ESMTPSA" } },
		  { { "UTF8SMTP", "UTF8SMTPA" },
		    { "UTF8SMTPS", "UTF8SMTPSA" } } },
	};
	return names[s->flags[EHLOD_FLAG_ESMTP] != 0]
	    [s->flags[EHLOD_FLAG_SMTPUTF8] != 0]
	    [s->flags[EHLOD_FLAG_TLS] != 0][s->flags[EHLOD_FLAG_AUTH] != 0];
}

void
session_reset_transaction(struct ehlod_session *s, int call_rset_hook)
{
	if (s->state >= S_MAIL) {
		if (call_rset_hook)
			session_call_void_hook(s, STEP_RSET_HOOK);
		txn_free(s);
	}
	s->state = s->ehlo_done ? S_GREETED : S_CONNECTED;
}

/* ---- HELO / EHLO ---- */

static void
helo_done(struct ehlod_session *s, ehlod_verdict v, struct plugin *p)
{
	int esmtp = strcmp(s->chain.arg2, "EHLO") == 0;

	if (v == EHLOD_REJECT || v == EHLOD_TEMPFAIL) {
		session_reply_verdict(s, v, p, v == EHLOD_REJECT ? 550 : 421,
		    v == EHLOD_REJECT ? "5.7.1" : "4.3.0", v == EHLOD_REJECT ?
		    "Access denied" : "Service not available, try later",
		    esmtp ? "EHLO" : "HELO", NULL);
		s->flags[EHLOD_FLAG_ESMTP] = s->ehlo_done ?
		    s->flags[EHLOD_FLAG_ESMTP] : 0;
		return;
	}
	pending_reply_clear(&s->reply);
	free(s->helo);
	s->helo = strdup(s->chain.arg1);
	s->ehlo_done = 1;
	s->state = S_GREETED;
	s->flags[EHLOD_FLAG_ESMTP] = esmtp;
	if (!esmtp) {
		memset(s->offered, 0, server->plugins->n);
		session_reply(s, 250, NULL, "%s", server->conf->hostname);
		return;
	}
	ehlo_send(s);
}

static void
cmd_helo(struct ehlod_session *s, const char *verb, char *arg)
{
	if (!address_helo_valid(arg)) {
		session_reply(s, 501, "5.5.4", "Syntax: %s hostname", verb);
		session_count_error(s);
		return;
	}
	if (s->ehlo_done && server->conf->second_ehlo == SECOND_EHLO_REFUSE) {
		syntax_error(s, 503, "5.5.1", "Duplicate HELO/EHLO");
		return;
	}
	/* RFC 5321 4.1.4: a new EHLO is an implicit RSET.  ESMTP is judged
	 * by the new greeting (the hooks may ask host->flag). */
	session_reset_transaction(s, 1);
	s->flags[EHLOD_FLAG_ESMTP] = strcasecmp(verb, "EHLO") == 0;
	chain_start(s, STEP_HELO, arg, s->flags[EHLOD_FLAG_ESMTP] ? "EHLO" :
	    "HELO", NULL, 0, helo_done);
}

/* ---- MAIL / RCPT parameters ---- */

static int
param_duplicate(const struct esmtp_param *params, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (strcasecmp(params[j].keyword, params[i].keyword) == 0)
			return 1;
	return 0;
}

/* Check and run one parameter; returns 0, or -1 after replying. */
static int
run_param(struct ehlod_session *s, int rcpt, const struct esmtp_param *ep)
{
	const struct ehlod_param *def;
	struct plugin *p;

	if (!s->flags[EHLOD_FLAG_ESMTP]) {
		session_reply(s, 555, NULL, "%s parameters are not allowed "
		    "after HELO", rcpt ? "RCPT TO" : "MAIL FROM");
		return -1;
	}
	p = plugins_find_param(server->plugins, rcpt, ep->keyword, &def);
	if (p == NULL || !PLUGIN_ACTIVE(s, p) ||
	    (p->d.ehlo_keyword && !s->offered[p->index])) {
		session_reply(s, 555, "5.5.4", "Unsupported parameter %s",
		    ep->keyword);
		return -1;
	}
	if ((def->value == EHLOD_VALUE_REQUIRED && ep->value == NULL) ||
	    (def->value == EHLOD_VALUE_NONE && ep->value != NULL)) {
		session_reply(s, 501, "5.5.4", "Parameter %s %s a value",
		    ep->keyword, ep->value ? "takes no" : "needs");
		return -1;
	}
	pending_reply_clear(&s->reply);
	s->current = p;
	ehlod_verdict v = def->handler(CTX(s, p), ep->keyword,
	    ep->value);
	s->current = NULL;
	if (v == EHLOD_PENDING) {
		log_msg(LOG_WARNING, "%s: plugin %s: a parameter handler may "
		    "not pend; answered 455", s->id, p->name);
		v = EHLOD_TEMPFAIL;
		pending_reply_clear(&s->reply);
	}
	if (v != EHLOD_REJECT && v != EHLOD_TEMPFAIL) {
		pending_reply_clear(&s->reply);
		return 0;
	}
	session_reply_verdict(s, v, p, v == EHLOD_REJECT ? 501 : 455,
	    v == EHLOD_REJECT ? "5.5.4" : "4.5.4", v == EHLOD_REJECT ?
	    "Invalid parameter" : "Parameter cannot be honoured now",
	    rcpt ? "RCPT" : "MAIL", NULL);
	return -1;
}

static int
run_params(struct ehlod_session *s, int rcpt, struct esmtp_param *params,
    size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (param_duplicate(params, i)) {
			session_reply(s, 501, "5.5.4", "Duplicate parameter %s",
			    params[i].keyword);
			return -1;
		}
		if (run_param(s, rcpt, &params[i]) < 0)
			return -1;
	}
	return 0;
}

/* Split "FROM:<path> params" and check the path; -1 after replying. */
static int
split_and_check(struct ehlod_session *s, char *arg, int rcpt, char **path,
    struct esmtp_param *params, size_t *n)
{
	const char *why = NULL;
	enum esmtp_status st;

	st = esmtp_split_command(arg, rcpt ? "TO:" : "FROM:", path, params, n,
	    &why);
	if (st == ESMTP_OK)
		return 0;
	if (st == ESMTP_BAD_PREFIX)
		session_reply(s, 501, "5.5.4", "Syntax: %s", rcpt ?
		    "RCPT TO:<address>" : "MAIL FROM:<address>");
	else if (st == ESMTP_BAD_PATH)
		session_reply(s, 501, rcpt ? "5.1.3" : "5.1.7",
		    "Bad %s address syntax: %s", rcpt ? "recipient" :
		    "sender", why);
	else
		session_reply(s, 501, "5.5.4", "Bad parameter syntax: %s",
		    why);
	session_count_error(s);
	return -1;
}

/* Judge the mailbox of a path; SMTPUTF8 is known only after params. */
static int
check_mailbox(struct ehlod_session *s, const char *path, int rcpt,
    const char **mailbox)
{
	const char *why = NULL;
	unsigned flags = rcpt ? ADDRESS_ALLOW_POSTMASTER : ADDRESS_ALLOW_EMPTY;

	if (s->flags[EHLOD_FLAG_SMTPUTF8])
		flags |= ADDRESS_ALLOW_UTF8;
	if (address_check_path(path, flags, mailbox, &why) == 0)
		return 0;
	/* RFC 6531 section 3.5: 553 ("mailbox name not allowed") for RCPT,
	 * 550 ("mailbox unavailable") for MAIL, both with X.6.7. */
	if (address_has_8bit(path) && !s->flags[EHLOD_FLAG_SMTPUTF8] &&
	    address_check_path(path, flags | ADDRESS_ALLOW_UTF8, mailbox,
	    &why) == 0) {
		session_reply(s, rcpt ? 553 : 550, "5.6.7", "Non-ASCII address "
		    "needs SMTPUTF8: <%s>", path);
		return -1;
	}
	session_reply(s, 501, rcpt ? "5.1.3" : "5.1.7", "Bad %s address "
	    "syntax: %s", rcpt ? "recipient" : "sender", why);
	return -1;
}

/* ---- MAIL ---- */

/*
 * A listener's requirements (submission, RFC 6409): TLS before MAIL and
 * AUTH (RFC 3207 section 4), AUTH before MAIL (RFC 4954 section 6).
 * Returns 1 after answering 530.
 */
static int
listener_refuses(struct ehlod_session *s, const char *verb)
{
	const struct listener *l = s->listener;
	const char *text;

	if (l == NULL)
		return 0;
	if (l->require_tls && !s->flags[EHLOD_FLAG_TLS])
		text = "Must issue a STARTTLS command first";
	else if (l->require_auth && !s->flags[EHLOD_FLAG_AUTH] &&
	    !strcasecmp(verb, "MAIL"))
		text = "Authentication required";
	else
		return 0;
	session_reply_text(s, 530, "5.7.0", text);
	session_log_reject(s, verb, NULL, 530, "5.7.0", text, "core");
	session_count_error(s);
	return 1;
}

static void
mail_done(struct ehlod_session *s, ehlod_verdict v, struct plugin *p)
{
	if (v == EHLOD_REJECT || v == EHLOD_TEMPFAIL) {
		session_reply_verdict(s, v, p, v == EHLOD_REJECT ? 550 : 451,
		    v == EHLOD_REJECT ? "5.7.1" : "4.7.1", v == EHLOD_REJECT ?
		    "Sender rejected" : "Sender temporarily rejected", "MAIL", NULL);
		txn_free(s);
		return;
	}
	if (v == EHLOD_DISCARD)
		s->txn.data_discard = 1;
	s->state = S_MAIL;
	log_msg(LOG_INFO, "%s: %s: from=<%s>", s->id, s->txn.id,
	    s->txn.mail_from);
	session_reply_verdict(s, EHLOD_ACCEPT, p, 250, "2.1.0", "Ok", "MAIL", NULL);
}

static void
cmd_mail(struct ehlod_session *s, char *arg)
{
	struct esmtp_param params[ESMTP_MAX_PARAMS];
	const char *mailbox;
	char *path;
	size_t n;

	if (s->state != S_GREETED) {
		syntax_error(s, 503, "5.5.1", s->state == S_CONNECTED ?
		    "Send HELO/EHLO first" : "Nested MAIL command");
		return;
	}
	if (listener_refuses(s, "MAIL"))
		return;
	if (split_and_check(s, arg, 0, &path, params, &n) < 0)
		return;
	txn_init(s);
	if (run_params(s, 0, params, n) < 0 ||
	    check_mailbox(s, path, 0, &mailbox) < 0) {
		session_count_error(s);
		txn_free(s);
		return;
	}
	s->txn.mail_from = strdup(mailbox);
	chain_start(s, STEP_MAIL, mailbox, NULL, NULL, 0, mail_done);
}

/* ---- RCPT ---- */

static int
relay_allowed(struct ehlod_session *s, const char *mailbox)
{
	const char *domain = address_domain(mailbox);

	if (s->flags[EHLOD_FLAG_RELAY])
		return 1;
	if (domain == NULL)		/* <postmaster> */
		return 1;
	return config_is_local_domain(server->conf, domain);
}

static void
rcpt_accept(struct ehlod_session *s, struct plugin *p, const char *mailbox)
{
	struct transaction *t = &s->txn;

	if (txn_add_rcpt(s, mailbox) < 0) {
		session_reply(s, 452, "4.3.1", "Insufficient system storage");
		return;
	}
	t->rcpts[t->nrcpts - 1].kv = t->cand_kv;
	t->cand_kv = NULL;
	s->state = S_RCPT;
	log_msg(LOG_INFO, "%s: %s: to=<%s>", s->id, t->id, mailbox);
	session_reply_verdict(s, EHLOD_ACCEPT, p, 250, "2.1.5", "Ok", "RCPT", NULL);
}

static void
rcpt_done(struct ehlod_session *s, ehlod_verdict v, struct plugin *p)
{
	const char *mailbox = s->chain.arg1;

	if (v == EHLOD_REJECT || v == EHLOD_TEMPFAIL) {
		kv_free(&s->txn.cand_kv);
		session_reply_verdict(s, v, p, v == EHLOD_REJECT ? 550 : 450,
		    v == EHLOD_REJECT ? "5.7.1" : "4.7.1", v == EHLOD_REJECT ?
		    "Recipient rejected" : "Recipient temporarily rejected",
		    "RCPT", mailbox);
		return;
	}
	if (v == EHLOD_DISCARD)
		s->txn.data_discard = 1;
	rcpt_accept(s, p, mailbox);
}

static void
cmd_rcpt(struct ehlod_session *s, char *arg)
{
	struct esmtp_param params[ESMTP_MAX_PARAMS];
	const char *mailbox;
	char *path;
	size_t n;

	if (s->state != S_MAIL && s->state != S_RCPT) {
		syntax_error(s, 503, "5.5.1", "Need MAIL before RCPT");
		return;
	}
	if (split_and_check(s, arg, 1, &path, params, &n) < 0)
		return;
	if (s->txn.nrcpts >= (size_t)server->conf->max_recipients) {
		session_reply(s, 452, "4.5.3", "Too many recipients");
		return;
	}
	kv_free(&s->txn.cand_kv);
	if (run_params(s, 1, params, n) < 0 ||
	    check_mailbox(s, path, 1, &mailbox) < 0) {
		kv_free(&s->txn.cand_kv);
		session_count_error(s);
		return;
	}
	/* The relay decision comes before any plugin sees the recipient, so
	 * no plugin's ACCEPT can open a relay by accident. */
	if (!relay_allowed(s, mailbox)) {
		char text[300];
		kv_free(&s->txn.cand_kv);
		snprintf(text, sizeof(text), "<%s>: Relay access denied",
		    mailbox);
		session_reply_text(s, 554, "5.7.1", text);
		session_log_reject(s, "RCPT", mailbox, 554, "5.7.1", text,
		    "core");
		return;
	}
	chain_start(s, STEP_RCPT, mailbox, NULL, NULL, 0, rcpt_done);
}

/* ---- DATA ---- */

static void
data_done(struct ehlod_session *s, ehlod_verdict v, struct plugin *p)
{
	if (v == EHLOD_REJECT || v == EHLOD_TEMPFAIL) {
		session_reply_verdict(s, v, p, v == EHLOD_REJECT ? 554 : 451,
		    v == EHLOD_REJECT ? "5.7.1" : "4.3.0", v == EHLOD_REJECT ?
		    "Transaction failed" : "Try again later", "DATA", NULL);
		return;
	}
	if (v == EHLOD_DISCARD)
		s->txn.data_discard = 1;
	pending_reply_clear(&s->reply);
	session_reply(s, 354, NULL, "End data with <CR><LF>.<CR><LF>");
	content_begin(s, 0);
}

static void
cmd_data(struct ehlod_session *s, char *arg)
{
	if (s->state != S_RCPT) {
		syntax_error(s, s->state == S_MAIL ? 554 : 503, "5.5.1",
		    s->state == S_MAIL ? "No valid recipients" :
		    "Need RCPT before DATA");
		return;
	}
	if (*arg) {
		syntax_error(s, 501, "5.5.4", "Syntax: DATA");
		return;
	}
	if (s->txn.uses_bdat) {
		syntax_error(s, 503, "5.5.1", "DATA not allowed after BDAT");
		return;
	}
	chain_start(s, STEP_DATA, NULL, NULL, NULL, 0, data_done);
}

/* ---- plugin verbs and unknown commands ---- */

static unsigned
state_bit(enum session_state st)
{
	switch (st) {
	case S_CONNECTED: return EHLOD_STATE_CONNECTED;
	case S_GREETED: return EHLOD_STATE_GREETED;
	case S_MAIL: return EHLOD_STATE_MAIL;
	case S_RCPT: return EHLOD_STATE_RCPT;
	default: return 0;
	}
}

static void
verb_done(struct ehlod_session *s, ehlod_verdict v, struct plugin *p)
{
	const char *name = s->chain.verb->name;

	if (s->mode == IN_CHUNK || s->mode == IN_PLUGIN_LINE) {
		/* The host answers after the chunk; the plugin after the
		 * line. */
		pending_reply_clear(&s->reply);
		if (s->mode == IN_CHUNK && s->state == S_RCPT &&
		    s->txn.chunks == 1)
			content_bdat_data(s);
		return;
	}
	/* A plugin's line exchange (AUTH) has ended: plugin_line() left
	 * the session waiting, and commands come next. */
	if (s->mode == IN_WAIT)
		s->mode = IN_COMMAND;
	if (v == EHLOD_REJECT || v == EHLOD_TEMPFAIL)
		session_reply_verdict(s, v, p, v == EHLOD_REJECT ? 550 : 451,
		    v == EHLOD_REJECT ? "5.7.1" : "4.3.0", v == EHLOD_REJECT ?
		    "Command rejected" : "Try again later", name, NULL);
	else
		session_reply_verdict(s, EHLOD_ACCEPT, p, 250, "2.0.0", "Ok",
		    name, NULL);
	if (s->tls_switch)
		evbuffer_drain(bufferevent_get_input(s->bev),
		    evbuffer_get_length(bufferevent_get_input(s->bev)));
}

static int
try_plugin_verb(struct ehlod_session *s, const char *verb, char *arg)
{
	const struct ehlod_verb *v;
	struct plugin *p = plugins_find_verb(server->plugins, verb, &v);

	if (p == NULL || !PLUGIN_ACTIVE(s, p))
		return 0;
	if (!strcasecmp(verb, "AUTH") && listener_refuses(s, "AUTH"))
		return 1;
	if (!(v->states & state_bit(s->state))) {
		syntax_error(s, 503, "5.5.1", "Bad sequence of commands");
		return 1;
	}
	if (!(v->flags & EHLOD_VERB_ALWAYS) && p->d.ehlo_keyword &&
	    !s->offered[p->index]) {
		syntax_error(s, 502, "5.5.1", "Command not offered in this "
		    "session");
		return 1;
	}
	if (((v->flags & EHLOD_VERB_NEEDS_ARG) && *arg == '\0') ||
	    ((v->flags & EHLOD_VERB_NO_ARG) && *arg != '\0')) {
		syntax_error(s, 501, "5.5.4", "Syntax error in parameters");
		return 1;
	}
	chain_start_verb(s, p, v, arg, verb_done);
	return 1;
}

static void
unknown_done(struct ehlod_session *s, ehlod_verdict v, struct plugin *p)
{
	if (v == EHLOD_CONTINUE) {
		syntax_error(s, 500, "5.5.1", "Command unrecognized");
		return;
	}
	session_reply_verdict(s, v, p, v == EHLOD_TEMPFAIL ? 451 : 500,
	    v == EHLOD_TEMPFAIL ? "4.3.0" : "5.5.1", "Command unrecognized",
	    "unknown command", NULL);
}

/* ---- the simple commands ---- */

static void
cmd_help(struct ehlod_session *s)
{
	char text[1024];
	size_t used = (size_t)snprintf(text, sizeof(text), "Commands: HELO "
	    "EHLO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP");

	for (size_t i = 0; i < server->plugins->n; i++)
		for (const struct ehlod_verb *v = server->plugins->v[i].d.verbs;
		    PLUGIN_ACTIVE(s, &server->plugins->v[i]) && v && v->name &&
		    used < sizeof(text) - 64; v++)
			used += (size_t)snprintf(text + used,
			    sizeof(text) - used, " %s", v->name);
	snprintf(text + used, sizeof(text) - used, "\nEnd of HELP");
	session_reply_text(s, 214, "2.0.0", text);
}

static int
core_command(struct ehlod_session *s, const char *verb, char *arg)
{
	if (!strcasecmp(verb, "EHLO") || !strcasecmp(verb, "HELO"))
		cmd_helo(s, !strcasecmp(verb, "EHLO") ? "EHLO" : "HELO", arg);
	else if (!strcasecmp(verb, "MAIL"))
		cmd_mail(s, arg);
	else if (!strcasecmp(verb, "RCPT"))
		cmd_rcpt(s, arg);
	else if (!strcasecmp(verb, "DATA"))
		cmd_data(s, arg);
	else if (!strcasecmp(verb, "RSET")) {
		if (*arg) {
			syntax_error(s, 501, "5.5.4", "Syntax: RSET");
			return 1;
		}
		session_reset_transaction(s, 1);
		session_reply(s, 250, "2.0.0", "Ok");
	} else if (!strcasecmp(verb, "NOOP"))
		session_reply(s, 250, "2.0.0", "Ok");
	else if (!strcasecmp(verb, "QUIT")) {
		session_reply(s, 221, "2.0.0", "%s closing connection",
		    server->conf->hostname);
		s->closing = 1;
		s->end_reason = EHLOD_SESSION_QUIT;
	} else if (!strcasecmp(verb, "VRFY")) {
		if (*arg == '\0')
			syntax_error(s, 501, "5.5.4", "Syntax: VRFY address");
		else
			session_reply(s, 252, "2.0.0", "Cannot VRFY user, but "
			    "will accept message and attempt delivery");
	} else if (!strcasecmp(verb, "EXPN"))
		syntax_error(s, 502, "5.5.1", "EXPN not implemented");
	else if (!strcasecmp(verb, "HELP"))
		cmd_help(s);
	else if (!strcasecmp(verb, "XFORWARD"))
		xforward_command(s, arg);
	else
		return 0;
	return 1;
}

void
command_dispatch(struct ehlod_session *s, char *line, size_t len)
{
	char verb[32];
	size_t vlen = 0;

	s->ncommands++;
	stats_add(STAT_COMMANDS, 1);
	if (strlen(line) != len) {
		syntax_error(s, 500, "5.5.2", "Syntax error: NUL in command");
		return;
	}
	if (server->draining == DRAIN_STOP && s->state <= S_GREETED) {
		session_reply(s, 421, "4.3.2", "%s Service shutting down",
		    server->conf->hostname);
		return;
	}
	while (line[vlen] && line[vlen] != ' ' && vlen < sizeof(verb) - 1) {
		verb[vlen] = line[vlen];
		vlen++;
	}
	verb[vlen] = '\0';
	for (size_t i = 0; i < sizeof(s->last_verb) - 1 && i < vlen; i++)
		s->last_verb[i] = (char)toupper((unsigned char)verb[i]);
	s->last_verb[vlen < sizeof(s->last_verb) ? vlen :
	    sizeof(s->last_verb) - 1] = '\0';
	char *arg = line + vlen;
	if (*arg != '\0' && *arg != ' ') {
		syntax_error(s, 500, "5.5.2", "Syntax error: command too long");
		return;
	}
	while (*arg == ' ')
		arg++;
	if (vlen == 0) {
		syntax_error(s, 500, "5.5.2", "Syntax error: empty command");
		return;
	}
	if (core_command(s, verb, arg) || try_plugin_verb(s, verb, arg))
		return;
	chain_start(s, STEP_UNKNOWN, line, NULL, NULL, 0, unknown_done);
}
