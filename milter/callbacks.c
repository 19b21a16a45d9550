/*
 * NAME
 *	callbacks.c - libmilter's callbacks: the MTA's side of each step
 * DESCRIPTION
 *	Each xxfi_* callback points a job on its stack at what the MTA sent
 *	(arguments and the macros the host API exposes), runs the step's
 *	hooks under the plugin lock in its own thread (loop.c), and turns
 *	the verdict into an SMFIS_* answer:
 *
 *	CONTINUE, ACCEPT -> SMFIS_CONTINUE.  A plugin's ACCEPT only skips
 *	later plugins for this step, as in ehlod; SMFIS_ACCEPT would stop
 *	the MTA from calling us for the rest of the message, so it is never
 *	used.  At end of message SMFIS_CONTINUE lets the MTA deliver.
 *	REJECT -> SMFIS_REJECT, TEMPFAIL -> SMFIS_TEMPFAIL, with the
 *	plugin's reply and enhanced code (smfi_setreply, smfi_setmlreply
 *	for a multi-line text); a REJECT carrying 421 goes as a tempfail,
 *	which is how libmilter passes a 4xx.  DISCARD -> SMFIS_DISCARD from
 *	MAIL on (the whole message), SMFIS_CONTINUE before, as ehlod does.
 *	A hook that has not answered within milter_hook_timeout ->
 *	SMFIS_TEMPFAIL, 451 4.4.3.
 *
 *	MAIL and RCPT parameters in argv[1..] are inert: the MTA has
 *	already accepted them under its own rules and offered its own
 *	keywords, so plugins' parameter handlers do not run.  The host
 *	keeps only what its flags say (BODY=8BITMIME, SMTPUTF8).
 *
 *	Negotiation asks only for the steps the loaded plugins need and for
 *	the actions of header changes, and names the macros the host reads.
 */
#include <ctype.h>
#include <netdb.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <malloc.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <libmilter/mfapi.h>

#include "enhanced_code.h"
#include "log.h"
#include "milter.h"
#include "xmalloc.h"

#define REPLY_LINES 32

const char *const macro_names[MAC_COUNT_] = {
	"j", "{client_addr}", "{client_port}", "{client_name}",
	"{daemon_addr}", "{daemon_port}", "{tls_version}", "{cipher}",
	"{auth_authen}", "{auth_type}", "i"
};

/* What each stage asks of the MTA (smfi_setsymlist). */
static const struct {
	int stage;
	const char *macros;
} symlists[] = {
	{ SMFIM_CONNECT, "j {client_addr} {client_port} {client_name} "
	    "{daemon_addr} {daemon_port}" },
	{ SMFIM_HELO, "{tls_version} {cipher}" },
	{ SMFIM_ENVFROM, "i {auth_authen} {auth_type} {tls_version} "
	    "{cipher}" },
	{ SMFIM_ENVRCPT, "i" },
	{ SMFIM_DATA, "i" },
	{ SMFIM_EOH, "i" },
	{ SMFIM_EOM, "i" },
};

/* Which hooks the loaded plugins have, over all of them. */
struct hooks_used {
	int connect, helo, mail, rcpt, data, header, eoh, body, eom, unknown,
	    rset, close;
};

static void
hooks_used(const struct plugin_set *set, struct hooks_used *u)
{
	const size_t *n = set->chains.n;

	u->connect = n[STEP_CONNECT] > 0;
	u->helo = n[STEP_HELO] > 0;
	u->mail = n[STEP_MAIL] > 0;
	u->rcpt = n[STEP_RCPT] > 0;
	u->data = n[STEP_DATA] > 0;
	u->header = n[STEP_HEADER] > 0;
	u->eoh = n[STEP_EOH] > 0;
	u->body = n[STEP_BODY] > 0;
	u->eom = n[STEP_EOM] > 0;
	u->unknown = n[STEP_UNKNOWN] > 0;
	u->rset = n[STEP_RSET] > 0;
	u->close = n[STEP_CLOSE] > 0;
}

/*
 * A step is needed when a plugin has its hook, and the envelope steps
 * also when a later hook may ask for what they carry (client address,
 * HELO name, sender, recipients).  Headers are needed for the header
 * model whenever anything runs on the message; the body for body and
 * end-of-message hooks (host->message_read).
 */
