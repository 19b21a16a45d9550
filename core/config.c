/*
 * NAME
 *	config.c - the server's configuration file
 * DESCRIPTION
 *	Implements config.h.  Every value is checked here, once, so the rest
 *	of the server can trust struct config; every error names the file
 *	and the line, through libconfuse's error function.
 * SEE ALSO
 *	ehlod.conf(5), every option and its default
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "address.h"
#include "config.h"
#include "config_scan.h"
#include "include.h"
#include "listener.h"
#include "log.h"
#include "trust.h"
#include "netaddr.h"
#include "xmalloc.h"

#ifndef PLUGINDIR
#define PLUGINDIR "/usr/local/lib/ehlod/plugins"
#endif

/* The file being parsed: libconfuse parses our cleaned copy from memory
 * and does not know its name. */
static const char *parsing_file;

static void
config_error(cfg_t *cfg, const char *fmt, va_list ap)
{
	char msg[512];
	const char *file;
	int line;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* The parser sees the text with its includes expanded. */
	include_where(parsing_file ? parsing_file : "config", cfg ? cfg->line :
	    0, &file, &line);
	log_msg(LOG_ERR, "%s:%d: %s%s", file, line, msg,
	    strcmp(fmt, "found duplicate title '%s'") == 0 ?
	    " (two sections of a kind need two names; to load a plugin "
	    "twice, name the second section differently and give it path = "
	    "\"PLUGIN\")" : "");
}

enum scan_state { SC_CODE, SC_DQUOTE, SC_SQUOTE, SC_LINE_COMMENT,
	SC_BLOCK_COMMENT };

/*
 * libconfuse 3.3 counts the lines of comments more than once, so errors
 * after a comment name the wrong line.  The parser is therefore given a
 * copy with every comment blanked out (newlines kept).  The same pass
 * finds a section left open at the end of the file, which libconfuse
 * accepts silently, and a quoted string left open, which it accepts too
 * but which leaves its scanner inside the string, so that the next
 * cfg_init() (the strict pass) aborts the process.
 */
/* libconfuse reads "${...}" (config_env_reference) in a double-quoted
 * string or where a bare word may start; inside a bare word ("a$") the
 * '$' is the word's. */
static int
clean_source(char *text, const char *file)
{
	enum scan_state st = SC_CODE;
	int line = 1, depth = 0, open_line[64] = { 0 }, quote_line = 0;
	const char *env_end;

	for (char *p = text; *p; p++) {
		if (*p == '\n')
			line++;
		switch (st) {
		case SC_CODE:
			if ((p == text || strchr(CONFIG_WORD_ENDS, p[-1])) &&
			    (env_end = config_env_reference(p, &line)) != NULL) {
				p = (char *)env_end;
				break;
			}
			if (*p == '"' || *p == '\'')
				quote_line = line;
			if (*p == '"')
				st = SC_DQUOTE;
			else if (*p == '\'')
				st = SC_SQUOTE;
			else if (*p == '#' || (p[0] == '/' && p[1] == '/'))
				st = SC_LINE_COMMENT;
			else if (p[0] == '/' && p[1] == '*') {
				st = SC_BLOCK_COMMENT;
				*p++ = ' ';
			} else if (*p == '{') {
				if (depth < 64)
					open_line[depth] = line;
				depth++;
			} else if (*p == '}' && depth > 0)
				depth--;
			if (st == SC_LINE_COMMENT || st == SC_BLOCK_COMMENT)
				*p = ' ';
			break;
		case SC_DQUOTE:
		case SC_SQUOTE:
			if (*p == '\\' && p[1] && p[1] != '\n')
				p++;
			else if (st == SC_DQUOTE &&
			    (env_end = config_env_reference(p, &line)) != NULL)
				p = (char *)env_end;
			else if (*p == (st == SC_DQUOTE ? '"' : '\''))
				st = SC_CODE;
			break;
		case SC_LINE_COMMENT:
			if (*p == '\n')
				st = SC_CODE;
			else
				*p = ' ';
			break;
		case SC_BLOCK_COMMENT:
			if (p[0] == '*' && p[1] == '/') {
				*p++ = ' ';
				*p = ' ';
				st = SC_CODE;
			} else if (*p != '\n')
				*p = ' ';
			break;
		}
	}
	if (st == SC_DQUOTE || st == SC_SQUOTE) {
		log_msg(LOG_ERR, "%s:%d: quoted string opened here is not "
		    "closed", file, quote_line);
		return -1;
	}
	if (depth == 0)
		return 0;
	log_msg(LOG_ERR, "%s:%d: section opened here is not closed", file,
	    open_line[depth <= 64 ? depth - 1 : 63]);
	return -1;
}

