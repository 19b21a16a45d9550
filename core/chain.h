/*
 * NAME
 *	chain.h - running a hook over the plugins (the chain runner)
 * DESCRIPTION
 *	A chain survives a pending hook; its done callback runs once a
 *	plugin decides or all said CONTINUE.
 */
#ifndef EHLOD_CORE_CHAIN_H
#define EHLOD_CORE_CHAIN_H

#include "smtpd.h"

void chain_start(struct ehlod_session *s, enum step step, const char *arg1,
    const char *arg2, const void *data, size_t len, chain_done_fn done);
void chain_start_verb(struct ehlod_session *s, struct plugin *p,
    const struct ehlod_verb *verb, const char *args, chain_done_fn done);
void chain_resume(struct ehlod_session *s, ehlod_verdict v);
void chain_clear(struct chain *c);
void session_call_void_hook(struct ehlod_session *s, int which);

#endif
