/*
 * NAME
 *	test_ehlo - unit tests of the EHLO reply builder (core/ehlo.c)
 * DESCRIPTION
 *	Loads real plugins and the test fixture through the real config and
 *	loader, then builds the EHLO reply of a fresh session: the greeting
 *	line first, then one line per offered keyword in config order with
 *	this session's parameters; a plugin that declines its keyword, or
 *	writes parameters that break the ehlo-param grammar, is left out and
 *	not marked offered.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../core/config.h"
#include "../../core/ehlo.h"
#include "../../core/loader.h"
#include "../../core/hostapi.h"
#include "../../core/session.h"
#include "test_capture.h"
#include "xmalloc.h"

static struct config conf;
static struct plugin_set set;
static struct server srv;
static char *conf_path;
static char *log_text;

#define FIXTURE(opts) \
	"plugin fixture { path = \"" TEST_FIXTURE_DIR "/fixture.so\" " opts \
	" }\n"

static void
setup_with(const char *fixture_opts)
{
	char text[4096];
	struct capture cap;

	snprintf(text, sizeof(text), "hostname = \"mx.test\"\n"
	    "plugin_dir = \"%s\"\nplugin pipelining {}\n"
	    "plugin size { limit = 1000 }\n" FIXTURE("%s")
	    "plugin enhancedstatuscodes {}\n", TEST_PLUGIN_DIR, fixture_opts);
	conf_path = write_temp(text);
	capture_begin(&cap);
	int rc = config_read(conf_path, &conf);
	if (rc == 0)
		rc = plugins_load(&set, &conf);
	srv.conf = &conf;
	srv.plugins = &set;
	server = &srv;
	if (rc == 0)
		rc = plugins_init(&set, host_table());
	log_text = capture_end(&cap);
	ck_assert_msg(rc == 0, "setup failed: %s", log_text);
}

static void
teardown(void)
{
	plugins_unload(&set);
	config_free(&conf);
	unlink(conf_path);
	free(conf_path);
	free(log_text);
	server = NULL;
}

static char *
build(struct ehlod_session **out)
{
	static char text[4096];
	struct ehlod_session *s = session_detached();

	ck_assert_ptr_nonnull(s);
	s->helo = xstrdup("client.test");
	ehlo_build(s, text, sizeof(text));
	*out = s;
	return text;
}

START_TEST(keywords_in_config_order)
{
	struct ehlod_session *s;

	setup_with("param = \"A B\"");
	const char *text = build(&s);
	ck_assert_str_eq(text, "mx.test Hello client.test [127.0.0.1]\n"
	    "PIPELINING\nSIZE 1000\nXFIXTURE A B\nENHANCEDSTATUSCODES");
	for (size_t i = 0; i < set.n; i++)
		ck_assert_int_eq(s->offered[i], 1);
	session_free(s);
	teardown();
}
END_TEST

START_TEST(keyword_declined_for_session)
{
	struct ehlod_session *s;

	setup_with("offer = false");
	const char *text = build(&s);
	ck_assert_str_eq(text, "mx.test Hello client.test [127.0.0.1]\n"
	    "PIPELINING\nSIZE 1000\nENHANCEDSTATUSCODES");
	ck_assert_int_eq(s->offered[2], 0);
	ck_assert_int_eq(s->offered[3], 1);
	session_free(s);
	teardown();
}
END_TEST

START_TEST(bad_parameters_not_offered)
{
	struct ehlod_session *s;
	struct capture cap;

	setup_with("param = \"A  B\"");	/* an empty ehlo-param */
	capture_begin(&cap);
	const char *text = build(&s);
	char *log = capture_end(&cap);
	ck_assert_ptr_null(strstr(text, "XFIXTURE"));
	ck_assert_int_eq(s->offered[2], 0);
	ck_assert_ptr_nonnull(strstr(log, "XFIXTURE not offered"));
	free(log);
	session_free(s);
	teardown();
}
END_TEST

START_TEST(control_character_not_offered)
{
	struct ehlod_session *s;
	struct capture cap;

	setup_with("param = \"A\\tB\"");
	capture_begin(&cap);
	const char *text = build(&s);
	free(capture_end(&cap));
	ck_assert_ptr_null(strstr(text, "XFIXTURE"));
	ck_assert_ptr_nonnull(strstr(text, "ENHANCEDSTATUSCODES"));
	session_free(s);
	teardown();
}
END_TEST

int
main(void)
{
	Suite *suite = suite_create("ehlo");
	TCase *tc = tcase_create("build");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, keywords_in_config_order);
	tcase_add_test(tc, keyword_declined_for_session);
	tcase_add_test(tc, bad_parameters_not_offered);
	tcase_add_test(tc, control_character_not_offered);
	suite_add_tcase(suite, tc);
	sr = srunner_create(suite);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
