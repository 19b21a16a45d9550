/*
 * NAME
 *	listener.h - listeners: addresses that carry their own policy
 * DESCRIPTION
 *	A listener is a set of listen addresses served under one policy:
 *	how TLS starts (STARTTLS or implicit, RFC 8314), whether MAIL needs
 *	TLS or AUTH first (RFC 3207 section 4, RFC 4954 section 6), which
 *	plugin instances are active, and which client networks may relay
 *	without AUTH.  The top-level "listen" is the listener "default";
 *	"listener NAME { }" sections add others.  Parsing lives here so
 *	config.c stays the core options; the plugin subset is resolved once
 *	the plugins are loaded (listeners_resolve).
 */
#ifndef EHLOD_CORE_LISTENER_H
#define EHLOD_CORE_LISTENER_H

#include <stddef.h>
#include <confuse.h>

struct config;
struct plugin_set;
struct proxy_net;

enum listener_tls {
	LISTENER_TLS_STARTTLS = 0,	/* offered by a TLS plugin, if any */
	LISTENER_TLS_NONE,		/* TLS plugins inactive here */
	LISTENER_TLS_IMPLICIT		/* handshake on connect (RFC 8314) */
};

struct listener {
	char *name;
	char *file;		/* where the section is, for errors */
	int line;
	enum listener_tls tls;
	int require_tls;	/* MAIL and AUTH need STARTTLS first: 530 */
	int require_auth;	/* MAIL needs AUTH first: 530 */
	char **plugins;		/* instance names; NULL: every instance */
	size_t nplugins;
	struct proxy_net *relay_networks;
	size_t nrelay_networks;
	/* Filled by listeners_resolve(): per plugin index, 1 when the
	 * instance is active here; and the instance whose tls_context the
	 * implicit handshake uses (-1: none). */
	unsigned char *enabled;
	long tls_plugin;
};

/* The libconfuse options of a "listener" section. */
cfg_opt_t *listener_options(void);

/* Reads the default listener (top-level listen) and every listener
 * section into c->listeners and c->listen; 0, or -1 after logging
 * FILE:LINE and why. */
int listeners_read(struct config *c, cfg_t *cfg);

/* After the plugins are loaded: check each listener's plugin names and
 * TLS mode against them and fill in enabled and tls_plugin. */
int listeners_resolve(struct config *c, const struct plugin_set *set);

void listeners_free(struct config *c);

/* The listener called name, or NULL. */
const struct listener *listener_find(const struct config *c,
    const char *name);

/* 1 when the numeric address is in the listener's relay_networks. */
int listener_relays(const struct listener *l, const char *addr);

/* The SSL_CTX (as void *) an implicit-TLS listener's sessions start
 * with, or NULL. */
void *listener_tls_context(const struct listener *l,
    const struct plugin_set *set);

#endif
