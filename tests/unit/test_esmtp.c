/*
 * NAME
 *	test_esmtp - unit tests of the esmtp-param grammar (proto/esmtp.c)
 * DESCRIPTION
 *	The character classes of RFC 1869 section 6 (esmtp-keyword,
 *	esmtp-value, ehlo-param), the splitting of MAIL/RCPT arguments into
 *	path and parameters with the errors the server answers 501 for, and
 *	xtext decoding (RFC 3461 section 4).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esmtp.h"

#define KV(s) (s), strlen(s)

START_TEST(keyword_class)
{
	ck_assert(esmtp_keyword_valid(KV("SIZE")));
	ck_assert(esmtp_keyword_valid(KV("8BITMIME")));
	ck_assert(esmtp_keyword_valid(KV("X-FOO")));
	ck_assert(esmtp_keyword_valid(KV("a")));
	ck_assert(!esmtp_keyword_valid(KV("")));
	ck_assert(!esmtp_keyword_valid(KV("-SIZE")));
	ck_assert(!esmtp_keyword_valid(KV("SI_ZE")));
	ck_assert(!esmtp_keyword_valid(KV("SI ZE")));
	ck_assert(!esmtp_keyword_valid(KV("SIZE=")));
}
END_TEST

START_TEST(value_class)
{
	ck_assert(esmtp_value_valid(KV("10"), 0));
	ck_assert(esmtp_value_valid(KV("a+2Bb"), 0));
	ck_assert(esmtp_value_valid(KV("!~"), 0));
	ck_assert(!esmtp_value_valid(KV(""), 0));
	ck_assert(!esmtp_value_valid(KV("a=b"), 0));
	ck_assert(!esmtp_value_valid(KV("a b"), 0));
	ck_assert(!esmtp_value_valid(KV("a\tb"), 0));
	ck_assert(!esmtp_value_valid(KV("\x7f"), 0));
	ck_assert(!esmtp_value_valid(KV("caf\xc3\xa9"), 0));
	ck_assert(esmtp_value_valid(KV("caf\xc3\xa9"), 1));
}
END_TEST

START_TEST(ehlo_param_class)
{
	ck_assert(esmtp_ehlo_param_valid(KV("1000000")));
	ck_assert(esmtp_ehlo_param_valid(KV("a=b")));
	ck_assert(!esmtp_ehlo_param_valid(KV("")));
	ck_assert(!esmtp_ehlo_param_valid(KV("a b")));
	ck_assert(!esmtp_ehlo_param_valid(KV("a\x01")));
}
END_TEST

/* Split a copy of arg; the caller frees *copy. */
static enum esmtp_status
split(const char *arg, const char *prefix, char **copy, char **path,
    struct esmtp_param *params, size_t *n)
{
	*copy = strdup(arg);
	ck_assert_ptr_nonnull(*copy);
	return esmtp_split_command(*copy, prefix, path, params, n, NULL);
}

START_TEST(split_plain_path)
{
	char *copy, *path;
	struct esmtp_param p[ESMTP_MAX_PARAMS];
	size_t n = 99;

	ck_assert_int_eq(split("FROM:<a@b.test>", "FROM:", &copy, &path, p, &n),
	    ESMTP_OK);
	ck_assert_str_eq(path, "a@b.test");
	ck_assert_uint_eq(n, 0);
	free(copy);
}
END_TEST

START_TEST(split_null_path_and_params)
{
	char *copy, *path;
	struct esmtp_param p[ESMTP_MAX_PARAMS];
	size_t n;

	ck_assert_int_eq(split("from:<> size=10 BODY=8BITMIME RET",
	    "FROM:", &copy, &path, p, &n), ESMTP_OK);
	ck_assert_str_eq(path, "");
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(p[0].keyword, "size");
	ck_assert_str_eq(p[0].value, "10");
	ck_assert_str_eq(p[1].keyword, "BODY");
	ck_assert_str_eq(p[1].value, "8BITMIME");
	ck_assert_str_eq(p[2].keyword, "RET");
	ck_assert_ptr_null(p[2].value);
	free(copy);
}
END_TEST

START_TEST(split_space_after_colon)
{
	char *copy, *path;
	struct esmtp_param p[ESMTP_MAX_PARAMS];
	size_t n;

	ck_assert_int_eq(split("TO: <u@example.org>", "TO:", &copy, &path, p,
	    &n), ESMTP_OK);
	ck_assert_str_eq(path, "u@example.org");
	free(copy);
}
END_TEST

START_TEST(split_quoted_gt)
{
	char *copy, *path;
	struct esmtp_param p[ESMTP_MAX_PARAMS];
	size_t n;

	ck_assert_int_eq(split("FROM:<\"a>b\"@x.test> SIZE=1", "FROM:", &copy,
	    &path, p, &n), ESMTP_OK);
	ck_assert_str_eq(path, "\"a>b\"@x.test");
	ck_assert_uint_eq(n, 1);
	free(copy);
}
END_TEST

START_TEST(split_errors)
{
	static const struct {
		const char *arg;
		enum esmtp_status want;
	} cases[] = {
		{ "FROM <a@b>", ESMTP_BAD_PREFIX },
		{ "TO:<a@b>", ESMTP_BAD_PREFIX },
		{ "", ESMTP_BAD_PREFIX },
		{ "FROM:a@b", ESMTP_BAD_PATH },
		{ "FROM:<a@b", ESMTP_BAD_PATH },
		{ "FROM:", ESMTP_BAD_PATH },
		{ "FROM:<a@b>x", ESMTP_BAD_PATH },
		{ "FROM:<a@b> SIZE=", ESMTP_BAD_PARAM },
		{ "FROM:<a@b> =x", ESMTP_BAD_PARAM },
		{ "FROM:<a@b> SI_ZE=1", ESMTP_BAD_PARAM },
		{ "FROM:<a@b> SIZE=1=2", ESMTP_BAD_PARAM },
		{ "FROM:<a@b> -X", ESMTP_BAD_PARAM },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *copy, *path;
		struct esmtp_param p[ESMTP_MAX_PARAMS];
		size_t n;
		enum esmtp_status got = split(cases[i].arg, "FROM:", &copy,
		    &path, p, &n);
		ck_assert_msg(got == cases[i].want, "\"%s\": got %d, want %d",
		    cases[i].arg, got, cases[i].want);
		free(copy);
	}
}
END_TEST

