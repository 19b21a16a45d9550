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
#include "commands.h"
#include "config.h"
#include "content.h"
#include "ehlo.h"
#include "esmtp.h"
#include "chain.h"
#include "log.h"
#include "session_reply.h"
#include "smtp_state.h"
#include "smtpd.h"
#include "stats.h"
#include "txn.h"
#include "utf8.h"
#include "xforward.h"
#include "xmalloc.h"


static void
syntax_error(struct ehlod_session *s, int code, const char *enh, const char *text)
{
	session_reply_text(s, code, enh, text);
	session_count_error(s);
}

/* ---- HELO / EHLO ---- */

static void
helo_done(struct ehlod_session *s, ehlod_verdict v, struct plugin *p)
{
	int esmtp = strcmp(s->chain.arg2, "EHLO") == 0;

	if (v == EHLOD_REJECT || v == EHLOD_TEMPFAIL) {
		step_reply_verdict(s, STEP_HELO, v, p, esmtp ? "EHLO" : "HELO",
		    NULL);
		s->flags[EHLOD_FLAG_ESMTP] = s->ehlo_done ?
		    s->flags[EHLOD_FLAG_ESMTP] : 0;
		return;
	}
	pending_reply_clear(&s->reply);
	smtp_state_greeted(s, s->chain.arg1);
	s->flags[EHLOD_FLAG_ESMTP] = esmtp;
	if (!esmtp) {
		memset(s->offered, 0, s->plugins->n);
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
	smtp_state_helo(s, strcasecmp(verb, "EHLO") == 0);
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
	p = plugins_find_param(s->plugins, rcpt, ep->keyword, &def);
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
	if (utf8_has_8bit(path, strlen(path)) &&
	    !s->flags[EHLOD_FLAG_SMTPUTF8] &&
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
		step_reply_verdict(s, STEP_MAIL, v, p, "MAIL", NULL);
		smtp_state_txn_end(s, 0);
		return;
	}
	smtp_state_mail_accepted(s, v);
	session_reply_verdict(s, EHLOD_ACCEPT, p, 250, "2.1.0", "Ok", "MAIL", NULL);
}

static void
cmd_mail(struct ehlod_session *s, char *arg)
{
	struct esmtp_param params[ESMTP_MAX_PARAMS];
	const char *mailbox;
	char *path;
	size_t n;

	if (listener_refuses(s, "MAIL"))
		return;
	if (split_and_check(s, arg, 0, &path, params, &n) < 0)
		return;
	smtp_state_txn_open(s, NULL);
	if (run_params(s, 0, params, n) < 0 ||
	    check_mailbox(s, path, 0, &mailbox) < 0) {
		session_count_error(s);
		smtp_state_txn_end(s, 0);
		return;
	}
	s->txn.mail_from = xstrdup(mailbox);
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
rcpt_done(struct ehlod_session *s, ehlod_verdict v, struct plugin *p)
{
	const char *mailbox = s->chain.arg1;

	if (v == EHLOD_REJECT || v == EHLOD_TEMPFAIL) {
		smtp_state_rcpt_refused(s);
		step_reply_verdict(s, STEP_RCPT, v, p, "RCPT", mailbox);
		return;
	}
	smtp_state_rcpt_accepted(s, v, mailbox);
	session_reply_verdict(s, EHLOD_ACCEPT, p, 250, "2.1.5", "Ok", "RCPT",
	    NULL);
}

static void
cmd_rcpt(struct ehlod_session *s, char *arg)
{
	struct esmtp_param params[ESMTP_MAX_PARAMS];
	const char *mailbox;
	char *path;
	size_t n;

	if (split_and_check(s, arg, 1, &path, params, &n) < 0)
		return;
	if (s->txn.nrcpts >= (size_t)server->conf->max_recipients) {
		session_reply(s, 452, "4.5.3", "Too many recipients");
		return;
	}
	txn_kv_free(&s->txn.cand_kv);
	if (run_params(s, 1, params, n) < 0 ||
	    check_mailbox(s, path, 1, &mailbox) < 0) {
		txn_kv_free(&s->txn.cand_kv);
		session_count_error(s);
		return;
	}
	/* The relay decision comes before any plugin sees the recipient, so
	 * no plugin's ACCEPT can open a relay by accident. */
	if (!relay_allowed(s, mailbox)) {
		char text[300];
		txn_kv_free(&s->txn.cand_kv);
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
		step_reply_verdict(s, STEP_DATA, v, p, "DATA", NULL);
		return;
	}
	if (v == EHLOD_DISCARD)
		s->txn.data_verdict = EHLOD_DISCARD;
	pending_reply_clear(&s->reply);
	session_reply(s, 354, NULL, "End data with <CR><LF>.<CR><LF>");
	content_data_begin(s);
}

static void
cmd_data(struct ehlod_session *s, char *arg)
{
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
		step_reply_verdict(s, STEP_VERB, v, p, name, NULL);
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
	struct plugin *p = plugins_find_verb(s->plugins, verb, &v);

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
	step_reply_verdict(s, STEP_UNKNOWN, v, p, "unknown command", NULL);
}

/* ---- the simple commands ---- */

static void
cmd_help(struct ehlod_session *s)
{
	char text[1024];
	size_t used = (size_t)snprintf(text, sizeof(text), "Commands: HELO "
	    "EHLO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP");

	for (size_t i = 0; i < s->plugins->n; i++)
		for (const struct ehlod_verb *v = s->plugins->v[i].d.verbs;
		    PLUGIN_ACTIVE(s, &s->plugins->v[i]) && v && v->name &&
		    used < sizeof(text) - 64; v++)
			used += (size_t)snprintf(text + used,
			    sizeof(text) - used, " %s", v->name);
	snprintf(text + used, sizeof(text) - used, "\nEnd of HELP");
	session_reply_text(s, 214, "2.0.0", text);
}

static void
cmd_rset(struct ehlod_session *s, char *arg)
{
	if (*arg) {
		syntax_error(s, 501, "5.5.4", "Syntax: RSET");
		return;
	}
	smtp_state_txn_end(s, 1);
	session_reply(s, 250, "2.0.0", "Ok");
}

static void
cmd_noop(struct ehlod_session *s, char *arg)
{
	(void)arg;
	session_reply(s, 250, "2.0.0", "Ok");
}

static void
cmd_quit(struct ehlod_session *s, char *arg)
{
	(void)arg;
	/* closing first: the reply then goes by write_cb, which ends the
	 * session once it is out (session_reply_flush). */
	s->closing = 1;
	s->end_reason = EHLOD_SESSION_QUIT;
	session_reply(s, 221, "2.0.0", "%s closing connection",
	    server->conf->hostname);
}

static void
cmd_vrfy(struct ehlod_session *s, char *arg)
{
	if (*arg == '\0')
		syntax_error(s, 501, "5.5.4", "Syntax: VRFY address");
	else
		session_reply(s, 252, "2.0.0", "Cannot VRFY user, but "
		    "will accept message and attempt delivery");
}

static void
cmd_expn(struct ehlod_session *s, char *arg)
{
	(void)arg;
	syntax_error(s, 502, "5.5.1", "EXPN not implemented");
}

static void
cmd_ehlo(struct ehlod_session *s, char *arg)
{
	cmd_helo(s, "EHLO", arg);
}

static void
cmd_helo_verb(struct ehlod_session *s, char *arg)
{
	cmd_helo(s, "HELO", arg);
}

static void
cmd_help_verb(struct ehlod_session *s, char *arg)
{
	(void)arg;
	cmd_help(s);
}

/* The answer to a command given in a state it is not allowed in. */
struct out_of_order {
	int code;		/* 0: allowed */
	const char *text;
};

#define NEED_HELO { 503, "Send HELO/EHLO first" }
#define NESTED_MAIL { 503, "Nested MAIL command" }
#define NEED_MAIL { 503, "Need MAIL before RCPT" }
#define NEED_RCPT { 503, "Need RCPT before DATA" }

/* The core's commands (OpenSMTPD's commands[] idea): the verb, what it
 * answers in each session state where it is not allowed, its handler.
 * The state check comes before any argument is looked at. */
static const struct command {
	const char *verb;
	struct out_of_order refuse[S_DATA + 1];
	void (*handler)(struct ehlod_session *s, char *arg);
} commands[] = {
	{ "EHLO", { { 0 } }, cmd_ehlo },
	{ "HELO", { { 0 } }, cmd_helo_verb },
	{ "MAIL", { [S_CONNECTED] = NEED_HELO, [S_MAIL] = NESTED_MAIL,
	    [S_RCPT] = NESTED_MAIL, [S_DATA] = NESTED_MAIL }, cmd_mail },
	{ "RCPT", { [S_CONNECTED] = NEED_MAIL, [S_GREETED] = NEED_MAIL,
	    [S_DATA] = NEED_MAIL }, cmd_rcpt },
	{ "DATA", { [S_CONNECTED] = NEED_RCPT, [S_GREETED] = NEED_RCPT,
	    [S_MAIL] = { 554, "No valid recipients" },
	    [S_DATA] = NEED_RCPT }, cmd_data },
	{ "RSET", { { 0 } }, cmd_rset },
	{ "NOOP", { { 0 } }, cmd_noop },
	{ "QUIT", { { 0 } }, cmd_quit },
	{ "VRFY", { { 0 } }, cmd_vrfy },
	{ "EXPN", { { 0 } }, cmd_expn },
	{ "HELP", { { 0 } }, cmd_help_verb },
	{ "XFORWARD", { { 0 } }, xforward_command },
};

static int
core_command(struct ehlod_session *s, const char *verb, char *arg)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct command *c = &commands[i];
		if (strcasecmp(verb, c->verb) != 0)
			continue;
		const struct out_of_order *o = &c->refuse[s->state];
		if (o->code)
			syntax_error(s, o->code, "5.5.1", o->text);
		else
			c->handler(s, arg);
		return 1;
	}
	return 0;
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
