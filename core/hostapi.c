/*
 * NAME
 *	hostapi.c - the host function table ehlod hands to its plugins
 * DESCRIPTION
 *	Implements struct ehlod_host for the server.  Per-plugin data is
 *	found through the plugin being called (s->current), or, from a
 *	plugin's own event callbacks, the plugin pending on the session.
 *	Timers are owned by the session so none can fire after it ends.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <event2/event.h>

#include "log.h"
#include "session.h"

struct ehlod_timer {
	struct event *ev;
	struct ehlod_session *s;
	struct plugin *p;
	ehlod_timer_cb cb;
	void *arg;
	struct ehlod_timer *next;
};

/* Timers made without a session (s == NULL in timer_add). */
static struct ehlod_timer *global_timers;

static struct plugin *
caller(struct ehlod_session *s)
{
	return s->current ? s->current : s->pending;
}

static void
h_log(ehlod_session *s, int priority, const char *fmt, ...)
{
	char text[1024];
	va_list ap;
	struct plugin *p = s ? caller(s) : NULL;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (s && s->txn.slots)	/* per-message lines carry the queue id */
		log_msg(priority, "%s: %s: plugin=%s: %s", s->id, s->txn.id,
		    p ? p->name : "?", text);
	else if (s)
		log_msg(priority, "%s: plugin=%s: %s", s->id,
		    p ? p->name : "?", text);
	else
		log_msg(priority, "plugin=%s: %s", plugin_initializing ?
		    plugin_initializing->name : "?", text);
}

static void
h_reply(ehlod_session *s, int code, const char *enhanced, const char *fmt,
    ...)
{
	char text[1024];
	va_list ap;

	if (s == NULL || code < 200 || code > 599)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	pending_reply_clear(&s->reply);
	s->reply.set = 1;
	s->reply.code = code;
	if (enhanced)
		snprintf(s->reply.enhanced, sizeof(s->reply.enhanced), "%s",
		    enhanced);
	s->reply.text = strdup(text);
}

static const char *
h_get(ehlod_session *s, enum ehlod_item item)
{
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
	case EHLOD_ITEM_PROTOCOL: return session_protocol(s);
	case EHLOD_ITEM_TXN_ID: return s->txn.slots ? s->txn.id : NULL;
	case EHLOD_ITEM_MAIL_FROM: return s->txn.mail_from;
	default: return s->items[item];
	}
}

static int
h_set(ehlod_session *s, enum ehlod_item item, const char *value)
{
	if (s == NULL || (item != EHLOD_ITEM_AUTH_USER &&
	    item != EHLOD_ITEM_AUTH_MECH))
		return -1;
	char *v = value ? strdup(value) : NULL;
	if (value && v == NULL)
		return -1;
	free(s->items[item]);
	s->items[item] = v;
	return 0;
}

static int
h_flag(ehlod_session *s, enum ehlod_flag flag)
{
	if (s == NULL || (int)flag < 0 || flag >= EHLOD_FLAG_COUNT_)
		return 0;
	return s->flags[flag];
}

static int
h_set_flag(ehlod_session *s, enum ehlod_flag flag, int on)
{
	if (s == NULL || flag == EHLOD_FLAG_ESMTP || flag == EHLOD_FLAG_TLS ||
	    (int)flag < 0 || flag >= EHLOD_FLAG_COUNT_)
		return -1;
	s->flags[flag] = on != 0;
	return 0;
}

static int
h_offered(ehlod_session *s, const char *keyword)
{
	for (size_t i = 0; s && i < server->plugins->n; i++) {
		const char *kw = server->plugins->v[i].d.ehlo_keyword;
		if (kw && s->offered[i] && strcasecmp(kw, keyword) == 0)
			return 1;
	}
	return 0;
}

static struct plugin_slot *
slot(struct plugin_slot *slots, struct ehlod_session *s)
{
	struct plugin *p = caller(s);

	return slots && p ? &slots[p->index] : NULL;
}

static void
slot_set(struct plugin_slot *sl, void *data, void (*free_fn)(void *))
{
	if (sl == NULL)
		return;
	if (sl->data && sl->data != data && sl->free_fn)
		sl->free_fn(sl->data);
	sl->data = data;
	sl->free_fn = free_fn;
}

static void *
h_session_data(ehlod_session *s)
{
	struct plugin_slot *sl = s ? slot(s->slots, s) : NULL;
	return sl ? sl->data : NULL;
}

static void
h_set_session_data(ehlod_session *s, void *data, void (*free_fn)(void *))
{
	if (s)
		slot_set(slot(s->slots, s), data, free_fn);
}

static void *
h_txn_data(ehlod_session *s)
{
	struct plugin_slot *sl = s ? slot(s->txn.slots, s) : NULL;
	return sl ? sl->data : NULL;
}

static void
h_set_txn_data(ehlod_session *s, void *data, void (*free_fn)(void *))
{
	struct plugin_slot *sl = s ? slot(s->txn.slots, s) : NULL;

	if (sl == NULL) {
		if (data && free_fn)
			free_fn(data);	/* no transaction to hold it */
		return;
	}
	slot_set(sl, data, free_fn);
}

static int
h_txn_set(ehlod_session *s, const char *key, const char *value)
{
	if (s == NULL || s->txn.slots == NULL || key == NULL)
		return -1;
	return kv_set(&s->txn.kv, key, value);
}

static const char *
h_txn_get(ehlod_session *s, const char *key)
{
	if (s == NULL || s->txn.slots == NULL || key == NULL)
		return NULL;
	return kv_get(s->txn.kv, key);
}

