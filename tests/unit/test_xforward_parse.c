/*
 * NAME
 *	test_xforward_parse - unit tests of XFORWARD's attribute grammar
 * DESCRIPTION
 *	Checks proto/xforward_parse.c, which core/xforward.c runs on each
 *	XFORWARD command from a trusted proxy: the seven attributes in any
 *	case, xtext values of at most 255 octets, "[UNAVAILABLE]" and
 *	"[TEMPUNAVAIL]", Postfix's "IPV6:" prefix, port numbers, HELO's
 *	controls turned into "?", and that a refused command leaves the
 *	caller's attributes exactly as they were.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "xforward_parse.h"

static struct xforward_attrs attrs;
static char bad[XFORWARD_BAD_OUT];
static const char *why;

static void
parse_ok(const char *arg)
{
	memset(&attrs, 0, sizeof(attrs));
	why = NULL;
	ck_assert_msg(xforward_parse(arg, &attrs, bad, sizeof(bad), &why) == 0,
	    "XFORWARD %s refused: %s", arg, why ? why : "");
}

static void
parse_bad(const char *arg, const char *want_bad)
{
	struct xforward_attrs before;

	memset(&attrs, 0x5a, sizeof(attrs));
	before = attrs;
	why = NULL;
	ck_assert_msg(xforward_parse(arg, &attrs, bad, sizeof(bad), &why) < 0,
	    "XFORWARD %s accepted", arg);
	ck_assert_ptr_nonnull(why);
	ck_assert_str_eq(bad, want_bad);
	ck_assert_msg(memcmp(&attrs, &before, sizeof(attrs)) == 0,
	    "XFORWARD %s refused but changed the attributes", arg);
}

static void
has(enum xforward_attr attr, const char *want)
{
	ck_assert_int_eq(attrs.known[attr], 1);
	ck_assert_str_eq(attrs.value[attr], want);
}

START_TEST(postfix_command)
{
	parse_ok("NAME=spike.example ADDR=192.0.2.7 PORT=4321 PROTO=ESMTP "
	    "HELO=spike.example");
	has(XFORWARD_NAME, "spike.example");
	has(XFORWARD_ADDR, "192.0.2.7");
	has(XFORWARD_PORT, "4321");
	has(XFORWARD_PROTO, "ESMTP");
	has(XFORWARD_HELO, "spike.example");
	ck_assert_int_eq(attrs.known[XFORWARD_IDENT], 0);
	ck_assert_int_eq(attrs.known[XFORWARD_SOURCE], 0);

	parse_ok("IDENT=u1  SOURCE=REMOTE");	/* two spaces */
	has(XFORWARD_IDENT, "u1");
	has(XFORWARD_SOURCE, "REMOTE");
	ck_assert_int_eq(attrs.known[XFORWARD_ADDR], 0);

	parse_ok("addr=192.0.2.1 Helo=x");
	has(XFORWARD_ADDR, "192.0.2.1");
	has(XFORWARD_HELO, "x");
}
END_TEST

START_TEST(addresses)
{
	parse_ok("ADDR=IPV6:2001:db8::1");
	has(XFORWARD_ADDR, "2001:db8::1");
	parse_ok("ADDR=ipv6:2001:DB8::1");
	has(XFORWARD_ADDR, "2001:DB8::1");
	parse_ok("ADDR=2001:db8::2");
	has(XFORWARD_ADDR, "2001:db8::2");
	parse_bad("ADDR=IPV6:192.0.2.1", "ADDR=IPV6:192.0.2.1");
	parse_bad("ADDR=not-an-address", "ADDR=not-an-address");
	parse_bad("ADDR=192.0.2.256", "ADDR=192.0.2.256");
	parse_bad("ADDR=", "ADDR=");
	parse_bad("ADDR=192.0.2.1+00x", "ADDR=192.0.2.1+00x");
	parse_bad("ADDR=192.0.2.1+00", "ADDR=192.0.2.1+00");
}
END_TEST

START_TEST(ports)
{
	parse_ok("PORT=0");
	has(XFORWARD_PORT, "0");
	parse_ok("PORT=65535");
	has(XFORWARD_PORT, "65535");
	parse_bad("PORT=65536", "PORT=65536");
	parse_bad("PORT=123456", "PORT=123456");
	parse_bad("PORT=-1", "PORT=-1");
	parse_bad("PORT=", "PORT=");
	parse_bad("PORT=8+20", "PORT=8+20");
}
END_TEST

