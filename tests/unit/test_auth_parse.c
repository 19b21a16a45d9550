/*
 * NAME
 *	test_auth_parse - unit tests of the auth plugin's parsers
 * DESCRIPTION
 *	The pure parts of the auth plugin (plugins/auth_parse.c, linked
 *	here as into the plugin): the AUTH argument "mechanism
 *	[initial-response]" (RFC 4954 section 4, RFC 4422 section 3.1 for
 *	the mechanism name), the
 *	decoding of a client response (base64, "=" for an empty initial
 *	response, "*" to cancel) and the xtext check of AUTH= (RFC 3461
 *	section 4).  No SASL connection is made: sasl_decode64 needs none.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <sasl/sasl.h>

#include "../../plugins/auth_parse.h"

static int
split(const char *args, char *mech, const char **initial)
{
	return auth_parse_args(args, mech, SASL_MECHNAMEMAX + 1, initial);
}

START_TEST(split_mech_only)
{
	char mech[SASL_MECHNAMEMAX + 1];
	const char *initial = "x";

	ck_assert_int_eq(split("PLAIN", mech, &initial), 0);
	ck_assert_str_eq(mech, "PLAIN");
	ck_assert_ptr_null(initial);
}
END_TEST

START_TEST(split_lower_case_mech_is_upper_cased)
{
	char mech[SASL_MECHNAMEMAX + 1];
	const char *initial;

	ck_assert_int_eq(split("cram-md5", mech, &initial), 0);
	ck_assert_str_eq(mech, "CRAM-MD5");
	ck_assert_int_eq(split("Scram_x", mech, &initial), 0);
	ck_assert_str_eq(mech, "SCRAM_X");
}
END_TEST

START_TEST(split_initial_response)
{
	char mech[SASL_MECHNAMEMAX + 1];
	const char *initial;

	ck_assert_int_eq(split("PLAIN AHVzZXIAc2VjcmV0", mech, &initial), 0);
	ck_assert_str_eq(mech, "PLAIN");
	ck_assert_str_eq(initial, "AHVzZXIAc2VjcmV0");
	ck_assert_int_eq(split("PLAIN =", mech, &initial), 0);
	ck_assert_str_eq(initial, "=");
}
END_TEST

START_TEST(split_refuses_bad_input)
{
	char mech[SASL_MECHNAMEMAX + 1];
	const char *initial;

	/* 21 characters: one more than RFC 4422 allows. */
	ck_assert_int_eq(split("ABCDEFGHIJKLMNOPQRSTU", mech, &initial), -1);
	ck_assert_int_eq(split("ABCDEFGHIJKLMNOPQRST", mech, &initial), 0);
	ck_assert_int_eq(split("", mech, &initial), -1);
	ck_assert_int_eq(split(" PLAIN", mech, &initial), -1);
	ck_assert_int_eq(split("PL.AIN", mech, &initial), -1);
	ck_assert_int_eq(split("PLAIN ", mech, &initial), -1);
	ck_assert_int_eq(split("PLAIN a b", mech, &initial), -1);
	ck_assert_int_eq(split("PLAIN  abcd", mech, &initial), -1);
	ck_assert_int_eq(split("PL\xc3\xa4IN", mech, &initial), -1);
}
END_TEST

static enum auth_response
decode(const char *text, int initial, char *out, unsigned *len)
{
	return auth_parse_response(text, initial, out,
	    auth_parse_decoded_max(strlen(text)), len);
}

START_TEST(decode_base64)
{
	char out[64];
	unsigned len;

	ck_assert_int_eq(decode("AHVzZXIAc2VjcmV0", 1, out, &len),
	    AUTH_RESPONSE_OK);
	ck_assert_uint_eq(len, 12);
	ck_assert_mem_eq(out, "\0user\0secret", 12);
	ck_assert_int_eq(decode("dXNlcg==", 0, out, &len), AUTH_RESPONSE_OK);
	ck_assert_uint_eq(len, 4);
	ck_assert_mem_eq(out, "user", 4);
}
END_TEST

START_TEST(decode_empty_responses)
{
	char out[8];
	unsigned len = 99;

	/* "=" on the AUTH line, an empty line in the exchange. */
	ck_assert_int_eq(decode("=", 1, out, &len), AUTH_RESPONSE_OK);
	ck_assert_uint_eq(len, 0);
	len = 99;
	ck_assert_int_eq(decode("", 0, out, &len), AUTH_RESPONSE_OK);
	ck_assert_uint_eq(len, 0);
	/* "=" is no empty response inside the exchange. */
	ck_assert_int_eq(decode("=", 0, out, &len), AUTH_RESPONSE_BAD);
}
END_TEST

START_TEST(decode_cancel)
{
	char out[8];
	unsigned len;

	ck_assert_int_eq(decode("*", 0, out, &len), AUTH_RESPONSE_CANCEL);
	/* Not on the AUTH line: there it is just not base64. */
	ck_assert_int_eq(decode("*", 1, out, &len), AUTH_RESPONSE_BAD);
}
END_TEST

START_TEST(decode_refuses_bad_base64)
{
	char out[64];
	unsigned len;

	ck_assert_int_eq(decode("dXNlcg", 0, out, &len), AUTH_RESPONSE_BAD);
	ck_assert_int_eq(decode("dXNl!g==", 0, out, &len), AUTH_RESPONSE_BAD);
	ck_assert_int_eq(decode("dX Nlcg=", 0, out, &len), AUTH_RESPONSE_BAD);
	ck_assert_int_eq(decode("====", 0, out, &len), AUTH_RESPONSE_BAD);
	ck_assert_int_eq(decode("dXNlcg==dXNl", 0, out, &len), AUTH_RESPONSE_BAD);
}
END_TEST

START_TEST(decode_respects_outmax)
{
	char out[64];
	unsigned len;

	ck_assert_int_eq(auth_parse_response("dXNlcg==", 0, out, 3, &len),
	    AUTH_RESPONSE_BAD);
}
END_TEST

START_TEST(xtext)
{
	ck_assert(auth_parse_xtext_valid("user@example.org"));
	ck_assert(auth_parse_xtext_valid("<>"));
	ck_assert(auth_parse_xtext_valid("us+2Ber@example.org"));
	ck_assert(!auth_parse_xtext_valid(""));
	ck_assert(!auth_parse_xtext_valid("a=b"));
	ck_assert(!auth_parse_xtext_valid("a b"));
	ck_assert(!auth_parse_xtext_valid("a+2"));
	ck_assert(!auth_parse_xtext_valid("a+ZZ"));
	ck_assert(!auth_parse_xtext_valid("caf\xc3\xa9"));
}
END_TEST

static Suite *
auth_suite(void)
{
	Suite *s = suite_create("auth_parse");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, split_mech_only);
	tcase_add_test(tc, split_lower_case_mech_is_upper_cased);
	tcase_add_test(tc, split_initial_response);
	tcase_add_test(tc, split_refuses_bad_input);
	tcase_add_test(tc, decode_base64);
	tcase_add_test(tc, decode_empty_responses);
	tcase_add_test(tc, decode_cancel);
	tcase_add_test(tc, decode_refuses_bad_base64);
	tcase_add_test(tc, decode_respects_outmax);
	tcase_add_test(tc, xtext);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(auth_suite());

	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