START_TEST(split_too_many)
{
	char arg[1024] = "FROM:<a@b>";
	char *copy, *path;
	struct esmtp_param p[ESMTP_MAX_PARAMS];
	size_t n;

	for (int i = 0; i <= ESMTP_MAX_PARAMS; i++) {
		char one[16];
		snprintf(one, sizeof(one), " P%d=1", i);
		strcat(arg, one);
	}
	ck_assert_int_eq(split(arg, "FROM:", &copy, &path, p, &n),
	    ESMTP_TOO_MANY);
	free(copy);
}
END_TEST

START_TEST(split_max_params_ok)
{
	char arg[1024] = "FROM:<a@b>";
	char *copy, *path;
	struct esmtp_param p[ESMTP_MAX_PARAMS];
	size_t n;

	for (int i = 0; i < ESMTP_MAX_PARAMS; i++) {
		char one[16];
		snprintf(one, sizeof(one), " P%d=1", i);
		strcat(arg, one);
	}
	ck_assert_int_eq(split(arg, "FROM:", &copy, &path, p, &n), ESMTP_OK);
	ck_assert_uint_eq(n, ESMTP_MAX_PARAMS);
	free(copy);
}
END_TEST

START_TEST(split_why_is_set)
{
	char arg[] = "FROM:<a@b> =x";
	char *path;
	struct esmtp_param p[ESMTP_MAX_PARAMS];
	size_t n;
	const char *why = NULL;

	ck_assert_int_eq(esmtp_split_command(arg, "FROM:", &path, p, &n, &why),
	    ESMTP_BAD_PARAM);
	ck_assert_ptr_nonnull(why);
	ck_assert(strlen(why) > 0);
}
END_TEST

START_TEST(xtext)
{
	char out[32];

	ck_assert_int_eq(esmtp_xtext_decode("abc", out, sizeof(out)), 3);
	ck_assert_str_eq(out, "abc");
	ck_assert_int_eq(esmtp_xtext_decode("a+2Bb+3D", out, sizeof(out)), 4);
	ck_assert_str_eq(out, "a+b=");
	ck_assert_int_eq(esmtp_xtext_decode("a+2b", out, sizeof(out)), -1);
	ck_assert_int_eq(esmtp_xtext_decode("a+2", out, sizeof(out)), -1);
	ck_assert_int_eq(esmtp_xtext_decode("a=b", out, sizeof(out)), -1);
	ck_assert_int_eq(esmtp_xtext_decode("abcdef", out, 4), -1);
}
END_TEST

/* The host helper plugins get (host->xtext_encode). */
START_TEST(xtext_encode_round_trip)
{
	char enc[64], dec[64];

	ck_assert_int_eq(esmtp_xtext_encode("a+b=c d\x80", enc, sizeof(enc)),
	    16);
	ck_assert_str_eq(enc, "a+2Bb+3Dc+20d+80");
	ck_assert_int_eq(esmtp_xtext_decode(enc, dec, sizeof(dec)), 8);
	ck_assert_str_eq(dec, "a+b=c d\x80");
	/* Too small a buffer is an error, never a truncation. */
	ck_assert_int_eq(esmtp_xtext_encode("a+b", enc, 4), -1);
}
END_TEST

/* Every octet but NUL, alone and in a run, decodes back to itself. */
START_TEST(xtext_every_octet_round_trips)
{
	char in[256], enc[3 * 256 + 1], dec[256];

	for (int c = 1; c < 256; c++) {
		in[c - 1] = (char)c;
		in[c] = '\0';
		char one[2] = { (char)c, '\0' };
		ck_assert_int_gt(esmtp_xtext_encode(one, enc, sizeof(enc)), 0);
		ck_assert_int_eq(esmtp_xtext_decode(enc, dec, sizeof(dec)), 1);
		ck_assert_int_eq((unsigned char)dec[0], c);
	}
	ck_assert_int_eq(esmtp_xtext_encode(in, enc, sizeof(enc)),
	    255 + 2 * (32 + 2 + 129));
	ck_assert_int_eq(esmtp_xtext_decode(enc, dec, sizeof(dec)), 255);
	ck_assert_mem_eq(dec, in, 255);
}
END_TEST

static Suite *
esmtp_suite(void)
{
	Suite *s = suite_create("esmtp");
	TCase *tc = tcase_create("grammar");

	tcase_add_test(tc, keyword_class);
	tcase_add_test(tc, value_class);
	tcase_add_test(tc, ehlo_param_class);
	tcase_add_test(tc, split_plain_path);
	tcase_add_test(tc, split_null_path_and_params);
	tcase_add_test(tc, split_space_after_colon);
	tcase_add_test(tc, split_quoted_gt);
	tcase_add_test(tc, split_errors);
	tcase_add_test(tc, split_too_many);
	tcase_add_test(tc, split_max_params_ok);
	tcase_add_test(tc, split_why_is_set);
	tcase_add_test(tc, xtext);
	tcase_add_test(tc, xtext_encode_round_trip);
	tcase_add_test(tc, xtext_every_octet_round_trips);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(esmtp_suite());

	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
