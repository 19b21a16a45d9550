/*
 * NAME
 *	hostapi_milter.c - the host function table ehlod-milter hands to
 *	its plugins
 * DESCRIPTION
 *	The table starts as a copy of ehlod's own (core/hostapi.c): logging,
 *	replies, session and transaction data, envelope key/values, timers
 *	and resume work on the same struct ehlod_session and so behave
 *	exactly as in ehlod; everything runs under the plugin lock (loop.c),
 *	and the event_base is the server's base.  What differs is said here:
 *
 *	name "ehlod-milter", features EHLOD_HOST_MESSAGE without
 *	EHLOD_HOST_SMTP: keywords, verbs and parameters are the MTA's.
 *
 *	get: the client's name and this host's name come from the MTA
 *	(connect's hostname argument, {client_name}, macro j).
 *
 *	add_header, insert_header, change_header: applied to the header
 *	list at once (so message_read and later index arithmetic agree)
 *	and queued, because libmilter allows changes only in xxfi_eom,
 *	where the queue is replayed in order with smfi_addheader,
 *	smfi_insheader and smfi_chgheader.
 *
 *	message_read, message_pread, message_spool, message_pread_nowait:
 *	-1 when the message outgrew message_size_limit, since only its
 *	beginning was kept.  The message is kept in memory here, so
 *	message_pread_nowait always answers at once.
 *
 *	read_line, start_tls, read_chunk: -1, as the core's own do for a
 *	session without a connection (bev NULL).
 */
#include <stdlib.h>
#include <string.h>

#include "hostapi.h"
#include "log.h"
#include "milter.h"
#include "xmalloc.h"

static struct ehlod_host table;
static const struct ehlod_host *core;

static struct mconn *
conn_of(ehlod_ctx *c)
{
	return (struct mconn *)c->s;
}

static const char *
m_get(ehlod_ctx *s, enum ehlod_item item)
{
	if (s && s->s && item == EHLOD_ITEM_CLIENT_NAME) {
		const char *n = conn_of(s)->client_name;
		/* The MTA writes an unverified client as "[addr]". */
		return n && n[0] && n[0] != '[' ? n : "unknown";
	}
	if (s && s->s && item == EHLOD_ITEM_HOSTNAME &&
	    conn_of(s)->hostname)
		return conn_of(s)->hostname;
	return core->get(s, item);
}

static int
queue_op(ehlod_ctx *s, enum hdr_op_kind kind, size_t index,
    const char *name, const char *value)
{
	struct mconn *c = conn_of(s);
	struct hdr_op *op = xcalloc(1, sizeof(*op));

	op->kind = kind;
	op->index = index;
	op->name = xstrdup(name);
	op->value = value ? xstrdup(value) : NULL;
	*c->ops_tail = op;
	c->ops_tail = &op->next;
	return 0;
}

static int
m_add_header(ehlod_ctx *s, const char *name, const char *value)
{
	if (core->add_header(s, name, value) < 0)
		return -1;
	return queue_op(s, OP_ADD, 0, name, value);
}

static int
m_insert_header(ehlod_ctx *s, size_t index, const char *name,
    const char *value)
{
	if (core->insert_header(s, index, name, value) < 0)
		return -1;
	return queue_op(s, OP_INSERT, index, name, value);
}

static int
m_change_header(ehlod_ctx *s, const char *name, size_t index,
    const char *value)
{
	if (core->change_header(s, name, index, value) < 0)
		return -1;
	return queue_op(s, OP_CHANGE, index, name, value);
}

static int
m_message_read(ehlod_ctx *s, ehlod_sink sink, void *arg)
{
	if (s == NULL || s->s == NULL || s->s->txn.msg.overflow)
		return -1;
	return core->message_read(s, sink, arg);
}

static long
m_message_pread(ehlod_ctx *s, void *buf, size_t len, size_t offset)
{
	if (s == NULL || s->s == NULL || s->s->txn.msg.overflow)
		return -1;
	return core->message_pread(s, buf, len, offset);
}

static int
m_message_spool(ehlod_ctx *s, size_t *offset, size_t *len)
{
	if (s == NULL || s->s == NULL || s->s->txn.msg.overflow)
		return -1;
	return core->message_spool(s, offset, len);
}

static long
m_message_pread_nowait(ehlod_ctx *s, void *buf, size_t len, size_t offset,
    void (*ready)(void *), void *arg)
{
	if (s == NULL || s->s == NULL || s->s->txn.msg.overflow)
		return -1;
	return core->message_pread_nowait(s, buf, len, offset, ready, arg);
}

const struct ehlod_host *
milter_host_table(void)
{
	if (core)
		return &table;
	core = host_table();
	table = *core;
	table.name = "ehlod-milter";
	table.features = EHLOD_HOST_MESSAGE;
	table.get = m_get;
	table.add_header = m_add_header;
	table.insert_header = m_insert_header;
	table.change_header = m_change_header;
	table.message_read = m_message_read;
	table.message_pread = m_message_pread;
	table.message_spool = m_message_spool;
	table.message_pread_nowait = m_message_pread_nowait;
	return &table;
}
