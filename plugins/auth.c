/*
 * NAME
 *	auth - the AUTH service extension (RFC 4954) through Cyrus SASL
 * SUMMARY
 *	plugin auth {
 *		pwcheck_method = "auxprop"
 *		auxprop_plugin = "sasldb"
 *		sasldb_path = "/etc/sasldb2"
 *		mech_list = "PLAIN LOGIN"
 *		allow_plaintext = false
 *		max_failures = 3
 *	}
 * DESCRIPTION
 *	Offers the EHLO keyword AUTH with the mechanisms Cyrus SASL has
 *	(sasl_listmech), takes the AUTH verb and the MAIL FROM parameter
 *	AUTH=.  Over a connection without TLS the keyword is not offered
 *	and AUTH is answered 530, unless allow_plaintext is true: the
 *	usual mechanisms (PLAIN, LOGIN) send the password as it is.
 *
 *	"AUTH mechanism [initial-response]" starts a SASL exchange; each
 *	challenge goes out as a 334 line (host->read_line) and each answer
 *	comes back base64 encoded; "*" cancels (501).  A successful login
 *	(235) sets the session's AUTH_USER and AUTH_MECH items and its AUTH
 *	and RELAY flags: an authenticated client may send to any domain,
 *	and the host's Received header says ESMTPA or ESMTPSA.  A second
 *	AUTH in the session is answered 503 (RFC 4954 section 4).
 *
 *	Every AUTH command that ends in 535, 538, 501 or 504 counts as a
 *	failed attempt.  The first max_failures failed attempts are
 *	answered as such; the one after them gets 421 4.7.0 and the
 *	connection closes.
 *
 *	AUTH=value on MAIL FROM (RFC 4954 section 5) must be xtext.  It is
 *	stored as the transaction value "auth" for other plugins when the
 *	client has authenticated; otherwise "<>" is stored, since a server
 *	must not trust an identity it has not verified.
 *
 *	The keyword stays offered after a successful AUTH, so that the
 *	AUTH= parameter, which belongs to the keyword, stays usable after
 *	a new EHLO (RFC 1869 section 6).
 *
 *	Each SASL step (sasl_server_start, sasl_server_step) runs in a
 *	thread of the worker (auth_step.c), since a check may wait: with
 *	pwcheck_method "saslauthd" for as long as PAM takes, seconds after
 *	a wrong password.  The session waits (PENDING); the event loop
 *	serves the others.
 *
 *	SASL opens the sasldb at each login, in the worker, as the worker
 *	user: init refuses a sasldb_path that user cannot read, so that
 *	"ehlod -t" says so.  A backend failure during a login (SASL_FAIL,
 *	which is what an unreadable sasldb gives, or SASL_UNAVAIL, ...) is
 *	answered 454 4.7.0 and logged as an error: the client is not to
 *	blame, and 535 is what log watchers count against it.
 *
 *	SASL itself is configured from this section, under SASL's own
 *	option names, through SASL's option callback: nothing is read
 *	from /etc/sasl2.  SASL's log lines go to the server's log.
 *
 *	User names and realms: "saslpasswd2 -u REALM user" makes the sasldb
 *	entry user@REALM.  SASL looks a name without "@" up in the realm
 *	(option realm, by default the server's hostname) and a name
 *	"user@REALM" in REALM, so a client may log in as either; the
 *	session's AUTH_USER is the name as the client gave it.  Names are
 *	case-sensitive.
 *
 *	Inside a host MTA (ehlod-milter) this plugin does nothing: the MTA
 *	runs its own AUTH.
 * CONFIGURATION
 *	allow_plaintext (bool, default false)
 *		Offer AUTH on connections that are not under TLS.
 *	max_failures (integer, default 3)
 *		Failed AUTH attempts answered before the session is closed
 *		with 421.  0 closes it at the first failure.
 *	realm (string, default: the server's hostname)
 *		The realm SASL appends to a user name without one.
 *	service (string, default "smtp")
 *		The service name SASL is given: GSSAPI's principal is
 *		service@host, and saslauthd's PAM check uses the PAM
 *		service of that name (/etc/pam.d/smtp).
 *	pwcheck_method, auxprop_plugin, sasldb_path, mech_list,
 *	saslauthd_path, log_level (strings, default: unset)
 *		Handed to Cyrus SASL as its options of the same names (see
 *		the Cyrus SASL documentation, "options.html").  An unset
 *		option takes SASL's default.  log_level 7 logs passwords.
 * SEE ALSO
 *	ehlod-plugin-auth(5), the plugin's manual
 */
