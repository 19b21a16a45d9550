/*
 * NAME
 *	test_config - unit tests of the configuration file (core/config.c)
 * DESCRIPTION
 *	Values and defaults of the core options, listen address parsing
 *	(IPv4, [IPv6], ranges), plugin sections and their resolved paths,
 *	local domain matching, and the errors: each names the file and the
 *	line (misspelled option in the strict pass, bad values, duplicate
 *	plugin sections, syntax errors, a file that cannot be read).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../core/config.h"
#include "../../core/config_scan.h"
#include "../../core/listener.h"
#include "../../core/log.h"
#include "test_capture.h"

/* The plugin section options of a strict pass without plugins. */
static cfg_opt_t no_plugin_opts[] = {
	CFG_STR("path", NULL, CFGF_NONE),
	CFG_END()
};

/* Read text as a config (pass 1, then the strict pass 2). Returns the
 * result; *log receives what was logged, *path the file's name. */
static int
read_text(const char *text, struct config *c, char **log, char **path)
{
	struct capture cap;
	cfg_t *tree = NULL;
	int rc;

	*path = write_temp(text);
	capture_begin(&cap);
	rc = config_read(*path, c);
	if (rc == 0 && c->nplugins == 0) {
		rc = config_read_plugins(c, no_plugin_opts, &tree);
		if (tree)
			cfg_free(tree);
	}
	*log = capture_end(&cap);
	return rc;
}

/* The config must fail and the log must name file and line. */
static void
expect_error(const char *text, int line, const char *needle)
{
	struct config c;
	char *log, *path, want[300];

	ck_assert_msg(read_text(text, &c, &log, &path) < 0,
	    "accepted:\n%s", text);
	snprintf(want, sizeof(want), "%s:%d", path, line);
	ck_assert_msg(strstr(log, want) != NULL, "'%s' not in log: %s", want,
	    log);
	if (needle)
		ck_assert_msg(strstr(log, needle) != NULL, "'%s' not in: %s",
		    needle, log);
	config_free(&c);
	unlink(path);
	free(path);
	free(log);
}

START_TEST(values)
{
	struct config c;
	char *log, *path;
	const char *text =
	    "listen = {\"127.0.0.1:2525\", \"[::1]:25\", \"*:587\"}\n"
	    "hostname = \"mx.test\"\n"
	    "local_domains = {\"example.org\", \".example.net\"}\n"
	    "max_recipients = 7\n"
	    "workers = 3\n"
	    "user = \"mail\"\n"
	    "plugin_dir = \"/opt/p\"\n"
	    "message_size_limit = 1234\n"
	    "second_ehlo = \"refuse\"\n"
	    "command_timeout = 11\n"
	    "data_timeout = 12\n"
	    "max_errors = 13\n";

	ck_assert_int_eq(read_text(text, &c, &log, &path), 0);
	ck_assert_uint_eq(c.nlisten, 3);
	ck_assert_str_eq(c.listen[0].host, "127.0.0.1");
	ck_assert_str_eq(c.listen[0].port, "2525");
	ck_assert_str_eq(c.listen[1].host, "::1");
	ck_assert_str_eq(c.listen[1].port, "25");
	ck_assert_str_eq(c.listen[2].host, "*");
	ck_assert_str_eq(c.hostname, "mx.test");
	ck_assert_uint_eq(c.nlocal_domains, 2);
	ck_assert_int_eq(c.max_recipients, 7);
	ck_assert_int_eq(c.workers, 3);
	ck_assert_str_eq(c.user, "mail");
	ck_assert_str_eq(c.plugin_dir, "/opt/p");
	ck_assert_uint_eq(c.message_size_limit, 1234);
	ck_assert_int_eq(c.second_ehlo, SECOND_EHLO_REFUSE);
	ck_assert_int_eq(c.command_timeout, 11);
	ck_assert_int_eq(c.data_timeout, 12);
	ck_assert_int_eq(c.max_errors, 13);
	config_free(&c);
	unlink(path);
	free(path);
	free(log);
}
END_TEST

