/*
 * NAME
 *	test_loader - unit tests of the plugin loader (core/loader.c)
 * DESCRIPTION
 *	Loads the real plugins and the fixtures built from
 *	test_fixture_plugin.c: a good set loads in config order with the
 *	line limit 512 + increments and answers verb and parameter lookups;
 *	a wrong ABI major, a newer minor, a short descriptor, a missing
 *	symbol, a missing file, a section named differently from its plugin,
 *	conflicting keywords, parameters and verbs, a claimed core verb, and
 *	a misspelled or foreign plugin option are refused with a line naming
 *	the file (and for options, the line).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../../core/config.h"
#include "../../core/loader.h"
#include "../../core/log.h"
#include "test_capture.h"

#ifndef TEST_FIXTURE_DIR
#error "TEST_FIXTURE_DIR must name tests/unit/.libs"
#endif
#ifndef TEST_PLUGIN_DIR
#error "TEST_PLUGIN_DIR must name plugins/.libs"
#endif

struct loaded {
	struct config c;
	struct plugin_set set;
	char *path;
	char *log;
	int rc;
};

/* Write a config: plugin_dir is the built plugins, then body. */
static void
load(struct loaded *l, const char *body)
{
	char text[4096];
	struct capture cap;

	snprintf(text, sizeof(text), "plugin_dir = \"%s\"\n%s",
	    TEST_PLUGIN_DIR, body);
	l->path = write_temp(text);
	capture_begin(&cap);
	l->rc = config_read(l->path, &l->c);
	if (l->rc == 0)
		l->rc = plugins_load(&l->set, &l->c);
	l->log = capture_end(&cap);
}

static void
unload(struct loaded *l)
{
	plugins_unload(&l->set);
	config_free(&l->c);
	unlink(l->path);
	free(l->path);
	free(l->log);
}

/* A config line loading a fixture. */
#define FIXTURE(name, opts) \
	"plugin " name " { path = \"" TEST_FIXTURE_DIR "/" name ".so\" " \
	opts " }\n"

static void
expect_refused(const char *body, const char *needle1, const char *needle2)
{
	struct loaded l;

	load(&l, body);
	ck_assert_msg(l.rc < 0, "loaded:\n%s", body);
	ck_assert_msg(strstr(l.log, needle1) != NULL, "'%s' not in: %s",
	    needle1, l.log);
	if (needle2)
		ck_assert_msg(strcasestr(l.log, needle2) != NULL,
		    "'%s' not in: %s", needle2, l.log);
	unload(&l);
}

START_TEST(good_set)
{
	struct loaded l;
	const struct ehlod_verb *verb;
	const struct ehlod_param *param;
	char hooks[256];

	load(&l, "plugin size { limit = 5 }\n"
	    "plugin 8bitmime {}\n"
	    FIXTURE("fixture", "param = \"p1\""));
	ck_assert_int_eq(l.rc, 0);
	ck_assert_uint_eq(l.set.n, 3);
	ck_assert_str_eq(l.set.v[0].name, "size");
	ck_assert_str_eq(l.set.v[1].name, "8bitmime");
	ck_assert_str_eq(l.set.v[2].name, "fixture");
	/* 512 plus every plugin's increment; RFC 1870 fixes SIZE's at 26,
	 * " BODY=8BITMIME" needs at least 14 */
	ck_assert_uint_eq(l.set.v[0].d.line_increment, 26);
	ck_assert_uint_ge(l.set.v[1].d.line_increment, 14);
	ck_assert_uint_eq(l.set.line_limit, 512 + 26 +
	    l.set.v[1].d.line_increment + l.set.v[2].d.line_increment);

	ck_assert_ptr_eq(plugins_find_verb(&l.set, "xhello", &verb),
	    &l.set.v[2]);
	ck_assert_str_eq(verb->name, "XHELLO");
	ck_assert_ptr_null(plugins_find_verb(&l.set, "XNOPE", &verb));
	ck_assert_ptr_eq(plugins_find_param(&l.set, 0, "size", &param),
	    &l.set.v[0]);
	ck_assert_ptr_eq(plugins_find_param(&l.set, 0, "Body", &param),
	    &l.set.v[1]);
	ck_assert_ptr_eq(plugins_find_param(&l.set, 1, "xflag", &param),
	    &l.set.v[2]);
	ck_assert_ptr_null(plugins_find_param(&l.set, 0, "XFLAG", &param));
	ck_assert_ptr_null(plugins_find_param(&l.set, 1, "SIZE", &param));

	/* Option values land in each instance's struct, at their offsets:
	 * the fixture's { int offer; const char *param; }, size's limit. */
	const struct { int offer; const char *param; } *fx = l.set.v[2].conf;
	ck_assert_int_eq(fx->offer, 1);
	ck_assert_str_eq(fx->param, "p1");
	ck_assert_int_eq(*(const long long *)l.set.v[0].conf, 5);

	plugins_hook_names(&l.set.v[2], hooks, sizeof(hooks));
	ck_assert_ptr_nonnull(strstr(hooks, "helo"));
	ck_assert_ptr_nonnull(strstr(hooks, "rcpt"));
	ck_assert_ptr_null(strstr(hooks, "eom"));
	unload(&l);
}
END_TEST

