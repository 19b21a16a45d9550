/*
 * NAME
 *	optiontab.c - plugin option tables: libconfuse options and values
 * DESCRIPTION
 *	Plugins declare their options in an ehlod table (struct
 *	ehlod_option), so that no libconfuse type is part of the plugin
 *	ABI.  Here each entry becomes a libconfuse option without a default:
 *	whatever libconfuse then reports set was written by the admin, so
 *	the validator can check ownership, type, range and the plugin's own
 *	check right where the value is parsed, with its line.  Defaults and
 *	required options are handled once the parse is done, and every value
 *	is stored into the instance's struct at the option's offset.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "include.h"
#include "loader.h"
#include "log.h"
#include "xmalloc.h"

static struct plugin_set *checking;
static const char *checking_file;

static struct plugin *
instance_by_name(const char *name)
{
	for (size_t i = 0; checking && i < checking->n; i++)
		if (strcmp(checking->v[i].name, name) == 0)
			return &checking->v[i];
	return NULL;
}

static const struct ehlod_option *
option_of(const struct plugin *p, const char *name)
{
	for (const struct ehlod_option *o = p->d.options; o && o->name; o++)
		if (strcmp(o->name, name) == 0)
			return o;
	return NULL;
}

static int
option_error(const char *file, int line, const char *instance,
    const char *option, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	/* The line of the expanded text: say which included file it is. */
	include_where(file, line, &file, &line);
	log_msg(LOG_ERR, "%s:%d: plugin '%s': option '%s': %s", file, line,
	    instance, option, why);
	return -1;
}

/* A value as it will be stored, whatever the type. */
union value {
	int b;
	long long i;
	const char *s;
	struct ehlod_list l;
};

/* Memory the instance's values point into, freed after fini. */
static void
keep(struct plugin *p, void *mem)
{
	p->lists = xreallocarray(p->lists, p->nlists + 1, sizeof(*p->lists));
	p->lists[p->nlists++] = mem;
}

static int
range_ok(const struct ehlod_option *o, long long v)
{
	return o->type != EHLOD_OPT_INT || o->min >= o->max ||
	    (v >= o->min && v <= o->max);
}

/* Range and the plugin's check; NULL when the value is good. */
static const char *
judge(const struct ehlod_option *o, const union value *v, char *buf,
    size_t len)
{
	if (!range_ok(o, v->i)) {
		snprintf(buf, len, "%lld is out of range %lld..%lld", v->i,
		    o->min, o->max);
		return buf;
	}
	return o->check ? o->check(v) : NULL;
}

/* The list value of opt: an array the plugin keeps until fini. */
static void
take_list(struct plugin *p, cfg_opt_t *opt, struct ehlod_list *out)
{
	size_t n = cfg_opt_size(opt);
	const char **v = xcalloc(n + 1, sizeof(*v));

	keep(p, v);
	for (size_t i = 0; i < n; i++)
		v[i] = cfg_opt_getnstr(opt, i);
	out->n = n;
	out->v = v;
}

static int
from_confuse(struct plugin *p, const struct ehlod_option *o, cfg_opt_t *opt,
    union value *v)
{
	memset(v, 0, sizeof(*v));
	switch (o->type) {
	case EHLOD_OPT_BOOL: v->b = cfg_opt_getnbool(opt, 0) != 0; return 0;
	case EHLOD_OPT_INT: v->i = cfg_opt_getnint(opt, 0); return 0;
	case EHLOD_OPT_STRING: v->s = cfg_opt_getnstr(opt, 0); return 0;
	case EHLOD_OPT_LIST: take_list(p, opt, &v->l); return 0;
	}
	return -1;
}

static int
validate(cfg_t *sec, cfg_opt_t *opt)
{
	struct plugin *p = instance_by_name(cfg_title(sec));
	const struct ehlod_option *o = p ? option_of(p, opt->name) : NULL;
	const char *file = checking_file ? checking_file : "config";
	union value v;
	char buf[128];
	const char *why;

	if (strcmp(opt->name, "path") == 0)
		return 0;
	if (o == NULL)
		return option_error(file, sec->line, cfg_title(sec), opt->name,
		    "no such option for plugin %s", p ? p->d.name : "?");
	if (from_confuse(p, o, opt, &v) < 0)
		return option_error(file, sec->line, p->name, o->name,
		    "unknown option type %d", (int)o->type);
	why = judge(o, &v, buf, sizeof(buf));
	if (why)
		return option_error(file, sec->line, p->name, o->name, "%s",
		    why);
	return 0;
}

int
options_to_confuse(const struct ehlod_option *o, cfg_opt_t *out)
{
	cfg_opt_t b = CFG_BOOL(o->name, cfg_false, CFGF_NODEFAULT);
	cfg_opt_t i = CFG_INT(o->name, 0, CFGF_NODEFAULT);
	cfg_opt_t s = CFG_STR(o->name, NULL, CFGF_NODEFAULT);
	cfg_opt_t l = CFG_STR_LIST(o->name, NULL, CFGF_NODEFAULT);

	switch (o->type) {
	case EHLOD_OPT_BOOL: *out = b; break;
	case EHLOD_OPT_INT: *out = i; break;
	case EHLOD_OPT_STRING: *out = s; break;
	case EHLOD_OPT_LIST: *out = l; break;
	default: return -1;
	}
	out->validcb = validate;
	return 0;
}