START_TEST(defaults)
{
	struct config c;
	char *log, *path;

	ck_assert_int_eq(read_text("# nothing\n", &c, &log, &path), 0);
	ck_assert_uint_eq(c.nlisten, 1);
	ck_assert_str_eq(c.listen[0].port, "2525");
	ck_assert_str_eq(c.user, "nobody");
	ck_assert_int_eq(c.max_recipients, 100);
	ck_assert_uint_eq(c.message_size_limit, 52428800);
	ck_assert_int_eq(c.second_ehlo, SECOND_EHLO_RESET);
	ck_assert_int_eq(c.command_timeout, 300);
	ck_assert_int_gt(c.workers, 0);
	ck_assert_ptr_nonnull(c.hostname);
	config_free(&c);
	unlink(path);
	free(path);
	free(log);
}
END_TEST

START_TEST(plugin_sections)
{
	struct config c;
	char *log, *path;
	const char *text =
	    "plugin_dir = \"/opt/p\"\n"
	    "plugin size { limit = 10 }\n"
	    "plugin 8bitmime {}\n"
	    "plugin \"delay\" {\n"
	    "  path = \"/x/delay.so\"\n"
	    "  rcpt_delay_ms = 5\n"
	    "}\n";

	ck_assert_int_eq(read_text(text, &c, &log, &path), 0);
	ck_assert_uint_eq(c.nplugins, 3);
	/* For errors about a whole section: the line it opens at. */
	ck_assert_int_eq(c.plugins[0].line, 2);
	ck_assert_int_eq(c.plugins[1].line, 3);
	ck_assert_int_eq(c.plugins[2].line, 4);
	ck_assert_str_eq(c.plugins[0].name, "size");
	ck_assert_str_eq(c.plugins[0].path, "/opt/p/size.so");
	ck_assert_str_eq(c.plugins[1].name, "8bitmime");
	ck_assert_str_eq(c.plugins[1].path, "/opt/p/8bitmime.so");
	ck_assert_str_eq(c.plugins[2].name, "delay");
	ck_assert_str_eq(c.plugins[2].path, "/x/delay.so");
	config_free(&c);
	unlink(path);
	free(path);
	free(log);
}
END_TEST

START_TEST(misspelled_option)
{
	expect_error("hostname = \"a\"\nmax_recipents = 5\n", 2,
	    "max_recipents");
}
END_TEST

START_TEST(bad_values)
{
	expect_error("\nlisten = {\"nocolon\"}\n", 2, "nocolon");
	expect_error("listen = {\"127.0.0.1:70000\"}\n", 1, NULL);
	expect_error("listen = {\"[::1:25\"}\n", 1, NULL);
	expect_error("\n\nsecond_ehlo = \"maybe\"\n", 3, "second_ehlo");
	expect_error("max_recipients = 0\n", 1, "max_recipients");
	expect_error("command_timeout = -5\n", 1, "command_timeout");
	expect_error("workers = -1\n", 1, "workers");
	expect_error("max_recipients = \"many\"\n", 1, NULL);
	expect_error("syslog_facility = \"nosuch\"\n", 1, "nosuch");
}
END_TEST

START_TEST(duplicate_plugin_section)
{
	expect_error("plugin size {}\nplugin size {}\n", 2, NULL);
}
END_TEST

static void
expect_syntax_error(const char *text)
{
	struct config c;
	char *log, *path;

	ck_assert_msg(read_text(text, &c, &log, &path) < 0, "accepted:\n%s",
	    text);
	ck_assert_msg(strstr(log, path) != NULL, "file not named: %s", log);
	config_free(&c);
	unlink(path);
	free(path);
	free(log);
}

START_TEST(syntax_error)
{
	expect_syntax_error("hostname = \"a\"\n}\n");
	expect_syntax_error("hostname = \"a\" = \"b\"\n");
	expect_syntax_error("local_domains = {\"a\",\n");
}
END_TEST

START_TEST(unclosed_section)
{
	/* A section left open at the end of the file is not a config. */
	expect_syntax_error("hostname = \"a\"\nplugin size {\n  limit = 5\n");
}
END_TEST

