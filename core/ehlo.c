/*
 * NAME
 *	ehlo.c - the EHLO reply built from the loaded plugins
 * DESCRIPTION
 *	Implements ehlo.h.  Parameters a plugin writes are checked against
 *	the ehlo-param grammar (printable, no controls, single spaces): a
 *	plugin that writes anything else does not get its keyword offered,
 *	and the admin is told once per session in the log.
 */
#include <stdio.h>
#include <string.h>

#include "ehlo.h"
#include "esmtp.h"
#include "log.h"
#include "session_reply.h"
#include "smtpd.h"
#include "xforward.h"

#define EHLO_REPLY_MAX 4096

static int
params_valid(const char *p)
{
	if (*p == '\0')
		return 1;
	for (;;) {
		const char *sp = strchr(p, ' ');
		size_t len = sp ? (size_t)(sp - p) : strlen(p);
		if (!esmtp_ehlo_param_valid(p, len))
			return 0;
		if (sp == NULL)
			return 1;
		p = sp + 1;
	}
}

int
ehlo_plugin_params(struct ehlod_session *s, struct plugin *p, char *buf,
    size_t len)
{
	buf[0] = '\0';
	if (p->d.ehlo_keyword == NULL)
		return -1;
	if (p->d.ehlo_params == NULL)
		return 0;
	s->current = p;
	int rc = p->d.ehlo_params(CTX(s, p), buf, len);
	s->current = NULL;
	buf[len - 1] = '\0';
	if (rc < 0)
		return -1;
	if (!params_valid(buf)) {
		log_msg(LOG_ERR, "%s: plugin %s wrote EHLO parameters that "
		    "break RFC 1869 grammar; %s not offered", s->id, p->name,
		    p->d.ehlo_keyword);
		return -1;
	}
	return 0;
}

size_t
ehlo_build(struct ehlod_session *s, char *buf, size_t len)
{
	struct plugin_set *set = s->plugins;
	int n;
	size_t used;

	n = snprintf(buf, len, "%s Hello %s [%s]", server->conf->hostname,
	    s->helo ? s->helo : "", s->client_addr);
	used = n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
	for (size_t i = 0; i < set->n; i++) {
		char params[EHLOD_EHLO_PARAMS_MAX];
		struct plugin *p = &set->v[i];
		s->offered[i] = 0;
		if (!PLUGIN_ACTIVE(s, p) ||
		    ehlo_plugin_params(s, p, params, sizeof(params)) < 0)
			continue;
		n = snprintf(buf + used, len - used, "\n%s%s%s",
		    p->d.ehlo_keyword, params[0] ? " " : "", params);
		if (n < 0 || (size_t)n >= len - used) {
			log_msg(LOG_ERR, "%s: EHLO reply too long; %s and "
			    "later keywords not offered", s->id,
			    p->d.ehlo_keyword);
			break;
		}
		used += (size_t)n;
		s->offered[i] = 1;
	}
	/* A core keyword, like PROXY: only trusted proxies see it. */
	if (xforward_allowed(s) && len - used > sizeof(XFORWARD_KEYWORD) + 1) {
		n = snprintf(buf + used, len - used, "\n%s", XFORWARD_KEYWORD);
		used += n > 0 ? (size_t)n : 0;
	}
	return used;
}

void
ehlo_send(struct ehlod_session *s)
{
	char text[EHLO_REPLY_MAX];

	ehlo_build(s, text, sizeof(text));
	session_reply_text(s, 250, NULL, text);
}
