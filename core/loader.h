/*
 * NAME
 *	loader.h - loading plugins and the registry of what they claim
 * DESCRIPTION
 *	Loads every "plugin NAME { }" section's shared object in config
 *	order, checks its ABI, refuses conflicting claims (two plugins with
 *	the same EHLO keyword, verb, or MAIL/RCPT parameter), runs the second,
 *	strict configuration pass with the plugins' options (optiontab.c turns
 *	their ehlod option tables into libconfuse options and stores the
 *	values in each instance's struct), and answers the
 *	session's lookups: which plugin owns this verb or parameter.
 *	Shared by ehlod and ehlod-milter.
 */
#ifndef EHLOD_CORE_LOADER_H
#define EHLOD_CORE_LOADER_H

#include <stdio.h>
#include <ehlod/plugin.h>

#include "config.h"
#include "steps.h"

struct plugin;

/* What ehlod_ctx is: one instance, seen from one session (s) or from no
 * session (s NULL: init, fini, instance timers). */
struct ehlod_ctx {
	struct ehlod_session *s;
	struct plugin *p;
};

/* One configured instance of a plugin: one "plugin NAME { }" section. */
struct plugin {
	struct ehlod_plugin d;	/* the descriptor, zero-extended to ours */
	void *dl;
	const char *name;	/* the section's name */
	const char *path;
	const struct plugin_conf *where;	/* its section, for errors */
	cfg_t *section;
	void *conf;		/* instance struct, d.instance_size octets */
	void **lists;		/* arrays made for EHLOD_OPT_LIST values */
	size_t nlists;
	struct ehlod_ctx ctx;	/* the instance ctx */
	size_t index;		/* position in the config */
	int initialized;
};

struct plugin_set {
	struct plugin *v;
	size_t n;
	size_t line_limit;	/* 512 + every plugin's line_increment */
	/* 1 + the last index of a plugin with session (txn) data: the
	 * slots a session's (transaction's) end must look at. */
	size_t session_slots, txn_slots;
	cfg_opt_t *options;	/* the union of plugin options (pass 2) */
	cfg_t *tree;		/* the pass 2 parse */
	struct chain_table chains;	/* every plugin, by step */
};

/* plugin_events.c: cancel the timers and watches an instance set without a
 * session (before its fini). */
void host_cancel_events(struct plugin *p);

/* Load and check every plugin of c, then read c's plugin options.
 * Errors are logged (file, what is wrong); returns 0 or -1. */
int plugins_load(struct plugin_set *set, struct config *c);

/* Run every plugin's init in order; on a failure the ones already
 * initialised are finished again and -1 is returned. */
int plugins_init(struct plugin_set *set, const struct ehlod_host *host);
/* The same, in a process whose parent has just run the same inits on the
 * same configuration (a worker, a milter generation): their warnings
 * were logged there, so only errors are, here.  One warning per start
 * or reload, not one per process. */
int plugins_init_again(struct plugin_set *set,
    const struct ehlod_host *host);
void plugins_fini(struct plugin_set *set);
/* Cancel every instance's watches and timers (a worker that is done). */
void plugins_cancel_events(struct plugin_set *set);
void plugins_unload(struct plugin_set *set);

struct plugin *plugins_find_verb(const struct plugin_set *set,
    const char *verb, const struct ehlod_verb **out);
struct plugin *plugins_find_param(const struct plugin_set *set, int rcpt,
    const char *keyword, const struct ehlod_param **out);

/* The hook names a plugin has, for ehlod -t and the milter host. */
void plugins_hook_names(const struct plugin *p, char *buf, size_t len);

/* optiontab.c: the libconfuse option for one plugin option (no default:
 * defaults are filled in by options_store), its validator, and the values
 * of one instance's section stored into p->conf.  Errors name file:line. */
int options_to_confuse(const struct ehlod_option *o, cfg_opt_t *out);
void options_begin(struct plugin_set *set, const char *file);
int options_store(struct plugin *p, cfg_t *sec, const char *file);
void options_free(struct plugin *p);

/* The per-step arrays of a plugin set (steps.h). */
/* Fill t from the set, in config order, keeping the plugins "enabled"
 * accepts (all when it is NULL).  Returns 0. */
int chain_table_build(struct chain_table *t, struct plugin_set *set,
    int (*enabled)(const struct plugin *p, void *arg), void *arg);

/* 1 when the keyword is registered with IANA or begins with X. */
int keyword_registered(const char *keyword);

/* After the plugins are loaded: check each listener's plugin names and
 * TLS mode against the set and fill in its enabled and tls_plugin. */
int listeners_resolve(struct config *c, struct plugin_set *set);

/* The SSL_CTX (as void *) an implicit-TLS listener's sessions start
 * with, or NULL. */
void *listener_tls_context(const struct listener *l,
    const struct plugin_set *set);

#endif