START_TEST(bad_abi_major)
{
	expect_refused(FIXTURE("fixture_badmajor", ""), "fixture_badmajor.so",
	    "ABI");
}
END_TEST

START_TEST(newer_abi_minor)
{
	expect_refused(FIXTURE("fixture_newminor", ""), "fixture_newminor.so",
	    "ABI");
}
END_TEST

START_TEST(short_descriptor)
{
	expect_refused(FIXTURE("fixture_small", ""), "fixture_small.so", NULL);
}
END_TEST

START_TEST(missing_symbol)
{
	expect_refused(FIXTURE("fixture_nosym", ""), "fixture_nosym.so",
	    "ehlod_plugin");
}
END_TEST

START_TEST(missing_file)
{
	expect_refused("plugin nosuch {}\n", TEST_PLUGIN_DIR "/nosuch.so", NULL);
}
END_TEST

/* The admin is told which section asked for a plugin that cannot be
 * loaded: the file, the line (line 1 is plugin_dir) and the name. */
START_TEST(refusal_names_file_and_line)
{
	struct loaded l;
	char where[512];

	load(&l, "\nplugin size {}\nplugin nosuch {}\n");
	ck_assert_int_lt(l.rc, 0);
	snprintf(where, sizeof(where), "%s:4: plugin 'nosuch': cannot load",
	    l.path);
	ck_assert_msg(strstr(l.log, where) != NULL, "'%s' not in: %s", where,
	    l.log);
	unload(&l);
}
END_TEST

/* A plugin with a keyword can have one instance only. */
START_TEST(second_instance_with_keyword)
{
	expect_refused("plugin size {}\nplugin size2 { path = \"size\" }\n",
	    "size.so", "only one instance");
}
END_TEST

/* Hook-only plugins may have many, each with its own values. */
START_TEST(two_instances)
{
	struct loaded l;

	load(&l, "plugin relay { next_hop = \"smtp://127.0.0.1:1\" }\n"
	    "plugin relay_b {\n  path = \"relay\"\n"
	    "  next_hop = \"smtp://127.0.0.1:2\"\n}\n");
	ck_assert_msg(l.rc == 0, "refused: %s", l.log);
	ck_assert_str_eq(l.set.v[1].name, "relay_b");
	ck_assert_str_eq(*(const char *const *)l.set.v[0].conf,
	    "smtp://127.0.0.1:1");
	ck_assert_str_eq(*(const char *const *)l.set.v[1].conf,
	    "smtp://127.0.0.1:2");
	unload(&l);
}
END_TEST

