/*
 * NAME
 *	loader.h - loading plugins and the registry of what they claim
 * DESCRIPTION
 *	Loads every "plugin NAME { }" section's shared object in config
 *	order, checks its ABI, refuses conflicting claims (two plugins with
 *	the same EHLO keyword, verb, or MAIL/RCPT parameter), runs the second,
 *	strict configuration pass with the plugins' options, and answers the
 *	session's lookups: which plugin owns this verb or parameter.
 *	Shared by ehlod and ehlod-milter.
 */
#ifndef EHLOD_CORE_LOADER_H
#define EHLOD_CORE_LOADER_H

#include <stdio.h>
#include <ehlod/plugin.h>

#include "config.h"

struct plugin {
	struct ehlod_plugin d;	/* the descriptor, zero-extended to ours */
	void *dl;
	const char *name;	/* d.name */
	const char *path;
	cfg_t *section;
	size_t index;		/* position in the config */
	int initialized;
};

struct plugin_set {
	struct plugin *v;
	size_t n;
	size_t line_limit;	/* 512 + every plugin's line_increment */
	cfg_opt_t *options;	/* the union of plugin options (pass 2) */
	cfg_t **trees;		/* pass 2 parses: one per plugin, then one
				 * that checked the whole file */
};

/* The plugin whose init is running, for log lines without a session. */
extern struct plugin *plugin_initializing;

/* Load and check every plugin of c, then read c's plugin options.
 * Errors are logged (file, what is wrong); returns 0 or -1. */
int plugins_load(struct plugin_set *set, struct config *c);

/* Run every plugin's init in order; on a failure the ones already
 * initialised are finished again and -1 is returned. */
int plugins_init(struct plugin_set *set, const struct ehlod_host *host);
void plugins_fini(struct plugin_set *set);
void plugins_unload(struct plugin_set *set);

struct plugin *plugins_find_verb(const struct plugin_set *set,
    const char *verb, const struct ehlod_verb **out);
struct plugin *plugins_find_param(const struct plugin_set *set, int rcpt,
    const char *keyword, const struct ehlod_param **out);

/* The hook names a plugin has, for ehlod -t and the milter host. */
void plugins_hook_names(const struct plugin *p, char *buf, size_t len);

/* 1 when the keyword is registered with IANA or begins with X. */
int keyword_registered(const char *keyword);

#endif
