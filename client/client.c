/*
 * NAME
 *	client.c - the client object: options, server address, lifetime
 * DESCRIPTION
 *	ehlod_client_opts_init, ehlod_client_new and ehlod_client_free, and
 *	what the last session's server said (greeting, EHLO table).  The
 *	layers that run a client are described in private.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/dns.h>
#include <event2/event.h>

#include "client_auth.h"
#include "private.h"

int
client_copy_sized(void *dst, size_t dst_size, const void *src, size_t min)
{
	size_t size;

	memcpy(&size, src, sizeof(size));
	if (size < min)
		return -1;
	memset(dst, 0, dst_size);
	memcpy(dst, src, size < dst_size ? size : dst_size);
	return 0;
}

/* The caller's struct may be smaller (an older build) or bigger (a newer
 * one): only its own size is written, and the defaults within it. */
void
ehlod_client_opts_init_sized(struct ehlod_client_opts *o, size_t size)
{
	struct ehlod_client_opts d;

	memset(&d, 0, sizeof(d));
	d.tls_verify = 1;
	d.timeout_sec = 300;
	d.connect_timeout_sec = 30;
	memset(o, 0, size);
	memcpy(o, &d, size < sizeof(d) ? size : sizeof(d));
	o->struct_size = size;
}

/* "host", "host:port", "[v6]:port", "v6", "unix:/path". */
static int
parse_server(struct ehlod_client *c, const char *spec)
{
	const char *colon;
	char *end;
	long port;

	c->port = c->o.lmtp ? 24 : 25;
	if (strncmp(spec, "unix:", 5) == 0) {
		c->unix_path = xstrdup(spec + 5);
		return *c->unix_path && strlen(c->unix_path) <
		    sizeof(((struct sockaddr_un *)0)->sun_path) ? 0 : -1;
	}
	if (spec[0] == '[') {
		const char *rb = strchr(spec, ']');

		if (rb == NULL)
			return -1;
		c->host = xstrndup(spec + 1, (size_t)(rb - spec - 1));
		colon = rb[1] == ':' ? rb + 1 : NULL;
		if (rb[1] != '\0' && colon == NULL)
			return -1;
	} else if ((colon = strchr(spec, ':')) != NULL && strchr(colon + 1, ':')) {
		c->host = xstrdup(spec);	/* a bare IPv6 address */
		colon = NULL;
	} else {
		c->host = colon ? xstrndup(spec, (size_t)(colon - spec)) :
		    xstrdup(spec);
	}
	if (*c->host == '\0')
		return -1;
	if (colon == NULL)
		return 0;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || port < 1 || port > 65535)
		return -1;
	c->port = (int)port;
	return 0;
}

static char *
default_helo(void)
{
	char name[256];

	if (gethostname(name, sizeof(name)) < 0 || name[0] == '\0')
		return xstrdup("localhost");
	name[sizeof(name) - 1] = '\0';
	return xstrdup(name);
}

static const char *
opt_dup(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void
copy_opts(struct ehlod_client *c, const struct ehlod_client_opts *o)
{
	c->o = *o;
	c->o.helo_name = NULL;
	c->o.tls_ca_file = opt_dup(o->tls_ca_file);
	c->o.tls_server_name = opt_dup(o->tls_server_name);
	c->o.auth_user = opt_dup(o->auth_user);
	c->o.auth_password = opt_dup(o->auth_password);
	c->o.auth_mechs = opt_dup(o->auth_mechs);
	if (c->o.timeout_sec == 0)
		c->o.timeout_sec = 300;
	if (c->o.connect_timeout_sec == 0)
		c->o.connect_timeout_sec = 30;
	c->helo_name = o->helo_name ? xstrdup(o->helo_name) : default_helo();
}

struct ehlod_client *
ehlod_client_new(struct event_base *base, const char *server,
    const struct ehlod_client_opts *opts)
{
	struct ehlod_client *c;
	struct ehlod_client_opts o;

	if (opts == NULL)
		ehlod_client_opts_init(&o);
	else if (client_copy_sized(&o, sizeof(o), opts, OPTS_SIZE_1_0) < 0) {
		errno = EINVAL;	/* not from ehlod_client_opts_init() */
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	copy_opts(c, &o);
	c->own_base = base == NULL;
	c->base = base ? base : event_base_new();
	c->transcript = evbuffer_new();
	ehlo_table_init(&c->ext);
	reply_parser_init(&c->rp, 0, 0);
	linereader_init(&c->lr, REPLY_LINE_MAX);
	if (c->base == NULL || c->transcript == NULL)
		goto fail;
	c->done_ev = evtimer_new(c->base, conn_done_fire, c);
	c->step_ev = evtimer_new(c->base, session_fire, c);
	c->stream_ev = evtimer_new(c->base, client_stream_fire, c);
	if (c->done_ev == NULL || c->step_ev == NULL || c->stream_ev == NULL)
		goto fail;
	if (parse_server(c, server) < 0) {
		ehlod_client_free(c);
		errno = EINVAL;
		return NULL;
	}
	return c;
fail:
	ehlod_client_free(c);
	errno = ENOMEM;
	return NULL;
}

void
ehlod_client_free(struct ehlod_client *c)
{
	if (c == NULL)
		return;
	conn_close(c);
	cmd_clear(c);
	if (c->done_ev)
		event_free(c->done_ev);
	if (c->step_ev)
		event_free(c->step_ev);
	if (c->stream_ev)
		event_free(c->stream_ev);
	free((char *)c->sr.step);
	free((char *)c->sr.enhanced);
	free((char *)c->sr.text);
	txn_free(c);
	xforward_clear(c);
	job_free(c);
	free((char *)c->res.step);
	free((char *)c->res.enhanced);
	free((char *)c->res.text);
	if (c->dns && c->own_dns)
		evdns_base_free(c->dns, 0);
	client_auth_free(c->auth);
	if (c->ssl_ctx)
		SSL_CTX_free(c->ssl_ctx);
	ehlo_table_free(&c->ext);
	reply_parser_free(&c->rp);
	linereader_free(&c->lr);
	if (c->transcript)
		evbuffer_free(c->transcript);
	free(c->transcript_str);
	if (c->own_base && c->base)
		event_base_free(c->base);
	free(c->host);
	free(c->unix_path);
	free(c->greeting);
	free(c->helo_name);
	free((char *)c->o.tls_ca_file);
	free((char *)c->o.tls_server_name);
	free((char *)c->o.auth_user);
	free((char *)c->o.auth_password);
	free((char *)c->o.auth_mechs);
	free(c);
}

const char *
ehlod_client_greeting(const struct ehlod_client *c)
{
	return c->greeting ? c->greeting : "";
}

size_t
ehlod_client_ext_count(const struct ehlod_client *c)
{
	return c->ext.n;
}

const char *
ehlod_client_ext_keyword(const struct ehlod_client *c, size_t i)
{
	return i < c->ext.n ? c->ext.e[i].keyword : NULL;
}

const char *
ehlod_client_ext_params(const struct ehlod_client *c, size_t i)
{
	return i < c->ext.n ? c->ext.e[i].params : NULL;
}