#include "autoconfig.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sasl/sasl.h>
#include <sasl/saslutil.h>

#include <ehlod/plugin.h>

#include "auth_parse.h"
#include "auth_step.h"
#include "plugin_threads.h"
#include "user_access.h"
#include "xmalloc.h"

/* A challenge travels in one reply line, which the host bounds. */
#define CHALLENGE_MAX 1000

/* sasl_callback_t stores every callback as int (*)(void); the detour
 * through void (*)(void) tells the compiler the cast is meant. */
#define SASL_FN(f) ((int (*)(void))(void (*)(void))(f))

/* What one session knows. */
struct auth_state {
	sasl_conn_t *conn;
	sasl_callback_t *callbacks;	/* conn's (its log callback): they
					 * live as long as conn does */
	int started;		/* conn has run an exchange: use a fresh one */
	struct auth_step *step;	/* out in a thread (conn is its meanwhile) */
	unsigned failures;
	char mech[SASL_MECHNAMEMAX + 1];
};

static const struct ehlod_host *host;
static int allow_plaintext;
static long max_failures;
static char *realm;
static char *service;	/* SASL's service name: "smtp" unless set */
static int sasl_started;

/* The SASL options this section passes through, under SASL's names. */
static const char *const sasl_names[] = {
	"pwcheck_method", "auxprop_plugin", "sasldb_path", "mech_list",
	"saslauthd_path", "log_level"
};
#define NSASL (sizeof(sasl_names) / sizeof(sasl_names[0]))
static char *sasl_values[NSASL];
static ehlod_ctx *self;		/* the one instance: a keyword allows no more */

struct auth_conf {
	int allow_plaintext;
	long long max_failures;
	const char *realm;
	const char *service;
	const char *sasl[NSASL];	/* in sasl_names' order */
};

/* ---- SASL callbacks ---- */

static int
sasl_getopt_cb(void *context, const char *plugin_name, const char *option,
    const char **result, unsigned *len)
{
	(void)context;
	(void)plugin_name;
	for (size_t i = 0; i < NSASL; i++) {
		if (strcmp(option, sasl_names[i]) != 0 || sasl_values[i] == NULL)
			continue;
		*result = sasl_values[i];
		if (len)
			*len = (unsigned)strlen(sasl_values[i]);
		return SASL_OK;
	}
	return SASL_FAIL;
}

static int
log_priority(int level)
{
	switch (level) {
	case SASL_LOG_ERR: return LOG_ERR;
	case SASL_LOG_FAIL: return LOG_NOTICE;
	case SASL_LOG_WARN: return LOG_WARNING;
	case SASL_LOG_NOTE: return LOG_NOTICE;
	default: return LOG_DEBUG;
	}
}

/* context is the session for a connection's lines, NULL otherwise. */
static int
sasl_log_cb(void *context, int level, const char *message)
{
	if (level == SASL_LOG_NONE)
		return SASL_OK;
	/* In a step's thread the line waits for the loop. */
	if (auth_step_log(log_priority(level), message ? message : ""))
		return SASL_OK;
	host->log(context, log_priority(level), "sasl: %s",
	    message ? message : "");
	return SASL_OK;
}

static const sasl_callback_t global_callbacks[] = {
	{ SASL_CB_GETOPT, SASL_FN(sasl_getopt_cb), NULL },
	{ SASL_CB_LOG, SASL_FN(sasl_log_cb), NULL },
	{ SASL_CB_LIST_END, NULL, NULL }
};

/* ---- SASL's locks (sasl_set_mutex) ---- */

static void *
mutex_alloc(void)
{
	pthread_mutex_t *m = malloc(sizeof(*m));

	if (m != NULL && pthread_mutex_init(m, NULL) != 0) {
		free(m);
		return NULL;
	}
	return m;
}

static int
mutex_lock(void *m)
{
	return pthread_mutex_lock(m) == 0 ? SASL_OK : SASL_FAIL;
}

static int
mutex_unlock(void *m)
{
	return pthread_mutex_unlock(m) == 0 ? SASL_OK : SASL_FAIL;
}

