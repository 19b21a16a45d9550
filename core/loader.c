/*
 * NAME
 *	loader.c - loading plugins and the registry of what they claim
 * DESCRIPTION
 *	Implements loader.h.  A plugin is refused, with one line naming its
 *	file, when it cannot be opened, lacks the ehlod_plugin symbol, was
 *	built for another ABI major version or a newer minor one, or has a
 *	descriptor shorter than ABI 1.0's.  Claims are checked across all
 *	plugins before any of them is initialised.
 */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "esmtp.h"
#include "loader.h"
#include "log.h"
#include "trust.h"
#include "xmalloc.h"

/* The descriptor size of ABI 1.0: every field up to on_report. */
#define DESCRIPTOR_MIN_SIZE \
	(offsetof(struct ehlod_plugin, on_report) + sizeof(void *))

static const char *const core_verbs[] = {
	"HELO", "EHLO", "MAIL", "RCPT", "DATA", "RSET", "NOOP", "QUIT",
	"VRFY", "HELP", NULL
};

/* Service extensions registered with IANA (the "SMTP Service
 * Extensions" registry) that a plugin may offer without an X prefix. */
static const char *const registered_keywords[] = {
	"8BITMIME", "ATRN", "AUTH", "BINARYMIME", "BURL", "CHECKPOINT",
	"CHUNKING", "CONNEG", "CONPERM", "DELIVERBY", "DSN", "ENHANCEDSTATUSCODES",
	"ETRN", "EXPN", "FUTURERELEASE", "HELP", "LIMITS", "MT-PRIORITY",
	"MTRK", "NO-SOLICITING", "ONEX", "PIPELINING", "REQUIRETLS", "RRVS",
	"SAML", "SEND", "SIZE", "SMTPUTF8", "SOML", "STARTTLS", "SUBMITTER",
	"TURN", "UTF8SMTP", "VERB", "VRFY", NULL
};


int
keyword_registered(const char *keyword)
{
	if (keyword[0] == 'X' || keyword[0] == 'x')
		return 1;
	for (size_t i = 0; registered_keywords[i]; i++)
		if (strcasecmp(keyword, registered_keywords[i]) == 0)
			return 1;
	return 0;
}

