/*
 * NAME
 *	listener.c - listeners: addresses that carry their own policy
 * DESCRIPTION
 *	Implements listener.h.  Postfix gives each master.cf service its
 *	own -o overrides; ehlod gives each listener section its own TLS
 *	mode, requirements, plugin subset and relay networks, so that the
 *	MX (25), submission (587) and submissions (465) run in one process.
 *	Every error names a file and line: the option's that is at fault
 *	when one is, else where the section opens (config_scan.c finds it;
 *	config.c notes each option's line as libconfuse reads it).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config_scan.h"
#include "include.h"
#include "listener.h"
#include "log.h"
#include "netaddr.h"
#include "xmalloc.h"

static cfg_opt_t opts[] = {
	CFG_STR_LIST("listen", NULL, CFGF_NODEFAULT),
	CFG_STR("tls", "starttls", CFGF_NONE),
	CFG_BOOL("require_tls", cfg_false, CFGF_NONE),
	CFG_BOOL("require_auth", cfg_false, CFGF_NONE),
	CFG_STR_LIST("plugins", NULL, CFGF_NODEFAULT),
	CFG_STR_LIST("relay_networks", NULL, CFGF_NODEFAULT),
	CFG_END()
};

cfg_opt_t *
listener_options(void)
{
	return opts;
}

int
listen_split(const char *s, struct listen_addr *out)
{
	const char *colon;
	const char *host = s;
	size_t hlen;

	if (*s == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL || close[1] != ':')
			return -1;
		host = s + 1;
		hlen = (size_t)(close - host);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return -1;
		hlen = (size_t)(colon - s);
	}
	const char *port = colon + 1;
	if (hlen == 0 || *port == '\0' || strspn(port, "0123456789") !=
	    strlen(port) || atol(port) < 1 || atol(port) > 65535)
		return -1;
	out->host = xstrndup(host, hlen);
	out->port = xstrdup(port);
	return 0;
}

/* The lines noted while parsing, for take_section to pick up. */
struct noted_line {
	const cfg_t *sec;
	enum listener_option option;
	int line;
};
static struct noted_line *noted;
static size_t nnoted;

static const char *const option_names[LISTENER_OPTIONS] = {
	[LISTENER_OPT_LISTEN] = "listen",
	[LISTENER_OPT_TLS] = "tls",
	[LISTENER_OPT_REQUIRE_TLS] = "require_tls",
	[LISTENER_OPT_REQUIRE_AUTH] = "require_auth",
	[LISTENER_OPT_PLUGINS] = "plugins",
	[LISTENER_OPT_RELAY_NETWORKS] = "relay_networks",
};

void
listener_note_line(const cfg_t *sec, const char *option, int line)
{
	for (int o = 0; o < LISTENER_OPTIONS; o++) {
		if (strcmp(option_names[o], option) != 0)
			continue;
		noted = xreallocarray(noted, nnoted + 1, sizeof(*noted));
		noted[nnoted++] = (struct noted_line){ sec, o, line };
		return;
	}
}

void
listener_lines_reset(void)
{
	free(noted);
	noted = NULL;
	nnoted = 0;
}

/* The last line each option of sec was set at, in its own file. */
static void
take_lines(struct listener *l, const char *top_file, const cfg_t *sec)
{
	for (size_t i = 0; i < nnoted; i++) {
		struct listener_where *w = &l->set[noted[i].option];
		const char *file;

		if (noted[i].sec != sec)
			continue;
		include_where(top_file, noted[i].line, &file, &w->line);
		free(w->file);
		w->file = xstrdup(file);
	}
}

static void
error_line(const char *file, int line, const struct listener *l,
    const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_msg(LOG_ERR, "%s:%d: listener '%s': %s", file, line, l->name, msg);
}

void
listener_error(const struct listener *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_line(l->file, l->line, l, fmt, ap);
	va_end(ap);
}

void
listener_error_at(const struct listener *l, enum listener_option option,
    const char *fmt, ...)
{
	const struct listener_where *w = &l->set[option];
	va_list ap;

	va_start(ap, fmt);
	if (w->file != NULL)
		error_line(w->file, w->line, l, fmt, ap);
	else
		error_line(l->file, l->line, l, fmt, ap);
	va_end(ap);
}