static void
mutex_free(void *m)
{
	if (m != NULL)
		pthread_mutex_destroy(m);
	free(m);
}

/* ---- the session's SASL connection ---- */

/* The host frees the state itself; the SASL connection is ours. */
static void
state_cleanup(ehlod_ctx *s, void *arg)
{
	struct auth_state *st = arg;
	(void)s;

	if (st->step != NULL) {
		/* The thread still has conn: the step disposes of it, and
		 * of its callbacks, when it comes back (step_back). */
		st->step->s = NULL;
		st->step->st = NULL;
		st->step->callbacks = st->callbacks;
		st->step = NULL;
		st->conn = NULL;
		st->callbacks = NULL;
		return;
	}
	auth_conn_dispose(&st->conn, &st->callbacks);
}

static struct auth_state *
state_get(ehlod_ctx *s)
{
	return host->session_data(s);
}

/* "addr;port" as SASL wants it, or NULL when the address is unknown. */
static const char *
ip_port(ehlod_ctx *s, enum ehlod_item addr, enum ehlod_item port,
    char *buf, size_t len)
{
	const char *a = host->get(s, addr), *p = host->get(s, port);
	int n;

	if (a == NULL || p == NULL || *a == '\0' || strcmp(a, "unknown") == 0)
		return NULL;
	n = snprintf(buf, len, "%s;%s", a, p);
	return n > 0 && (size_t)n < len ? buf : NULL;
}

static int
conn_new(ehlod_ctx *s, struct auth_state *st)
{
	char local[96], remote[96];
	sasl_security_properties_t sp;
	int rc;

	auth_conn_dispose(&st->conn, &st->callbacks);
	st->started = 0;
	st->callbacks = xcalloc(2, sizeof(*st->callbacks));
	st->callbacks[0] = (sasl_callback_t){ SASL_CB_LOG,
	    SASL_FN(sasl_log_cb), s };
	st->callbacks[1] = (sasl_callback_t){ SASL_CB_LIST_END, NULL, NULL };
	rc = sasl_server_new(service ? service : "smtp",
	    host->get(s, EHLOD_ITEM_HOSTNAME),
	    realm, ip_port(s, EHLOD_ITEM_LOCAL_ADDR, EHLOD_ITEM_LOCAL_PORT,
	    local, sizeof(local)), ip_port(s, EHLOD_ITEM_CLIENT_ADDR,
	    EHLOD_ITEM_CLIENT_PORT, remote, sizeof(remote)), st->callbacks, 0,
	    &st->conn);
	if (rc != SASL_OK) {
		host->log(s, LOG_ERR, "sasl_server_new: %s",
		    sasl_errstring(rc, NULL, NULL));
		st->conn = NULL;
		auth_conn_dispose(&st->conn, &st->callbacks);
		return -1;
	}
	/* No SASL security layer: the host cannot wrap the stream (TLS is
	 * the way to protect it).  No anonymous logins: AUTH grants relay. */
	memset(&sp, 0, sizeof(sp));
	sp.security_flags = SASL_SEC_NOANONYMOUS;
	if (sasl_setprop(st->conn, SASL_SEC_PROPS, &sp) != SASL_OK) {
		host->log(s, LOG_ERR, "sasl_setprop: %s",
		    sasl_errdetail(st->conn));
		auth_conn_dispose(&st->conn, &st->callbacks);
		return -1;
	}
	return 0;
}

/* ---- EHLO ---- */

static int
allowed(ehlod_ctx *s)
{
	return allow_plaintext || host->flag(s, EHLOD_FLAG_TLS);
}

static int
auth_ehlo_params(ehlod_ctx *s, char *buf, size_t buflen)
{
	struct auth_state *st;
	const char *list;
	unsigned len;
	int count;

	if (!allowed(s) || (st = state_get(s)) == NULL)
		return -1;
	if (st->conn == NULL && conn_new(s, st) < 0)
		return -1;
	if (sasl_listmech(st->conn, NULL, "", " ", "", &list, &len,
	    &count) != SASL_OK || count == 0) {
		host->log(s, LOG_WARNING, "no SASL mechanism available; "
		    "AUTH not offered");
		return -1;
	}
	if (len >= buflen) {
		host->log(s, LOG_ERR, "SASL mechanism list too long; AUTH "
		    "not offered");
		return -1;
	}
	memcpy(buf, list, len);
	buf[len] = '\0';
	return 0;
}

