/*
 * NAME
 *	confcheck.h - read the config and try the plugins: for ehlod -t, start-up
 *	and reload alike
 */
#ifndef EHLOD_CORE_CONFCHECK_H
#define EHLOD_CORE_CONFCHECK_H

#include <stdio.h>

#include "config.h"
#include "loader.h"

/* Read file, load every plugin and run its init and fini once.  On
 * success c and set are filled (plugins loaded, not initialised). */
int check_config(const char *file, struct config *c, struct plugin_set *set);

/* ehlod -t: the listing of the core settings and each plugin. */
void describe_config(FILE *out, const struct config *c,
    struct plugin_set *set);

#endif