/* Whether the file set the option (its default does not count). */
static int
set_in_file(cfg_t *cfg, const char *name)
{
	cfg_opt_t *o = cfg_getopt(cfg, name);

	return o && (o->flags & CFGF_MODIFIED);
}

static int
take_networks(struct listener *l, cfg_t *cfg)
{
	l->nrelay_networks = cfg_size(cfg, "relay_networks");
	l->relay_networks = xcalloc(l->nrelay_networks + 1,
	    sizeof(*l->relay_networks));
	for (size_t i = 0; i < l->nrelay_networks; i++)
		if (proxy_net_parse(cfg_getnstr(cfg, "relay_networks", i),
		    &l->relay_networks[i]) < 0)
			return -1;	/* checked while parsing */
	return 0;
}

static int
add_addresses(struct listener_list *c, cfg_t *cfg, size_t index)
{
	size_t n = cfg_size(cfg, "listen");

	c->listen = xreallocarray(c->listen, c->nlisten + n,
	    sizeof(*c->listen));
	for (size_t i = 0; i < n; i++) {
		struct listen_addr *a = &c->listen[c->nlisten];
		memset(a, 0, sizeof(*a));
		if (listen_split(cfg_getnstr(cfg, "listen", i), a) < 0)
			return -1;
		a->listener = index;
		c->nlisten++;
	}
	return 0;
}

/* libconfuse checks no empty list as it reads it, so the line of a
 * section's "plugins = {}" comes from the scan of the text. */
static void
note_empty_plugins(const struct listener_list *c, struct listener *l)
{
	struct listener_where *w = &l->set[LISTENER_OPT_PLUGINS];
	int line = c->scan == NULL ? 0 : config_scan_empty_list_line(c->scan,
	    "listener", l->name, "plugins");
	const char *file;

	if (line == 0)
		return;
	include_where(c->file, line, &file, &w->line);
	free(w->file);
	w->file = xstrdup(file);
}

/* Each take_* counts its listener first, so that listeners_free frees
 * what a failed one had already taken. */
static int
take_default(struct listener_list *c, cfg_t *cfg)
{
	size_t index = c->nlisteners++;
	struct listener *l = &c->listeners[index];

	l->name = xstrdup("default");
	l->file = xstrdup(c->file);
	l->line = 1;
	take_lines(l, c->file, cfg);
	l->tls_plugin = -1;
	if (take_networks(l, cfg) < 0)
		return -1;
	return add_addresses(c, cfg, index);
}

static int
take_section(struct listener_list *c, cfg_t *top, cfg_t *sec)
{
	size_t index = c->nlisteners++;
	struct listener *l = &c->listeners[index];
	const char *file;
	const char *tls = cfg_getstr(sec, "tls");

	include_where(c->file, c->scan == NULL ? sec->line :
	    config_scan_section_line(c->scan, "listener", cfg_title(sec),
	    sec->line), &file, &l->line);
	l->name = xstrdup(cfg_title(sec));
	l->file = xstrdup(file);
	take_lines(l, c->file, sec);
	l->tls_plugin = -1;
	l->tls = !strcmp(tls, "implicit") ? LISTENER_TLS_IMPLICIT :
	    !strcmp(tls, "none") ? LISTENER_TLS_NONE : LISTENER_TLS_STARTTLS;
	l->require_tls = cfg_getbool(sec, "require_tls");
	l->require_auth = cfg_getbool(sec, "require_auth");
	if (!strcmp(l->name, "default")) {
		listener_error(l, "the name 'default' is the top-level listen's");
		return -1;
	}
	if (cfg_size(sec, "listen") == 0) {
		listener_error(l, "option 'listen' is required");
		return -1;
	}
	if (l->require_tls && l->tls == LISTENER_TLS_NONE) {
		listener_error_at(l, LISTENER_OPT_REQUIRE_TLS, "require_tls = "
		    "true needs tls = \"starttls\" "
		    "or \"implicit\"");
		return -1;
	}
	l->nplugins = cfg_size(sec, "plugins");
	/* Unset means every plugin; an empty list would read as none, but
	 * libconfuse cannot tell it from unset once parsed. */
	if (l->nplugins == 0 && set_in_file(sec, "plugins")) {
		note_empty_plugins(c, l);
		listener_error_at(l, LISTENER_OPT_PLUGINS, "plugins = {} "
		    "would leave the listener no plugin: leave the option "
		    "out to serve every plugin");
		return -1;
	}
	if (l->nplugins > 0) {
		l->plugins = xcalloc(l->nplugins, sizeof(char *));
		for (size_t i = 0; i < l->nplugins; i++)
			l->plugins[i] = xstrdup(cfg_getnstr(sec, "plugins", i));
	}
	/* Unset, the section inherits the top-level relay_networks. */
	if (take_networks(l, set_in_file(sec, "relay_networks") ? sec :
	    top) < 0)
		return -1;
	return add_addresses(c, sec, index);
}