static char *
read_source(const char *file)
{
	FILE *fp = fopen(file, "r");
	char *text = NULL;
	size_t len = 0;

	if (fp == NULL) {
		log_msg(LOG_ERR, "%s: cannot read: %s", file, strerror(errno));
		return NULL;
	}
	FILE *mem = open_memstream(&text, &len);
	char buf[8192];
	size_t n;
	while (mem && (n = fread(buf, 1, sizeof(buf), fp)) > 0)
		fwrite(buf, 1, n, mem);
	int bad = ferror(fp);
	fclose(fp);
	if (mem == NULL || fclose(mem) != 0 || bad) {
		log_msg(LOG_ERR, "%s: cannot read: %s", file, strerror(errno));
		free(text);
		return NULL;
	}
	if (memchr(text, '\0', len)) {
		log_msg(LOG_ERR, "%s: not a text file", file);
		free(text);
		return NULL;
	}
	if (clean_source(text, file) < 0) {
		free(text);
		return NULL;
	}
	return text;
}

static int
check_positive(cfg_t *cfg, cfg_opt_t *opt)
{
	long v = cfg_opt_getnint(opt, cfg_opt_size(opt) - 1);

	if (v > 0)
		return 0;
	cfg_error(cfg, "option '%s' must be greater than 0", opt->name);
	return -1;
}

static int
check_not_negative(cfg_t *cfg, cfg_opt_t *opt)
{
	long v = cfg_opt_getnint(opt, cfg_opt_size(opt) - 1);

	if (v >= 0)
		return 0;
	cfg_error(cfg, "option '%s' must not be negative", opt->name);
	return -1;
}

static int
check_absolute(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = cfg_opt_getnstr(opt, 0);

	if (v == NULL || v[0] == '\0' || v[0] == '/')
		return 0;
	cfg_error(cfg, "option '%s' must be an absolute path", opt->name);
	return -1;
}

/* Large messages go there (message.c): a directory that is missing or
 * is not one would refuse every one of them with 452 at run time. */