static int
name_valid(const char *name)
{
	if (*name == '\0')
		return 0;
	return strspn(name, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == strlen(name);
}

/* A plugin refused while loading: the line names the section that asked
 * for it, the plugin and what is wrong. */
static void
load_error(const struct plugin_conf *pc, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_msg(LOG_ERR, "%s:%d: plugin '%s': %s", pc->file, pc->line,
	    pc->name, msg);
}

static int
check_abi(const struct plugin_conf *pc, const struct ehlod_plugin *d)
{
	if (d->abi_major != EHLOD_ABI_MAJOR || d->abi_minor > EHLOD_ABI_MINOR) {
		load_error(pc, "%s was built for ABI %u.%u, this %s has "
		    "ABI %d.%d", pc->path, d->abi_major, d->abi_minor,
		    log_program(), EHLOD_ABI_MAJOR, EHLOD_ABI_MINOR);
		return -1;
	}
	if (d->size < DESCRIPTOR_MIN_SIZE) {
		load_error(pc, "%s has a descriptor of %u bytes, ABI %d.0 "
		    "needs at least %zu", pc->path, d->size, EHLOD_ABI_MAJOR,
		    DESCRIPTOR_MIN_SIZE);
		return -1;
	}
	if (d->name == NULL || !name_valid(d->name)) {
		load_error(pc, "%s: plugin descriptor has no valid name",
		    pc->path);
		return -1;
	}
	return 0;
}

static int
load_one(struct plugin *p, const struct plugin_conf *pc)
{
	const struct ehlod_plugin *d;

	p->path = pc->path;
	p->where = pc;
	if (!name_valid(pc->name)) {
		load_error(pc, "a plugin name may only hold letters, digits, "
		    "'-' and '_'");
		return -1;
	}
	/* A name without a slash would go through dlopen's search path
	 * (LD_LIBRARY_PATH, the cache): the admin's file or none. */
	if (pc->path[0] != '/') {
		load_error(pc, "path must be absolute ('%s' is not), or a "
		    "plugin name to load NAME.so from plugin_dir (or leave it "
		    "out to load %s.so)", pc->path, pc->name);
		return -1;
	}
	if (trust_file(pc->path, "plugin") < 0)
		return -1;
	p->dl = dlopen(pc->path, RTLD_NOW | RTLD_LOCAL);
	if (p->dl == NULL) {
		load_error(pc, "cannot load: %s", dlerror());
		return -1;
	}
	d = dlsym(p->dl, EHLOD_PLUGIN_SYMBOL);
	if (d == NULL) {
		load_error(pc, "%s is not an ehlod plugin: no exported "
		    "symbol '%s' (built with -fvisibility=hidden? put "
		    "EHLOD_PLUGIN_EXPORT in front of the descriptor)",
		    pc->path, EHLOD_PLUGIN_SYMBOL);
		return -1;
	}
	if (check_abi(pc, d) < 0)
		return -1;
	/* Copy only what the plugin has: newer fields stay zero. */
	memset(&p->d, 0, sizeof(p->d));
	memcpy(&p->d, d, d->size < sizeof(p->d) ? d->size : sizeof(p->d));
	p->name = pc->name;
	return 0;
}

static int
check_keyword(const struct plugin *p)
{
	const char *kw = p->d.ehlo_keyword;

	if (kw == NULL)
		return 0;
	if (esmtp_keyword_valid(kw, strlen(kw)))
		return 0;
	load_error(p->where, "%s registers the EHLO keyword '%s', which is "
	    "not valid (RFC 1869: letters, digits and '-')", p->path, kw);
	return -1;
}

/* Counter names become Prometheus metric names (stats.c). */
static int
check_counters(const struct plugin *p)
{
	const struct ehlod_counter *k = p->d.counters;
	size_t n = 0;

	for (; k != NULL && k->name != NULL; k++, n++) {
		size_t len = strlen(k->name);

		if (n == EHLOD_COUNTERS_MAX) {
			load_error(p->where, "%s registers more than %d "
			    "counters", p->path, EHLOD_COUNTERS_MAX);
			return -1;
		}
		if (len == 0 || len > 40 || strspn(k->name, "abcdefghijklmnop"
		    "qrstuvwxyz0123456789_") != len || len < 6 ||
		    strcmp(k->name + len - 6, "_total") != 0) {
			load_error(p->where, "%s: counter name '%s' must be "
			    "lower-case letters, digits and '_', at most 40 "
			    "octets, ending in _total", p->path, k->name);
			return -1;
		}
	}
	return 0;
}

static int
conflict(const struct plugin *a, const struct plugin *b, const char *what,
    const char *name)
{
	load_error(b->where, "%s claims the %s '%s', as plugin '%s' (%s:%d) "
	    "does%s", b->path, what, name, a->name, a->where->file,
	    a->where->line, a->dl == b->dl ? " (a plugin with a keyword, "
	    "verbs or parameters can have only one instance)" : "");
	return -1;
}

static int
params_overlap(const struct ehlod_param *a, const struct ehlod_param *b,
    const char **name)
{
	for (; a && a->keyword; a++)
		for (const struct ehlod_param *q = b; q && q->keyword; q++)
			if (strcasecmp(a->keyword, q->keyword) == 0) {
				*name = a->keyword;
				return 1;
			}
	return 0;
}

static int
verbs_overlap(const struct ehlod_verb *a, const struct ehlod_verb *b,
    const char **name)
{
	for (; a && a->name; a++)
		for (const struct ehlod_verb *q = b; q && q->name; q++)
			if (strcasecmp(a->name, q->name) == 0) {
				*name = a->name;
				return 1;
			}
	return 0;
}

static int
check_core_verbs(const struct plugin *p)
{
	for (const struct ehlod_verb *v = p->d.verbs; v && v->name; v++) {
		if (!esmtp_keyword_valid(v->name, strlen(v->name)) ||
		    v->handler == NULL) {
			load_error(p->where, "%s registers the verb '%s', "
			    "which is not valid (letters, digits and '-', and "
			    "a handler)", p->path, v->name);
			return -1;
		}
		for (size_t i = 0; core_verbs[i]; i++)
			if (strcasecmp(v->name, core_verbs[i]) == 0) {
				load_error(p->where, "%s claims the core verb "
				    "'%s'", p->path, v->name);
				return -1;
			}
	}
	return 0;
}

static int
check_pair(const struct plugin *a, const struct plugin *b)
{
	const char *name;

	if (a->d.ehlo_keyword && b->d.ehlo_keyword &&
	    strcasecmp(a->d.ehlo_keyword, b->d.ehlo_keyword) == 0)
		return conflict(a, b, "EHLO keyword", a->d.ehlo_keyword);
	if (verbs_overlap(a->d.verbs, b->d.verbs, &name))
		return conflict(a, b, "verb", name);
	if (params_overlap(a->d.mail_params, b->d.mail_params, &name))
		return conflict(a, b, "MAIL FROM parameter", name);
	if (params_overlap(a->d.rcpt_params, b->d.rcpt_params, &name))
		return conflict(a, b, "RCPT TO parameter", name);
	return 0;
}

static int
check_claims(struct plugin_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		if (check_keyword(&set->v[i]) < 0 ||
		    check_core_verbs(&set->v[i]) < 0)
			return -1;
		for (size_t j = 0; j < i; j++)
			if (check_pair(&set->v[j], &set->v[i]) < 0)
				return -1;
	}
	return 0;
}