unsigned long
milter_unneeded_steps(const struct plugin_set *set)
{
	struct hooks_used u;

	hooks_used(set, &u);
	int body = u.body || u.eom;
	int hdr = u.header || u.eoh || body;
	int rcpt = u.rcpt || u.data || hdr;
	int mail = u.mail || rcpt;
	int helo = u.helo || mail || u.unknown;
	int conn = u.connect || helo || u.rset || u.close;
	unsigned long no = 0;

	no |= conn ? 0 : SMFIP_NOCONNECT;
	no |= helo ? 0 : SMFIP_NOHELO;
	no |= mail ? 0 : SMFIP_NOMAIL;
	no |= rcpt ? 0 : SMFIP_NORCPT;
	no |= u.data ? 0 : SMFIP_NODATA;
	no |= hdr ? 0 : SMFIP_NOHDRS;
	no |= u.eoh ? 0 : SMFIP_NOEOH;
	no |= body ? 0 : SMFIP_NOBODY;
	no |= u.unknown ? 0 : SMFIP_NOUNKNOWN;
	return no;
}

void
milter_step_names(unsigned long no_steps, char *buf, size_t len, int wanted)
{
	static const struct { unsigned long bit; enum step step; } steps[] = {
		{ SMFIP_NOCONNECT, STEP_CONNECT }, { SMFIP_NOHELO, STEP_HELO },
		{ SMFIP_NOMAIL, STEP_MAIL }, { SMFIP_NORCPT, STEP_RCPT },
		{ SMFIP_NODATA, STEP_DATA }, { SMFIP_NOHDRS, STEP_HEADER },
		{ SMFIP_NOEOH, STEP_EOH }, { SMFIP_NOBODY, STEP_BODY },
		{ SMFIP_NOUNKNOWN, STEP_UNKNOWN },
	};
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if (((no_steps & steps[i].bit) == 0) != wanted)
			continue;
		int n = snprintf(buf + used, len - used, "%s%s",
		    used ? " " : "", step_table[steps[i].step].name);
		if (n < 0 || (size_t)n >= len - used)
			return;
		used += (size_t)n;
	}
	if (used == 0)
		snprintf(buf, len, "-");
}

/* MTA connections with state here: a draining process waits for 0;
 * and all it has had, to see the MTA still comes. */
static atomic_int connections_open;
static atomic_uint connections_seen;

static struct mconn *
conn_get(SMFICTX *ctx)
{
	struct mconn *c = smfi_getpriv(ctx);

	if (c)
		return c;
	c = xcalloc(1, sizeof(*c));
	if (loop_conn_init(c) < 0) {
		free(c);
		return NULL;
	}
	if (smfi_setpriv(ctx, c) != MI_SUCCESS) {
		pthread_cond_destroy(&c->cond);
		free(c);
		return NULL;
	}
	atomic_fetch_add(&connections_open, 1);
	atomic_fetch_add(&connections_seen, 1);
	return c;
}

int
milter_connections_open(void)
{
	return atomic_load(&connections_open);
}

unsigned
milter_connections_seen(void)
{
	return atomic_load(&connections_seen);
}

/* libmilter keeps the values until the callback returns. */
static void
snapshot_macros(SMFICTX *ctx, struct job *j)
{
	for (int i = 0; i < MAC_COUNT_; i++)
		j->mac[i] = smfi_getsymval(ctx, (char *)macro_names[i]);
}

/* '%' is special to the MTA's reply formatting (libmilter's rule). */
static void
escape_percent(const char *in, char *out, size_t len)
{
	size_t o = 0;

	for (; *in && o + 3 < len; in++) {
		out[o++] = *in;
		if (*in == '%')
			out[o++] = '%';
	}
	out[o] = '\0';
}

static int
set_reply(SMFICTX *ctx, const char *rcode, const char *xcode, char *text)
{
	char *l[REPLY_LINES + 1] = { 0 };
	int n = 0;

	for (char *p = text; p && n < REPLY_LINES; n++) {
		l[n] = p;
		p = strchr(p, '\n');
		if (p)
			*p++ = '\0';
	}
	if (n <= 1)
		return smfi_setreply(ctx, (char *)rcode, (char *)xcode, l[0]);
	/* Unused slots are NULL, which ends libmilter's list. */
	return smfi_setmlreply(ctx, rcode, xcode, l[0], l[1], l[2], l[3],
	    l[4], l[5], l[6], l[7], l[8], l[9], l[10], l[11], l[12], l[13],
	    l[14], l[15], l[16], l[17], l[18], l[19], l[20], l[21], l[22],
	    l[23], l[24], l[25], l[26], l[27], l[28], l[29], l[30], l[31],
	    (char *)NULL);
}