START_TEST(unclosed_quote)
{
	struct config c;
	char *log, *path;

	/* Found by fuzz/fuzz_config: libconfuse accepted the open string,
	 * even in an unknown option, and the strict pass then aborted. */
	expect_error("hostname = \"a\"\nnot_an_option = x\"y\n", 2,
	    "quoted string");
	expect_error("hostname = 'a\n\n", 1, "quoted string");
	/* Found by it again: in a double-quoted string or where a bare word
	 * may start, libconfuse reads "${...}" as an environment reference
	 * up to the '}', so a quote in there neither opens nor ends a
	 * string; inside a word ("x$") it is no reference. */
	expect_error("hostname = \"b\"\n\"${\"}", 2, "quoted string");
	expect_error("hostname = \"b\"\np=${\"}\"", 2, "quoted string");
	expect_error("hostname = \"b\"\nx${\"}\"}}\"", 2, "quoted string");
	ck_assert_int_eq(read_text("hostname = \"x${\"}y\"\n", &c, &log,
	    &path), 0);
	config_free(&c);
	unlink(path);
	free(path);
	free(log);
	/* The parser is still sound for the next file. */
	ck_assert_int_eq(read_text("hostname = \"b\"\n", &c, &log, &path), 0);
	config_free(&c);
	unlink(path);
	free(path);
	free(log);
}
END_TEST

START_TEST(missing_file)
{
	struct config c;
	struct capture cap;

	capture_begin(&cap);
	int rc = config_read("/nonexistent/ehlod.conf", &c);
	char *log = capture_end(&cap);
	ck_assert_int_lt(rc, 0);
	ck_assert_ptr_nonnull(strstr(log, "/nonexistent/ehlod.conf"));
	config_free(&c);
	free(log);
}
END_TEST

START_TEST(local_domains)
{
	struct config c;
	char *log, *path;

	ck_assert_int_eq(read_text(
	    "local_domains = {\"example.org\", \".example.net\"}\n", &c, &log,
	    &path), 0);
	ck_assert(config_is_local_domain(&c, "example.org"));
	ck_assert(config_is_local_domain(&c, "EXAMPLE.ORG"));
	ck_assert(!config_is_local_domain(&c, "sub.example.org"));
	ck_assert(!config_is_local_domain(&c, "example.org.evil"));
	ck_assert(!config_is_local_domain(&c, "xexample.org"));
	ck_assert(config_is_local_domain(&c, "a.example.net"));
	ck_assert(config_is_local_domain(&c, "a.b.EXAMPLE.net"));
	ck_assert(!config_is_local_domain(&c, "example.net"));
	ck_assert(!config_is_local_domain(&c, "xexample.net"));
	ck_assert(!config_is_local_domain(&c, ""));
	config_free(&c);
	unlink(path);
	free(path);
	free(log);
}
END_TEST

/* listener.c: sections, the default listener and relay_networks. */
START_TEST(listeners)
{
	struct config c;
	char *log, *path;
	const char *text =
	    "relay_networks = {\"127.0.0.1\", \"10.0.0.0/8\", \"::1/128\"}\n"
	    "listen = {\"127.0.0.1:25\"}\n"
	    "listener \"sub\" {\n"
	    "  listen = {\"127.0.0.1:587\", \"[::1]:587\"}\n"
	    "  require_tls = true\n"
	    "  require_auth = true\n"
	    "}\n"
	    "listener \"smtps\" {\n"
	    "  listen = {\"*:465\"}\n"
	    "  tls = \"implicit\"\n"
	    "  relay_networks = {}\n"
	    "  plugins = {\"a\", \"b\"}\n"
	    "}\n";

	ck_assert_int_eq(read_text(text, &c, &log, &path), 0);
	ck_assert_uint_eq(c.nlisteners, 3);
	ck_assert_uint_eq(c.nlisten, 4);
	ck_assert_str_eq(c.listeners[0].name, "default");
	ck_assert_uint_eq(c.listen[0].listener, 0);
	ck_assert_uint_eq(c.listen[2].listener, 1);
	ck_assert_str_eq(c.listen[2].host, "::1");
	ck_assert_uint_eq(c.listen[3].listener, 2);
	const struct listener *sub = listener_find(c.listeners, c.nlisteners, "sub");
	const struct listener *smtps = listener_find(c.listeners, c.nlisteners, "smtps");
	ck_assert_ptr_nonnull(sub);
	ck_assert_int_eq(sub->require_tls, 1);
	ck_assert_int_eq(sub->require_auth, 1);
	ck_assert_int_eq(sub->tls, LISTENER_TLS_STARTTLS);
	ck_assert_ptr_null(sub->plugins);
	ck_assert_int_eq(smtps->tls, LISTENER_TLS_IMPLICIT);
	ck_assert_uint_eq(smtps->nplugins, 2);
	/* Inherited by "sub", replaced by an empty list in "smtps". */
	ck_assert_int_eq(listener_relays(sub, "10.1.2.3"), 1);
	ck_assert_int_eq(listener_relays(sub, "127.0.0.1"), 1);
	ck_assert_int_eq(listener_relays(sub, "::1"), 1);
	ck_assert_int_eq(listener_relays(sub, "::2"), 0);
	ck_assert_int_eq(listener_relays(sub, "11.0.0.1"), 0);
	ck_assert_int_eq(listener_relays(sub, "unknown"), 0);
	ck_assert_int_eq(listener_relays(smtps, "127.0.0.1"), 0);
	ck_assert_int_eq(listener_relays(&c.listeners[0], "10.0.0.1"), 1);
	config_free(&c);
	unlink(path);
	free(path);
	free(log);
}
END_TEST

