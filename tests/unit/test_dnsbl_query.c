/*
 * NAME
 *	test_dnsbl_query - unit tests of the dnsbl plugin's pure parts
 * DESCRIPTION
 *	Checks proto/dnsbl_query.c: query names for IPv4 and IPv6 clients
 *	(RFC 5782), zone syntax and the length that keeps every query name
 *	within 253 characters, how A records are judged (127/8 lists,
 *	127.255.255.x is an error, the rest lists nobody), and the reply
 *	text built from the admin's message without printf.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dnsbl_query.h"

static char name[DNSBL_NAME_MAX + 1];

START_TEST(ipv4_names)
{
	ck_assert_int_eq(dnsbl_query_name("192.0.2.1", "bl.example", name,
	    sizeof(name)), 0);
	ck_assert_str_eq(name, "1.2.0.192.bl.example");
	ck_assert_int_eq(dnsbl_query_name("127.0.0.2", "zen.example.org",
	    name, sizeof(name)), 0);
	ck_assert_str_eq(name, "2.0.0.127.zen.example.org");
}
END_TEST

START_TEST(ipv6_names)
{
	/* RFC 5782 section 2.4's example address. */
	ck_assert_int_eq(dnsbl_query_name("2001:db8:1:2:3:4:567:89ab",
	    "ugly.example.com", name, sizeof(name)), 0);
	ck_assert_str_eq(name, "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0."
	    "0.0.8.b.d.0.1.0.0.2.ugly.example.com");
	ck_assert_int_eq(dnsbl_query_name("::1", "bl.test", name,
	    sizeof(name)), 0);
	ck_assert_str_eq(name, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "0.0.0.0.0.0.0.0.0.0.bl.test");
}
END_TEST

START_TEST(not_addresses)
{
	ck_assert_int_lt(dnsbl_query_name("unknown", "bl.test", name,
	    sizeof(name)), 0);
	ck_assert_int_lt(dnsbl_query_name("", "bl.test", name,
	    sizeof(name)), 0);
	ck_assert_int_lt(dnsbl_query_name("192.0.2", "bl.test", name,
	    sizeof(name)), 0);
	ck_assert_int_lt(dnsbl_query_name("fe80::1%eth0", "bl.test", name,
	    sizeof(name)), 0);
	/* Too small a buffer is refused, never overrun. */
	ck_assert_int_lt(dnsbl_query_name("192.0.2.1", "bl.example", name,
	    10), 0);
}
END_TEST

static int
zone(const char *z)
{
	const char *why = NULL;
	int n = dnsbl_zone_check(z, &why);

	if (n < 0)
		ck_assert_ptr_nonnull(why);
	return n;
}

START_TEST(zones)
{
	char longest[DNSBL_ZONE_MAX + 2], label[DNSBL_LABEL_MAX + 3];

	ck_assert_int_eq(zone("bl.test"), 7);
	ck_assert_int_eq(zone("bl.test."), 7);
	ck_assert_int_eq(zone("zen.spam-list_1.example"), 23);
	ck_assert_int_lt(zone(""), 0);
	ck_assert_int_lt(zone("."), 0);
	ck_assert_int_lt(zone(".bl.test"), 0);
	ck_assert_int_lt(zone("bl..test"), 0);
	ck_assert_int_lt(zone("bl test"), 0);
	ck_assert_int_lt(zone("bl.t\xc3\xa9st"), 0);
	/* A zone of 189 characters still leaves room for any IPv6 name. */
	memset(longest, 'a', sizeof(longest));
	for (size_t i = 60; i < DNSBL_ZONE_MAX; i += 61)
		longest[i] = '.';
	longest[DNSBL_ZONE_MAX] = '\0';
	ck_assert_int_eq(zone(longest), DNSBL_ZONE_MAX);
	ck_assert_int_eq(dnsbl_query_name("2001:db8::1", longest, name,
	    sizeof(name)), 0);
	ck_assert_uint_eq(strlen(name), DNSBL_NAME_MAX);
	longest[DNSBL_ZONE_MAX] = 'a';
	longest[DNSBL_ZONE_MAX + 1] = '\0';
	ck_assert_int_lt(zone(longest), 0);
	/* Labels: 63 characters at most. */
	memset(label, 'b', sizeof(label));
	label[DNSBL_LABEL_MAX] = '\0';
	ck_assert_int_eq(zone(label), DNSBL_LABEL_MAX);
	label[DNSBL_LABEL_MAX] = 'b';
	label[DNSBL_LABEL_MAX + 1] = '\0';
	ck_assert_int_lt(zone(label), 0);
}
END_TEST