static size_t
h_rcpt_count(ehlod_session *s)
{
	return s ? s->txn.nrcpts : 0;
}

static const char *
h_rcpt_address(ehlod_session *s, size_t index)
{
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
h_rcpt_set(ehlod_session *s, size_t index, const char *key,
    const char *value)
{
	struct kv **kv = rcpt_kv(s, index);
	return kv && key ? kv_set(kv, key, value) : -1;
}

static const char *
h_rcpt_get(ehlod_session *s, size_t index, const char *key)
{
	struct kv **kv = rcpt_kv(s, index);
	return kv && key ? kv_get(*kv, key) : NULL;
}

static int
in_content(struct ehlod_session *s)
{
	return s && s->txn.slots && (s->state == S_DATA || s->txn.uses_bdat);
}

static int
h_add_header(ehlod_session *s, const char *name, const char *value)
{
	if (!in_content(s) || !name || !value)
		return -1;
	return message_add_header(&s->txn.msg, name, value);
}

static int
h_insert_header(ehlod_session *s, size_t index, const char *name,
    const char *value)
{
	if (!in_content(s) || !name || !value)
		return -1;
	return message_insert_header(&s->txn.msg, index, name, value);
}

static int
h_change_header(ehlod_session *s, const char *name, size_t index,
    const char *value)
{
	if (!in_content(s) || !name)
		return -1;
	return message_change_header(&s->txn.msg, name, index, value);
}

static int
h_message_read(ehlod_session *s, ehlod_sink sink, void *arg)
{
	if (!in_content(s) || !s->txn.content_complete)
		return -1;
	return message_write(&s->txn.msg, sink, arg);
}

static size_t
h_message_size(ehlod_session *s)
{
	if (!in_content(s))
		return 0;
	return message_output_size(&s->txn.msg);
}

static void
timer_unlink(struct ehlod_timer *t)
{
	struct ehlod_timer **pp = t->s ? &t->s->timers : &global_timers;

	for (; *pp; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			return;
		}
}

static void
timer_fire(evutil_socket_t fd, short what, void *arg)
{
	struct ehlod_timer *t = arg;
	struct ehlod_session *s = t->s;
	(void)fd;
	(void)what;

	timer_unlink(t);
	event_free(t->ev);
	if (s) {
		struct plugin *saved = s->current;
		s->current = t->p;
		t->cb(s, t->arg);
		s->current = saved;
	} else {
		t->cb(NULL, t->arg);
	}
	free(t);
}

static ehlod_timer *
h_timer_add(ehlod_session *s, unsigned msec, ehlod_timer_cb cb, void *arg)
{
	struct ehlod_timer *t;
	struct timeval tv = { msec / 1000, (msec % 1000) * 1000 };

	if (server->base == NULL || cb == NULL ||
	    (t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->ev = evtimer_new(server->base, timer_fire, t);
	if (t->ev == NULL) {
		free(t);
		return NULL;
	}
	t->s = s;
	t->p = s ? caller(s) : NULL;
	t->cb = cb;
	t->arg = arg;
	t->next = s ? s->timers : global_timers;
	if (s)
		s->timers = t;
	else
		global_timers = t;
	evtimer_add(t->ev, &tv);
	return t;
}

static void
h_timer_cancel(ehlod_timer *t)
{
	if (t == NULL)
		return;
	timer_unlink(t);
	event_free(t->ev);
	free(t);
}

void
session_cancel_timers(struct ehlod_session *s)
{
	while (s->timers)
		h_timer_cancel(s->timers);
}

static void
h_resume(ehlod_session *s, ehlod_verdict v)
{
	if (s == NULL || s->pending == NULL || s->resume_scheduled) {
		log_msg(LOG_WARNING, "%s: resume without a pending hook "
		    "ignored", s ? s->id : "-");
		return;
	}
	s->resume_verdict = v;
	s->resume_scheduled = 1;
	event_active(s->resume_ev, EV_TIMEOUT, 0);
}

static struct event_base *
h_event_base(void)
{
	return server->base;
}

static int
h_read_line(ehlod_session *s, int code, const char *text, ehlod_line_cb cb,
    void *arg)
{
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
h_start_tls(ehlod_session *s, void *ssl_ctx)
{
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
h_read_chunk(ehlod_session *s, size_t size, int last)
{
	struct transaction *t;

	if (s == NULL || s->bev == NULL || s->state == S_CONNECTED ||
	    s->state == S_DATA)
		return -1;
	t = &s->txn;
	t->chunk_left = size;
	t->chunk_size = size;
	t->chunk_last = last != 0;
	s->mode = IN_CHUNK;
	/* Without recipients the chunk is read and dropped, then refused
	 * (content_read_chunk): RFC 3030 clients send it anyway. */
	if (s->state != S_RCPT)
		return 0;
	if (t->chunks++ == 0)
		content_begin(s, 1);
	return 0;
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
	.session_data = h_session_data,
	.set_session_data = h_set_session_data,
	.txn_data = h_txn_data,
	.set_txn_data = h_set_txn_data,
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
	.timer_add = h_timer_add,
	.timer_cancel = h_timer_cancel,
	.resume = h_resume,
	.event_base = h_event_base,
	.read_line = h_read_line,
	.start_tls = h_start_tls,
	.read_chunk = h_read_chunk,
};

const struct ehlod_host *
host_table(void)
{
	return &host;
}