/* ---- the exchange ---- */

static ehlod_verdict
failed(ehlod_ctx *s, struct auth_state *st, int code,
    const char *enhanced, const char *text)
{
	if (++st->failures > (unsigned long)max_failures) {
		host->log(s, LOG_NOTICE, "%u failed AUTH attempts; closing",
		    st->failures);
		host->reply(s, 421, "4.7.0", "%s Error: too many failed "
		    "authentication attempts", host->get(s,
		    EHLOD_ITEM_HOSTNAME));
		return EHLOD_REJECT;
	}
	host->reply(s, code, enhanced, "%s", text);
	return EHLOD_REJECT;
}

static ehlod_verdict
tempfail(ehlod_ctx *s)
{
	host->reply(s, 454, "4.7.0", "Temporary authentication failure");
	return EHLOD_TEMPFAIL;
}

static ehlod_verdict
succeeded(ehlod_ctx *s, struct auth_state *st)
{
	const void *user = NULL;

	if (sasl_getprop(st->conn, SASL_USERNAME, &user) != SASL_OK ||
	    user == NULL) {
		host->log(s, LOG_ERR, "SASL %s login without a user name",
		    st->mech);
		return tempfail(s);
	}
	if (host->set(s, EHLOD_ITEM_AUTH_USER, user) < 0 ||
	    host->set(s, EHLOD_ITEM_AUTH_MECH, st->mech) < 0) {
		host->log(s, LOG_ERR, "cannot record the login");
		return tempfail(s);
	}
	host->set_flag(s, EHLOD_FLAG_AUTH, 1);
	host->set_flag(s, EHLOD_FLAG_RELAY, 1);
	host->log(s, LOG_INFO, "client=[%s], sasl_method=%s, "
	    "sasl_username=%s", host->get(s, EHLOD_ITEM_CLIENT_ADDR),
	    st->mech, (const char *)user);
	host->reply(s, 235, "2.7.0", "Authentication successful");
	return EHLOD_ACCEPT;
}

static void auth_line(ehlod_ctx *s, void *arg, const char *line);

static ehlod_verdict
challenge(ehlod_ctx *s, struct auth_state *st, const char *out,
    unsigned outlen)
{
	char text[CHALLENGE_MAX + 1];
	unsigned len;

	if (sasl_encode64(out ? out : "", outlen, text, sizeof(text),
	    &len) != SASL_OK) {
		host->log(s, LOG_ERR, "SASL %s challenge of %u octets does "
		    "not fit in a reply line", st->mech, outlen);
		return tempfail(s);
	}
	if (host->read_line(s, 334, text, auth_line, st) < 0) {
		host->log(s, LOG_ERR, "the host cannot read AUTH responses");
		return tempfail(s);
	}
	return EHLOD_PENDING;
}

/* The verdict after sasl_server_start or _step returned rc. */
static ehlod_verdict
step_result(ehlod_ctx *s, struct auth_state *st, int rc,
    const char *out, unsigned outlen)
{
	switch (rc) {
	case SASL_OK:
		return succeeded(s, st);
	case SASL_CONTINUE:
		return challenge(s, st, out, outlen);
	case SASL_NOMECH:
		return failed(s, st, 504, "5.5.4", "Unrecognized "
		    "authentication type");
	case SASL_FAIL:
	case SASL_TRYAGAIN:
	case SASL_UNAVAIL:
	case SASL_NOMEM:
	case SASL_NOVERIFY:
		/* The backend failed (an unreadable sasldb is SASL_FAIL, a
		 * wrong password SASL_BADAUTH, an unknown user SASL_NOUSER):
		 * not the client's fault, so no 535 for fail2ban to count. */
		host->log(s, LOG_ERR, "unknown[%s]: SASL %s authentication "
		    "backend failure: %s", host->get(s, EHLOD_ITEM_CLIENT_ADDR),
		    st->mech, sasl_errdetail(st->conn));
		return tempfail(s);
	case SASL_ENCRYPT:
		return failed(s, st, 538, "5.7.11", "Encryption required for "
		    "requested authentication mechanism");
	default:
		/* Postfix's shape, which log tools (fail2ban) know. */
		host->log(s, LOG_WARNING, "unknown[%s]: SASL %s authentication "
		    "failed: %s", host->get(s, EHLOD_ITEM_CLIENT_ADDR),
		    st->mech, sasl_errdetail(st->conn));
		return failed(s, st, 535, "5.7.8", "Authentication "
		    "credentials invalid");
	}
}

