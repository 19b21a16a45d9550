/*
 * NAME
 *	test_data_reader - unit tests of DATA content reading (core/data.c)
 * DESCRIPTION
 *	End of data only at CRLF "." CRLF; dot-unstuffing; bare LF and bare
 *	CR flagged, never taken as a line end or the end of data (SMTP
 *	smuggling: "\n.\n", "\r\n.\n", "\n.\r\n", "\r.\r"); the same results
 *	when the input arrives one octet at a time; octets after the
 *	terminator left for the command reader; the size limit.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/data.h"
#include "../../core/message.h"

struct result {
	char *content;
	size_t len;
	size_t consumed;
	int done;
	int bare_cr;
	int bare_lf;
};

/* Feed in (all at once, or in pieces of step octets) until done. */
static struct result
scan(const char *in, size_t step)
{
	struct data_reader r;
	struct message m;
	struct result res = { 0 };
	size_t len = strlen(in), off = 0;

	data_reader_init(&r);
	message_init(&m, 1 << 20);
	while (off < len && !res.done) {
		size_t n = step && len - off > step ? step : len - off;
		size_t used = data_scan(&r, in + off, n, &m, &res.done);
		ck_assert_uint_le(used, n);
		if (!res.done)
			ck_assert_uint_eq(used, n);
		off += used;
	}
	res.consumed = off;
	res.content = malloc(m.len + 1);
	ck_assert_ptr_nonnull(res.content);
	memcpy(res.content, m.buf ? m.buf : "", m.len);
	res.content[m.len] = '\0';
	res.len = m.len;
	res.bare_cr = r.bare_cr;
	res.bare_lf = r.bare_lf;
	message_free(&m);
	return res;
}

/* Check one case whole and octet by octet. */
static void
check_case(const char *in, const char *want, int done, int bare_cr,
    int bare_lf)
{
	for (size_t step = 0; step <= 1; step++) {
		struct result res = scan(in, step);
		ck_assert_msg(res.done == done, "%s: done %d", in, res.done);
		if (want)
			ck_assert_str_eq(res.content, want);
		ck_assert_msg(res.bare_cr == bare_cr, "bare_cr for %s", in);
		ck_assert_msg(res.bare_lf == bare_lf, "bare_lf for %s", in);
		free(res.content);
	}
}

START_TEST(plain_message)
{
	check_case("Subject: x\r\n\r\nbody\r\n.\r\n",
	    "Subject: x\r\n\r\nbody\r\n", 1, 0, 0);
}
END_TEST

START_TEST(empty_message)
{
	check_case(".\r\n", "", 1, 0, 0);
}
END_TEST

START_TEST(dot_unstuffing)
{
	check_case("..x\r\n...\r\n..\r\na.b\r\n .\r\n.\r\n",
	    ".x\r\n..\r\n.\r\na.b\r\n .\r\n", 1, 0, 0);
}
END_TEST

START_TEST(not_ended_without_terminator)
{
	check_case("line\r\nmore\r\n", "line\r\nmore\r\n", 0, 0, 0);
}
END_TEST

START_TEST(lf_dot_lf_is_no_end)
{
	check_case("a\n.\nMAIL FROM:<e@x>\r\n.\r\n", NULL, 1, 0, 1);
}
END_TEST

START_TEST(crlf_dot_lf_is_no_end)
{
	check_case("a\r\n.\nMAIL FROM:<e@x>\r\n.\r\n", NULL, 1, 0, 1);
}
END_TEST

START_TEST(lf_dot_crlf_is_no_end)
{
	check_case("a\n.\r\nMAIL FROM:<e@x>\r\n.\r\n", NULL, 1, 0, 1);
}
END_TEST

START_TEST(cr_dot_cr_is_no_end)
{
	struct result res = scan("a\r.\rMAIL\r\n.\r\n", 0);
	ck_assert_int_eq(res.done, 1);
	ck_assert_int_eq(res.bare_cr, 1);
	ck_assert_uint_eq(res.consumed, strlen("a\r.\rMAIL\r\n.\r\n"));
	free(res.content);
}
END_TEST

START_TEST(dot_cr_x_is_bare_cr)
{
	check_case(".\rx\r\n.\r\n", NULL, 1, 1, 0);
}
END_TEST

