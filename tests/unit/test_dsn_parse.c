/*
 * NAME
 *	test_dsn_parse - unit tests of the dsn plugin's parameter grammar
 * DESCRIPTION
 *	Checks proto/dsn_parse.c, the code the dsn plugin runs: RET,
 *	ENVID (xtext, 100 characters, printable once decoded), NOTIFY (NEVER
 *	alone, no duplicates, canonical order) and ORCPT (atom addr-type,
 *	xtext, 500 characters, the RFC 6533 utf-8 form only in SMTPUTF8
 *	transactions).  Each refusal must come with a reason for the 501.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "dsn_parse.h"

static char out[DSN_ORCPT_OUT];
static const char *why;

static void
ret_ok(const char *in, const char *want)
{
	why = NULL;
	ck_assert_msg(dsn_parse_ret(in, out, sizeof(out), &why) == 0,
	    "RET=%s refused: %s", in, why ? why : "");
	ck_assert_str_eq(out, want);
}

static void
ret_bad(const char *in)
{
	why = NULL;
	ck_assert_msg(dsn_parse_ret(in, out, sizeof(out), &why) < 0,
	    "RET=%s accepted", in);
	ck_assert_ptr_nonnull(why);
}

START_TEST(ret_values)
{
	ret_ok("FULL", "FULL");
	ret_ok("hdrs", "HDRS");
	ret_ok("Full", "FULL");
	ret_bad("");
	ret_bad("FULLY");
	ret_bad("HDR");
	ret_bad("FULL,HDRS");
}
END_TEST

static void
envid_ok(const char *in, const char *want)
{
	why = NULL;
	ck_assert_msg(dsn_parse_envid(in, out, DSN_ENVID_OUT, &why) == 0,
	    "ENVID=%s refused: %s", in, why ? why : "");
	ck_assert_str_eq(out, want);
}

static void
envid_bad(const char *in)
{
	why = NULL;
	ck_assert_msg(dsn_parse_envid(in, out, DSN_ENVID_OUT, &why) < 0,
	    "ENVID=%s accepted", in);
	ck_assert_ptr_nonnull(why);
}

START_TEST(envid_xtext)
{
	envid_ok("QQ314159", "QQ314159");
	envid_ok("a+2Bb+3Dc", "a+b=c");
	envid_ok("x+20y", "x y");
	envid_ok("tab+09", "tab\t");
	envid_bad("a+2bb");		/* lower-case hex is not xtext */
	envid_bad("a+2");
	envid_bad("a+");
	envid_bad("a+0D+0Ab");		/* decodes to CR LF */
	envid_bad("nul+00");
	envid_bad("del+7F");
	envid_bad("hi+C3+A9");		/* not US-ASCII once decoded */
}
END_TEST

START_TEST(envid_length)
{
	char id[DSN_ENVID_MAX + 2];

	memset(id, 'e', DSN_ENVID_MAX);
	id[DSN_ENVID_MAX] = '\0';
	envid_ok(id, id);
	id[DSN_ENVID_MAX] = 'e';
	id[DSN_ENVID_MAX + 1] = '\0';
	envid_bad(id);
}
END_TEST

static void
notify_ok(const char *in, const char *want)
{
	why = NULL;
	ck_assert_msg(dsn_parse_notify(in, out, DSN_NOTIFY_OUT, &why) == 0,
	    "NOTIFY=%s refused: %s", in, why ? why : "");
	ck_assert_str_eq(out, want);
}

static void
notify_bad(const char *in)
{
	why = NULL;
	ck_assert_msg(dsn_parse_notify(in, out, DSN_NOTIFY_OUT, &why) < 0,
	    "NOTIFY=%s accepted", in);
	ck_assert_ptr_nonnull(why);
}

START_TEST(notify_lists)
{
	notify_ok("NEVER", "NEVER");
	notify_ok("never", "NEVER");
	notify_ok("SUCCESS", "SUCCESS");
	notify_ok("DELAY,FAILURE", "FAILURE,DELAY");
	notify_ok("failure,success,delay", "SUCCESS,FAILURE,DELAY");
}
END_TEST