static int
check_spool_directory(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = cfg_opt_getnstr(opt, 0);
	struct stat st;

	if (check_absolute(cfg, opt) < 0)
		return -1;
	if (v == NULL || v[0] == '\0') {
		cfg_error(cfg, "option 'spool_directory' must not be empty");
		return -1;
	}
	if (stat(v, &st) < 0) {
		cfg_error(cfg, "option 'spool_directory': %s: %s", v,
		    strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		cfg_error(cfg, "option 'spool_directory': %s is not a "
		    "directory", v);
		return -1;
	}
	return 0;
}

/* Workers parse what every client sends: never as root (uid 0). */
static int
check_user(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = cfg_opt_getnstr(opt, 0);
	struct passwd *pw = v ? getpwnam(v) : NULL;

	if (v && strcmp(v, "root") != 0 && (pw == NULL || pw->pw_uid != 0))
		return 0;
	cfg_error(cfg, "option 'user' must not be root (uid 0): workers "
	    "serve clients; create a system user for them (ehlod(8))");
	return -1;
}

static int
check_second_ehlo(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = cfg_opt_getnstr(opt, 0);

	if (strcmp(v, "reset") == 0 || strcmp(v, "refuse") == 0)
		return 0;
	cfg_error(cfg, "option 'second_ehlo' must be \"reset\" or \"refuse\"");
	return -1;
}

static int
check_facility(cfg_t *cfg, cfg_opt_t *opt)
{
	if (log_facility(cfg_opt_getnstr(opt, 0)) >= 0)
		return 0;
	cfg_error(cfg, "unknown syslog facility '%s'", cfg_opt_getnstr(opt, 0));
	return -1;
}


static int
check_listen(cfg_t *cfg, cfg_opt_t *opt)
{
	for (unsigned i = 0; i < cfg_opt_size(opt); i++) {
		struct listen_addr a = { 0 };
		int bad = listen_split(cfg_opt_getnstr(opt, i), &a);
		free(a.host);
		free(a.port);
		if (bad) {
			cfg_error(cfg, "listen: '%s' is not ADDR:PORT or "
			    "[IPV6]:PORT", cfg_opt_getnstr(opt, i));
			return -1;
		}
	}
	if (cfg_opt_size(opt) > 0)
		return 0;
	cfg_error(cfg, "listen: at least one address is needed");
	return -1;
}

/* The line proxy_protocol was set at, for a check that needs the whole
 * file (proxy_trusted may follow it). */
static int proxy_protocol_line;

static int
note_proxy_protocol(cfg_t *cfg, cfg_opt_t *opt)
{
	(void)opt;
	proxy_protocol_line = cfg->line;
	return 0;
}

/* libmilter's socket forms: "inet:PORT@HOST", "inet6:...", "unix:PATH"
 * ("local:" is the same); checked here so a typo is a config error with
 * a line number, not a failure inside smfi_main(). */
static int
check_milter_socket(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = cfg_opt_getnstr(opt, 0);
	static const char *const kinds[] = { "inet:", "inet6:", "unix:",
	    "local:", NULL };

	for (size_t i = 0; v && kinds[i]; i++)
		if (strncmp(v, kinds[i], strlen(kinds[i])) == 0 &&
		    v[strlen(kinds[i])] != '\0')
			return 0;
	cfg_error(cfg, "milter_socket: '%s' is not inet:PORT@HOST, "
	    "inet6:PORT@HOST or unix:PATH", v ? v : "");
	return -1;
}

/* A group that does not exist would only show when the milter starts
 * (the socket left to the run user's group, the MTA refused): here it is
 * an error with a line number. */
static int
check_socket_group(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = cfg_opt_getnstr(opt, 0);

	if (v != NULL && v[0] != '\0' && getgrnam(v) != NULL)
		return 0;
	cfg_error(cfg, "milter_socket_group: no group '%s' on this system",
	    v ? v : "");
	return -1;
}

/* Checked here so that a typo is an error with a line number, not a
 * proxy that is silently never trusted. */
static int
check_proxy_trusted(cfg_t *cfg, cfg_opt_t *opt)
{
	struct proxy_net net;

	for (unsigned i = 0; i < cfg_opt_size(opt); i++) {
		if (proxy_net_parse(cfg_opt_getnstr(opt, i), &net) == 0)
			continue;
		cfg_error(cfg, "%s: '%s' is not an IP address or "
		    "ADDRESS/BITS", opt->name, cfg_opt_getnstr(opt, i));
		return -1;
	}
	return 0;
}

static int
check_listener_tls(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = cfg_opt_getnstr(opt, 0);

	if (!strcmp(v, "starttls") || !strcmp(v, "implicit") ||
	    !strcmp(v, "none"))
		return 0;
	cfg_error(cfg, "option 'tls' must be \"starttls\", \"implicit\" or "
	    "\"none\"");
	return -1;
}

/* The top level's listen is the default listener's: its line is noted
 * as a section's is, for the errors of binding it. */
static int
top_listen_read(cfg_t *cfg, cfg_opt_t *opt)
{
	int rc = check_listen(cfg, opt);

	if (rc == 0)
		listener_note_line(cfg, opt->name, cfg->line);
	return rc;
}

/* A listener section's values are checked as the top level's are, and
 * each one's line is noted for errors found once the section is whole
 * (libconfuse runs this as each option is read, at its line). */
static int
listener_option_read(cfg_t *sec, cfg_opt_t *opt)
{
	int rc = 0;

	if (!strcmp(opt->name, "listen"))
		rc = check_listen(sec, opt);
	else if (!strcmp(opt->name, "relay_networks"))
		rc = check_proxy_trusted(sec, opt);
	else if (!strcmp(opt->name, "tls"))
		rc = check_listener_tls(sec, opt);
	if (rc == 0)
		listener_note_line(sec, opt->name, sec->line);
	return rc;
}

static void
listener_checks(cfg_opt_t *o)
{
	for (; o && o->name; o++)
		o->validcb = listener_option_read;
}

static cfg_opt_t pass1_plugin_opts[] = {
	CFG_STR("path", NULL, CFGF_NONE),
	CFG_STR("__unknown", NULL, CFGF_NONE),
	CFG_END()
};

/* The core options; "plugin" is patched in per pass. */
static void
core_options(cfg_opt_t *out, size_t n, cfg_opt_t *plugin_opts, int pass2)
{
	cfg_opt_t opts[] = {
		CFG_STR_LIST("listen", "{\"127.0.0.1:2525\"}", CFGF_NONE),
		CFG_STR("hostname", NULL, CFGF_NONE),
		CFG_STR_LIST("local_domains", "{localhost}", CFGF_NONE),
		CFG_INT("max_recipients", 100, CFGF_NONE),
		CFG_INT("workers", 0, CFGF_NONE),
		CFG_STR("user", "nobody", CFGF_NONE),
		CFG_STR("pid_file", "", CFGF_NONE),
		CFG_STR("status_socket", "", CFGF_NONE),
		CFG_STR("plugin_dir", PLUGINDIR, CFGF_NONE),
		CFG_INT("message_size_limit", 52428800, CFGF_NONE),
		CFG_INT("spool_threshold", 262144, CFGF_NONE),
		CFG_STR("spool_directory", "/var/tmp", CFGF_NONE),
		CFG_STR("second_ehlo", "reset", CFGF_NONE),
		CFG_INT("command_timeout", 300, CFGF_NONE),
		CFG_INT("data_timeout", 300, CFGF_NONE),
		CFG_INT("min_data_rate", 500, CFGF_NONE),
		CFG_INT("greet_pause", 0, CFGF_NONE),
		CFG_INT("max_errors", 20, CFGF_NONE),
		CFG_INT("max_sessions", 1000, CFGF_NONE),
		CFG_INT("max_sessions_per_worker", 0, CFGF_NONE),
		CFG_INT("max_sessions_per_client", 50, CFGF_NONE),
		CFG_INT("max_connect_rate", 0, CFGF_NONE),
		CFG_INT("max_auth_failure_rate", 0, CFGF_NONE),
		CFG_BOOL("syslog", cfg_false, CFGF_NONE),
		CFG_STR("syslog_facility", "mail", CFGF_NONE),
		CFG_STR("syslog_name", "ehlod", CFGF_NONE),
		CFG_BOOL("debug", cfg_false, CFGF_NONE),
		CFG_BOOL("proxy_protocol", cfg_false, CFGF_NONE),
		CFG_STR_LIST("proxy_trusted", "{\"127.0.0.1\", \"::1\"}",
		    CFGF_NONE),
		CFG_STR_LIST("xforward_trusted", "{}", CFGF_NONE),
		CFG_STR_LIST("relay_networks", "{}", CFGF_NONE),
		CFG_SEC("listener", listener_options(),
		    CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
		CFG_STR("milter_socket", NULL, CFGF_NONE),
		CFG_STR("milter_socket_group", NULL, CFGF_NONE),
		CFG_INT("milter_timeout", 7210, CFGF_NONE),
		CFG_INT("milter_hook_timeout", 25, CFGF_NONE),
		CFG_SEC("plugin", plugin_opts,
		    CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
		CFG_END()
	};
	(void)pass2;
	if (n < sizeof(opts) / sizeof(opts[0]))
		abort();
	memcpy(out, opts, sizeof(opts));
	for (cfg_opt_t *o = out; o->name; o++) {
		if (!strcmp(o->name, "listen"))
			o->validcb = top_listen_read;
		else if (!strcmp(o->name, "max_recipients") ||
		    !strcmp(o->name, "message_size_limit") ||
		    !strcmp(o->name, "spool_threshold") ||
		    !strcmp(o->name, "command_timeout") ||
		    !strcmp(o->name, "data_timeout") ||
		    !strcmp(o->name, "min_data_rate") ||
		    !strcmp(o->name, "max_errors") ||
		    !strcmp(o->name, "milter_timeout") ||
		    !strcmp(o->name, "milter_hook_timeout"))
			o->validcb = check_positive;
		else if (!strcmp(o->name, "milter_socket"))
			o->validcb = check_milter_socket;
		else if (!strcmp(o->name, "milter_socket_group"))
			o->validcb = check_socket_group;
		else if (!strcmp(o->name, "workers") ||
		    !strcmp(o->name, "greet_pause") ||
		    !strncmp(o->name, "max_sessions", 12) ||
		    !strcmp(o->name, "max_connect_rate") ||
		    !strcmp(o->name, "max_auth_failure_rate"))
			o->validcb = check_not_negative;
		else if (!strcmp(o->name, "second_ehlo"))
			o->validcb = check_second_ehlo;
		else if (!strcmp(o->name, "user"))
			o->validcb = check_user;
		else if (!strcmp(o->name, "pid_file") ||
		    !strcmp(o->name, "status_socket") ||
		    !strcmp(o->name, "plugin_dir"))
			o->validcb = check_absolute;
		else if (!strcmp(o->name, "syslog_facility"))
			o->validcb = check_facility;
		else if (!strcmp(o->name, "spool_directory"))
			o->validcb = check_spool_directory;
		else if (!strcmp(o->name, "proxy_trusted") ||
		    !strcmp(o->name, "xforward_trusted") ||
		    !strcmp(o->name, "relay_networks"))
			o->validcb = check_proxy_trusted;
		else if (!strcmp(o->name, "proxy_protocol"))
			o->validcb = note_proxy_protocol;
		else if (!strcmp(o->name, "listener"))
			listener_checks(o->subopts);
	}
}

/* What the last parse's text says that libconfuse does not keep; kept
 * until the next parse, for the errors found once the tree is read. */
static struct config_scan last_scan;

static cfg_t *
parse(const char *file, cfg_opt_t *plugin_opts, int flags)
{
	cfg_opt_t opts[64];
	cfg_t *cfg;

	core_options(opts, sizeof(opts) / sizeof(opts[0]), plugin_opts, 0);
	char *text = include_expand(file, read_source);
	if (text == NULL)
		return NULL;
	cfg = cfg_init(opts, flags);
	if (cfg == NULL) {
		log_msg(LOG_ERR, "%s: out of memory", file);
		free(text);
		return NULL;
	}
	cfg_set_error_function(cfg, config_error);
	listener_lines_reset();
	config_scan_free(&last_scan);
	config_scan(&last_scan, text);
	parsing_file = file;
	int rc = cfg_parse_buf(cfg, text);
	parsing_file = NULL;
	free(text);
	if (rc == CFG_SUCCESS)
		return cfg;
	log_msg(LOG_ERR, "%s: configuration not valid", file);
	cfg_free(cfg);
	return NULL;
}

static char *
default_hostname(void)
{
	char name[256];

	if (gethostname(name, sizeof(name) - 1) < 0)
		return xstrdup("localhost");
	name[sizeof(name) - 1] = '\0';
	return xstrdup(name);
}

static int
take_core_values(struct config *c, cfg_t *cfg)
{
	const char *h = cfg_getstr(cfg, "hostname");
	c->hostname = h ? xstrdup(h) : default_hostname();
	c->nlocal_domains = cfg_size(cfg, "local_domains");
	c->local_domains = xcalloc(c->nlocal_domains + 1, sizeof(char *));
	for (size_t i = 0; i < c->nlocal_domains; i++)
		c->local_domains[i] = xstrdup(cfg_getnstr(cfg, "local_domains",
		    i));
	c->max_recipients = cfg_getint(cfg, "max_recipients");
	c->workers = cfg_getint(cfg, "workers");
	if (c->workers == 0)
		c->workers = sysconf(_SC_NPROCESSORS_ONLN) > 0 ?
		    sysconf(_SC_NPROCESSORS_ONLN) : 1;
	c->user = xstrdup(cfg_getstr(cfg, "user"));
	c->pid_file = xstrdup(cfg_getstr(cfg, "pid_file"));
	c->status_socket = xstrdup(cfg_getstr(cfg, "status_socket"));
	c->plugin_dir = xstrdup(cfg_getstr(cfg, "plugin_dir"));
	c->message_size_limit = (size_t)cfg_getint(cfg, "message_size_limit");
	c->spool_threshold = (size_t)cfg_getint(cfg, "spool_threshold");
	c->spool_directory = xstrdup(cfg_getstr(cfg, "spool_directory"));
	c->second_ehlo = strcmp(cfg_getstr(cfg, "second_ehlo"), "refuse") ?
	    SECOND_EHLO_RESET : SECOND_EHLO_REFUSE;
	c->command_timeout = cfg_getint(cfg, "command_timeout");
	c->data_timeout = cfg_getint(cfg, "data_timeout");
	c->min_data_rate = cfg_getint(cfg, "min_data_rate");
	c->greet_pause = cfg_getint(cfg, "greet_pause");
	c->max_errors = cfg_getint(cfg, "max_errors");
	c->max_sessions = cfg_getint(cfg, "max_sessions");
	c->max_sessions_per_worker = cfg_getint(cfg,
	    "max_sessions_per_worker");
	c->max_sessions_per_client = cfg_getint(cfg,
	    "max_sessions_per_client");
	c->max_connect_rate = cfg_getint(cfg, "max_connect_rate");
	c->max_auth_failure_rate = cfg_getint(cfg, "max_auth_failure_rate");
	c->use_syslog = cfg_getbool(cfg, "syslog");
	c->syslog_facility = log_facility(cfg_getstr(cfg, "syslog_facility"));
	c->syslog_name = xstrdup(cfg_getstr(cfg, "syslog_name"));
	c->debug = cfg_getbool(cfg, "debug");
	c->proxy_protocol = cfg_getbool(cfg, "proxy_protocol");
	c->nxforward_trusted = cfg_size(cfg, "xforward_trusted");
	c->xforward_trusted = xcalloc(c->nxforward_trusted + 1,
	    sizeof(*c->xforward_trusted));
	for (size_t i = 0; i < c->nxforward_trusted; i++)
		if (proxy_net_parse(cfg_getnstr(cfg, "xforward_trusted", i),
		    &c->xforward_trusted[i]) < 0)
			return -1;
	c->nproxy_trusted = cfg_size(cfg, "proxy_trusted");
	c->proxy_trusted = xcalloc(c->nproxy_trusted + 1,
	    sizeof(*c->proxy_trusted));
	for (size_t i = 0; i < c->nproxy_trusted; i++)
		if (proxy_net_parse(cfg_getnstr(cfg, "proxy_trusted", i),
		    &c->proxy_trusted[i]) < 0)
			return -1;
	h = cfg_getstr(cfg, "milter_socket");
	c->milter_socket = h ? xstrdup(h) : NULL;
	h = cfg_getstr(cfg, "milter_socket_group");
	c->milter_socket_group = h ? xstrdup(h) : NULL;
	c->milter_timeout = cfg_getint(cfg, "milter_timeout");
	c->milter_hook_timeout = cfg_getint(cfg, "milter_hook_timeout");
	return 0;
}

/* A bare plugin name: letters, digits, '-' and '_'. */
static int
plugin_name_only(const char *path)
{
	return path[0] != '\0' && strspn(path, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == strlen(path);
}

static void
take_plugin_names(struct config *c, cfg_t *cfg)
{
	c->nplugins = cfg_size(cfg, "plugin");
	c->plugins = xcalloc(c->nplugins + 1, sizeof(*c->plugins));
	for (size_t i = 0; i < c->nplugins; i++) {
		cfg_t *sec = cfg_getnsec(cfg, "plugin", i);
		const char *path = cfg_getstr(sec, "path");
		struct plugin_conf *p = &c->plugins[i];
		const char *file;
		p->name = xstrdup(cfg_title(sec));
		include_where(c->file, config_scan_section_line(&last_scan,
		    "plugin", p->name, sec->line), &file, &p->line);
		p->file = xstrdup(file);
		/* Without a '/', path names a plugin of plugin_dir: the way
		 * to configure one plugin as several instances. */
		if (path && !plugin_name_only(path))
			p->path = xstrdup(path);
		else
			p->path = xasprintf("%s/%s.so", c->plugin_dir,
			    path ? path : p->name);
	}
}

static int
take_listeners(struct config *c)
{
	struct listener_list l = { .file = c->file, .scan = &last_scan };
	int rc = listeners_read(&l, c->cfg);

	listener_lines_reset();
	c->listen = l.listen;
	c->nlisten = l.nlisten;
	c->listeners = l.listeners;
	c->nlisteners = l.nlisteners;
	return rc;
}

int
config_read(const char *file, struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->file = xstrdup(file);
	if (trust_file(file, "configuration file") < 0)
		return -1;
	c->cfg = parse(file, pass1_plugin_opts, CFGF_IGNORE_UNKNOWN);
	if (c->cfg == NULL)
		return -1;
	if (take_core_values(c, c->cfg) < 0) {
		/* The networks were checked while parsing: not reached. */
		log_msg(LOG_ERR, "%s: cannot take a trusted network list",
		    file);
		return -1;
	}
	if (c->proxy_protocol && c->nproxy_trusted == 0) {
		const char *where;
		int line;

		include_where(file, proxy_protocol_line, &where, &line);
		log_msg(LOG_ERR, "%s:%d: proxy_protocol is on and "
		    "proxy_trusted is empty: every connection would be "
		    "closed", where, line);
		return -1;
	}
	if (take_listeners(c) < 0)
		return -1;
	take_plugin_names(c, c->cfg);
	return 0;
}

int
config_read_plugins(struct config *c, cfg_opt_t *plugin_opts, cfg_t **tree)
{
	*tree = parse(c->file, plugin_opts, CFGF_NONE);
	listener_lines_reset();	/* the listeners were taken in pass 1 */
	return *tree ? 0 : -1;
}

int
config_section_line(const char *kind, const char *title, int fallback)
{
	return config_scan_section_line(&last_scan, kind, title, fallback);
}

void
config_free(struct config *c)
{
	struct listener_list l = { .listen = c->listen, .nlisten = c->nlisten,
	    .listeners = c->listeners, .nlisteners = c->nlisteners };

	listeners_free(&l);
	c->listen = NULL;
	c->listeners = NULL;
	for (size_t i = 0; i < c->nlocal_domains; i++)
		free(c->local_domains[i]);
	free(c->local_domains);
	for (size_t i = 0; i < c->nplugins; i++) {
		free(c->plugins[i].name);
		free(c->plugins[i].path);
		free(c->plugins[i].file);
	}
	free(c->plugins);
	free(c->hostname);
	free(c->user);
	free(c->pid_file);
	free(c->spool_directory);
	free(c->status_socket);
	free(c->plugin_dir);
	free(c->syslog_name);
	free(c->milter_socket);
	free(c->milter_socket_group);
	free(c->proxy_trusted);
	free(c->xforward_trusted);
	free(c->file);
	if (c->cfg)
		cfg_free(c->cfg);
	memset(c, 0, sizeof(*c));
}

int
config_is_local_domain(const struct config *c, const char *domain)
{
	for (size_t i = 0; i < c->nlocal_domains; i++)
		if (address_domain_matches(domain, c->local_domains[i]))
			return 1;
	return 0;
}
