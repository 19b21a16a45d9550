/*
 * NAME
 *	test_bdat_parse - unit tests of the BDAT argument parser
 * DESCRIPTION
 *	Checks proto/bdat_parse.c, the code the chunking plugin runs:
 *	"size" and "size LAST" (any case) are taken, sizes up to 20 digits
 *	that fit in 64 bits; everything else -- signs, spaces, other words,
 *	overflow, a 21st digit -- is refused with a reason for the 501.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "bdat_parse.h"

static void
ok(const char *args, uint64_t want_size, int want_last)
{
	uint64_t size = 12345;
	int last = -1;
	const char *why = NULL;

	ck_assert_msg(bdat_parse(args, &size, &last, &why) == 0,
	    "\"%s\" refused: %s", args, why ? why : "");
	ck_assert_msg(size == want_size, "\"%s\": size %llu", args,
	    (unsigned long long)size);
	ck_assert_int_eq(last, want_last);
}

static void
bad(const char *args)
{
	uint64_t size;
	int last;
	const char *why = NULL;

	ck_assert_msg(bdat_parse(args, &size, &last, &why) < 0,
	    "\"%s\" accepted", args);
	ck_assert_ptr_nonnull(why);
}

START_TEST(sizes)
{
	ok("0", 0, 0);
	ok("1", 1, 0);
	ok("000", 0, 0);
	ok("1048576", 1048576, 0);
	ok("18446744073709551615", UINT64_MAX, 0);	/* 20 digits */
	ok("00000000000000000001", 1, 0);		/* 20 digits */
}
END_TEST

START_TEST(last_marker)
{
	ok("0 LAST", 0, 1);
	ok("17 LAST", 17, 1);
	ok("17 last", 17, 1);
	ok("17 LaSt", 17, 1);
}
END_TEST

START_TEST(refused)
{
	bad("");
	bad(" 1");
	bad("LAST");
	bad("-1");
	bad("+1");
	bad("1.5");
	bad("0x10");
	bad("1 ");
	bad("1  LAST");
	bad("1 LAST ");
	bad("1 LASTX");
	bad("1 LAS");
	bad("1 FIRST");
	bad("1 LAST LAST");
	bad("1\tLAST");
	bad("18446744073709551616");		/* 2^64 */
	bad("99999999999999999999");
	bad("000000000000000000001");		/* 21 digits */
}
END_TEST

static Suite *
bdat_suite(void)
{
	Suite *s = suite_create("bdat_parse");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, sizes);
	tcase_add_test(tc, last_marker);
	tcase_add_test(tc, refused);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(bdat_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
