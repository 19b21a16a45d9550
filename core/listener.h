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
 *	the plugins are loaded (listeners_resolve in loader.c, so that this
 *	module sits below both config and loader).
 */
#ifndef EHLOD_CORE_LISTENER_H
#define EHLOD_CORE_LISTENER_H

#include <stddef.h>
#include <confuse.h>

#include "steps.h"

struct config_scan;

struct proxy_net;

/* One "listen" address and the listener it belongs to. */
struct listen_addr {
	char *host;		/* "127.0.0.1", "::1", "*" */
	char *port;
	size_t listener;	/* index in the listener list */
};

enum listener_tls {
	LISTENER_TLS_STARTTLS = 0,	/* offered by a TLS plugin, if any */
	LISTENER_TLS_NONE,		/* TLS plugins inactive here */
	LISTENER_TLS_IMPLICIT		/* handshake on connect (RFC 8314) */
};

/* The options of a listener section whose lines errors name. */
enum listener_option {
	LISTENER_OPT_LISTEN,
	LISTENER_OPT_TLS,
	LISTENER_OPT_REQUIRE_TLS,
	LISTENER_OPT_REQUIRE_AUTH,
	LISTENER_OPT_PLUGINS,
	LISTENER_OPT_RELAY_NETWORKS,
	LISTENER_OPTIONS
};

/* Where the file set something: file NULL when it did not. */
struct listener_where {
	char *file;
	int line;
};

struct listener {
	char *name;
	char *file;		/* where the section opens, for errors */
	int line;
	struct listener_where set[LISTENER_OPTIONS];	/* each option */
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
	/* Also filled then: the active instances by step, which the chain
	 * runner walks, so that a plugin left out here costs nothing per
	 * hook call. */
	struct chain_table chains;
};

/* What listeners_read fills in: every listener ("default" first) and
 * every listen address in order.  file and proxy_protocol are read. */
struct listener_list {
	const char *file;	/* the configuration file, for errors */
	const struct config_scan *scan;	/* lines libconfuse forgets */
	struct listen_addr *listen;
	size_t nlisten;
	struct listener *listeners;
	size_t nlisteners;
};

/* "ADDR:PORT", "[IPV6]:PORT", "*:PORT" into out (host and port
 * allocated); 0, or -1 when malformed. */
int listen_split(const char *s, struct listen_addr *out);

/* Logs "FILE:LINE: listener 'NAME': why", the line where the section
 * ends. */
void listener_error(const struct listener *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The same, at the line that set option when the file set it. */
void listener_error_at(const struct listener *l, enum listener_option option,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* While a file is parsed: the option named option of the listener
 * section sec was set at line (of the expanded text, as sec->line).
 * libconfuse keeps only a section's last line; the validation callback
 * of each option tells this one where the option itself is.
 * listener_lines_reset() forgets them before the next parse. */
void listener_note_line(const cfg_t *sec, const char *option, int line);
void listener_lines_reset(void);

/* The libconfuse options of a "listener" section. */
cfg_opt_t *listener_options(void);

/* Reads the default listener (top-level listen) and every listener
 * section into out; 0, or -1 after logging FILE:LINE and why (out then
 * holds what was taken, for listeners_free). */
int listeners_read(struct listener_list *out, cfg_t *cfg);

/* Frees the listeners and the listen addresses. */
void listeners_free(struct listener_list *l);

/* The listener called name among v[0..n), or NULL. */
const struct listener *listener_find(const struct listener *v, size_t n,
    const char *name);

/* 1 when the numeric address is in the listener's relay_networks. */
int listener_relays(const struct listener *l, const char *addr);

#endif
