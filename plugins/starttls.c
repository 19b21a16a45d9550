/*
 * NAME
 *	starttls - the STARTTLS service extension (RFC 3207)
 * SUMMARY
 *	plugin starttls {
 *		cert = "/etc/ehlod/tls/cert.pem"
 *		key = "/etc/ehlod/tls/key.pem"
 *		protocols = "TLSv1.2 TLSv1.3"
 *		ciphers = "HIGH:!aNULL"
 *	}
 * DESCRIPTION
 *	Offers the EHLO keyword STARTTLS while the connection is in plain
 *	text and takes the STARTTLS verb.  The verb answers 220 and hands
 *	the session to the host (host->start_tls), which sends the 220,
 *	throws away whatever the client pipelined behind the command
 *	(RFC 3207 section 6, CVE-2011-0411), runs the handshake and puts
 *	the session back in its initial state: the client must send EHLO
 *	again, and every plugin may offer another list then (AUTH only over
 *	TLS, for instance).  The host's Received header then names the
 *	protocol ESMTPS with the TLS version and cipher.
 *
 *	The SSL_CTX is built once, in init, which runs as root before the
 *	server drops its privileges, so the key may be readable by root
 *	only.  A certificate or key that cannot be loaded, or a key that does
 *	not belong to the certificate, stops start-up (and "ehlod -t") with
 *	a line naming the file.
 *
 *	STARTTLS is refused with 503 after a successful AUTH: what the
 *	client proved in plain text would otherwise carry over into the
 *	TLS session, which RFC 3207 section 4.2 asks the server to forget.
 *	Inside a host MTA (ehlod-milter) this plugin does nothing: the MTA
 *	owns its own TLS.
 *
 *	The same context serves a listener with tls = "implicit" (RFC 8314,
 *	port 465): ehlod asks for it through the descriptor's tls_context
 *	(ABI 1.1) and runs the handshake before the greeting.
 * CONFIGURATION
 *	cert (string, required)
 *		PEM file with the server certificate, followed by any
 *		intermediate certificates.
 *	key (string, required)
 *		PEM file with the certificate's private key.
 *	protocols (string, default "TLSv1.2 TLSv1.3")
 *		The TLS versions to accept, separated by spaces or commas,
 *		out of TLSv1, TLSv1.1, TLSv1.2 and TLSv1.3.  They must form
 *		a contiguous range (OpenSSL takes a minimum and a maximum).
 *	ciphers (string, default: OpenSSL's)
 *		OpenSSL cipher list for TLS 1.2 and below (ciphers(1)).
 *		TLS 1.3 suites are OpenSSL's defaults.
 * SEE ALSO
 *	ehlod-plugin-starttls(5), the plugin's manual
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <ehlod/plugin.h>

#include "user_access.h"

#define PROTOCOLS_DEFAULT "TLSv1.2 TLSv1.3"

static const struct ehlod_host *host;
static ehlod_ctx *self;		/* the one instance: a keyword allows no more */
static SSL_CTX *ctx;

/* The TLS versions in order, so that a set of them is a range. */
static const struct {
	const char *name;
	int version;
} versions[] = {
	{ "TLSv1", TLS1_VERSION },
	{ "TLSv1.1", TLS1_1_VERSION },
	{ "TLSv1.2", TLS1_2_VERSION },
	{ "TLSv1.3", TLS1_3_VERSION },
};
#define NVERSIONS (sizeof(versions) / sizeof(versions[0]))

/* The last OpenSSL error as text, for a log line; clears the queue. */
static const char *
ssl_error(void)
{
	static char text[256];
	unsigned long e = ERR_peek_last_error();

	if (e == 0)
		return "unknown error";
	ERR_error_string_n(e, text, sizeof(text));
	ERR_clear_error();
	return text;
}