/* Each kind of option error names FILE:LINE, the instance and option. */
static void
expect_option_error(const char *body, int line, const char *instance,
    const char *option, const char *why)
{
	struct loaded l;
	char want[400];

	load(&l, body);
	ck_assert_msg(l.rc < 0, "loaded:\n%s", body);
	snprintf(want, sizeof(want), "%s:%d: plugin '%s': option '%s'",
	    l.path, line, instance, option);
	ck_assert_msg(strstr(l.log, want) != NULL, "'%s' not in: %s", want,
	    l.log);
	ck_assert_msg(strstr(l.log, why) != NULL, "'%s' not in: %s", why,
	    l.log);
	unload(&l);
}

START_TEST(option_errors)
{
	/* line 1 is plugin_dir */
	expect_option_error("plugin size {\n  limit = -1\n}\n", 3, "size",
	    "limit", "out of range");
	expect_option_error("plugin maildir {\n  directory = \"rel\"\n}\n",
	    3, "maildir", "directory", "absolute");
	/* a missing option: the line where its section opens */
	expect_option_error("plugin relay {\n  timeout = 5\n}\n", 2, "relay",
	    "next_hop", "required");
	expect_option_error("plugin dnsbl {\n  zones = {\"a..b\"}\n}\n", 3,
	    "dnsbl", "zones", "label");
}
END_TEST

/* A value of the wrong type is libconfuse's own error, with FILE:LINE. */
START_TEST(option_wrong_type)
{
	struct loaded l;
	char want[300];

	load(&l, "plugin size {\n  limit = \"big\"\n}\n");
	ck_assert_int_lt(l.rc, 0);
	snprintf(want, sizeof(want), "%s:3", l.path);
	ck_assert_msg(strstr(l.log, want) != NULL, "'%s' not in: %s", want,
	    l.log);
	ck_assert_ptr_nonnull(strstr(l.log, "limit"));
	unload(&l);
}
END_TEST

/* "plugin size {}" on line 2 (line 1 is plugin_dir), then a fixture on
 * line 3 that clashes with it: both sections are named, the refused one
 * first, with what it did. */
static void
expect_clash_with_size(const char *fixture_section, const char *refused,
    const char *what)
{
	char body[1024];

	snprintf(body, sizeof(body), "plugin size {}\n%s", fixture_section);
	expect_refused(body, refused, what);
	expect_refused(body, ":2) does", NULL);
}

START_TEST(conflicting_keyword)
{
	expect_clash_with_size(FIXTURE("fixture_dupsize", ""),
	    ":3: plugin 'fixture_dupsize': ", "fixture_dupsize.so claims the "
	    "EHLO keyword 'SIZE', as plugin 'size' (");
}
END_TEST

START_TEST(conflicting_param)
{
	expect_refused("plugin 8bitmime {}\n" FIXTURE("fixture_dupbody", ""),
	    "fixture_dupbody.so", "BODY");
}
END_TEST

START_TEST(conflicting_verb)
{
	expect_refused(FIXTURE("fixture", "") FIXTURE("fixture_dupverb", ""),
	    "fixture_dupverb.so", "XHELLO");
}
END_TEST

/* Errors a plugin's author must fix still name the section that loads
 * it (line 1 is plugin_dir), so the admin knows which one to take out. */
START_TEST(core_verb)
{
	expect_refused(FIXTURE("fixture_coreverb", ""),
	    ":2: plugin 'fixture_coreverb': ", "fixture_coreverb.so claims "
	    "the core verb 'DATA'");
}
END_TEST

START_TEST(bad_counter_name)
{
	expect_refused("\n" FIXTURE("fixture_badcounter", ""),
	    ":3: plugin 'fixture_badcounter': ", "fixture_badcounter.so: "
	    "counter name 'Bad-Name'");
}
END_TEST

START_TEST(option_type_conflict)
{
	expect_clash_with_size(FIXTURE("fixture_opttype", ""),
	    ":3: plugin 'fixture_opttype': ", "fixture_opttype.so registers "
	    "the option 'limit' with another type than plugin 'size' (");
	expect_refused(FIXTURE("fixture_opttwice", ""),
	    ":2: plugin 'fixture_opttwice': ", "fixture_opttwice.so registers "
	    "the option 'depth' twice, with two types");
}
END_TEST

