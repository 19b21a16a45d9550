/*
 * NAME
 *	client_starttls.c - STARTTLS (RFC 3207) for the client's connection
 * DESCRIPTION
 *	Part of the connection (connection.c): sends STARTTLS when the
 *	options ask for it and the server offers it, runs the handshake on
 *	an OpenSSL filter over the socket, and starts the session again with
 *	EHLO, forgetting what was said before (RFC 3207 4.2).  TLS 1.2 at
 *	least; the certificate and the name (or IP address) are verified
 *	unless the options say not to.  Clients sharing a context made by
 *	ehlod_client_tls_context_new() resume the sessions the hop gave
 *	before (tls_sessions.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "private.h"

static int
is_ip_literal(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* The protocol floor and, when certificates are verified, the trust
 * store: ca_file, else the system's.  Loading the system's bundle parses
 * every certificate in it (about 20 ms of CPU), which is why a program
 * running many clients on one loop makes this once
 * (ehlod_client_tls_context_new).  The verify mode itself is set per
 * connection (make_ssl). */
static SSL_CTX *
new_context(int verify, const char *ca_file, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	unsigned long e;
	FILE *f;

	if (ctx == NULL) {
		snprintf(err, errlen, "cannot make a TLS context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (!verify)
		return ctx;	/* nothing would be checked against it */
	if (ca_file == NULL) {
		/* Missing system files are no error here: with verification
		 * on, the handshake says what is missing. */
		SSL_CTX_set_default_verify_paths(ctx);
		ERR_clear_error();
		return ctx;
	}
	if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) == 1)
		return ctx;
	e = ERR_peek_last_error();
	ERR_clear_error();
	SSL_CTX_free(ctx);
	/* OpenSSL says only "system lib" when the file cannot be opened. */
	if ((f = fopen(ca_file, "r")) == NULL) {
		snprintf(err, errlen, "cannot load the CA file %s: %s", ca_file,
		    strerror(errno));
		return NULL;
	}
	fclose(f);
	snprintf(err, errlen, "cannot load the CA file %s: %s", ca_file,
	    e && ERR_reason_error_string(e) ? ERR_reason_error_string(e) :
	    "not a PEM file of certificates");
	return NULL;
}

void *
ehlod_client_tls_context_new(const struct ehlod_client_opts *o, char *err,
    size_t errlen)
{
	struct ehlod_client_opts copy;
	char none[1];

	if (err == NULL || errlen == 0) {
		err = none;
		errlen = sizeof(none);
	}
	if (o == NULL)
		ehlod_client_opts_init(&copy);
	else if (client_copy_sized(&copy, sizeof(copy), o, OPTS_SIZE_1_0) < 0) {
		snprintf(err, errlen, "options not made by "
		    "ehlod_client_opts_init()");
		return NULL;
	}
	SSL_CTX *ctx = new_context(copy.tls_verify, copy.tls_ca_file, err,
	    errlen);
	if (ctx != NULL && tls_sessions_enable(ctx) < 0) {
		SSL_CTX_free(ctx);
		snprintf(err, errlen, "cannot make a TLS context");
		return NULL;
	}
	return ctx;
}

void
ehlod_client_tls_context_free(void *ctx)
{
	SSL_CTX_free(ctx);
}

/* The caller's context if it gave one (a reference of our own), else
 * one made now, on the loop. */
static int
make_ssl_ctx(struct ehlod_client *c, char *err, size_t errlen)
{
	if (c->ssl_ctx)
		return 0;
	if (c->o.tls_context != NULL) {
		if (SSL_CTX_up_ref(c->o.tls_context) != 1) {
			snprintf(err, errlen, "cannot use the TLS context");
			return -1;
		}
		c->ssl_ctx = c->o.tls_context;
		return 0;
	}
	c->ssl_ctx = new_context(c->o.tls_verify, c->o.tls_ca_file, err,
	    errlen);
	return c->ssl_ctx ? 0 : -1;
}