static int
has_option(const struct plugin *p, const char *name)
{
	for (const struct ehlod_option *o = p->d.options; o && o->name; o++)
		if (strcmp(o->name, name) == 0)
			return 1;
	return 0;
}

/* Names the first plugin that registered the option with another type,
 * so that the admin sees which two sections cannot be loaded together. */
static int
option_type_conflict(const struct plugin_set *set, const struct plugin *p,
    const char *name)
{
	const struct plugin *a = set->v;

	while (a < p && !has_option(a, name))
		a++;
	if (a == p) {
		load_error(p->where, "%s registers the option '%s' twice, "
		    "with two types", p->path, name);
		return -1;
	}
	load_error(p->where, "%s registers the option '%s' with another type "
	    "than plugin '%s' (%s:%d) does (every plugin section is read "
	    "with one table of options)", p->path, name, a->name,
	    a->where->file, a->where->line);
	return -1;
}

/* Two plugins may share an option name only with the same type, since
 * every "plugin" section is parsed with one libconfuse table. */
static int
add_union_option(struct plugin_set *set, size_t *n, const struct plugin *p,
    const struct ehlod_option *o)
{
	cfg_opt_t opt;

	if (strcmp(o->name, "path") == 0) {
		load_error(p->where, "%s registers the option 'path', which "
		    "is reserved for the plugin's file", p->path);
		return -1;
	}
	if (options_to_confuse(o, &opt) < 0) {
		load_error(p->where, "%s registers the option '%s' without "
		    "a valid type", p->path, o->name);
		return -1;
	}
	for (size_t i = 0; i < *n; i++) {
		if (strcmp(set->options[i].name, o->name) != 0)
			continue;
		if (set->options[i].type == opt.type &&
		    (set->options[i].flags & CFGF_LIST) ==
		    (opt.flags & CFGF_LIST))
			return 0;
		return option_type_conflict(set, p, o->name);
	}
	set->options[(*n)++] = opt;
	return 0;
}

static int
build_union_options(struct plugin_set *set)
{
	size_t cap = 2;
	size_t n = 0;

	for (size_t i = 0; i < set->n; i++)
		for (const struct ehlod_option *o = set->v[i].d.options;
		    o && o->name; o++)
			cap++;
	set->options = xcalloc(cap, sizeof(cfg_opt_t));
	cfg_opt_t path = CFG_STR("path", NULL, CFGF_NONE);
	set->options[n++] = path;
	for (size_t i = 0; i < set->n; i++)
		for (const struct ehlod_option *o = set->v[i].d.options;
		    o && o->name; o++)
			if (add_union_option(set, &n, &set->v[i], o) < 0)
				return -1;
	cfg_opt_t end = CFG_END();
	set->options[n] = end;
	return 0;
}

