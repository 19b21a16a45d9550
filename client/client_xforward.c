/*
 * NAME
 *	client_xforward.c - who the relayed client is, as its next hop hears it
 * DESCRIPTION
 *	Keeps the attributes a before-queue proxy tells its next hop
 *	(ehlod_client_xforward) and turns them into the XFORWARD lines this
 *	session's server takes (Postfix's XFORWARD_README): only the
 *	attributes its EHLO reply lists, values xtext-encoded, unknown ones
 *	"[UNAVAILABLE]", each line under RFC 5321's 512 octets.
 *	transaction.c sends the lines before MAIL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esmtp.h"
#include "private.h"
#include "xmalloc.h"

#define XF_VALUE_MAX 255	/* the longest value a server must take */
#define XF_LINE_MAX 510		/* a command line without its CRLF */
#define XF_UNAVAILABLE "[UNAVAILABLE]"

static const char *const attr_names[XF_ATTRS] = {
	"NAME", "ADDR", "PORT", "PROTO", "HELO", "SOURCE"
};

void
xforward_clear(struct ehlod_client *c)
{
	for (size_t i = 0; i < XF_ATTRS; i++) {
		free(c->xf[i]);
		c->xf[i] = NULL;
	}
	c->xf_set = 0;
}

int
ehlod_client_xforward(struct ehlod_client *c,
    const struct ehlod_client_xforward *given)
{
	struct ehlod_client_xforward own, *xf = &own;

	if (given != NULL && client_copy_sized(&own, sizeof(own), given,
	    XFORWARD_SIZE_1_0) < 0)
		return -1;
	xforward_clear(c);
	if (given == NULL)
		return 0;
	const char *v[XF_ATTRS] = {
		xf->name, xf->addr, xf->port, xf->proto, xf->helo, xf->source
	};
	for (size_t i = 0; i < XF_ATTRS; i++)
		c->xf[i] = v[i] != NULL ? xstrndup(v[i], XF_VALUE_MAX) : NULL;
	c->xf_set = 1;
	return 0;
}

/* " NAME=xtext", or " NAME=[UNAVAILABLE]" when the value is unknown or
 * would not fit a line even alone. */
static void
attr_item(const char *name, const char *value, char *out, size_t len)
{
	char x[XF_LINE_MAX - sizeof("XFORWARD") - sizeof("SOURCE=") - 1];

	if (value == NULL || esmtp_xtext_encode(value, x, sizeof(x)) < 0)
		snprintf(x, sizeof(x), "%s", XF_UNAVAILABLE);
	snprintf(out, len, " %s=%s", name, x);
}

size_t
xforward_lines(const struct ehlod_client *c, char *lines[XF_ATTRS])
{
	char line[XF_LINE_MAX + 1], item[XF_LINE_MAX + 1];
	size_t n = 0, used = 0;

	if (!c->xf_set || !ehlo_table_has(&c->ext, "XFORWARD"))
		return 0;
	for (size_t i = 0; i < XF_ATTRS; i++) {
		if (!ehlo_table_has_param(&c->ext, "XFORWARD", attr_names[i]))
			continue;
		attr_item(attr_names[i], c->xf[i], item, sizeof(item));
		if (used > 0 && used + strlen(item) > XF_LINE_MAX) {
			lines[n++] = xstrdup(line);
			used = 0;
		}
		if (used == 0)
			used = (size_t)snprintf(line, sizeof(line), "XFORWARD");
		used += (size_t)snprintf(line + used, sizeof(line) - used, "%s",
		    item);
	}
	if (used > 0)
		lines[n++] = xstrdup(line);
	return n;
}