START_TEST(notify_errors)
{
	notify_bad("");
	notify_bad("NEVER,SUCCESS");
	notify_bad("FAILURE,NEVER");
	notify_bad("NEVER,NEVER");
	notify_bad("SUCCESS,SUCCESS");
	notify_bad("SUCCESS,");
	notify_bad(",SUCCESS");
	notify_bad("SUCCESS,,DELAY");
	notify_bad("ALWAYS");
	notify_bad("SUCCES");
	notify_bad("SUCCESSFUL");
}
END_TEST

static void
orcpt_ok(const char *in, int utf8, const char *want)
{
	why = NULL;
	ck_assert_msg(dsn_parse_orcpt(in, utf8, out, sizeof(out), &why) == 0,
	    "ORCPT=%s refused: %s", in, why ? why : "");
	ck_assert_str_eq(out, want);
}

static void
orcpt_bad(const char *in, int utf8)
{
	why = NULL;
	ck_assert_msg(dsn_parse_orcpt(in, utf8, out, sizeof(out), &why) < 0,
	    "ORCPT=%s accepted", in);
	ck_assert_ptr_nonnull(why);
}

START_TEST(orcpt_forms)
{
	orcpt_ok("rfc822;user@example.org", 0, "rfc822;user@example.org");
	orcpt_ok("RFC822;a+2Bb@example.org", 0, "RFC822;a+b@example.org");
	orcpt_ok("x-local;Joe+20User", 0, "x-local;Joe User");
	/* RFC 6533 utf-8-addr-xtext: \x{...} is plain xtext. */
	orcpt_ok("utf-8;j\\x{00F6}rg@example.org", 0,
	    "utf-8;j\\x{00F6}rg@example.org");
	/* utf-8-addr-unitext: raw UTF-8, in SMTPUTF8 transactions only. */
	orcpt_ok("utf-8;j\xc3\xb6rg@example.org", 1,
	    "utf-8;j\xc3\xb6rg@example.org");
	orcpt_ok("UTF-8;j\xc3\xb6rg@example.org", 1,
	    "UTF-8;j\xc3\xb6rg@example.org");
}
END_TEST

START_TEST(orcpt_errors)
{
	orcpt_bad("user@example.org", 0);		/* no addr-type */
	orcpt_bad(";user@example.org", 0);
	orcpt_bad("rfc 822;user@example.org", 0);
	orcpt_bad("rfc(822);user@example.org", 0);
	orcpt_bad("rfc822;", 0);
	orcpt_bad("rfc822;a+2", 0);
	orcpt_bad("rfc822;a+0Ab", 0);			/* LF once decoded */
	orcpt_bad("rfc822;j\xc3\xb6rg@example.org", 1);	/* 8-bit rfc822 */
	orcpt_bad("utf-8;j\xc3\xb6rg@example.org", 0);	/* no SMTPUTF8 */
	orcpt_bad("utf-8;j\xc3rg@example.org", 1);	/* broken UTF-8 */
	orcpt_bad("utf-8;j\xc3\xb6+rg@example.org", 1);	/* '+' in unitext */
}
END_TEST

START_TEST(orcpt_length)
{
	char v[DSN_ORCPT_VALUE_MAX + 2];

	/* "ORCPT=" and 494 characters make the 500 RFC 3461 allows. */
	memcpy(v, "rfc822;", 7);
	memset(v + 7, 'a', DSN_ORCPT_VALUE_MAX - 7);
	v[DSN_ORCPT_VALUE_MAX] = '\0';
	orcpt_ok(v, 0, v);
	v[DSN_ORCPT_VALUE_MAX] = 'a';
	v[DSN_ORCPT_VALUE_MAX + 1] = '\0';
	orcpt_bad(v, 0);
}
END_TEST

static Suite *
dsn_suite(void)
{
	Suite *s = suite_create("dsn_parse");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, ret_values);
	tcase_add_test(tc, envid_xtext);
	tcase_add_test(tc, envid_length);
	tcase_add_test(tc, notify_lists);
	tcase_add_test(tc, notify_errors);
	tcase_add_test(tc, orcpt_forms);
	tcase_add_test(tc, orcpt_errors);
	tcase_add_test(tc, orcpt_length);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(dsn_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