/*
 * The second configuration pass: one strict parse of the whole file with
 * the plugins' options, checked as they are read (optiontab.c); then each
 * instance's values, defaults filled in, go into its struct.
 */
static int
read_plugin_options(struct plugin_set *set, struct config *c)
{
	int rc = 0;

	options_begin(set, c->file);
	if (build_union_options(set) < 0 ||
	    config_read_plugins(c, set->options, &set->tree) < 0)
		rc = -1;
	for (size_t i = 0; rc == 0 && i < set->n; i++) {
		struct plugin *p = &set->v[i];
		p->section = cfg_gettsec(set->tree, "plugin", p->name);
		if (options_store(p, p->section, c->file) < 0)
			rc = -1;
	}
	options_begin(NULL, NULL);
	return rc;
}

int
plugins_load(struct plugin_set *set, struct config *c)
{
	memset(set, 0, sizeof(*set));
	set->v = xcalloc(c->nplugins + 1, sizeof(*set->v));
	set->line_limit = 512;
	for (size_t i = 0; i < c->nplugins; i++) {
		struct plugin *p = &set->v[i];
		p->index = i;
		p->ctx.p = p;
		set->n = i + 1;
		if (load_one(p, &c->plugins[i]) < 0 || check_counters(p) < 0)
			return -1;
		set->line_limit += p->d.line_increment;
		if (p->d.session_data_size > 0)
			set->session_slots = i + 1;
		if (p->d.txn_data_size > 0)
			set->txn_slots = i + 1;
	}
	if (check_claims(set) < 0 ||
	    chain_table_build(&set->chains, set, NULL, NULL) < 0)
		return -1;
	return read_plugin_options(set, c);
}

int
plugins_init(struct plugin_set *set, const struct ehlod_host *host)
{
	for (size_t i = 0; i < set->n; i++) {
		struct plugin *p = &set->v[i];
		int rc = p->d.init ? p->d.init(host, &p->ctx) : 0;
		if (rc < 0) {
			log_msg(LOG_ERR, "%s: plugin '%s' failed to start",
			    p->path, p->name);
			plugins_fini(set);
			return -1;
		}
		p->initialized = 1;
	}
	return 0;
}

int
plugins_init_again(struct plugin_set *set, const struct ehlod_host *host)
{
	int rc;

	log_set_errors_only(1);
	rc = plugins_init(set, host);
	log_set_errors_only(0);
	return rc;
}

void
plugins_fini(struct plugin_set *set)
{
	for (size_t i = set->n; i-- > 0;) {
		struct plugin *p = &set->v[i];
		if (!p->initialized)
			continue;
		host_cancel_events(p);
		if (p->d.fini)
			p->d.fini(&p->ctx);
		p->initialized = 0;
	}
}

void
plugins_cancel_events(struct plugin_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->v[i].initialized)
			host_cancel_events(&set->v[i]);
}

void
plugins_unload(struct plugin_set *set)
{
	plugins_fini(set);
	for (size_t i = 0; i < set->n; i++) {
		options_free(&set->v[i]);
		if (set->v[i].dl)
			dlclose(set->v[i].dl);
	}
	if (set->tree)
		cfg_free(set->tree);
	chain_table_free(&set->chains);
	free(set->v);
	free(set->options);
	memset(set, 0, sizeof(*set));
}

struct plugin *
plugins_find_verb(const struct plugin_set *set, const char *verb,
    const struct ehlod_verb **out)
{
	for (size_t i = 0; i < set->n; i++)
		for (const struct ehlod_verb *v = set->v[i].d.verbs;
		    v && v->name; v++)
			if (strcasecmp(v->name, verb) == 0) {
				*out = v;
				return &set->v[i];
			}
	return NULL;
}

struct plugin *
plugins_find_param(const struct plugin_set *set, int rcpt,
    const char *keyword, const struct ehlod_param **out)
{
	for (size_t i = 0; i < set->n; i++) {
		const struct ehlod_param *p = rcpt ? set->v[i].d.rcpt_params :
		    set->v[i].d.mail_params;
		for (; p && p->keyword; p++)
			if (strcasecmp(p->keyword, keyword) == 0) {
				*out = p;
				return &set->v[i];
			}
	}
	return NULL;
}