START_TEST(misspelled_plugin_option)
{
	struct loaded l;
	char want[300];

	load(&l, "plugin size {\n  limt = 5\n}\n");
	ck_assert_int_lt(l.rc, 0);
	/* line 1 is plugin_dir, so "limt" is on line 3 */
	snprintf(want, sizeof(want), "%s:3", l.path);
	ck_assert_msg(strstr(l.log, want) != NULL, "'%s' not in: %s", want,
	    l.log);
	ck_assert_ptr_nonnull(strstr(l.log, "limt"));
	unload(&l);
}
END_TEST

START_TEST(option_of_another_plugin)
{
	struct loaded l;
	char want[300];

	load(&l, FIXTURE("fixture", "") "plugin size {\n  param = \"x\"\n}\n");
	ck_assert_int_lt(l.rc, 0);
	snprintf(want, sizeof(want), "%s:4", l.path);
	ck_assert_msg(strstr(l.log, want) != NULL, "'%s' not in: %s", want,
	    l.log);
	unload(&l);
}
END_TEST

/* The relay plugin has a list option with a default ("domains"); list
 * defaults are parsed in every section and must not count as set there. */
START_TEST(list_default_of_another_plugin)
{
	struct loaded l;
	char want[300];

	load(&l, "plugin pipelining {}\n"
	    "plugin relay { next_hop = \"smtp://127.0.0.1:1\" }\n");
	ck_assert_msg(l.rc == 0, "refused: %s", l.log);
	unload(&l);
	load(&l, "plugin pipelining {\n  domains = {\"x\"}\n}\n"
	    "plugin relay { next_hop = \"smtp://127.0.0.1:1\" }\n");
	ck_assert_int_lt(l.rc, 0);
	snprintf(want, sizeof(want), "%s:3: plugin 'pipelining': option "
	    "'domains': no such option", l.path);
	ck_assert_msg(strstr(l.log, want) != NULL, "'%s' not in: %s", want,
	    l.log);
	unload(&l);
}
END_TEST

START_TEST(misspelled_core_option)
{
	struct loaded l;
	char want[300];

	load(&l, "plugin size {}\nhostnme = \"x\"\n");
	ck_assert_int_lt(l.rc, 0);
	snprintf(want, sizeof(want), "%s:3", l.path);
	ck_assert_msg(strstr(l.log, want) != NULL, "'%s' not in: %s", want,
	    l.log);
	unload(&l);
}
END_TEST

START_TEST(registered_keywords)
{
	ck_assert(keyword_registered("SIZE"));
	ck_assert(keyword_registered("pipelining"));
	ck_assert(keyword_registered("XFIXTURE"));
	ck_assert(!keyword_registered("FIXTURE"));
}
END_TEST

static Suite *
loader_suite(void)
{
	Suite *s = suite_create("loader");
	TCase *tc = tcase_create("plugins");

	tcase_add_test(tc, good_set);
	tcase_add_test(tc, bad_abi_major);
	tcase_add_test(tc, newer_abi_minor);
	tcase_add_test(tc, short_descriptor);
	tcase_add_test(tc, missing_symbol);
	tcase_add_test(tc, missing_file);
	tcase_add_test(tc, refusal_names_file_and_line);
	tcase_add_test(tc, second_instance_with_keyword);
	tcase_add_test(tc, two_instances);
	tcase_add_test(tc, option_errors);
	tcase_add_test(tc, option_wrong_type);
	tcase_add_test(tc, conflicting_keyword);
	tcase_add_test(tc, conflicting_param);
	tcase_add_test(tc, conflicting_verb);
	tcase_add_test(tc, core_verb);
	tcase_add_test(tc, bad_counter_name);
	tcase_add_test(tc, option_type_conflict);
	tcase_add_test(tc, misspelled_plugin_option);
	tcase_add_test(tc, option_of_another_plugin);
	tcase_add_test(tc, list_default_of_another_plugin);
	tcase_add_test(tc, misspelled_core_option);
	tcase_add_test(tc, registered_keywords);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(loader_suite());

	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