/* Hand a SASL step to the threads: the session waits (PENDING), the
 * loop serves the others, and step_back goes on.  in (inmax octets, may
 * hold a password) is the step's from now on. */
static ehlod_verdict
submit_step(ehlod_ctx *s, struct auth_state *st, int first, char *in,
    unsigned inlen, size_t inmax)
{
	struct auth_step *j = xcalloc(1, sizeof(*j));

	j->s = s;
	j->st = st;
	j->conn = st->conn;
	j->first = first;
	memcpy(j->mech, st->mech, sizeof(j->mech));
	j->in = in;
	j->inlen = inlen;
	j->inmax = inmax;
	if (auth_step_submit(j) < 0) {
		host->log(s, LOG_ERR, "cannot start the SASL threads: %s",
		    strerror(errno));
		auth_step_free(j);
		return tempfail(s);
	}
	st->step = j;
	return EHLOD_PENDING;
}

/* In the loop: a step is back from its thread. */
static void
step_back(struct auth_step *j)
{
	ehlod_ctx *s = j->s;
	struct auth_state *st = j->st;
	ehlod_verdict v;

	for (unsigned i = 0; i < j->nlog; i++)
		host->log(s != NULL ? s : self, j->log[i].priority,
		    "sasl: %s", j->log[i].text);
	if (s == NULL) {	/* the session ended meanwhile */
		auth_conn_dispose(&j->conn, &j->callbacks);
		auth_step_free(j);
		return;
	}
	st->step = NULL;
	v = step_result(s, st, j->rc, j->out, j->outlen);
	auth_step_free(j);
	if (v != EHLOD_PENDING)
		host->resume(s, v);
}

/* Decode text and hand it to SASL: the first step or a later one. */
static ehlod_verdict
respond(ehlod_ctx *s, struct auth_state *st, const char *text,
    int first)
{
	size_t max = auth_parse_decoded_max(strlen(text));
	char *in = xmalloc(max);
	unsigned inlen;
	enum auth_response r;

	r = auth_parse_response(text, first, in, max, &inlen);
	if (r == AUTH_RESPONSE_OK)
		return submit_step(s, st, first, in, inlen, max);
	free(in);
	if (r == AUTH_RESPONSE_CANCEL)
		return failed(s, st, 501, "5.0.0", "Authentication cancelled");
	return failed(s, st, 501, "5.5.2", "Cannot decode response: "
	    "not base64");
}

static void
auth_line(ehlod_ctx *s, void *arg, const char *line)
{
	ehlod_verdict v = respond(s, arg, line, 0);

	if (v != EHLOD_PENDING)
		host->resume(s, v);
}

static ehlod_verdict
not_offered(ehlod_ctx *s)
{
	if (!allowed(s)) {
		host->reply(s, 530, "5.7.0", "Must issue a STARTTLS command "
		    "first");
		return EHLOD_REJECT;
	}
	host->reply(s, 502, "5.5.1", "Command not offered in this session");
	return EHLOD_REJECT;
}

static ehlod_verdict
start(ehlod_ctx *s, struct auth_state *st, const char *initial)
{
	if ((st->conn == NULL || st->started) && conn_new(s, st) < 0)
		return tempfail(s);
	st->started = 1;
	if (initial != NULL)
		return respond(s, st, initial, 1);
	return submit_step(s, st, 1, NULL, 0, 0);
}

static ehlod_verdict
auth_verb(ehlod_ctx *s, const char *args)
{
	struct auth_state *st;
	const char *initial;

	/* RFC 4954 section 4: no second AUTH once one has succeeded. */
	if (host->flag(s, EHLOD_FLAG_AUTH)) {
		host->reply(s, 503, "5.5.1", "Already authenticated");
		return EHLOD_REJECT;
	}
	if (!host->offered(s, "AUTH"))
		return not_offered(s);
	if ((st = state_get(s)) == NULL)
		return tempfail(s);
	if (auth_parse_args(args, st->mech, sizeof(st->mech), &initial) < 0) {
		st->mech[0] = '\0';
		return failed(s, st, 501, "5.5.4", "Syntax: AUTH mechanism "
		    "[initial-response]");
	}
	return start(s, st, initial);
}

