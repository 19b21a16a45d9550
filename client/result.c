/*
 * NAME
 *	result.c - the client's transcript, its result, and reply texts
 * DESCRIPTION
 *	What every layer of the client (private.h) reports through: the
 *	transcript ("C: ", "S: ", "*: " lines, bounded), the first failure
 *	of a job or session (fail), and the conversion of a server reply
 *	into the code, enhanced code and text the API hands out.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "private.h"

#define TRANSCRIPT_MAX (1024 * 1024)

static void
vnote(struct ehlod_client *c, const char *prefix, const char *fmt, va_list ap)
{
	if (c->transcript_full)
		return;
	if (evbuffer_get_length(c->transcript) > TRANSCRIPT_MAX) {
		evbuffer_add_printf(c->transcript, "*: transcript truncated\n");
		c->transcript_full = 1;
		return;
	}
	evbuffer_add_printf(c->transcript, "%s", prefix);
	evbuffer_add_vprintf(c->transcript, fmt, ap);
	evbuffer_add(c->transcript, "\n", 1);
}

void
note(struct ehlod_client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vnote(c, "*: ", fmt, ap);
	va_end(ap);
}

void
note_prefixed(struct ehlod_client *c, const char *prefix, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vnote(c, prefix, fmt, ap);
	va_end(ap);
}

void
set_str(const char **field, const char *value)
{
	free((char *)*field);
	*field = xstrdup(value);
}

enum ehlod_client_status
status_of(int code)
{
	if (REPLY_CLASS(code) == 2)
		return EHLOD_CLIENT_OK;
	return REPLY_CLASS(code) == 4 ? EHLOD_CLIENT_TEMPFAIL :
	    EHLOD_CLIENT_PERMFAIL;
}

/* Text and enhanced code of a reply, the enhanced code only when offered
 * (RFC 2034: otherwise "5.1.1" in the text is just text). */
void
reply_parts(struct ehlod_client *c, const struct smtp_reply *r,
    char *enh, size_t enhlen, char *text, size_t textlen)
{
	size_t skip = 0;

	enh[0] = '\0';
	if (ehlo_table_has(&c->ext, "ENHANCEDSTATUSCODES"))
		skip = reply_enhanced(r, enh, enhlen);
	reply_text(r, text, textlen);
	if (skip > 0)
		memmove(text, text + skip, strlen(text + skip) + 1);
}

/* The first failure is the one reported. */
void
fail(struct ehlod_client *c, enum ehlod_client_status status,
    enum ehlod_client_reason reason, const char *step,
    const struct smtp_reply *r, const char *fmt, ...)
{
	char text[1024], enh[REPLY_ENHANCED_MAX];
	va_list ap;

	if (c->failed)
		return;
	c->failed = 1;
	c->res.status = status;
	c->res.reason = reason;
	set_str(&c->res.step, step);
	enh[0] = '\0';
	if (r != NULL) {
		reply_parts(c, r, enh, sizeof(enh), text, sizeof(text));
		c->res.code = r->code;
	} else {
		va_start(ap, fmt);
		vsnprintf(text, sizeof(text), fmt, ap);
		va_end(ap);
	}
	set_str(&c->res.enhanced, enh);
	set_str(&c->res.text, text);
	note(c, "failed at %s: %s", step, text);
}

/* A failure that is overtaken: the server closed after refusing EHLO,
 * and the reconnect with HELO gets a chance (connection.c). */
void
fail_forget(struct ehlod_client *c)
{
	c->failed = 0;
	c->res.status = EHLOD_CLIENT_OK;
	c->res.reason = EHLOD_REASON_NONE;
	c->res.code = 0;
	set_str(&c->res.step, "");
	set_str(&c->res.enhanced, "");
	set_str(&c->res.text, "");
}

void
fail_reply(struct ehlod_client *c, const char *step, const struct smtp_reply *r)
{
	fail(c, status_of(r->code), EHLOD_REASON_REPLY, step, r, NULL);
}

/* A step's failure becomes the job's. */
void
fail_from(struct ehlod_client *c, const struct ehlod_client_reply *r)
{
	if (c->failed)
		return;
	fail(c, r->status, r->reason, r->step, NULL, "%s", r->text);
	c->res.code = r->code;
	set_str(&c->res.enhanced, r->enhanced);
}

void
rcpt_clear(struct ehlod_client_rcpt *rc)
{
	free((char *)rc->address);
	free((char *)rc->step);
	free((char *)rc->enhanced);
	free((char *)rc->text);
	memset(rc, 0, sizeof(*rc));
}

void
rcpt_from(struct ehlod_client_rcpt *rc, const struct ehlod_client_reply *r)
{
	rc->status = r->status;
	rc->reason = r->reason;
	rc->code = r->code;
	set_str(&rc->step, r->step);
	set_str(&rc->enhanced, r->enhanced);
	set_str(&rc->text, r->text);
}

void
rcpt_copy(struct ehlod_client_rcpt *rc, const struct ehlod_client_rcpt *from)
{
	rc->status = from->status;
	rc->reason = from->reason;
	rc->code = from->code;
	set_str(&rc->step, from->step);
	set_str(&rc->enhanced, from->enhanced);
	set_str(&rc->text, from->text);
}

/* A caller's string made safe to show: controls become \r, \n, \xHH. */
const char *
shown(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	for (; s && *s && o + 5 < len; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch >= 32 && ch != 127)
			buf[o++] = (char)ch;
		else
			o += (size_t)snprintf(buf + o, len - o, ch == '\r' ?
			    "\\r" : ch == '\n' ? "\\n" : "\\x%02X", ch);
	}
	buf[o] = '\0';
	return buf;
}

/* ------------------------------------------------------------ the API */

const struct ehlod_client_result *
ehlod_client_result(const struct ehlod_client *c)
{
	return &c->res;
}

const char *
ehlod_client_transcript(const struct ehlod_client *cc)
{
	struct ehlod_client *c = (struct ehlod_client *)cc;
	size_t n = evbuffer_get_length(c->transcript);
	char *p = xmalloc(n + 1);

	evbuffer_copyout(c->transcript, p, n);
	p[n] = '\0';
	free(c->transcript_str);
	c->transcript_str = p;
	return p;
}

const char *
ehlod_client_status_name(enum ehlod_client_status s)
{
	switch (s) {
	case EHLOD_CLIENT_OK: return "delivered";
	case EHLOD_CLIENT_TEMPFAIL: return "deferred";
	case EHLOD_CLIENT_PERMFAIL: return "bounced";
	}
	return "unknown";
}
