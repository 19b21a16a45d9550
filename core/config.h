/*
 * NAME
 *	config.h - the server's configuration file
 * DESCRIPTION
 *	The file is read with libconfuse in two passes.  The first pass takes
 *	the core options and the list of "plugin NAME { }" sections (plugin
 *	options are skipped: the plugins are not loaded yet).  Once the loader
 *	has the plugins' option tables, the second pass reads the whole file
 *	strictly, so a misspelled option anywhere is an error with file and
 *	line.
 */
#ifndef EHLOD_CORE_CONFIG_H
#define EHLOD_CORE_CONFIG_H

#include <stddef.h>
#include <confuse.h>

#include "listener.h"

struct proxy_net;


struct plugin_conf {
	char *name;
	char *path;		/* resolved: section's path or plugin_dir/NAME.so */
	char *file;		/* where the section is, for errors: its file */
	int line;		/* and the line it opens at */
};

enum second_ehlo {
	SECOND_EHLO_RESET = 0,	/* RFC 5321: a new EHLO resets the session */
	SECOND_EHLO_REFUSE	/* RFC 1869: 503 */
};

struct config {
	char *file;
	cfg_t *cfg;		/* the parsed tree of the last pass */
	struct listen_addr *listen;	/* every listener's, in order */
	size_t nlisten;
	struct listener *listeners;	/* listener.h; "default" first */
	size_t nlisteners;
	char *hostname;
	char **local_domains;
	size_t nlocal_domains;
	long max_recipients;
	long workers;
	char *user;
	char *plugin_dir;
	size_t message_size_limit;
	size_t spool_threshold;	/* body octets kept in memory before a file */
	char *spool_directory;	/* where those unlinked files live */
	enum second_ehlo second_ehlo;
	long command_timeout;
	long data_timeout;
	long min_data_rate;	/* octets/s that earn DATA one more second */
	long greet_pause;	/* seconds before the 220; 0: none */
	char *syslog_name;	/* the log's ident (syslog and stderr) */
	char *pid_file;		/* "" for none */
	/* Limits (anvil.c); 0 means none. */
	long max_sessions;		/* the whole server */
	long max_sessions_per_worker;
	long max_sessions_per_client;	/* concurrent, per client address */
	long max_connect_rate;		/* per client, per minute */
	long max_auth_failure_rate;	/* per client, per minute */
	char *status_socket;	/* unix socket for ehlod -s; "" for none */
	struct proxy_net *xforward_trusted;	/* may send XFORWARD */
	size_t nxforward_trusted;
	long max_errors;
	int use_syslog;
	int syslog_facility;
	int debug;
	int proxy_protocol;	/* a PROXY header before the greeting */
	struct proxy_net *proxy_trusted;	/* who may send one */
	size_t nproxy_trusted;
	/* ehlod-milter only; ehlod ignores them. */
	char *milter_socket;	/* "inet:PORT@HOST", "unix:/path", or NULL */
	char *milter_socket_group;	/* a unix socket's group, or NULL */
	long milter_timeout;	/* smfi_settimeout(): MTA I/O, seconds */
	long milter_hook_timeout;	/* bound on one hook, pending included */
	struct plugin_conf *plugins;
	size_t nplugins;
};

/* First pass: core options and plugin names.  Errors are logged with file
 * and line; returns 0 or -1. */
int config_read(const char *file, struct config *c);

/* Second pass: plugin_opts are the options of the "plugin" section (the
 * union over the loaded plugins, each with a validcb that checks the option
 * belongs to the section's plugin).  Stores the strict parse in *tree. */
int config_read_plugins(struct config *c, cfg_opt_t *plugin_opts,
    cfg_t **tree);

void config_free(struct config *c);

/* The line (of the last parse's text, includes expanded) where the
 * top-level section "kind title" opens, or fallback when it was not
 * seen; libconfuse keeps only the line a section ends at. */
int config_section_line(const char *kind, const char *title, int fallback);


/* 1 when the domain is one of local_domains (case-insensitive; an entry
 * ".example.org" matches every subdomain). */
int config_is_local_domain(const struct config *c, const char *domain);

#endif
