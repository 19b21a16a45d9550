/*
 * NAME
 *	confcheck.c - read the config and try the plugins
 * DESCRIPTION
 *	The same check runs for "ehlod -t", before the server binds its
 *	sockets, and before a reload replaces the workers: a config that
 *	passes here is one the workers can start with.  describe_config()
 *	prints what an admin needs to see: each plugin in load order with
 *	its keyword, EHLO parameters (as a fresh session would get them),
 *	verbs, MAIL/RCPT parameters and hooks.
 */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "confcheck.h"
#include "ehlo.h"
#include "hostapi.h"
#include "log.h"
#include "listener.h"
#include "session.h"
#include "smtpd.h"
#include "user_access.h"

static struct server check_server;

/* The workers create their spool files there as their user (message.c):
 * it must let them, or every large message would get 452. */
static int
check_spool(const char *file, const struct config *c)
{
	int err;

	if (c->spool_threshold == 0)
		return 0;
	err = user_access(c->spool_directory, geteuid() == 0 ? c->user : NULL,
	    W_OK | X_OK);
	if (err == 0)
		return 0;
	log_msg(LOG_ERR, "%s: spool_directory %s: user %s cannot create "
	    "files there: %s", file, c->spool_directory,
	    geteuid() == 0 ? c->user : "(this one)", strerror(err));
	return -1;
}

int
check_config(const char *file, struct config *c, struct plugin_set *set)
{
	memset(set, 0, sizeof(*set));
	if (config_read(file, c) < 0)
		return -1;
	if (plugins_load(set, c) < 0 || listeners_resolve(c, set) < 0)
		return -1;
	/* Only root switches users; then the user must exist, or every
	 * worker would fail to start. */
	if (geteuid() == 0 && getpwnam(c->user) == NULL) {
		log_msg(LOG_ERR, "%s: user '%s' does not exist", file, c->user);
		return -1;
	}
	if (check_spool(file, c) < 0)
		return -1;
	check_server.conf = c;
	check_server.plugins = set;
	if (server == NULL || server == &check_server)
		server = &check_server;
	if (plugins_init(set, host_table()) < 0)
		return -1;
	plugins_fini(set);
	return 0;
}

static const char *
value_rule(enum ehlod_param_value v)
{
	switch (v) {
	case EHLOD_VALUE_REQUIRED: return "=value";
	case EHLOD_VALUE_OPTIONAL: return "[=value]";
	default: return "";
	}
}

static void
print_params(FILE *out, const char *label, const struct ehlod_param *p)
{
	fprintf(out, "    %-14s", label);
	if (p == NULL || p->keyword == NULL)
		fprintf(out, " -");
	for (; p && p->keyword; p++)
		fprintf(out, " %s%s", p->keyword, value_rule(p->value));
	fprintf(out, "\n");
}

static void
print_states(FILE *out, unsigned states)
{
	const char *names[] = { "connected", "greeted", "mail", "rcpt" };
	int first = 1;

	for (int i = 0; i < 4; i++)
		if (states & (1u << i)) {
			fprintf(out, "%s%s", first ? "" : ",", names[i]);
			first = 0;
		}
}