/* With sections, an unset top-level listen binds nothing of its own. */
START_TEST(listeners_no_default)
{
	struct config c;
	char *log, *path;

	ck_assert_int_eq(read_text("listener \"mx\" {\n"
	    "  listen = {\"*:25\"}\n}\n", &c, &log, &path), 0);
	ck_assert_uint_eq(c.nlisteners, 1);
	ck_assert_str_eq(c.listeners[0].name, "mx");
	ck_assert_uint_eq(c.nlisten, 1);
	config_free(&c);
	unlink(path);
	free(path);
	free(log);
	/* An empty one says the same, and adds no empty listener. */
	ck_assert_int_eq(read_text("listen = {}\nlistener \"mx\" {\n"
	    "  listen = {\"*:25\"}\n}\n", &c, &log, &path), 0);
	ck_assert_uint_eq(c.nlisteners, 1);
	ck_assert_str_eq(c.listeners[0].name, "mx");
	config_free(&c);
	unlink(path);
	free(path);
	free(log);
}
END_TEST

START_TEST(listener_errors)
{
	/* A whole section's error: the line it opens at. */
	expect_error("\nlistener \"a\" {\n  tls = \"none\"\n}\n", 2,
	    "option 'listen' is required");
	expect_error("listener \"a\" {\n  listen = {\"*:25\"}\n"
	    "  tls = \"smtps\"\n}\n", 3, "option 'tls' must be");
	/* Found once the section is whole, named at the option's line. */
	expect_error("listener \"a\" {\n  listen = {\"*:25\"}\n"
	    "  tls = \"none\"\n  require_tls = true\n\n}\n", 4,
	    "require_tls = true needs");
	expect_error("listener \"a\" {\n  listen = {\"nope\"}\n}\n", 2,
	    "is not ADDR:PORT");
	expect_error("listener \"a\" {\n  listen = {\"*:25\"}\n"
	    "  relay_networks = {\"1.2.3.4/40\"}\n}\n", 3,
	    "relay_networks: '1.2.3.4/40' is not");
	expect_error("listen = {\"*:25\"}\nlistener \"a\" {\n"
	    "  listen = {\"*:25\"}\n\n}\n", 3, "already listener 'default''s");
	/* An empty plugin list is not "every plugin": refused, at its line
	 * (found by the scan: libconfuse checks no empty list). */
	expect_error("listener \"a\" {\n  listen = {\"*:25\"}\n"
	    "  plugins = {}\n}\n", 3, "plugins = {} would leave");
	expect_error("listener \"a\" {\n  listen = {\"*:25\"}\n"
	    "  plugins = {\"x\"}\n  plugins = {}\n}\n"
	    "listener \"b\" {\n  listen = {\"*:26\"}\n  plugins = {\n  }\n}\n",
	    4, "listener 'a': plugins = {} would leave");
	expect_error("proxy_trusted = {}\n\nproxy_protocol = true\n", 3,
	    "proxy_protocol is on and proxy_trusted is empty");
	/* libconfuse takes an empty list without calling its check: the
	 * line comes from a scan of the text, past comments and strings. */
	expect_error("# listen = {}\nhostname = \"listen = {}\"\n"
	    "listen = {\n}\n", 3, "option 'listen' is empty and no listener");
}
END_TEST