static void
send_reply(SMFICTX *ctx, int code, const char *enhanced, const char *text)
{
	char rcode[8], buf[2048];

	snprintf(rcode, sizeof(rcode), "%03d", code);
	escape_percent(text ? text : "", buf, sizeof(buf));
	/* Only a whole RFC 3463 code of the reply's class goes with it;
	 * libmilter refuses a reply whose code does not match. */
	const char *xcode = enhanced && enhanced_code_fits(enhanced, code) ?
	    enhanced : NULL;
	if (set_reply(ctx, rcode, xcode, buf) == MI_SUCCESS)
		return;
	/* A text libmilter refuses still leaves the code. */
	escape_percent(text ? text : "", buf, sizeof(buf));
	for (char *p = buf; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (smfi_setreply(ctx, rcode, (char *)xcode, buf) != MI_SUCCESS)
		log_msg(LOG_WARNING, "libmilter refused the reply %s %s",
		    rcode, buf);
}

/* ehlod's rule: a reply goes with a verdict only when its class fits
 * (5xx or 421 for REJECT, 4xx for TEMPFAIL); else the MTA's default. */
static sfsistat
refuse(SMFICTX *ctx, struct job *j, sfsistat rc)
{
	int fits = rc == SMFIS_REJECT ? (j->code / 100 == 5 || j->code == 421) :
	    j->code / 100 == 4;

	if (j->code == 0 || !fits)
		return rc;
	send_reply(ctx, j->code, j->enhanced, j->text);
	return j->code / 100 == 4 ? SMFIS_TEMPFAIL : rc;
}

static void
apply_ops(SMFICTX *ctx, struct job *j)
{
	for (struct hdr_op *op = j->ops; op; op = op->next) {
		int rc = MI_FAILURE;
		switch (op->kind) {
		case OP_ADD:
			rc = smfi_addheader(ctx, op->name, op->value);
			break;
		case OP_INSERT:
			rc = smfi_insheader(ctx, (int)op->index, op->name,
			    op->value);
			break;
		case OP_CHANGE:
			rc = smfi_chgheader(ctx, op->name, (int)op->index,
			    op->value);
			break;
		}
		if (rc != MI_SUCCESS)
			log_msg(LOG_WARNING, "the MTA refused a change of "
			    "header %s (did it offer header changes?)",
			    op->name);
	}
}

static sfsistat
answer(SMFICTX *ctx, struct job *j)
{
	switch (j->verdict) {
	case EHLOD_REJECT:
		return refuse(ctx, j, SMFIS_REJECT);
	case EHLOD_TEMPFAIL:
		return refuse(ctx, j, SMFIS_TEMPFAIL);
	case EHLOD_DISCARD:
		if (j->kind >= J_MAIL && j->kind <= J_EOM)
			return SMFIS_DISCARD;
		return SMFIS_CONTINUE;
	default:
		if (j->kind == J_EOM)
			apply_ops(ctx, j);
		return SMFIS_CONTINUE;
	}
}

static long hook_timeout = 25;

void
milter_callbacks_init(long timeout)
{
	hook_timeout = timeout;
}

static sfsistat
dispatch(SMFICTX *ctx, struct job *j)
{
	sfsistat rc;

	if (j->c == NULL) {
		log_msg(LOG_ERR, "out of memory");
		return SMFIS_TEMPFAIL;
	}
	/* The MTA sends no macros with headers and body chunks, the most
	 * frequent steps: what libmilter would return there was applied at
	 * an earlier step already. */
	if (j->kind != J_HEADER && j->kind != J_BODY)
		snapshot_macros(ctx, j);
	if (loop_run(j, hook_timeout) < 0) {
		log_msg(LOG_WARNING, "no verdict within milter_hook_timeout "
		    "(%ld s); answered 451 4.4.3", hook_timeout);
		send_reply(ctx, 451, "4.4.3", "Temporary failure: a policy "
		    "check did not answer in time");
		job_release(j);
		return SMFIS_TEMPFAIL;
	}
	rc = answer(ctx, j);
	job_release(j);
	return rc;
}

/* A job for this connection; j->c is NULL when out of memory. */
static void
job_init(struct job *j, SMFICTX *ctx, enum job_kind kind, const char *arg1,
    const char *arg2)
{
	memset(j, 0, sizeof(*j));
	j->kind = kind;
	j->c = conn_get(ctx);
	j->arg1 = arg1;
	j->arg2 = arg2;
}

/* "<user@example.org>" -> "user@example.org"; "<>" -> "".  Into buf
 * when it fits, which an SMTP path does; else a copy the caller frees
 * (*copy). */
static const char *
strip_path(const char *path, char *buf, size_t len, char **copy)
{
	size_t n = strlen(path);

	*copy = NULL;
	if (n < 2 || path[0] != '<' || path[n - 1] != '>')
		return path;
	n -= 2;
	if (n < len) {
		memcpy(buf, path + 1, n);
		buf[n] = '\0';
		return buf;
	}
	*copy = xstrndup(path + 1, n);
	return *copy;
}

static sfsistat
x_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	unsigned long want = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_SETSYMLIST;
	(void)f2;
	(void)f3;

	if ((f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS)) !=
	    (SMFIF_ADDHDRS | SMFIF_CHGHDRS))
		log_msg(LOG_WARNING, "the MTA does not offer header changes; "
		    "plugins' header changes will be refused");
	*pf0 = f0 & want;
	*pf1 = f1 & milter_unneeded_steps(server->plugins);
	*pf2 = 0;
	*pf3 = 0;
	if (!(*pf0 & SMFIF_SETSYMLIST))
		return SMFIS_CONTINUE;
	for (size_t i = 0; i < sizeof(symlists) / sizeof(symlists[0]); i++)
		if (smfi_setsymlist(ctx, symlists[i].stage,
		    (char *)symlists[i].macros) != MI_SUCCESS)
			log_msg(LOG_WARNING, "cannot ask the MTA for macros "
			    "%s", symlists[i].macros);
	return SMFIS_CONTINUE;
}

