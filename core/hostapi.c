/*
 * NAME
 *	hostapi.c - the host function table ehlod hands to its plugins
 * DESCRIPTION
 *	Implements struct ehlod_host for the server.  Every function gets
 *	the caller's ehlod_ctx, which names the instance and the session
 *	(none for an instance ctx), so per-instance state is found without
 *	guessing who is calling.  Timers and watches are plugin_events.c's.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <event2/event.h>

#include "content.h"
#include "helpers.h"
#include "hostapi.h"
#include "log.h"
#include "pending.h"
#include "plugin_events.h"
#include "session_reply.h"
#include "smtp_state.h"
#include "smtpd.h"
#include "stats.h"
#include "txn.h"
#include "xmalloc.h"

static struct ehlod_session *
sess(ehlod_ctx *c)
{
	return c ? c->s : NULL;
}

static void
h_log(ehlod_ctx *c, int priority, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	if (!log_wanted(priority))
		return;	/* a debug line per message costs nothing when off */
	const char *name = c && c->p ? c->p->name : "?";

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (sess(c) && c->s->txn.slots)	/* per-message lines carry the
					 * queue id */
		log_msg(priority, "%s: %s: plugin=%s: %s", c->s->id,
		    c->s->txn.id, name, text);
	else if (sess(c))
		log_msg(priority, "%s: plugin=%s: %s", c->s->id, name, text);
	else
		log_msg(priority, "plugin=%s: %s", name, text);
}

/* Only the instance being called, or the one pending, decides the
 * session's next reply; a timer of another instance must not.  During a
 * chain's walk the one running is the one called (chain.c). */
static int
may_reply(ehlod_ctx *c)
{
	struct ehlod_session *s = c->s;

	return c->p == s->current || s->walking || (s->current == NULL &&
	    c->p == s->pending);
}

