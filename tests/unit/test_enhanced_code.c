/*
 * NAME
 *	test_enhanced_code - unit tests of proto/enhanced_code.c
 * DESCRIPTION
 *	RFC 3463 codes as the server checks them (whole string, class 2, 4
 *	or 5; the class fitting the reply code), as the client and the
 *	relay read them off the front of a reply's text, and the numbers
 *	the scanner hands back.
 */
#include <check.h>
#include <stdlib.h>

#include "enhanced_code.h"
#include "reply_parser.h"

START_TEST(scan_lengths_and_numbers)
{
	struct enhanced_code ec;

	ck_assert_uint_eq(enhanced_code_scan("5.7.1", &ec), 5);
	ck_assert_int_eq(ec.cls, 5);
	ck_assert_int_eq(ec.subject, 7);
	ck_assert_int_eq(ec.detail, 1);
	ck_assert_uint_eq(enhanced_code_scan("4.123.999 text", &ec), 9);
	ck_assert_int_eq(ec.subject, 123);
	ck_assert_int_eq(ec.detail, 999);
	/* What follows is the caller's business. */
	ck_assert_uint_eq(enhanced_code_scan("2.0.0x", &ec), 5);
}
END_TEST

START_TEST(scan_refuses)
{
	struct enhanced_code ec;

	ck_assert_uint_eq(enhanced_code_scan(NULL, &ec), 0);
	ck_assert_uint_eq(enhanced_code_scan("", &ec), 0);
	ck_assert_uint_eq(enhanced_code_scan("5", &ec), 0);
	ck_assert_uint_eq(enhanced_code_scan("5.1", &ec), 0);
	ck_assert_uint_eq(enhanced_code_scan("5.1.", &ec), 0);
	ck_assert_uint_eq(enhanced_code_scan("5..1", &ec), 0);
	ck_assert_uint_eq(enhanced_code_scan("55.1.1", &ec), 0);
	ck_assert_uint_eq(enhanced_code_scan("5.1234.0", &ec), 0);
	ck_assert_uint_eq(enhanced_code_scan("5.1.1234", &ec), 0);
	ck_assert_uint_eq(enhanced_code_scan("x.1.1", &ec), 0);
	ck_assert_uint_eq(enhanced_code_scan(" 5.1.1", &ec), 0);
}
END_TEST

START_TEST(split_whole_string_of_class_245)
{
	struct enhanced_code ec;

	ck_assert_int_eq(enhanced_code_split("5.7.1", &ec), 0);
	ck_assert_int_eq(ec.cls, 5);
	ck_assert_int_eq(enhanced_code_split("2.0.0", &ec), 0);
	ck_assert_int_eq(enhanced_code_split("4.123.999", &ec), 0);
	ck_assert_int_eq(ec.detail, 999);
	ck_assert_int_eq(enhanced_code_split("3.0.0", &ec), -1);
	ck_assert_int_eq(enhanced_code_split("6.0.0", &ec), -1);
	ck_assert_int_eq(enhanced_code_split("5.1.1 x", &ec), -1);
	ck_assert_int_eq(enhanced_code_split("5.1", &ec), -1);
}
END_TEST

START_TEST(fits_the_reply_class)
{
	ck_assert(enhanced_code_fits("5.7.1", 554));
	ck_assert(enhanced_code_fits("4.4.2", 451));
	ck_assert(enhanced_code_fits("2.1.5", 250));
	ck_assert(!enhanced_code_fits("5.7.1", 451));
	ck_assert(!enhanced_code_fits("2.0.0", 550));
	ck_assert(!enhanced_code_fits("5.7.1 ", 554));
	ck_assert(!enhanced_code_fits("5.7", 554));
	ck_assert(!enhanced_code_fits(NULL, 554));
}
END_TEST

/* The client's use: reply_enhanced() on a parsed reply. */
static size_t
first_line_code(int code, char *line, char *out, size_t outlen)
{
	char *lines[1] = { line };
	struct smtp_reply r = { code, 1, lines };

	return reply_enhanced(&r, out, outlen);
}

START_TEST(reply_text_code)
{
	char out[REPLY_ENHANCED_MAX];

	ck_assert_uint_eq(first_line_code(550, "5.1.1 no such user", out,
	    sizeof(out)), 6);
	ck_assert_str_eq(out, "5.1.1");
	ck_assert_uint_eq(first_line_code(250, "2.0.0", out, sizeof(out)), 5);
	ck_assert_uint_eq(first_line_code(451, "5.1.1 wrong class", out,
	    sizeof(out)), 0);
	ck_assert_uint_eq(first_line_code(354, "3.0.0 go ahead", out,
	    sizeof(out)), 0);
	ck_assert_uint_eq(first_line_code(550, "5.1.1x", out, sizeof(out)),
	    0);
	/* Too small an output buffer: no code rather than a cut one. */
	ck_assert_uint_eq(first_line_code(550, "5.100.100 x", out, 6), 0);
}
END_TEST

static Suite *
enhanced_code_suite(void)
{
	Suite *s = suite_create("enhanced_code");
	TCase *tc = tcase_create("rfc3463");

	tcase_add_test(tc, scan_lengths_and_numbers);
	tcase_add_test(tc, scan_refuses);
	tcase_add_test(tc, split_whole_string_of_class_245);
	tcase_add_test(tc, fits_the_reply_class);
	tcase_add_test(tc, reply_text_code);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(enhanced_code_suite());

	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