static void
addr_text(const struct sockaddr *sa, char *host, size_t hlen, char *port,
    size_t plen)
{
	socklen_t len = sa->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);

	if ((sa->sa_family != AF_INET && sa->sa_family != AF_INET6) ||
	    getnameinfo(sa, len, host, (socklen_t)hlen, port, (socklen_t)plen,
	    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		host[0] = '\0';
		return;
	}
	if (strncmp(host, "::ffff:", 7) == 0 && strchr(host + 7, '.'))
		memmove(host, host + 7, strlen(host + 7) + 1);
}

static sfsistat
x_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	struct job j;

	job_init(&j, ctx, J_CONNECT, hostname, NULL);
	if (hostaddr)
		addr_text(hostaddr, j.addr, sizeof(j.addr), j.port,
		    sizeof(j.port));
	return dispatch(ctx, &j);
}

static sfsistat
x_helo(SMFICTX *ctx, char *helohost)
{
	struct job j;

	job_init(&j, ctx, J_HELO, helohost ? helohost : "", NULL);
	return dispatch(ctx, &j);
}

static void
note_params(struct job *j, char **argv)
{
	for (int i = 1; argv[i]; i++) {
		j->has_params = 1;
		if (strcasecmp(argv[i], "BODY=8BITMIME") == 0)
			j->flag_8bit = 1;
		else if (strcasecmp(argv[i], "SMTPUTF8") == 0)
			j->flag_utf8 = 1;
	}
}

/* MAIL and RCPT: the path without its angle brackets. */
static sfsistat
envelope(SMFICTX *ctx, enum job_kind kind, char **argv)
{
	char buf[1024], *copy;
	const char *path = strip_path(argv[0] ? argv[0] : "<>", buf,
	    sizeof(buf), &copy);
	struct job j;
	sfsistat rc;

	job_init(&j, ctx, kind, path, NULL);
	if (kind == J_MAIL)
		note_params(&j, argv);
	rc = dispatch(ctx, &j);
	free(copy);
	return rc;
}