/* The line of "kind title" in text by config_scan(), -1 if not seen. */
static int
scanned_line(const char *text, const char *kind, const char *title)
{
	struct config_scan s;
	int line;

	config_scan(&s, text);
	line = config_scan_section_line(&s, kind, title, -1);
	config_scan_free(&s);
	return line;
}

static int
scanned_empty_listen(const char *text)
{
	struct config_scan s;
	int line;

	config_scan(&s, text);
	line = config_scan_empty_list_line(&s, NULL, NULL, "listen");
	config_scan_free(&s);
	return line;
}

START_TEST(section_start_lines)
{
	const char *text =
	    "hostname = \"plugin fake {\"\n"		/* 1: a string */
	    "plugin a {\n"				/* 2 */
	    "  x = \"}\"\n"				/* 3: a brace in a value */
	    "  sub inner {\n"				/* 4: not top level */
	    "  }\n"
	    "}\n"
	    "listener \"sub mission\"\n"		/* 7: quoted, split */
	    "{\n"
	    "  listen = {}\n"				/* 9: not top level */
	    "}\n"
	    "plugin b { y = 'it''s' z = \"${H:-\"}\" }\n"	/* 11 */
	    "plugin\n"					/* 12: split */
	    "  c\n"
	    "  {}\n"
	    "plugin ${X} {}\n";			/* 15: not known */

	ck_assert_int_eq(scanned_line(text, "plugin", "a"), 2);
	ck_assert_int_eq(scanned_line(text, "plugin", "fake"), -1);
	ck_assert_int_eq(scanned_line(text, "plugin", "inner"), -1);
	ck_assert_int_eq(scanned_line(text, "sub", "inner"), -1);
	ck_assert_int_eq(scanned_line(text, "listener", "sub mission"), 7);
	ck_assert_int_eq(scanned_line(text, "plugin", "b"), 11);
	ck_assert_int_eq(scanned_line(text, "plugin", "c"), 12);
	ck_assert_int_eq(scanned_line(text, "plugin", "${X}"), -1);
	ck_assert_int_eq(scanned_line(text, "listener", "a"), -1);
	ck_assert_int_eq(scanned_empty_listen(text), 0);
	ck_assert_int_eq(scanned_empty_listen("listen = {\"*:25\"}\n"
	    "listen\n=\n{\n}\n"), 2);
	ck_assert_int_eq(scanned_empty_listen("listen = { \"\" }\n"), 0);
	ck_assert_int_eq(scanned_empty_listen("listen += {}\n"), 0);
	ck_assert_int_eq(scanned_empty_listen(""), 0);
	ck_assert_int_eq(scanned_empty_listen("listener a { listen = {} }\n"),
	    0);
	ck_assert_int_eq(scanned_empty_listen("plugin a { listen = {} }\n"),
	    0);
	{
		struct config_scan s;

		config_scan(&s, "listener a {\n listen = {\"*:25\"}\n"
		    " plugins = {}\n}\nlistener \"b c\" {\n\nplugins = {\n}"
		    "}\nplugins = {}\n");
		ck_assert_int_eq(config_scan_empty_list_line(&s, "listener",
		    "a", "plugins"), 3);
		ck_assert_int_eq(config_scan_empty_list_line(&s, "listener",
		    "b c", "plugins"), 7);
		ck_assert_int_eq(config_scan_empty_list_line(&s, NULL, NULL,
		    "plugins"), 9);
		ck_assert_int_eq(config_scan_empty_list_line(&s, "listener",
		    "a", "listen"), 0);
		config_scan_free(&s);
	}
}
END_TEST

static Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("file");

	tcase_add_test(tc, values);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, plugin_sections);
	tcase_add_test(tc, misspelled_option);
	tcase_add_test(tc, bad_values);
	tcase_add_test(tc, duplicate_plugin_section);
	tcase_add_test(tc, syntax_error);
	tcase_add_test(tc, unclosed_section);
	tcase_add_test(tc, unclosed_quote);
	tcase_add_test(tc, missing_file);
	tcase_add_test(tc, local_domains);
	tcase_add_test(tc, listeners);
	tcase_add_test(tc, listeners_no_default);
	tcase_add_test(tc, listener_errors);
	tcase_add_test(tc, section_start_lines);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(config_suite());

	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