/* One address, one policy: the kernel would refuse the second bind, and
 * an admin would not know which policy wins. */
static int
check_duplicates(const struct listener_list *c)
{
	for (size_t i = 0; i < c->nlisten; i++)
		for (size_t j = 0; j < i; j++) {
			const struct listen_addr *a = &c->listen[i];
			const struct listen_addr *b = &c->listen[j];
			if (strcmp(a->host, b->host) || strcmp(a->port, b->port))
				continue;
			listener_error_at(&c->listeners[a->listener],
			    LISTENER_OPT_LISTEN, "listen "
			    "%s:%s is already listener '%s''s", a->host,
			    a->port, c->listeners[b->listener].name);
			return -1;
		}
	return 0;
}

int
listeners_read(struct listener_list *c, cfg_t *cfg)
{
	size_t nsec = cfg_size(cfg, "listener");

	c->listeners = xcalloc(nsec + 1, sizeof(*c->listeners));
	/* With listener sections, the top-level listen (default
	 * 127.0.0.1:2525) is served only when the file gives it an
	 * address. */
	if ((nsec == 0 || (set_in_file(cfg, "listen") &&
	    cfg_size(cfg, "listen") > 0)) && take_default(c, cfg) < 0)
		return -1;
	for (size_t i = 0; i < nsec; i++)
		if (take_section(c, cfg, cfg_getnsec(cfg, "listener", i)) < 0)
			return -1;
	if (c->nlisten == 0) {
		const char *file;
		int line;

		include_where(c->file, c->scan == NULL ? 0 :
		    config_scan_empty_list_line(c->scan, NULL, NULL, "listen"),
		    &file, &line);
		log_msg(LOG_ERR, "%s:%d: option 'listen' is empty and no "
		    "listener section names an address: the server would "
		    "accept no connection", file, line);
		return -1;
	}
	return check_duplicates(c);
}


void
listeners_free(struct listener_list *c)
{
	for (size_t i = 0; c->listeners && i < c->nlisteners; i++) {
		struct listener *l = &c->listeners[i];
		for (size_t j = 0; l->plugins && j < l->nplugins; j++)
			free(l->plugins[j]);
		free(l->plugins);
		free(l->name);
		free(l->file);
		for (int o = 0; o < LISTENER_OPTIONS; o++)
			free(l->set[o].file);
		free(l->relay_networks);
		free(l->enabled);
		chain_table_free(&l->chains);
	}
	free(c->listeners);
	c->listeners = NULL;
	c->nlisteners = 0;
	for (size_t i = 0; c->listen && i < c->nlisten; i++) {
		free(c->listen[i].host);
		free(c->listen[i].port);
	}
	free(c->listen);
	c->listen = NULL;
	c->nlisten = 0;
}

const struct listener *
listener_find(const struct listener *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return &v[i];
	return NULL;
}

int
listener_relays(const struct listener *l, const char *addr)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

	if (l == NULL || l->nrelay_networks == 0)
		return 0;
	if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1)
		ss.ss_family = AF_INET;
	else if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1)
		ss.ss_family = AF_INET6;
	else
		return 0;
	return proxy_trusted((struct sockaddr *)&ss, l->relay_networks,
	    l->nrelay_networks);
}