static void
h_reply(ehlod_ctx *c, int code, const char *enhanced, const char *fmt,
    ...)
{
	struct ehlod_session *s = sess(c);
	char text[1024];
	va_list ap;

	if (s == NULL || code < 200 || code > 599)
		return;
	if (!may_reply(c)) {
		log_msg(LOG_WARNING, "%s: plugin=%s: reply %d ignored: the "
		    "plugin is not deciding a step", s->id, c->p->name, code);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	pending_reply_clear(&s->reply);
	s->reply_by = c->p;
	s->reply.set = 1;
	s->reply.code = code;
	if (enhanced)
		snprintf(s->reply.enhanced, sizeof(s->reply.enhanced), "%s",
		    enhanced);
	s->reply.text = xstrdup(text);
}

static const char *
h_get(ehlod_ctx *c, enum ehlod_item item)
{
	struct ehlod_session *s = sess(c);

	if (item == EHLOD_ITEM_INSTANCE)
		return c && c->p ? c->p->name : NULL;
	if (item == EHLOD_ITEM_HOSTNAME)
		return server->conf->hostname;
	if (item == EHLOD_ITEM_USER)
		return server->conf->user;
	if (s == NULL || (int)item < 0 || item >= EHLOD_ITEM_COUNT_)
		return NULL;
	switch (item) {
	case EHLOD_ITEM_SESSION_ID: return s->id;
	case EHLOD_ITEM_CLIENT_ADDR: return s->client_addr;
	case EHLOD_ITEM_CLIENT_PORT: return s->client_port;
	case EHLOD_ITEM_CLIENT_NAME: return "unknown";
	case EHLOD_ITEM_LOCAL_ADDR: return s->local_addr;
	case EHLOD_ITEM_LOCAL_PORT: return s->local_port;
	case EHLOD_ITEM_HELO: return s->helo;
	case EHLOD_ITEM_PROTOCOL: return smtp_state_protocol(s);
	case EHLOD_ITEM_TXN_ID: return s->txn.slots ? s->txn.id : NULL;
	case EHLOD_ITEM_MAIL_FROM: return s->txn.mail_from;
	default: return s->items[item];
	}
}

static int
h_set(ehlod_ctx *c, enum ehlod_item item, const char *value)
{
	struct ehlod_session *s = sess(c);

	if (s == NULL || (item != EHLOD_ITEM_AUTH_USER &&
	    item != EHLOD_ITEM_AUTH_MECH))
		return -1;
	char *v = value ? xstrdup(value) : NULL;
	free(s->items[item]);
	s->items[item] = v;
	return 0;
}

static int
h_flag(ehlod_ctx *c, enum ehlod_flag flag)
{
	struct ehlod_session *s = sess(c);

	if (s == NULL || (int)flag < 0 || flag >= EHLOD_FLAG_COUNT_)
		return 0;
	return s->flags[flag];
}

static int
h_set_flag(ehlod_ctx *c, enum ehlod_flag flag, int on)
{
	struct ehlod_session *s = sess(c);

	if (s == NULL || flag == EHLOD_FLAG_ESMTP || flag == EHLOD_FLAG_TLS ||
	    (int)flag < 0 || flag >= EHLOD_FLAG_COUNT_)
		return -1;
	s->flags[flag] = on != 0;
	return 0;
}

static int
h_offered(ehlod_ctx *c, const char *keyword)
{
	struct ehlod_session *s = sess(c);

	for (size_t i = 0; s && i < s->plugins->n; i++) {
		const char *kw = s->plugins->v[i].d.ehlo_keyword;
		if (kw && s->offered[i] && strcasecmp(kw, keyword) == 0)
			return 1;
	}
	return 0;
}

static void *
h_instance(ehlod_ctx *c)
{
	return c && c->p ? c->p->conf : NULL;
}

/* Host-owned state: allocated zeroed on first use. */
static void *
slot_data(struct plugin_slot *slots, ehlod_ctx *c, size_t size)
{
	struct plugin_slot *sl;

	if (slots == NULL || size == 0)
		return NULL;
	sl = &slots[c->p->index];
	if (sl->data == NULL)
		sl->data = xcalloc(1, size);
	return sl->data;
}

static void *
h_session_data(ehlod_ctx *c)
{
	if (sess(c) == NULL)
		return NULL;
	return slot_data(c->s->slots, c, c->p->d.session_data_size);
}

static void *
h_txn_data(ehlod_ctx *c)
{
	if (sess(c) == NULL)
		return NULL;
	return slot_data(c->s->txn.slots, c, c->p->d.txn_data_size);
}

static int
h_txn_set(ehlod_ctx *c, const char *key, const char *value)
{
	struct ehlod_session *s = sess(c);
	if (s == NULL || s->txn.slots == NULL || key == NULL)
		return -1;
	return txn_kv_set(&s->txn.kv, key, value);
}

static const char *
h_txn_get(ehlod_ctx *c, const char *key)
{
	struct ehlod_session *s = sess(c);
	if (s == NULL || s->txn.slots == NULL || key == NULL)
		return NULL;
	return txn_kv_get(s->txn.kv, key);
}

static size_t
h_rcpt_count(ehlod_ctx *c)
{
	struct ehlod_session *s = sess(c);
	return s ? s->txn.nrcpts : 0;
}

static const char *
h_rcpt_address(ehlod_ctx *c, size_t index)
{
	struct ehlod_session *s = sess(c);
	if (s == NULL || index >= s->txn.nrcpts)
		return NULL;
	return s->txn.rcpts[index].address;
}

/* index == nrcpts is the recipient being decided (RCPT hooks and
 * parameter handlers). */
static struct kv **
rcpt_kv(struct ehlod_session *s, size_t index)
{
	if (s == NULL || s->txn.slots == NULL || index > s->txn.nrcpts)
		return NULL;
	if (index == s->txn.nrcpts)
		return &s->txn.cand_kv;
	return &s->txn.rcpts[index].kv;
}

static int
h_rcpt_set(ehlod_ctx *c, size_t index, const char *key, const char *value)
{
	struct kv **kv = rcpt_kv(sess(c), index);
	return kv && key ? txn_kv_set(kv, key, value) : -1;
}

static const char *
h_rcpt_get(ehlod_ctx *c, size_t index, const char *key)
{
	struct kv **kv = rcpt_kv(sess(c), index);
	return kv && key ? txn_kv_get(*kv, key) : NULL;
}

static int
in_content(struct ehlod_session *s)
{
	return s && s->txn.slots && (s->state == S_DATA || s->txn.uses_bdat);
}

static int
h_add_header(ehlod_ctx *c, const char *name, const char *value)
{
	struct ehlod_session *s = sess(c);
	if (!in_content(s) || !name || !value)
		return -1;
	return message_add_header(&s->txn.msg, name, value);
}

static int
h_insert_header(ehlod_ctx *c, size_t index, const char *name,
    const char *value)
{
	struct ehlod_session *s = sess(c);
	if (!in_content(s) || !name || !value)
		return -1;
	return message_insert_header(&s->txn.msg, index, name, value);
}

static int
h_change_header(ehlod_ctx *c, const char *name, size_t index,
    const char *value)
{
	struct ehlod_session *s = sess(c);
	if (!in_content(s) || !name)
		return -1;
	return message_change_header(&s->txn.msg, name, index, value);
}

static int
h_message_read(ehlod_ctx *c, ehlod_sink sink, void *arg)
{
	struct ehlod_session *s = sess(c);
	if (!in_content(s) || !content_is_complete(&s->txn))
		return -1;
	return message_write(&s->txn.msg, sink, arg);
}

static long
h_message_pread(ehlod_ctx *c, void *buf, size_t len, size_t offset)
{
	struct ehlod_session *s = sess(c);
	if (!in_content(s) || !content_is_complete(&s->txn) || buf == NULL)
		return -1;
	return message_pread(&s->txn.msg, buf, len, offset);
}

static int
h_message_spool(ehlod_ctx *c, size_t *offset, size_t *len)
{
	struct ehlod_session *s = sess(c);
	if (!in_content(s) || !content_is_complete(&s->txn) ||
	    offset == NULL || len == NULL)
		return -1;
	return message_spool_fd(&s->txn.msg, offset, len);
}

static long
h_message_pread_nowait(ehlod_ctx *c, void *buf, size_t len, size_t offset,
    void (*ready)(void *), void *arg)
{
	struct ehlod_session *s = sess(c);
	if (!in_content(s) || !content_is_complete(&s->txn) || buf == NULL ||
	    ready == NULL)
		return -1;
	return message_pread_nowait(&s->txn.msg, buf, len, offset, ready,
	    arg);
}

static size_t
h_message_size(ehlod_ctx *c)
{
	struct ehlod_session *s = sess(c);
	if (!in_content(s))
		return 0;
	return message_output_size(&s->txn.msg);
}

static void
h_resume(ehlod_ctx *c, ehlod_verdict v)
{
	pending_resume(sess(c), c ? c->p : NULL, v);
}

static struct event_base *
h_event_base(void)
{
	return server->base;
}

static int
h_read_line(ehlod_ctx *c, int code, const char *text, ehlod_line_cb cb,
    void *arg)
{
	struct ehlod_session *s = sess(c);
	if (s == NULL || cb == NULL || s->bev == NULL || code < 300 ||
	    code > 399)
		return -1;
	session_reply_text(s, code, NULL, text);
	s->line_cb = cb;
	s->line_arg = arg;
	s->mode = IN_PLUGIN_LINE;
	return 0;
}

static int
h_start_tls(ehlod_ctx *c, void *ssl_ctx)
{
	struct ehlod_session *s = sess(c);
	if (s == NULL || s->bev == NULL || ssl_ctx == NULL ||
	    s->flags[EHLOD_FLAG_TLS])
		return -1;
	s->tls_switch = 1;
	s->ssl_ctx = ssl_ctx;
	/* Read nothing more in plain text: the client's first handshake
	 * octets may arrive before the 220 has been flushed, and would be
	 * thrown away with the pipelined plaintext.  The TLS bufferevent
	 * reads the socket itself (tls_begin). */
	bufferevent_disable(s->bev, EV_READ);
	return 0;
}

static int
h_read_chunk(ehlod_ctx *c, size_t size, int last)
{
	struct ehlod_session *s = sess(c);

	return s ? content_chunk_begin(s, size, last) : -1;
}

static void
h_count(ehlod_ctx *c, unsigned counter, unsigned long n)
{
	if (c != NULL && c->p != NULL)
		stats_plugin_count(c->p->index, counter, n);
}

static int checking_only;

void
hostapi_set_checking(int on)
{
	checking_only = on;
}

static int
h_checking(void)
{
	return checking_only;
}

static const struct ehlod_host host = {
	.abi_major = EHLOD_ABI_MAJOR,
	.abi_minor = EHLOD_ABI_MINOR,
	.size = sizeof(struct ehlod_host),
	.name = "ehlod",
	.features = EHLOD_HOST_SMTP | EHLOD_HOST_MESSAGE,
	.log = h_log,
	.reply = h_reply,
	.get = h_get,
	.set = h_set,
	.flag = h_flag,
	.set_flag = h_set_flag,
	.offered = h_offered,
	.instance = h_instance,
	.session_data = h_session_data,
	.txn_data = h_txn_data,
	.txn_set = h_txn_set,
	.txn_get = h_txn_get,
	.rcpt_count = h_rcpt_count,
	.rcpt_address = h_rcpt_address,
	.rcpt_set = h_rcpt_set,
	.rcpt_get = h_rcpt_get,
	.add_header = h_add_header,
	.insert_header = h_insert_header,
	.change_header = h_change_header,
	.message_read = h_message_read,
	.message_size = h_message_size,
	.timer = plugin_events_timer,
	.watch = plugin_events_watch,
	.cancel = plugin_events_cancel,
	.resume = h_resume,
	.event_base = h_event_base,
	.read_line = h_read_line,
	.start_tls = h_start_tls,
	.read_chunk = h_read_chunk,
	.xtext_decode = help_xtext_decode,
	.xtext_encode = help_xtext_encode,
	.address_split = help_address_split,
	.is_local_domain = help_is_local_domain,
	.enhanced_split = help_enhanced_split,
	.utf8_valid = help_utf8_valid,
	.has_8bit = help_has_8bit,
	.checking = h_checking,
	.count = h_count,
	.message_pread = h_message_pread,
	.message_spool = h_message_spool,
	.message_pread_nowait = h_message_pread_nowait,
	.watch_persistent = plugin_events_watch_persistent,
};

const struct ehlod_host *
host_table(void)
{
	return &host;
}
