/*
 * NAME
 *	client_auth.c - the client's side of SMTP AUTH (RFC 4954) over
 *	Cyrus SASL
 * DESCRIPTION
 *	See client_auth.h.  sasl_client_init() is process-wide; it runs once, the
 *	first time any client authenticates.  Credentials reach SASL through
 *	callbacks that read them from this module's state; they are never
 *	copied into the transcript (login.c masks the lines).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sasl/sasl.h>
#include <sasl/saslutil.h>

#include "client_auth.h"
#include "xmalloc.h"

#define AUTH_LINE_MAX 12288	/* RFC 4954 4: 12288 octets per line */

struct client_auth {
	sasl_conn_t *conn;
	char *user;
	sasl_secret_t *secret;
	char *mechs;		/* the mechanisms we may use */
	sasl_callback_t cb[4];
};

static int sasl_ready;

static int
get_user(void *ctx, int id, const char **result, unsigned *len)
{
	struct client_auth *a = ctx;

	if (id != SASL_CB_USER && id != SASL_CB_AUTHNAME)
		return SASL_BADPARAM;
	*result = a->user;
	if (len)
		*len = (unsigned)strlen(a->user);
	return SASL_OK;
}

static int
get_secret(sasl_conn_t *conn, void *ctx, int id, sasl_secret_t **psecret)
{
	struct client_auth *a = ctx;

	if (id != SASL_CB_PASS)
		return SASL_BADPARAM;
	*psecret = a->secret;
	return SASL_OK;
}

/* The server's mechanisms that the user allows, space-separated. */
static char *
pick_mechs(const char *server, const char *allowed)
{
	char *out = xcalloc(1, strlen(server) + 1), *copy = xstrdup(server);
	char *save = NULL;

	for (char *m = strtok_r(copy, " ", &save); m; m = strtok_r(NULL, " ", &save)) {
		if (allowed != NULL && strcasestr(allowed, m) == NULL)
			continue;
		if (*out)
			strcat(out, " ");
		strcat(out, m);
	}
	free(copy);
	return out;
}

static int
setup_conn(struct client_auth *a, const char *host, const char **err)
{
	sasl_security_properties_t sp;

	if (!sasl_ready) {
		if (sasl_client_init(NULL) != SASL_OK) {
			*err = "cannot initialise Cyrus SASL";
			return -1;
		}
		sasl_ready = 1;
	}
	a->cb[0] = (sasl_callback_t){ SASL_CB_USER, (int (*)(void))(void (*)(void))get_user, a };
	a->cb[1] = (sasl_callback_t){ SASL_CB_AUTHNAME, (int (*)(void))(void (*)(void))get_user, a };
	a->cb[2] = (sasl_callback_t){ SASL_CB_PASS, (int (*)(void))(void (*)(void))get_secret, a };
	a->cb[3] = (sasl_callback_t){ SASL_CB_LIST_END, NULL, NULL };
	if (sasl_client_new("smtp", host, NULL, NULL, a->cb, 0, &a->conn) != SASL_OK) {
		*err = "cannot make a SASL connection";
		return -1;
	}
	memset(&sp, 0, sizeof(sp));
	sp.max_ssf = 0;		/* no security layer: see auth.h */
	sp.maxbufsize = 0;
	sp.security_flags = SASL_SEC_NOANONYMOUS;
	sasl_setprop(a->conn, SASL_SEC_PROPS, &sp);
	return 0;
}

struct client_auth *
client_auth_new(const char *host, const char *user, const char *password,
    const char *server_mechs, const char *allowed, const char **err)
{
	struct client_auth *a = xcalloc(1, sizeof(*a));
	size_t plen = strlen(password ? password : "");

	a->user = xstrdup(user);
	a->secret = xcalloc(1, sizeof(sasl_secret_t) + plen + 1);
	a->mechs = pick_mechs(server_mechs, allowed);
	a->secret->len = plen;
	memcpy(a->secret->data, password ? password : "", plen);
	if (*a->mechs == '\0') {
		*err = "no AUTH mechanism in common with the server";
		client_auth_free(a);
		return NULL;
	}
	if (setup_conn(a, host, err) < 0) {
		client_auth_free(a);
		return NULL;
	}
	return a;
}

void
client_auth_free(struct client_auth *a)
{
	if (a == NULL)
		return;
	if (a->conn)
		sasl_dispose(&a->conn);
	if (a->secret) {
		memset(a->secret->data, 0, a->secret->len);
		free(a->secret);
	}
	free(a->user);
	free(a->mechs);
	free(a);
}

/* base64 of out into a new string; "=" stands for an empty response. */
static char *
encode(const char *out, unsigned outlen, const char *prefix, const char **err)
{
	size_t plen = strlen(prefix);
	char *line = xmalloc(plen + AUTH_LINE_MAX + 1);
	unsigned n = 0;

	memcpy(line, prefix, plen);
	if (outlen == 0) {
		strcpy(line + plen, "=");
		return line;
	}
	if (sasl_encode64(out, outlen, line + plen, AUTH_LINE_MAX, &n) != SASL_OK) {
		*err = "SASL response too long";
		free(line);
		return NULL;
	}
	line[plen + n] = '\0';
	return line;
}

char *
client_auth_start(struct client_auth *a, const char **mech, const char **err)
{
	const char *out = NULL;
	unsigned outlen = 0;
	char prefix[128];
	int r;

	r = sasl_client_start(a->conn, a->mechs, NULL, &out, &outlen, mech);
	if (r != SASL_OK && r != SASL_CONTINUE) {
		*err = sasl_errdetail(a->conn);
		return NULL;
	}
	/* Without an initial response the mechanism waits for a 334. */
	if (out == NULL) {
		snprintf(prefix, sizeof(prefix), "AUTH %s", *mech);
		return xstrdup(prefix);
	}
	snprintf(prefix, sizeof(prefix), "AUTH %s ", *mech);
	return encode(out, outlen, prefix, err);
}

char *
client_auth_step(struct client_auth *a, const char *challenge,
    const char **err)
{
	char in[AUTH_LINE_MAX];
	unsigned inlen = 0, outlen = 0;
	const char *out = NULL;
	int r;

	if (sasl_decode64(challenge, (unsigned)strlen(challenge), in,
	    sizeof(in), &inlen) != SASL_OK) {
		*err = "server challenge is not base64";
		return NULL;
	}
	r = sasl_client_step(a->conn, in, inlen, NULL, &out, &outlen);
	if (r != SASL_OK && r != SASL_CONTINUE) {
		*err = sasl_errdetail(a->conn);
		return NULL;
	}
	/* An empty answer to a 334 is an empty line ("=" is only for the
	 * initial response, RFC 4954 4). */
	if (out == NULL || outlen == 0)
		return xstrdup("");
	return encode(out, outlen, "", err);
}
