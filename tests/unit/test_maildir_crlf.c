/*
 * NAME
 *	test_maildir_crlf - unit test of the maildir plugin's CRLF to LF step
 * DESCRIPTION
 *	The host feeds the maildir plugin the message in chunks that may end
 *	between a CR and its LF.  Each case here is cut at every possible
 *	place (and into single octets) and must give the same output as the
 *	whole text converted at once, which must be the expected text.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "crlf.h"

/* Convert text fed in pieces of the given sizes (the last repeats). */
static size_t
convert(const char *text, size_t len, const size_t *cuts, size_t ncuts,
    unsigned char *out)
{
	struct crlf st = { 0 };
	size_t done = 0, n = 0, c = 0;

	while (done < len) {
		size_t piece = cuts[c < ncuts ? c : ncuts - 1];

		c++;
		if (piece > len - done)
			piece = len - done;
		n += crlf_to_lf(&st, (const unsigned char *)text + done, piece,
		    out + n);
		done += piece;
	}
	n += crlf_finish(&st, out + n);
	return n;
}

static void
check_case(const char *in, const char *want)
{
	size_t len = strlen(in), wlen = strlen(want);
	size_t whole[] = { len ? len : 1 }, ones[] = { 1 };
	unsigned char *out = malloc(len + 2);
	size_t n;

	ck_assert_ptr_nonnull(out);
	/* In one piece, in single octets, then cut once at every place. */
	n = convert(in, len, whole, 1, out);

	ck_assert_uint_eq(n, wlen);
	ck_assert_mem_eq(out, want, wlen);
	n = convert(in, len, ones, 1, out);
	ck_assert_uint_eq(n, wlen);
	ck_assert_mem_eq(out, want, wlen);
	for (size_t cut = 1; cut < len; cut++) {
		size_t two[] = { cut, len };

		n = convert(in, len, two, 2, out);
		ck_assert_msg(n == wlen && memcmp(out, want, wlen) == 0,
		    "cut at %zu of \"%s\" went wrong", cut, in);
	}
	free(out);
}

START_TEST(test_crlf_pairs)
{
	check_case("a\r\nb\r\n", "a\nb\n");
	check_case("\r\n\r\n", "\n\n");
	check_case("Subject: x\r\n\r\nbody\r\n", "Subject: x\n\nbody\n");
}
END_TEST

START_TEST(test_lone_cr_kept)
{
	check_case("a\rb", "a\rb");
	check_case("a\r\r\nb", "a\r\nb");
	check_case("\r\r\r\n", "\r\r\n");
	check_case("\r", "\r");
	check_case("end\r", "end\r");
}
END_TEST

START_TEST(test_lf_alone_kept)
{
	check_case("a\nb\n\n", "a\nb\n\n");
	check_case("\n\r", "\n\r");
	check_case("", "");
}
END_TEST

START_TEST(test_eight_bit)
{
	check_case("caf\xc3\xa9\r\n\xff\r", "caf\xc3\xa9\n\xff\r");
}
END_TEST

/* The output never grows past input + 1, the room the plugin leaves. */
START_TEST(test_output_bound)
{
	struct crlf st = { 0 };
	unsigned char out[4];

	ck_assert_uint_eq(crlf_to_lf(&st, (const unsigned char *)"\r", 1, out),
	    0);
	ck_assert_uint_eq(crlf_to_lf(&st, (const unsigned char *)"ab", 2, out),
	    3);
	ck_assert_mem_eq(out, "\rab", 3);
	ck_assert_uint_eq(crlf_finish(&st, out), 0);
}
END_TEST

static Suite *
crlf_suite(void)
{
	Suite *s = suite_create("maildir_crlf");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_crlf_pairs);
	tcase_add_test(tc, test_lone_cr_kept);
	tcase_add_test(tc, test_lf_alone_kept);
	tcase_add_test(tc, test_eight_bit);
	tcase_add_test(tc, test_output_bound);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(crlf_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
