/*
 * NAME
 *	test_linereader - unit tests of the bounded line reader
 * DESCRIPTION
 *	Checks core/linereader.c: CRLF and bare LF line ends, lines split
 *	across reads, the length limit (CRLF included) with exactly one
 *	LINE_TOO_LONG per overlong line and the reader back in sync after
 *	it, an overlong line whose end arrives much later, and a limit change.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "../../core/linereader.h"

static struct evbuffer *in;
static struct linereader lr;

static void
setup(void)
{
	in = evbuffer_new();
	ck_assert_ptr_nonnull(in);
	ck_assert_int_eq(linereader_init(&lr, 16), 0);
}

static void
teardown(void)
{
	linereader_free(&lr);
	evbuffer_free(in);
}

static void
add(const char *s)
{
	evbuffer_add(in, s, strlen(s));
}

static void
expect_line(const char *want, int bare_lf)
{
	char *line = NULL;
	size_t len = 0;

	ck_assert_int_eq(linereader_next(&lr, in, &line, &len), LINE_OK);
	ck_assert_str_eq(line, want);
	ck_assert_uint_eq(len, strlen(want));
	ck_assert_int_eq(lr.bare_lf, bare_lf);
}

static void
expect(enum line_status want)
{
	char *line;
	size_t len;

	ck_assert_int_eq(linereader_next(&lr, in, &line, &len), want);
}

START_TEST(crlf_lines)
{
	add("NOOP\r\nQUIT\r\n");
	expect_line("NOOP", 0);
	expect_line("QUIT", 0);
	expect(LINE_NEED_MORE);
}
END_TEST

START_TEST(bare_lf_reported)
{
	add("NOOP\nRSET\r\n");
	expect_line("NOOP", 1);
	expect_line("RSET", 0);
}
END_TEST

START_TEST(empty_line)
{
	add("\r\n");
	expect_line("", 0);
}
END_TEST

START_TEST(split_across_reads)
{
	add("NO");
	expect(LINE_NEED_MORE);
	add("OP\r");
	expect(LINE_NEED_MORE);
	add("\n");
	expect_line("NOOP", 0);
}
END_TEST

START_TEST(limit_exact_fits)
{
	/* 14 octets + CRLF = 16 = the limit */
	add("abcdefghijklmn\r\n");
	expect_line("abcdefghijklmn", 0);
}
END_TEST

START_TEST(limit_plus_one_too_long)
{
	add("abcdefghijklmno\r\nNOOP\r\n");
	expect(LINE_TOO_LONG);
	expect_line("NOOP", 0);
	expect(LINE_NEED_MORE);
}
END_TEST

START_TEST(overlong_reported_once)
{
	/* the overlong line arrives in several pieces; one report only */
	add("0123456789012345678901234567890123456789");
	expect(LINE_TOO_LONG);
	expect(LINE_NEED_MORE);
	add("0123456789012345678901234567890123456789");
	expect(LINE_NEED_MORE);
	add("tail\r\nRSET\r\n");
	expect_line("RSET", 0);
	expect(LINE_NEED_MORE);
}
END_TEST

START_TEST(partial_below_limit_waits)
{
	add("abcdefghijklm");	/* 13 octets, no LF yet */
	expect(LINE_NEED_MORE);
	add("n\r\n");
	expect_line("abcdefghijklmn", 0);
}
END_TEST

START_TEST(cr_inside_line_kept)
{
	add("a\rb\r\n");
	expect_line("a\rb", 0);
}
END_TEST

START_TEST(set_limit_grows)
{
	ck_assert_int_eq(linereader_set_limit(&lr, 64), 0);
	add("0123456789012345678901234567890123456789\r\n");
	expect_line("0123456789012345678901234567890123456789", 0);
}
END_TEST

START_TEST(many_lines_one_buffer)
{
	for (int i = 0; i < 1000; i++)
		add("NOOP\r\n");
	for (int i = 0; i < 1000; i++)
		expect_line("NOOP", 0);
	expect(LINE_NEED_MORE);
}
END_TEST

static Suite *
linereader_suite(void)
{
	Suite *s = suite_create("linereader");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, crlf_lines);
	tcase_add_test(tc, bare_lf_reported);
	tcase_add_test(tc, empty_line);
	tcase_add_test(tc, split_across_reads);
	tcase_add_test(tc, limit_exact_fits);
	tcase_add_test(tc, limit_plus_one_too_long);
	tcase_add_test(tc, overlong_reported_once);
	tcase_add_test(tc, partial_below_limit_waits);
	tcase_add_test(tc, cr_inside_line_kept);
	tcase_add_test(tc, set_limit_grows);
	tcase_add_test(tc, many_lines_one_buffer);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(linereader_suite());

	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