static int
version_index(const char *name, size_t len)
{
	for (size_t i = 0; i < NVERSIONS; i++)
		if (strlen(versions[i].name) == len &&
		    strncasecmp(versions[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

/*
 * Turn "TLSv1.2 TLSv1.3" into the lowest and highest version.  A list
 * with a hole ("TLSv1 TLSv1.3") is refused rather than silently widened.
 */
static int
parse_protocols(const char *list, int *min, int *max)
{
	int seen[NVERSIONS] = { 0 };
	int lo = -1, hi = -1;
	const char *p = list;

	while (*p != '\0') {
		size_t len = strcspn(p, " ,\t");
		int i;

		if (len == 0) {
			p++;
			continue;
		}
		if ((i = version_index(p, len)) < 0) {
			host->log(self, LOG_ERR, "protocols: unknown TLS "
			    "version '%.*s' (use TLSv1, TLSv1.1, TLSv1.2, "
			    "TLSv1.3)", (int)len, p);
			return -1;
		}
		seen[i] = 1;
		lo = (lo < 0 || i < lo) ? i : lo;
		hi = i > hi ? i : hi;
		p += len;
	}
	if (lo < 0) {
		host->log(self, LOG_ERR, "protocols: no TLS version given");
		return -1;
	}
	for (int i = lo; i <= hi; i++)
		if (!seen[i]) {
			host->log(self, LOG_ERR, "protocols: '%s' leaves out "
			    "%s; give a contiguous range", list,
			    versions[i].name);
			return -1;
		}
	*min = versions[lo].version;
	*max = versions[hi].version;
	return 0;
}

/* OpenSSL says "system lib" for a file it cannot open; say why.  The
 * files are opened here, by the process that runs init (root, before
 * the workers drop privileges), so it is this process that must read
 * them, not the worker user. */
static int
readable(const char *what, const char *path)
{
	int err = user_can_read(path, NULL);

	if (err == 0)
		return 0;
	host->log(self, LOG_ERR, "cannot read %s %s: %s", what, path,
	    strerror(err));
	return -1;
}

static int
load_pair(const char *cert, const char *key)
{
	if (readable("certificate", cert) < 0 || readable("private key",
	    key) < 0)
		return -1;
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		host->log(self, LOG_ERR, "cannot load certificate from %s: %s",
		    cert, ssl_error());
		return -1;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		/* OpenSSL checks the pair while loading the key. */
		if (ERR_GET_REASON(ERR_peek_last_error()) ==
		    X509_R_KEY_VALUES_MISMATCH)
			host->log(self, LOG_ERR, "private key %s does not "
			    "match certificate %s", key, cert);
		else
			host->log(self, LOG_ERR, "cannot load private key "
			    "from %s: %s", key, ssl_error());
		ERR_clear_error();
		return -1;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		host->log(self, LOG_ERR, "private key %s does not match "
		    "certificate %s: %s", key, cert, ssl_error());
		return -1;
	}
	return 0;
}

struct starttls_conf {
	const char *cert;
	const char *key;
	const char *protocols;
	const char *ciphers;
};

static int
configure_ctx(const struct starttls_conf *conf)
{
	const char *cert = conf->cert;
	const char *key = conf->key;
	const char *ciphers = conf->ciphers;
	int min, max;

	if (parse_protocols(conf->protocols, &min, &max) < 0)
		return -1;
	if (SSL_CTX_set_min_proto_version(ctx, min) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, max) != 1) {
		host->log(self, LOG_ERR, "protocols: %s", ssl_error());
		return -1;
	}
	if (ciphers && SSL_CTX_set_cipher_list(ctx, ciphers) != 1) {
		host->log(self, LOG_ERR, "ciphers: no usable cipher in '%s': "
		    "%s", ciphers, ssl_error());
		return -1;
	}
	/* No compression (CRIME), no client-initiated renegotiation (a
	 * cheap way to make the server spend CPU). */
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"ehlod",
	    5);
	return load_pair(cert, key);
}

static void
starttls_fini(ehlod_ctx *inst)
{
	(void)inst;
	/* Sessions still in TLS hold their own reference to the context. */
	SSL_CTX_free(ctx);
	ctx = NULL;
}

static int
starttls_init(const struct ehlod_host *h, ehlod_ctx *inst)
{
	host = h;
	self = inst;
	ERR_clear_error();
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		host->log(self, LOG_ERR, "cannot make a TLS context: %s",
		    ssl_error());
		return -1;
	}
	if (configure_ctx(host->instance(inst)) < 0) {
		starttls_fini(inst);
		return -1;
	}
	return 0;
}

