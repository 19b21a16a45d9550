/*
 * NAME
 *	txn.c - the mail transaction: envelope, per-plugin data, key/values
 * DESCRIPTION
 *	A transaction begins at MAIL and ends at delivery, RSET, a new
 *	HELO/EHLO or the session's end; everything it owns is freed in one
 *	place, txn_free().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "log.h"
#include "report.h"
#include "smtpd.h"
#include "txn.h"
#include "xmalloc.h"

int
txn_kv_set(struct kv **list, const char *key, const char *value)
{
	struct kv **pp;

	for (pp = list; *pp; pp = &(*pp)->next)
		if (strcmp((*pp)->key, key) == 0)
			break;
	if (value == NULL) {
		struct kv *gone = *pp;
		if (gone) {
			*pp = gone->next;
			free(gone->key);
			free(gone->value);
			free(gone);
		}
		return 0;
	}
	char *v = xstrdup(value);
	if (*pp) {
		free((*pp)->value);
		(*pp)->value = v;
		return 0;
	}
	struct kv *n = xcalloc(1, sizeof(*n));
	n->key = xstrdup(key);
	n->value = v;
	*pp = n;
	return 0;
}

const char *
txn_kv_get(const struct kv *list, const char *key)
{
	for (; list; list = list->next)
		if (strcmp(list->key, key) == 0)
			return list->value;
	return NULL;
}

void
txn_kv_free(struct kv **list)
{
	while (*list) {
		struct kv *n = (*list)->next;
		free((*list)->key);
		free((*list)->value);
		free(*list);
		*list = n;
	}
}

/* Host-owned state ends: the instance's cleanup first, then free.  Only
 * the plugins up to the last one with such state can have any. */
static void
slots_free(struct ehlod_session *s, struct plugin_slot *slots, int txn)
{
	size_t n = txn ? s->plugins->txn_slots : s->plugins->session_slots;

	if (slots == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		if (slots[i].data == NULL)
			continue;	/* most plugins keep nothing: look no further */
		struct plugin *p = &s->plugins->v[i];
		void (*cleanup)(ehlod_ctx *, void *) = txn ?
		    p->d.txn_cleanup : p->d.session_cleanup;
		if (cleanup)
			cleanup(CTX(s, p), slots[i].data);
		free(slots[i].data);
	}
	free(slots);
}

void
session_ctx_init(struct ehlod_session *s)
{
	size_t n = s->plugins->n + 1;

	s->ctx = xcalloc(n, sizeof(*s->ctx));
	s->slots = xcalloc(n, sizeof(*s->slots));
	for (size_t i = 0; i < s->plugins->n; i++) {
		s->ctx[i].s = s;
		s->ctx[i].p = &s->plugins->v[i];
	}
}

void
session_ctx_free(struct ehlod_session *s)
{
	slots_free(s, s->slots, 0);
	s->slots = NULL;
	free(s->ctx);
	s->ctx = NULL;
	free(s->last_text);
	s->last_text = NULL;
}

/* Like Postfix queue ids: unique in time and process, easy to grep. */
static void
make_txn_id(char *buf, size_t len)
{
	static unsigned counter;
	struct timeval tv;

	gettimeofday(&tv, NULL);
	snprintf(buf, len, "%08lX%05lX%04X", (unsigned long)tv.tv_sec,
	    (unsigned long)tv.tv_usec, (unsigned)(log_pid() ^ counter++) &
	    0xffff);
}

void
txn_init(struct ehlod_session *s)
{
	struct transaction *t = &s->txn;

	memset(t, 0, sizeof(*t));
	make_txn_id(t->id, sizeof(t->id));
	t->slots = xcalloc(s->plugins->txn_slots + 1, sizeof(*t->slots));
	message_init(&t->msg, server->conf->message_size_limit);
	message_spool_setup(&t->msg, server->conf->spool_threshold,
	    server->conf->spool_directory);
	data_reader_init(&t->reader);
}

void
txn_free(struct ehlod_session *s)
{
	struct transaction *t = &s->txn;

	if (t->slots)
		report_txn(s);
	slots_free(s, t->slots, 1);
	for (size_t i = 0; i < t->nrcpts; i++) {
		free(t->rcpts[i].address);
		txn_kv_free(&t->rcpts[i].kv);
	}
	free(t->rcpts);
	txn_kv_free(&t->kv);
	txn_kv_free(&t->cand_kv);
	free(t->mail_from);
	pending_reply_clear(&t->data_reply);
	message_free(&t->msg);
	memset(t, 0, sizeof(*t));
	s->flags[EHLOD_FLAG_8BITMIME] = 0;
	s->flags[EHLOD_FLAG_SMTPUTF8] = 0;
}

void
pending_reply_free(struct pending_reply *r)
{
	free(r->text);
	memset(r, 0, sizeof(*r));
}

void
txn_add_rcpt(struct ehlod_session *s, const char *address)
{
	struct transaction *t = &s->txn;

	if (t->nrcpts == t->rcpts_cap) {
		size_t cap = t->rcpts_cap ? t->rcpts_cap * 2 : 8;
		t->rcpts = xreallocarray(t->rcpts, cap, sizeof(*t->rcpts));
		t->rcpts_cap = cap;
	}
	t->rcpts[t->nrcpts].address = xstrdup(address);
	t->rcpts[t->nrcpts].kv = NULL;
	t->nrcpts++;
}