void
plugins_hook_names(const struct plugin *p, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int st = 0; st < STEP_VERB; st++) {
		if (!step_has_hook(&p->d, (enum step)st))
			continue;
		int n = snprintf(buf + used, len - used, "%s%s",
		    used ? " " : "", step_table[st].name);
		if (n < 0 || (size_t)n >= len - used)
			return;
		used += (size_t)n;
	}
	if (used == 0)
		snprintf(buf, len, "(none)");
}

int
chain_table_build(struct chain_table *t, struct plugin_set *set,
    int (*enabled)(const struct plugin *p, void *arg), void *arg)
{
	memset(t, 0, sizeof(*t));
	for (int st = 0; st < STEP_VERB; st++) {
		if (set->n == 0)
			continue;
		t->by_step[st] = xcalloc(set->n, sizeof(*t->by_step[st]));
		t->link[st] = xcalloc(set->n, sizeof(*t->link[st]));
		for (size_t i = 0; i < set->n; i++) {
			struct plugin *p = &set->v[i];
			if (!step_has_hook(&p->d, (enum step)st))
				continue;
			if (enabled && !enabled(p, arg))
				continue;
			chain_table_add(t, (enum step)st, p, &p->d,
			    p->index * sizeof(struct ehlod_ctx));
		}
	}
	return 0;
}

/* Listener plugin subsets are resolved here, once the set is known. */
static long
plugin_named(const struct plugin_set *set, const char *name)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->v[i].name, name) == 0)
			return (long)i;
	return -1;
}

static int
resolve_one(struct listener *l, const struct plugin_set *set)
{
	l->enabled = xcalloc(set->n + 1, 1);
	for (size_t i = 0; i < set->n; i++)
		l->enabled[i] = l->plugins == NULL;
	for (size_t i = 0; i < l->nplugins; i++) {
		long k = plugin_named(set, l->plugins[i]);
		if (k < 0) {
			listener_error_at(l, LISTENER_OPT_PLUGINS,
			    "plugins: no plugin section '%s'",
			    l->plugins[i]);
			return -1;
		}
		l->enabled[k] = 1;
	}
	for (size_t i = 0; i < set->n; i++) {
		if (!set->v[i].d.tls_context || !l->enabled[i])
			continue;
		/* tls = "none": the plugins that bring TLS stay quiet. */
		if (l->tls == LISTENER_TLS_NONE)
			l->enabled[i] = 0;
		else if (l->tls_plugin < 0)
			l->tls_plugin = (long)i;
	}
	if (l->tls_plugin >= 0 || (!l->require_tls &&
	    l->tls != LISTENER_TLS_IMPLICIT))
		return 0;
	listener_error_at(l, l->require_tls ? LISTENER_OPT_REQUIRE_TLS :
	    LISTENER_OPT_TLS, "%s needs an active plugin that provides TLS "
	    "(starttls)", l->require_tls ? "require_tls" : "tls = \"implicit\"");
	return -1;
}

static int
active_on_listener(const struct plugin *p, void *arg)
{
	const struct listener *l = arg;

	return l->enabled[p->index];
}

int
listeners_resolve(struct config *c, struct plugin_set *set)
{
	for (size_t i = 0; i < c->nlisteners; i++) {
		struct listener *l = &c->listeners[i];

		free(l->enabled);
		l->enabled = NULL;
		chain_table_free(&l->chains);
		l->tls_plugin = -1;
		if (resolve_one(l, set) < 0)
			return -1;
		chain_table_build(&l->chains, set, active_on_listener, l);
	}
	return 0;
}

void *
listener_tls_context(const struct listener *l, const struct plugin_set *set)
{
	struct plugin *p;

	if (l == NULL || l->tls_plugin < 0 || (size_t)l->tls_plugin >= set->n)
		return NULL;
	p = &set->v[l->tls_plugin];
	return p->d.tls_context ? p->d.tls_context(&p->ctx) : NULL;
}