static sfsistat
x_envfrom(SMFICTX *ctx, char **argv)
{
	return envelope(ctx, J_MAIL, argv);
}

static sfsistat
x_envrcpt(SMFICTX *ctx, char **argv)
{
	return envelope(ctx, J_RCPT, argv);
}

static sfsistat
x_data(SMFICTX *ctx)
{
	struct job j;

	job_init(&j, ctx, J_DATA, NULL, NULL);
	return dispatch(ctx, &j);
}

static sfsistat
x_header(SMFICTX *ctx, char *name, char *value)
{
	struct job j;

	job_init(&j, ctx, J_HEADER, name, value ? value : "");
	return dispatch(ctx, &j);
}

static sfsistat
x_eoh(SMFICTX *ctx)
{
	struct job j;

	job_init(&j, ctx, J_EOH, NULL, NULL);
	return dispatch(ctx, &j);
}

/* An empty chunk has nothing to judge, and ehlod never calls on_body
 * with one: plugins may take chunk to be a real buffer. */
static sfsistat
x_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct job j;

	if (len == 0)
		return SMFIS_CONTINUE;
	job_init(&j, ctx, J_BODY, NULL, NULL);
	j.data = chunk;
	j.len = len;
	return dispatch(ctx, &j);
}

static sfsistat
x_eom(SMFICTX *ctx)
{
	struct job j;

	job_init(&j, ctx, J_EOM, NULL, NULL);
	return dispatch(ctx, &j);
}

/*
 * libmilter passes SMFIC_UNKNOWN's data without its length and without
 * checking that it ends in NUL, so an MTA that sends it unterminated
 * would have us read past the packet.  The data is the start of the
 * packet buffer libmilter allocated for it (engine.c hands a_buf over as
 * is), so the size of that allocation bounds it; without a NUL inside,
 * the command is ignored.  When no plugin has an unknown hook (the MTA was
 * asked not to send the step) the data is not looked at at all.
 */
static sfsistat
x_unknown(SMFICTX *ctx, const char *cmd)
{
	struct job j;
	size_t room;

	if (milter_unneeded_steps(server->plugins) & SMFIP_NOUNKNOWN)
		return SMFIS_CONTINUE;
	if (cmd != NULL) {
		room = malloc_usable_size((void *)cmd);
		if (strnlen(cmd, room) == room) {
			log_msg(LOG_WARNING, "the MTA sent an unknown command "
			    "without its terminating NUL; ignored");
			return SMFIS_CONTINUE;
		}
	}
	job_init(&j, ctx, J_UNKNOWN, cmd ? cmd : "", NULL);
	return dispatch(ctx, &j);
}

/* ABORT and CLOSE give no verdict and never go pending. */
static sfsistat
x_abort(SMFICTX *ctx)
{
	struct job j;

	job_init(&j, ctx, J_ABORT, NULL, NULL);
	if (j.c)
		loop_run(&j, 0);
	return SMFIS_CONTINUE;
}

static sfsistat
x_close(SMFICTX *ctx)
{
	struct mconn *c = smfi_getpriv(ctx);
	struct job j;

	if (c == NULL)
		return SMFIS_CONTINUE;
	smfi_setpriv(ctx, NULL);
	memset(&j, 0, sizeof(j));
	j.kind = J_CLOSE;
	j.c = c;
	/* Nobody waits on it any more: the steps are over. */
	pthread_cond_destroy(&c->cond);
	loop_run(&j, 0);
	atomic_fetch_sub(&connections_open, 1);
	return SMFIS_CONTINUE;
}

struct smfiDesc milter_desc = {
	.xxfi_name = "ehlod-milter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_SETSYMLIST,
	.xxfi_connect = x_connect,
	.xxfi_helo = x_helo,
	.xxfi_envfrom = x_envfrom,
	.xxfi_envrcpt = x_envrcpt,
	.xxfi_header = x_header,
	.xxfi_eoh = x_eoh,
	.xxfi_body = x_body,
	.xxfi_eom = x_eom,
	.xxfi_abort = x_abort,
	.xxfi_close = x_close,
	.xxfi_unknown = x_unknown,
	.xxfi_data = x_data,
	.xxfi_negotiate = x_negotiate,
};