/* ---- MAIL FROM AUTH= ---- */

static ehlod_verdict
auth_mail_param(ehlod_ctx *s, const char *keyword, const char *value)
{
	const char *stored;

	if (!auth_parse_xtext_valid(value)) {
		host->reply(s, 501, "5.5.4", "Bad AUTH= value: not xtext");
		return EHLOD_REJECT;
	}
	/* RFC 4954 section 5: an identity the server has not verified
	 * is treated as if AUTH=<> had been given. */
	stored = host->flag(s, EHLOD_FLAG_AUTH) ? value : "<>";
	if (host->txn_set(s, EHLOD_KEY_AUTH, stored) < 0) {
		host->log(s, LOG_ERR, "cannot store the AUTH= value");
		host->reply(s, 451, "4.3.0", "Local error in processing");
		return EHLOD_TEMPFAIL;
	}
	return EHLOD_CONTINUE;
}

/* ---- start and stop ---- */

static void
options_free(void)
{
	for (size_t i = 0; i < NSASL; i++) {
		free(sasl_values[i]);
		sasl_values[i] = NULL;
	}
	free(realm);
	realm = NULL;
	free(service);
	service = NULL;
}

static int
copy_option(const char *v, char **to)
{
	*to = NULL;
	if (v == NULL)
		return 0;
	*to = xstrdup(v);
	return 0;
}

static int
options_read(const struct auth_conf *conf)
{
	allow_plaintext = conf->allow_plaintext;
	max_failures = (long)conf->max_failures;
	if (copy_option(conf->realm, &realm) < 0 ||
	    copy_option(conf->service, &service) < 0)
		return -1;
	for (size_t i = 0; i < NSASL; i++)
		if (copy_option(conf->sasl[i], &sasl_values[i]) < 0)
			return -1;
	return 0;
}

static void
auth_fini(ehlod_ctx *inst)
{
	unsigned left = auth_step_stop();

	if (left > 0) {
		/* A thread may still be inside SASL, using its state and our
		 * options: leave both to the end of the process. */
		host->log(inst, LOG_WARNING, "%u password check%s still "
		    "waiting %d s after the last session (saslauthd or PAM "
		    "not answering); leaving %s behind", left, left == 1 ?
		    "" : "s", THREADS_STOP_WAIT, left == 1 ? "it" : "them");
		return;
	}
	/* No thread is in SASL past here. */
	if (sasl_started)
		sasl_server_done();
	sasl_started = 0;
	options_free();
}

/* SASL opens the sasldb at each login, in the worker, as the worker
 * user: a file only root can read would turn every login into 454. */
static int
sasldb_check(void)
{
	const char *path = sasl_values[2];	/* sasldb_path */
	const char *user = host->get(NULL, EHLOD_ITEM_USER);
	int err;

	if (path == NULL || (err = user_can_read(path, user)) == 0)
		return 0;
	host->log(self, LOG_ERR, "sasldb_path %s: not readable by user %s: "
	    "%s", path, user && *user ? user : "(current)", strerror(err));
	return -1;
}

/* libsasl2's own default, as Debian builds it. */
#define SASLAUTHD_DEFAULT_PATH "/var/run/saslauthd/mux"

/* Is saslauthd one of pwcheck_method's (space separated) methods? */
static int
uses_saslauthd(void)
{
	const char *p = sasl_values[0];	/* pwcheck_method */
	const size_t len = strlen("saslauthd");

	while (p != NULL && *p != '\0') {
		p += strspn(p, " \t");
		size_t n = strcspn(p, " \t");
		if (n == len && strncmp(p, "saslauthd", len) == 0)
			return 1;
		p += n;
	}
	return 0;
}

/* Each login connects to saslauthd's socket from the worker, as the
 * worker user: a socket it may not write to (Debian keeps it in a
 * directory of group sasl, mode 0710) would turn every login into 454.
 * A socket not there yet is only reported: saslauthd may start later. */
