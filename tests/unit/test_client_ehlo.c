/*
 * NAME
 *	test_client_ehlo - unit tests of the EHLO keyword table
 *	(proto/ehlo_table.c)
 * DESCRIPTION
 *	Checks the tolerant reading of EHLO replies that RFC1869.md asks of
 *	the client: lower-case keywords, old-style AUTH= lines merged into
 *	AUTH, extra blanks, a bare "250 domain", invalid lines skipped.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ehlo_table.h"

/* Build a table from lines given as "250-..." / "250 ...". */
static void
table_from(struct ehlo_table *t, const char *const *lines)
{
	struct reply_parser p;
	struct smtp_reply r;
	enum reply_status st = REPLY_MORE;

	reply_parser_init(&p, 0, 0);
	for (size_t i = 0; lines[i] != NULL; i++)
		st = reply_parser_feed(&p, lines[i], strlen(lines[i]), NULL);
	ck_assert_int_eq(st, REPLY_DONE);
	reply_parser_take(&p, &r);
	ehlo_table_init(t);
	ck_assert_int_eq(ehlo_table_parse(t, &r), 0);
	reply_free(&r);
	reply_parser_free(&p);
}

START_TEST(regular)
{
	static const char *const lines[] = {
		"250-mx.example Hello client [127.0.0.1]",
		"250-PIPELINING", "250-SIZE 10240000", "250-8BITMIME",
		"250 ENHANCEDSTATUSCODES", NULL
	};
	struct ehlo_table t;

	table_from(&t, lines);
	ck_assert_str_eq(t.domain, "mx.example");
	ck_assert_str_eq(t.greeting, "Hello client [127.0.0.1]");
	ck_assert_uint_eq(t.n, 4);
	ck_assert(ehlo_table_has(&t, "pipelining"));
	ck_assert(ehlo_table_has(&t, "8BITMIME"));
	ck_assert(!ehlo_table_has(&t, "SMTPUTF8"));
	ck_assert_int_eq(ehlo_table_size_limit(&t), 10240000);
	ehlo_table_free(&t);
}
END_TEST

START_TEST(lower_case_and_blanks)
{
	static const char *const lines[] = {
		"250-mx.example", "250-size   500 ", "250-  dsn",
		"250 auth\tplain   login", NULL
	};
	struct ehlo_table t;

	table_from(&t, lines);
	ck_assert_str_eq(ehlo_table_find(&t, "SIZE")->keyword, "SIZE");
	ck_assert_str_eq(ehlo_table_find(&t, "Size")->params, "500");
	ck_assert(ehlo_table_has(&t, "DSN"));
	ck_assert_str_eq(ehlo_table_find(&t, "AUTH")->params, "plain login");
	ck_assert(ehlo_table_has_param(&t, "auth", "PLAIN"));
	ck_assert(ehlo_table_has_param(&t, "AUTH", "LOGIN"));
	ck_assert(!ehlo_table_has_param(&t, "AUTH", "CRAM-MD5"));
	ehlo_table_free(&t);
}
END_TEST

START_TEST(old_style_auth_merged)
{
	static const char *const lines[] = {
		"250-mx.example", "250-AUTH LOGIN PLAIN", "250-AUTH=LOGIN PLAIN",
		"250-AUTH=CRAM-MD5", "250 HELP", NULL
	};
	struct ehlo_table t;

	table_from(&t, lines);
	ck_assert_uint_eq(t.n, 2);
	ck_assert_str_eq(ehlo_table_find(&t, "AUTH")->params,
	    "LOGIN PLAIN CRAM-MD5");
	ehlo_table_free(&t);
}
END_TEST

START_TEST(old_style_auth_alone)
{
	static const char *const lines[] = {
		"250-mx.example", "250 AUTH=LOGIN", NULL
	};
	struct ehlo_table t;

	table_from(&t, lines);
	ck_assert(ehlo_table_has_param(&t, "AUTH", "LOGIN"));
	ehlo_table_free(&t);
}
END_TEST

START_TEST(bare_domain)
{
	static const char *const lines[] = { "250 mx.example", NULL };
	struct ehlo_table t;

	table_from(&t, lines);
	ck_assert_str_eq(t.domain, "mx.example");
	ck_assert_str_eq(t.greeting, "");
	ck_assert_uint_eq(t.n, 0);
	ck_assert_int_eq(ehlo_table_size_limit(&t), -1);
	ehlo_table_free(&t);
}
END_TEST

START_TEST(invalid_lines_skipped)
{
	static const char *const lines[] = {
		"250-mx.example", "250-", "250-_BAD keyword", "250-X-LOCAL yes",
		"250-SIZE", "250 -dash", NULL
	};
	struct ehlo_table t;

	table_from(&t, lines);
	ck_assert_uint_eq(t.n, 2);
	ck_assert(ehlo_table_has(&t, "x-local"));
	/* SIZE without a number: offered, no limit known */
	ck_assert_int_eq(ehlo_table_size_limit(&t), 0);
	ehlo_table_free(&t);
}
END_TEST

START_TEST(not_a_success)
{
	struct reply_parser p;
	struct smtp_reply r;
	struct ehlo_table t;

	reply_parser_init(&p, 0, 0);
	reply_parser_feed(&p, "502 no", 6, NULL);
	reply_parser_take(&p, &r);
	ehlo_table_init(&t);
	ck_assert_int_eq(ehlo_table_parse(&t, &r), -1);
	ck_assert_uint_eq(t.n, 0);
	ehlo_table_free(&t);
	reply_free(&r);
	reply_parser_free(&p);
}
END_TEST

START_TEST(bounded)
{
	const char *lines[EHLO_MAX_KEYWORDS + 10];
	char buf[EHLO_MAX_KEYWORDS + 8][32];
	struct ehlo_table t;
	size_t i;

	lines[0] = "250-mx.example";
	for (i = 1; i < EHLO_MAX_KEYWORDS + 8; i++) {
		snprintf(buf[i], sizeof(buf[i]), "250-XK%zu", i);
		lines[i] = buf[i];
	}
	lines[i++] = "250 LAST";
	lines[i] = NULL;
	table_from(&t, lines);
	ck_assert_uint_eq(t.n, EHLO_MAX_KEYWORDS);
	ehlo_table_free(&t);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("ehlo_table");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, regular);
	tcase_add_test(tc, lower_case_and_blanks);
	tcase_add_test(tc, old_style_auth_merged);
	tcase_add_test(tc, old_style_auth_alone);
	tcase_add_test(tc, bare_domain);
	tcase_add_test(tc, invalid_lines_skipped);
	tcase_add_test(tc, not_a_success);
	tcase_add_test(tc, bounded);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