static int
host_can_tls(void)
{
	return EHLOD_HOST_HAS(host, start_tls) && host->start_tls != NULL;
}

/* RFC 3207 section 4.2: not offered once the connection is under TLS. */
static int
starttls_ehlo_params(ehlod_ctx *s, char *buf, size_t buflen)
{
	if (!host_can_tls() || host->flag(s, EHLOD_FLAG_TLS) ||
	    host->flag(s, EHLOD_FLAG_AUTH))
		return -1;
	buf[0] = '\0';
	return 0;
}

static ehlod_verdict
starttls_verb(ehlod_ctx *s, const char *args)
{
	/* The host answers 502 when the keyword was not offered; these
	 * checks stand for a session that has not said EHLO again. */
	if (host->flag(s, EHLOD_FLAG_TLS)) {
		host->reply(s, 503, "5.5.1", "TLS already active");
		return EHLOD_REJECT;
	}
	if (host->flag(s, EHLOD_FLAG_AUTH)) {
		host->reply(s, 503, "5.5.1", "Already authenticated; "
		    "STARTTLS not allowed after AUTH");
		return EHLOD_REJECT;
	}
	host->reply(s, 220, "2.0.0", "Ready to start TLS");
	if (host->start_tls(s, ctx) < 0) {
		host->log(s, LOG_WARNING, "the host cannot start TLS");
		host->reply(s, 454, "4.7.0", "TLS not available due to "
		    "temporary reason");
		return EHLOD_TEMPFAIL;
	}
	return EHLOD_ACCEPT;
}

/* ABI 1.1: the context a listener with tls = "implicit" (RFC 8314)
 * starts its sessions' TLS with, before the greeting. */
static void *
starttls_tls_context(ehlod_ctx *inst)
{
	(void)inst;
	return ctx;
}

static const struct ehlod_verb starttls_verbs[] = {
	{ "STARTTLS", EHLOD_STATE_GREETED, EHLOD_VERB_NO_ARG, starttls_verb },
	{ NULL, 0, 0, NULL }
};

#define OPT(name, def, flags) { #name, EHLOD_OPT_STRING, \
	offsetof(struct starttls_conf, name), def, flags, 0, 0, NULL }
static const struct ehlod_option starttls_options[] = {
	OPT(cert, NULL, EHLOD_OPT_REQUIRED),
	OPT(key, NULL, EHLOD_OPT_REQUIRED),
	OPT(protocols, PROTOCOLS_DEFAULT, 0),
	OPT(ciphers, NULL, 0),
	{ NULL, 0, 0, NULL, 0, 0, 0, NULL }
};

EHLOD_PLUGIN_EXPORT const struct ehlod_plugin ehlod_plugin = {
	EHLOD_PLUGIN_HEADER,
	.name = "starttls",
	.version = PACKAGE_VERSION,
	.description = "STARTTLS: TLS for the SMTP session (RFC 3207)",
	.ehlo_keyword = "STARTTLS",
	.ehlo_params = starttls_ehlo_params,
	.verbs = starttls_verbs,
	.options = starttls_options,
	.instance_size = sizeof(struct starttls_conf),
	.init = starttls_init,
	.fini = starttls_fini,
	.tls_context = starttls_tls_context,
};
