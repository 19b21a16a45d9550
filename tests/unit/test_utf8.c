/*
 * NAME
 *	test_utf8 - unit tests of the UTF-8 checks of smtputf8 and dsn
 * DESCRIPTION
 *	Checks proto/utf8.c: 8-bit detection, and well-formed UTF-8 as
 *	RFC 3629 defines it -- every sequence length at its smallest and
 *	largest code point, and the forms it forbids: overlong encodings,
 *	surrogates, code points above U+10FFFF, stray continuation octets,
 *	truncated sequences, the octets C0, C1 and F5..FF.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

#define VALID(s) ck_assert_msg(utf8_valid((s), strlen(s)), "refused: %s", \
	#s)
#define INVALID(s) ck_assert_msg(!utf8_valid((s), strlen(s)), \
	"accepted: %s", #s)

START_TEST(has_8bit)
{
	ck_assert(!utf8_has_8bit("", 0));
	ck_assert(!utf8_has_8bit("plain ASCII ~\x7f", 14));
	ck_assert(utf8_has_8bit("caf\xc3\xa9", 5));
	ck_assert(utf8_has_8bit("\x80", 1));
	/* The length counts, not the NUL. */
	ck_assert(utf8_has_8bit("a\0\xff", 3));
	ck_assert(!utf8_has_8bit("a\0\xff", 2));
}
END_TEST

START_TEST(well_formed)
{
	VALID("");
	VALID("ascii only");
	VALID("\xc2\x80");			/* U+0080 */
	VALID("\xdf\xbf");			/* U+07FF */
	VALID("\xe0\xa0\x80");			/* U+0800 */
	VALID("\xed\x9f\xbf");			/* U+D7FF */
	VALID("\xee\x80\x80");			/* U+E000 */
	VALID("\xef\xbf\xbf");			/* U+FFFF */
	VALID("\xf0\x90\x80\x80");		/* U+10000 */
	VALID("\xf4\x8f\xbf\xbf");		/* U+10FFFF */
	VALID("j\xc3\xb6rg@b\xc3\xbc\x63her.example");
	VALID("\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9"
	    "\xbf\xe5\x91\x8a");
}
END_TEST

START_TEST(ill_formed)
{
	INVALID("\x80");			/* continuation alone */
	INVALID("a\xbf");
	INVALID("\xc0\x80");			/* overlong NUL */
	INVALID("\xc1\xbf");			/* overlong */
	INVALID("\xe0\x80\x80");		/* overlong */
	INVALID("\xe0\x9f\xbf");		/* overlong U+07FF */
	INVALID("\xf0\x8f\xbf\xbf");		/* overlong U+FFFF */
	INVALID("\xed\xa0\x80");		/* U+D800 surrogate */
	INVALID("\xed\xbf\xbf");		/* U+DFFF surrogate */
	INVALID("\xf4\x90\x80\x80");		/* U+110000 */
	INVALID("\xf5\x80\x80\x80");
	INVALID("\xff");
	INVALID("\xc3");			/* truncated */
	INVALID("\xe4\xbe");
	INVALID("\xf0\x90\x80");
	INVALID("\xc3(");			/* not a continuation */
	INVALID("\xe4\xbe(");
}
END_TEST

/* A sequence cut by the length, not by a NUL, is truncated too. */
START_TEST(length_bound)
{
	ck_assert(!utf8_valid("\xc3\xa9", 1));
	ck_assert(utf8_valid("\xc3\xa9", 2));
	ck_assert(utf8_valid("a\0b", 3));
}
END_TEST

static Suite *
utf8_suite(void)
{
	Suite *s = suite_create("utf8");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, has_8bit);
	tcase_add_test(tc, well_formed);
	tcase_add_test(tc, ill_formed);
	tcase_add_test(tc, length_bound);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(utf8_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