void
options_begin(struct plugin_set *set, const char *file)
{
	checking = set;
	checking_file = file;
}

/* "a, b,c" as a list; the copy and the array live until fini. */
static void
parse_default_list(struct plugin *p, const char *d, struct ehlod_list *out)
{
	char *copy = xstrdup(d);
	const char **v = xcalloc(strlen(d) + 2, sizeof(*v));
	size_t n = 0;

	keep(p, copy);
	keep(p, v);
	for (char *save = NULL, *t = strtok_r(copy, ",", &save); t;
	    t = strtok_r(NULL, ",", &save)) {
		t += strspn(t, " \t");
		for (char *e = t + strlen(t); e > t && (e[-1] == ' ' ||
		    e[-1] == '\t'); e--)
			e[-1] = '\0';
		if (*t)
			v[n++] = t;
	}
	out->n = n;
	out->v = v;
}

/* The default's text as a value of the option's type. */
static int
parse_default(struct plugin *p, const struct ehlod_option *o, union value *v)
{
	const char *d = o->def;
	char *end;

	memset(v, 0, sizeof(*v));
	if (d == NULL)
		return 0;
	switch (o->type) {
	case EHLOD_OPT_BOOL:
		if (!strcasecmp(d, "yes") || !strcasecmp(d, "true") ||
		    !strcasecmp(d, "on") || !strcmp(d, "1"))
			v->b = 1;
		else if (strcasecmp(d, "no") && strcasecmp(d, "false") &&
		    strcasecmp(d, "off") && strcmp(d, "0"))
			return -1;
		return 0;
	case EHLOD_OPT_INT:
		errno = 0;
		v->i = strtoll(d, &end, 0);
		return errno || end == d || *end ? -1 : 0;
	case EHLOD_OPT_STRING:
		v->s = d;
		return 0;
	case EHLOD_OPT_LIST:
		parse_default_list(p, d, &v->l);
		return 0;
	}
	return -1;
}

static void
store(void *conf, const struct ehlod_option *o, const union value *v)
{
	char *at = (char *)conf + o->offset;

	switch (o->type) {
	case EHLOD_OPT_BOOL: memcpy(at, &v->b, sizeof(v->b)); break;
	case EHLOD_OPT_INT: memcpy(at, &v->i, sizeof(v->i)); break;
	case EHLOD_OPT_STRING: memcpy(at, &v->s, sizeof(v->s)); break;
	case EHLOD_OPT_LIST: memcpy(at, &v->l, sizeof(v->l)); break;
	}
}

static size_t
value_size(const struct ehlod_option *o)
{
	switch (o->type) {
	case EHLOD_OPT_BOOL: return sizeof(int);
	case EHLOD_OPT_INT: return sizeof(long long);
	case EHLOD_OPT_STRING: return sizeof(const char *);
	case EHLOD_OPT_LIST: return sizeof(struct ehlod_list);
	}
	return 0;
}

/* One option's value for instance p: the admin's, else the default. */
static int
store_one(struct plugin *p, const struct ehlod_option *o, cfg_t *sec,
    const char *file)
{
	cfg_opt_t *opt = sec ? cfg_getopt(sec, o->name) : NULL;
	int line = sec ? config_section_line("plugin", p->name, sec->line) :
	    0;
	union value v;
	char buf[128];
	const char *why;

	if (value_size(o) == 0 || o->offset + value_size(o) >
	    p->d.instance_size) {
		log_msg(LOG_ERR, "%s: option '%s' of plugin %s lies outside "
		    "its instance_size", p->path, o->name, p->d.name);
		return -1;
	}
	if (opt && (opt->flags & CFGF_MODIFIED) && cfg_opt_size(opt) > 0) {
		if (from_confuse(p, o, opt, &v) < 0)
			return -1;
		store(p->conf, o, &v);
		return 0;
	}
	if (opt && (opt->flags & CFGF_MODIFIED) && o->type == EHLOD_OPT_LIST) {
		memset(&v, 0, sizeof(v));
		store(p->conf, o, &v);
		return 0;
	}
	if (o->flags & EHLOD_OPT_REQUIRED)
		return option_error(file, line, p->name, o->name,
		    "required, but not set");
	if (parse_default(p, o, &v) < 0) {
		log_msg(LOG_ERR, "%s: plugin %s: option '%s' has a default "
		    "that is not a valid %s", p->path, p->d.name, o->name,
		    o->type == EHLOD_OPT_BOOL ? "boolean" : "value");
		return -1;
	}
	if (o->def && (why = judge(o, &v, buf, sizeof(buf))) != NULL)
		return option_error(file, line, p->name, o->name,
		    "default refused: %s", why);
	store(p->conf, o, &v);
	return 0;
}

int
options_store(struct plugin *p, cfg_t *sec, const char *file)
{
	free(p->conf);
	p->conf = xcalloc(1, p->d.instance_size ? p->d.instance_size : 1);
	for (const struct ehlod_option *o = p->d.options; o && o->name; o++)
		if (store_one(p, o, sec, file) < 0)
			return -1;
	return 0;
}

void
options_free(struct plugin *p)
{
	for (size_t i = 0; i < p->nlists; i++)
		free(p->lists[i]);
	free(p->lists);
	free(p->conf);
	p->lists = NULL;
	p->nlists = 0;
	p->conf = NULL;
}