START_TEST(unknown_values)
{
	parse_ok("ADDR=[UNAVAILABLE] HELO=[tempunavail] NAME=[TEMPUNAVAIL]");
	for (int i = 0; i < XFORWARD_ATTRS; i++)
		ck_assert_int_eq(attrs.known[i], 0);
	parse_ok("HELO=");
	ck_assert_int_eq(attrs.known[XFORWARD_HELO], 0);
	parse_ok("HELO=+00");	/* a NUL octet is not an empty name */
	has(XFORWARD_HELO, "?");
	/* The later of two counts, even when it says "unknown". */
	parse_ok("HELO=a HELO=b");
	has(XFORWARD_HELO, "b");
	parse_ok("HELO=a HELO=[UNAVAILABLE]");
	ck_assert_int_eq(attrs.known[XFORWARD_HELO], 0);
}
END_TEST

START_TEST(controls_become_question_marks)
{
	parse_ok("HELO=bad+0D+0A2026-01-01+20ehlod:+20forged+1B[0m+7F");
	has(XFORWARD_HELO, "bad??2026-01-01?ehlod:?forged?[0m?");
	parse_ok("NAME=a+09b IDENT=+0Aroot");
	has(XFORWARD_NAME, "a?b");
	has(XFORWARD_IDENT, "?root");
	/* A decoded NUL does not cut the value short. */
	parse_ok("HELO=a+00b");
	has(XFORWARD_HELO, "a?b");
	/* UTF-8 and other 8-bit octets are not controls. */
	parse_ok("HELO=+C3+A9");
	has(XFORWARD_HELO, "\xc3\xa9");
}
END_TEST

START_TEST(syntax)
{
	parse_bad("", "");
	parse_bad("   ", "");
	parse_bad("ADDR", "ADDR");
	parse_bad("=192.0.2.1", "=192.0.2.1");
	parse_bad("COLOR=blue", "COLOR=blue");
	parse_bad("ADDRESS=192.0.2.1", "ADDRESS=192.0.2.1");
	parse_bad("HELO=a+2", "HELO=a+2");
	parse_bad("HELO=a+2b", "HELO=a+2b");	/* lower-case hex */
	parse_bad("HELO=a+zz", "HELO=a+zz");
	parse_bad("HELO=a=b", "HELO=a=b");
}
END_TEST

START_TEST(lengths)
{
	char arg[4 * XFORWARD_VALUE_MAX], *v;

	strcpy(arg, "HELO=");
	v = arg + strlen(arg);
	memset(v, 'h', XFORWARD_VALUE_MAX);
	v[XFORWARD_VALUE_MAX] = '\0';
	parse_ok(arg);
	ck_assert_uint_eq(strlen(attrs.value[XFORWARD_HELO]),
	    XFORWARD_VALUE_MAX);
	strcat(arg, "h");
	parse_bad(arg, "HELO=hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh");
	/* 255 octets written as xtext take 765 characters. */
	for (int i = 0; i < XFORWARD_VALUE_MAX; i++)
		memcpy(v + 3 * i, "+41", 3);
	v[3 * XFORWARD_VALUE_MAX] = '\0';
	parse_ok(arg);
	ck_assert_uint_eq(strlen(attrs.value[XFORWARD_HELO]),
	    XFORWARD_VALUE_MAX);
	strcat(arg, "+41");
	parse_bad(arg, "HELO=+41+41+41+41+41+41+41+41+41+41+41+4");
}
END_TEST

START_TEST(refusal_changes_nothing)
{
	/* The good ADDR before the bad attribute must not be kept. */
	parse_bad("ADDR=192.0.2.9 PORT=25 COLOR=blue", "COLOR=blue");
	parse_bad("HELO=ok ADDR=nowhere", "ADDR=nowhere");
	/* The echo of a raw control is neutered too. */
	parse_bad("CO\x01OR=x", "CO?OR=x");
}
END_TEST

static Suite *
xforward_suite(void)
{
	Suite *s = suite_create("xforward_parse");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, postfix_command);
	tcase_add_test(tc, addresses);
	tcase_add_test(tc, ports);
	tcase_add_test(tc, unknown_values);
	tcase_add_test(tc, controls_become_question_marks);
	tcase_add_test(tc, syntax);
	tcase_add_test(tc, lengths);
	tcase_add_test(tc, refusal_changes_nothing);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(xforward_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