static int
saslauthd_check(void)
{
	const char *path = sasl_values[4] ? sasl_values[4] :	/* _path */
	    SASLAUTHD_DEFAULT_PATH;
	const char *user = host->get(NULL, EHLOD_ITEM_USER);
	const char *who = user && *user ? user : "(current)";
	int err;

	if (!uses_saslauthd() || (err = user_access(path, user, W_OK)) == 0)
		return 0;
	if (err == ENOENT) {
		host->log(self, LOG_WARNING, "saslauthd_path %s: %s (saslauthd "
		    "not running yet?)", path, strerror(err));
		return 0;
	}
	host->log(self, LOG_ERR, "saslauthd_path %s: user %s cannot connect: "
	    "%s (add the user to the socket's group: sasl on Debian)", path,
	    who, strerror(err));
	return -1;
}

static int
auth_init(const struct ehlod_host *h, ehlod_ctx *inst)
{
	int rc;

	host = h;
	self = inst;
	if (options_read(host->instance(inst)) < 0 || sasldb_check() < 0 ||
	    saslauthd_check() < 0) {
		options_free();
		return -1;
	}
	/* SASL's shared state is locked only with what it is given, and
	 * only before it starts: the loop and the step threads share it. */
	sasl_set_mutex(mutex_alloc, mutex_lock, mutex_unlock, mutex_free);
	rc = sasl_server_init(global_callbacks, "ehlod");
	if (rc != SASL_OK) {
		host->log(self, LOG_ERR, "cannot start Cyrus SASL: %s",
		    sasl_errstring(rc, NULL, NULL));
		options_free();
		return -1;
	}
	sasl_started = 1;
	auth_step_setup(host, self, step_back);
	return 0;
}

static const struct ehlod_verb auth_verbs[] = {
	/* ALWAYS: the handler itself tells a second AUTH (503) from one
	 * on a plain connection (530) and one in a HELO session (502). */
	{ "AUTH", EHLOD_STATE_GREETED, EHLOD_VERB_NEEDS_ARG |
	    EHLOD_VERB_ALWAYS, auth_verb },
	{ NULL, 0, 0, NULL }
};

static const struct ehlod_param auth_mail_params[] = {
	{ "AUTH", EHLOD_VALUE_REQUIRED, auth_mail_param },
	{ NULL, 0, NULL }
};

#define SASL_OPT(name, i) { name, EHLOD_OPT_STRING, \
	offsetof(struct auth_conf, sasl) + (i) * sizeof(const char *), NULL, \
	0, 0, 0, NULL }
static const struct ehlod_option auth_options[] = {
	{ "allow_plaintext", EHLOD_OPT_BOOL,
	  offsetof(struct auth_conf, allow_plaintext), "no", 0, 0, 0, NULL },
	{ "max_failures", EHLOD_OPT_INT,
	  offsetof(struct auth_conf, max_failures), "3", 0, 0, 1000000,
	  NULL },
	{ "realm", EHLOD_OPT_STRING, offsetof(struct auth_conf, realm), NULL,
	  0, 0, 0, NULL },
	/* RFC 4954 section 4 names the service "smtp" (GSSAPI's
	 * "smtp@host"); PAM through saslauthd uses it as its service. */
	{ "service", EHLOD_OPT_STRING, offsetof(struct auth_conf, service),
	  "smtp", 0, 0, 0, NULL },
	SASL_OPT("pwcheck_method", 0),
	SASL_OPT("auxprop_plugin", 1),
	SASL_OPT("sasldb_path", 2),
	SASL_OPT("mech_list", 3),
	SASL_OPT("saslauthd_path", 4),
	SASL_OPT("log_level", 5),
	{ NULL, 0, 0, NULL, 0, 0, 0, NULL }
};

EHLOD_PLUGIN_EXPORT const struct ehlod_plugin ehlod_plugin = {
	EHLOD_PLUGIN_HEADER,
	.name = "auth",
	.version = PACKAGE_VERSION,
	.description = "AUTH: SMTP authentication through Cyrus SASL "
	    "(RFC 4954)",
	.ehlo_keyword = "AUTH",
	.ehlo_params = auth_ehlo_params,
	.verbs = auth_verbs,
	.mail_params = auth_mail_params,
	/* RFC 4954 section 5: AUTH= adds up to 500 octets to MAIL. */
	.line_increment = 500,
	.options = auth_options,
	.instance_size = sizeof(struct auth_conf),
	.session_data_size = sizeof(struct auth_state),
	.session_cleanup = state_cleanup,
	.init = auth_init,
	.fini = auth_fini,
};
