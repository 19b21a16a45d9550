/*
 * NAME
 *	txn.h - the mail transaction, per-plugin state and key/values
 * DESCRIPTION
 *	Everything a transaction owns is freed in txn_free().
 */
#ifndef EHLOD_CORE_TXN_H
#define EHLOD_CORE_TXN_H

#include "smtpd.h"

void txn_init(struct ehlod_session *s);
void txn_free(struct ehlod_session *s);
int txn_kv_set(struct kv **list, const char *key, const char *value);
const char *txn_kv_get(const struct kv *list, const char *key);
void txn_kv_free(struct kv **list);
void txn_add_rcpt(struct ehlod_session *s, const char *address);
/* Per-instance ctx and session state of a new session; and their end. */
void session_ctx_init(struct ehlod_session *s);
void session_ctx_free(struct ehlod_session *s);
/* A reply a plugin set (host->reply()) is forgotten. */
void pending_reply_free(struct pending_reply *r);

/* Called around every hook call: a reply nobody set costs one test.
 * Whoever fills a reply (h_reply, the verb's overlong line) sets the
 * flag with the text, and pending_reply_free clears both together. */
static inline void
pending_reply_clear(struct pending_reply *r)
{
	if (r->set)
		pending_reply_free(r);
}

#endif