START_TEST(bare_cr_in_line)
{
	check_case("a\rb\r\n.\r\n", NULL, 1, 1, 0);
}
END_TEST

START_TEST(bare_lf_in_line)
{
	check_case("a\nb\r\n.\r\n", NULL, 1, 0, 1);
}
END_TEST

START_TEST(rest_left_after_end)
{
	const char *in = "body\r\n.\r\nQUIT\r\n";
	struct result res = scan(in, 0);

	ck_assert_int_eq(res.done, 1);
	ck_assert_uint_eq(res.consumed, strlen("body\r\n.\r\n"));
	ck_assert_str_eq(res.content, "body\r\n");
	free(res.content);
}
END_TEST

START_TEST(crlf_split_across_reads)
{
	struct data_reader r;
	struct message m;
	int done = 0;

	data_reader_init(&r);
	message_init(&m, 1 << 20);
	ck_assert_uint_eq(data_scan(&r, "abc\r", 4, &m, &done), 4);
	ck_assert_int_eq(done, 0);
	ck_assert_uint_eq(data_scan(&r, "\n.", 2, &m, &done), 2);
	ck_assert_int_eq(done, 0);
	ck_assert_uint_eq(data_scan(&r, "\r", 1, &m, &done), 1);
	ck_assert_int_eq(done, 0);
	ck_assert_uint_eq(data_scan(&r, "\nNOOP", 5, &m, &done), 1);
	ck_assert_int_eq(done, 1);
	ck_assert_int_eq(r.bare_cr, 0);
	ck_assert_int_eq(r.bare_lf, 0);
	ck_assert_uint_eq(m.len, 5);
	ck_assert(memcmp(m.buf, "abc\r\n", 5) == 0);
	message_free(&m);
}
END_TEST

START_TEST(size_limit_counts_past_limit)
{
	struct data_reader r;
	struct message m;
	int done = 0;
	char big[4096];

	memset(big, 'x', sizeof(big));
	data_reader_init(&r);
	message_init(&m, 1000);
	for (int i = 0; i < 4; i++)
		data_scan(&r, big, sizeof(big), &m, &done);
	data_scan(&r, "\r\n.\r\n", 5, &m, &done);
	ck_assert_int_eq(done, 1);
	ck_assert_int_eq(m.overflow, 1);
	ck_assert_uint_le(m.len, 1000);
	ck_assert_uint_ge(m.total, 4 * sizeof(big));
	message_free(&m);
}
END_TEST

/* Found by fuzz/fuzz_milter: an empty body chunk came as (NULL, 0)
 * before any content, and the append did arithmetic on the NULL buffer
 * (UBSan in the sanitizer build). */
START_TEST(empty_piece_before_content)
{
	struct message m;

	message_init(&m, 100);
	message_append(&m, NULL, 0);
	message_append(&m, "", 0);
	ck_assert_uint_eq(m.len, 0);
	ck_assert_uint_eq(m.total, 0);
	ck_assert_int_eq(m.overflow, 0);
	message_append(&m, "ab", 2);
	ck_assert_uint_eq(m.len, 2);
	message_free(&m);
}
END_TEST

static Suite *
data_suite(void)
{
	Suite *s = suite_create("data");
	TCase *tc = tcase_create("reader");

	tcase_add_test(tc, plain_message);
	tcase_add_test(tc, empty_message);
	tcase_add_test(tc, dot_unstuffing);
	tcase_add_test(tc, not_ended_without_terminator);
	tcase_add_test(tc, lf_dot_lf_is_no_end);
	tcase_add_test(tc, crlf_dot_lf_is_no_end);
	tcase_add_test(tc, lf_dot_crlf_is_no_end);
	tcase_add_test(tc, cr_dot_cr_is_no_end);
	tcase_add_test(tc, dot_cr_x_is_bare_cr);
	tcase_add_test(tc, bare_cr_in_line);
	tcase_add_test(tc, bare_lf_in_line);
	tcase_add_test(tc, rest_left_after_end);
	tcase_add_test(tc, crlf_split_across_reads);
	tcase_add_test(tc, size_limit_counts_past_limit);
	tcase_add_test(tc, empty_piece_before_content);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(data_suite());

	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
