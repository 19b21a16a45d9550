/*
 * NAME
 *	client_auth.h - the client's side of SMTP AUTH (RFC 4954) over
 *	Cyrus SASL
 * DESCRIPTION
 *	The connection (login.c) sends the lines this module builds and
 *	hands it the server's 334 challenges; Cyrus SASL does the mechanism
 *	work.  No SASL security layer is negotiated: the client does not wrap
 *	its stream, so it asks for none (max_ssf 0) and relies on TLS.
 */
#ifndef EHLOD_CLIENT_AUTH_H
#define EHLOD_CLIENT_AUTH_H

struct client_auth;

/* server_mechs: the AUTH parameters the server offered; allowed: the
 * user's choice (NULL: any).  NULL and *err set on failure. */
struct client_auth *client_auth_new(const char *host, const char *user,
    const char *password, const char *server_mechs, const char *allowed,
    const char **err);
void client_auth_free(struct client_auth *a);

/* The AUTH command line (malloc'd, no CRLF), and the mechanism chosen. */
char *client_auth_start(struct client_auth *a, const char **mech,
    const char **err);

/* The answer (malloc'd, no CRLF) to a 334 challenge given in base64. */
char *client_auth_step(struct client_auth *a, const char *challenge,
    const char **err);

#endif
