/*
 * NAME
 *	ehlo.h - the EHLO reply built from the loaded plugins
 * DESCRIPTION
 *	RFC 1869 section 4.3: "250-domain greeting", then one line per
 *	extension "KEYWORD params", in the config's order of plugins.  Each
 *	plugin decides per session whether its keyword is offered and with
 *	which parameters; the session remembers what was offered, because
 *	parameters and verbs are only accepted for offered extensions.
 */
#ifndef EHLOD_CORE_EHLO_H
#define EHLOD_CORE_EHLO_H

#include <stddef.h>

struct ehlod_session;
struct plugin;

/* Parameters the plugin offers in this session: 0 with params in buf
 * (may be ""), -1 when its keyword is not offered (or it has none). */
int ehlo_plugin_params(struct ehlod_session *s, struct plugin *p, char *buf,
    size_t len);

/* Fill s->offered and write the reply text ('\n' between lines). */
size_t ehlo_build(struct ehlod_session *s, char *buf, size_t len);

void ehlo_send(struct ehlod_session *s);

#endif