static void
describe_plugin(FILE *out, struct ehlod_session *s, struct plugin *p)
{
	char params[EHLOD_EHLO_PARAMS_MAX], hooks[256];

	fprintf(out, "plugin %zu: %s %s (%s)\n", p->index + 1, p->name,
	    p->d.version ? p->d.version : "", p->path);
	if (p->d.description)
		fprintf(out, "    %-14s %s\n", "description", p->d.description);
	if (p->d.ehlo_keyword == NULL)
		fprintf(out, "    %-14s - (hook-only plugin)\n", "keyword");
	else if (ehlo_plugin_params(s, p, params, sizeof(params)) < 0)
		fprintf(out, "    %-14s %s (not offered in a fresh plaintext "
		    "session)\n", "keyword", p->d.ehlo_keyword);
	else
		fprintf(out, "    %-14s %s%s%s\n", "keyword",
		    p->d.ehlo_keyword, params[0] ? " " : "", params);
	fprintf(out, "    %-14s", "verbs");
	if (p->d.verbs == NULL || p->d.verbs->name == NULL)
		fprintf(out, " -");
	for (const struct ehlod_verb *v = p->d.verbs; v && v->name; v++) {
		fprintf(out, " %s (", v->name);
		print_states(out, v->states);
		fprintf(out, ")");
	}
	fprintf(out, "\n");
	print_params(out, "mail params", p->d.mail_params);
	print_params(out, "rcpt params", p->d.rcpt_params);
	if (p->d.line_increment)
		fprintf(out, "    %-14s +%u\n", "line length", p->d.line_increment);
	plugins_hook_names(p, hooks, sizeof(hooks));
	fprintf(out, "    %-14s %s\n", "hooks", hooks);
	if (p->d.ehlo_keyword && !keyword_registered(p->d.ehlo_keyword))
		fprintf(out, "    warning: %s is not a registered service "
		    "extension and does not begin with X (RFC 1869 "
		    "section 4.2)\n", p->d.ehlo_keyword);
}

static void
describe_listener(FILE *out, const struct config *c, size_t k)
{
	static const char *const tls[] = { "starttls", "none", "implicit" };
	const struct listener *l = &c->listeners[k];

	fprintf(out, "listener %s:", l->name);
	for (size_t i = 0; i < c->nlisten; i++)
		if (c->listen[i].listener == k)
			fprintf(out, " %s%s%s:%s", strchr(c->listen[i].host,
			    ':') ? "[" : "", c->listen[i].host,
			    strchr(c->listen[i].host, ':') ? "]" : "",
			    c->listen[i].port);
	fprintf(out, "; tls %s%s%s; relay_networks %zu; plugins ",
	    tls[l->tls], l->require_tls ? ", require_tls" : "",
	    l->require_auth ? ", require_auth" : "", l->nrelay_networks);
	if (l->plugins == NULL)
		fprintf(out, "all");
	for (size_t i = 0; i < l->nplugins; i++)
		fprintf(out, "%s%s", i ? "," : "", l->plugins[i]);
	fprintf(out, "\n");
}

void
describe_config(FILE *out, const struct config *c, struct plugin_set *set)
{
	struct ehlod_session *s;

	fprintf(out, "%s: configuration is valid\n", c->file);
	fprintf(out, "listen");
	for (size_t i = 0; i < c->nlisten; i++)
		fprintf(out, " %s%s%s:%s", strchr(c->listen[i].host, ':') ?
		    "[" : "", c->listen[i].host, strchr(c->listen[i].host,
		    ':') ? "]" : "", c->listen[i].port);
	fprintf(out, "\n");
	for (size_t i = 0; i < c->nlisteners; i++)
		describe_listener(out, c, i);
	fprintf(out, "hostname %s, workers %ld, user %s, command line "
	    "limit %zu octets, message_size_limit %zu\n", c->hostname,
	    c->workers, c->user, set->line_limit, c->message_size_limit);
	fprintf(out, "%zu plugins, in the order of their hooks and EHLO "
	    "lines:\n", set->n);
	/* check_config() ran the same init and showed what it logged. */
	if (plugins_init_again(set, host_table()) < 0)
		return;
	s = session_detached();
	/* Build the whole EHLO reply once, so that a keyword offered only
	 * beside another (BINARYMIME with CHUNKING) is judged as a real
	 * session would judge it. */
	if (s) {
		char reply[4096];

		ehlo_build(s, reply, sizeof(reply));
	}
	for (size_t i = 0; s && i < set->n; i++)
		describe_plugin(out, s, &set->v[i]);
	if (s)
		session_free(s);
	plugins_fini(set);
}