#define A(a, b, c, d) (((uint32_t)(a) << 24) | ((b) << 16) | ((c) << 8) | (d))

START_TEST(answers)
{
	ck_assert_int_eq(dnsbl_classify(A(127, 0, 0, 2)), DNSBL_LISTED);
	ck_assert_int_eq(dnsbl_classify(A(127, 0, 0, 11)), DNSBL_LISTED);
	ck_assert_int_eq(dnsbl_classify(A(127, 0, 1, 2)), DNSBL_LISTED);
	ck_assert_int_eq(dnsbl_classify(A(127, 255, 255, 254)),
	    DNSBL_REFUSED);
	ck_assert_int_eq(dnsbl_classify(A(127, 255, 255, 252)),
	    DNSBL_REFUSED);
	ck_assert_int_eq(dnsbl_classify(A(127, 255, 254, 1)), DNSBL_LISTED);
	ck_assert_int_eq(dnsbl_classify(A(192, 0, 2, 1)), DNSBL_NOT_LISTED);
	ck_assert_int_eq(dnsbl_classify(A(126, 0, 0, 2)), DNSBL_NOT_LISTED);
	ck_assert_int_eq(dnsbl_classify(A(128, 0, 0, 2)), DNSBL_NOT_LISTED);
}
END_TEST

static int
format_ok(const char *fmt)
{
	const char *why = NULL;
	int rc = dnsbl_format_check(fmt, &why);

	if (rc < 0)
		ck_assert_ptr_nonnull(why);
	return rc == 0;
}

START_TEST(message_check)
{
	ck_assert(format_ok("Service unavailable; client [%s] listed by %s"));
	ck_assert(format_ok("listed"));
	ck_assert(format_ok("%s"));
	ck_assert(format_ok("100%% sure: %s"));
	ck_assert(!format_ok("%s %s %s"));
	ck_assert(!format_ok("%d"));
	ck_assert(!format_ok("%n"));
	ck_assert(!format_ok("50%"));
	ck_assert(!format_ok("%-10s"));
}
END_TEST

START_TEST(message_format)
{
	char out[64];

	dnsbl_format("client [%s] listed by %s", "192.0.2.1", "bl.test", out,
	    sizeof(out));
	ck_assert_str_eq(out, "client [192.0.2.1] listed by bl.test");
	dnsbl_format("100%% %s", "a", "z", out, sizeof(out));
	ck_assert_str_eq(out, "100% a");
	dnsbl_format("no conversions", "a", "z", out, sizeof(out));
	ck_assert_str_eq(out, "no conversions");
	/* Truncated, never overrun. */
	dnsbl_format("%s%s", "0123456789", "abcdefghij", out, 8);
	ck_assert_str_eq(out, "0123456");
}
END_TEST

static Suite *
dnsbl_suite(void)
{
	Suite *s = suite_create("dnsbl_query");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, ipv4_names);
	tcase_add_test(tc, ipv6_names);
	tcase_add_test(tc, not_addresses);
	tcase_add_test(tc, zones);
	tcase_add_test(tc, answers);
	tcase_add_test(tc, message_check);
	tcase_add_test(tc, message_format);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(dnsbl_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