static SSL *
make_ssl(struct ehlod_client *c, char *err, size_t errlen)
{
	const char *name = c->o.tls_server_name ? c->o.tls_server_name : c->host;
	SSL *ssl;

	if (make_ssl_ctx(c, err, errlen) < 0)
		return NULL;
	if ((ssl = SSL_new(c->ssl_ctx)) == NULL) {
		snprintf(err, errlen, "cannot set up TLS");
		return NULL;
	}
	SSL_set_verify(ssl, c->o.tls_verify ? SSL_VERIFY_PEER :
	    SSL_VERIFY_NONE, NULL);
	tls_sessions_offer(ssl, c->o.tls_verify, name, c->host, c->port);
	if (name == NULL)
		return ssl;
	if (is_ip_literal(name)) {
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name);
		return ssl;
	}
	SSL_set_tlsext_host_name(ssl, name);
	SSL_set1_host(ssl, name);
	return ssl;
}

static void
tls_setup_failed(struct ehlod_client *c, const char *why)
{
	fail(c, EHLOD_CLIENT_TEMPFAIL, EHLOD_REASON_TLS, "STARTTLS", NULL,
	    "%s", why);
	conn_finish(c);
}

static void
start_tls(struct ehlod_client *c)
{
	struct bufferevent *tls;
	char why[300];
	SSL *ssl = make_ssl(c, why, sizeof(why));
	struct evbuffer *in = bufferevent_get_input(c->bev);

	if (ssl == NULL) {
		tls_setup_failed(c, why);
		return;
	}
	/* RFC 3207 5: nothing the server sent before the handshake counts. */
	evbuffer_drain(in, evbuffer_get_length(in));
	tls = bufferevent_openssl_filter_new(c->base, c->bev, ssl,
	    BUFFEREVENT_SSL_CONNECTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (tls == NULL) {
		SSL_free(ssl);
		tls_setup_failed(c, "cannot set up TLS");
		return;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(tls, 1);
	conn_set_timeouts(c, tls);	/* a filter does not inherit them */
	c->bev = tls;
	bufferevent_setcb(tls, conn_read_cb, conn_write_cb, conn_event_cb, c);
	client_stream_watch(tls);
	bufferevent_enable(tls, EV_READ | EV_WRITE);
	c->st = CONN_TLS;
	note(c, "TLS handshake");
}

static void
on_starttls(struct ehlod_client *c, struct cmd *cmd, const struct smtp_reply *r)
{
	(void)cmd;
	if (r->code == 220) {
		start_tls(c);
		return;
	}
	if (c->o.starttls == EHLOD_TLS_MUST) {
		/* Like an MTA, defer: TLS may work on the next attempt. */
		fail(c, EHLOD_CLIENT_TEMPFAIL, EHLOD_REASON_TLS, "STARTTLS",
		    r, NULL);
		conn_finish(c);
		return;
	}
	note(c, "STARTTLS refused: going on without TLS");
	c->tls_tried = r->code;
	conn_proceed(c);
}

void
tls_send_starttls(struct ehlod_client *c)
{
	cmd_push(c, xstrdup("STARTTLS"), "STARTTLS", CMD_ALONE, on_starttls);
	cmd_pump(c);
}

void
tls_established(struct ehlod_client *c)
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);

	c->res.tls = 1;
	c->st = CONN_HANDSHAKE;
	note(c, "TLS established: %s %s%s%s", SSL_get_version(ssl),
	    SSL_get_cipher_name(ssl),
	    c->o.tls_verify ? ", certificate verified" : ", not verified",
	    SSL_session_reused(ssl) ? ", session resumed" : "");
	/* RFC 3207 4.2: forget everything and EHLO again. */
	conn_send_hello(c);
}

/* The handshake did not finish (an error, the server closing, a
 * timeout): a session it offered is not offered again, so that the next
 * try starts afresh. */
void
tls_handshake_failed(struct ehlod_client *c)
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);

	if (ssl != NULL)
		tls_sessions_forget(ssl);
}

/* The handshake failed: say why, the certificate check first. */
void
tls_error_text(struct ehlod_client *c, unsigned long e, char *why, size_t len)
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
	long v = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
	char err[200];

	ERR_error_string_n(e, err, sizeof(err));
	if (v != X509_V_OK)
		snprintf(why, len, "TLS handshake failed: certificate: %s (%s)",
		    X509_verify_cert_error_string(v), err);
	else
		snprintf(why, len, "TLS handshake failed: %s", err);
}
