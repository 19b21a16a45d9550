/*
 * NAME
 *	test_address - unit tests of path and mailbox syntax (proto/address.c)
 * DESCRIPTION
 *	RFC 5321 section 4.1.2 paths: the null path, dot-strings and quoted
 *	local parts, domains and address literals, source routes (accepted
 *	and skipped), Postmaster, the size limits of section 4.5.3.1, and
 *	RFC 6531 UTF-8 only when allowed.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"

static int
ok(const char *path, unsigned flags)
{
	const char *mb = NULL, *why = NULL;
	int r = address_check_path(path, flags, &mb, &why);
	if (r != 0)
		ck_assert_ptr_nonnull(why);
	return r == 0;
}

START_TEST(good_paths)
{
	ck_assert(ok("a@b.test", 0));
	ck_assert(ok("first.last@example.org", 0));
	ck_assert(ok("u+tag@example.org", 0));
	ck_assert(ok("\"quoted local\"@x.test", 0));
	ck_assert(ok("\"a\\\"b\"@x.test", 0));
	ck_assert(ok("s@[127.0.0.1]", 0));
	ck_assert(ok("s@[IPv6:::1]", 0));
	ck_assert(ok("s@a-b.c-d.test", 0));
}
END_TEST

START_TEST(bad_paths)
{
	static const char *bad[] = {
		"a@@b", "@", "a@", "@b.test", "a b@x.test", "a..b@x.test",
		".a@x.test", "a.@x.test", "a@-b.test", "a@b-.test", "a@b..test",
		"a@[1.2.3]", "a@[IPv6:zz]", "user", "a@b_c.test", "\"a@x.test",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!ok(bad[i], 0), "accepted \"%s\"", bad[i]);
}
END_TEST

START_TEST(null_path)
{
	const char *mb = NULL, *why = NULL;

	ck_assert(!ok("", 0));
	ck_assert_int_eq(address_check_path("", ADDRESS_ALLOW_EMPTY, &mb, &why),
	    0);
	ck_assert_str_eq(mb, "");
}
END_TEST

START_TEST(postmaster)
{
	ck_assert(!ok("postmaster", 0));
	ck_assert(ok("postmaster", ADDRESS_ALLOW_POSTMASTER));
	ck_assert(ok("Postmaster", ADDRESS_ALLOW_POSTMASTER));
	ck_assert(ok("POSTMASTER", ADDRESS_ALLOW_POSTMASTER));
	ck_assert(!ok("postmasterx", ADDRESS_ALLOW_POSTMASTER));
}
END_TEST

START_TEST(source_route_skipped)
{
	const char *mb = NULL, *why = NULL;

	ck_assert_int_eq(address_check_path("@a.test,@b.test:u@c.test", 0, &mb,
	    &why), 0);
	ck_assert_str_eq(mb, "u@c.test");
	ck_assert(!ok("@a.test", 0));
	/* A route is text inside the path: only At-domains may be there. */
	ck_assert(!ok("@a.test>\r\nRSET\r\n:u@c.test", 0));
	ck_assert(!ok("@a.test> SIZE=1:u@c.test", 0));
	ck_assert(!ok("@a.test,:u@c.test", 0));
	ck_assert(!ok("@:u@c.test", 0));
	ck_assert(!ok("a.test:u@c.test", 0));
}
END_TEST

START_TEST(helo_names)
{
	char longname[300];

	ck_assert(address_helo_valid("mx.example"));
	ck_assert(address_helo_valid("[192.0.2.1]"));
	ck_assert(!address_helo_valid(""));
	ck_assert(!address_helo_valid("mx.example\r\nRSET"));
	ck_assert(!address_helo_valid("mx.example RSET"));
	ck_assert(!address_helo_valid("mx\texample"));
	memset(longname, 'a', 256);
	longname[256] = '\0';
	ck_assert(!address_helo_valid(longname));
	longname[255] = '\0';
	ck_assert(address_helo_valid(longname));
}
END_TEST

START_TEST(limits)
{
	char local[80], path[400];

	memset(local, 'a', 64);
	local[64] = '\0';
	snprintf(path, sizeof(path), "%s@x.test", local);
	ck_assert(ok(path, 0));
	local[64] = 'a';
	local[65] = '\0';
	snprintf(path, sizeof(path), "%s@x.test", local);
	ck_assert(!ok(path, 0));

	/* a 64-octet label is one too many */
	memset(local, 'b', 64);
	local[64] = '\0';
	snprintf(path, sizeof(path), "u@%s.test", local);
	ck_assert(!ok(path, 0));

	/* a path over 256 octets with its brackets */
	char dom[300] = "";
	while (strlen(dom) < 260)
		strcat(dom, "abcdefghi.");
	strcat(dom, "test");
	snprintf(path, sizeof(path), "u@%s", dom);
	ck_assert(!ok(path, 0));
}
END_TEST

START_TEST(utf8_only_when_allowed)
{
	ck_assert(!ok("j\xc3\xb6rg@x.test", 0));
	ck_assert(ok("j\xc3\xb6rg@x.test", ADDRESS_ALLOW_UTF8));
}
END_TEST

/* local_domains and the relay's domains list match this way. */
START_TEST(domain_matches)
{
	ck_assert(address_domain_matches("example.org", "example.org"));
	ck_assert(address_domain_matches("Example.ORG", "example.org"));
	ck_assert(!address_domain_matches("mx.example.org", "example.org"));
	ck_assert(!address_domain_matches("badexample.org", "example.org"));
	ck_assert(address_domain_matches("mx.example.org", ".example.org"));
	ck_assert(address_domain_matches("a.b.EXAMPLE.org", ".example.org"));
	ck_assert(!address_domain_matches("example.org", ".example.org"));
	ck_assert(!address_domain_matches("badexample.org", ".example.org"));
	ck_assert(!address_domain_matches("org", ".example.org"));
}
END_TEST

START_TEST(atoms)
{
	ck_assert(address_atom_valid("rfc822", 6, 0));
	ck_assert(address_atom_valid("utf-8", 5, 0));
	ck_assert(address_atom_valid("!#$%&'*+-/=?^_`{|}~", 19, 0));
	ck_assert(!address_atom_valid("", 0, 0));
	ck_assert(!address_atom_valid("a.b", 3, 0));
	ck_assert(!address_atom_valid("a b", 3, 0));
	ck_assert(!address_atom_valid("a;b", 3, 0));
	ck_assert(!address_atom_valid("a\0b", 3, 0));
	ck_assert(!address_atom_valid("j\xc3\xb6rg", 5, 0));
	ck_assert(address_atom_valid("j\xc3\xb6rg", 5, 1));
}
END_TEST

START_TEST(domain_part)
{
	ck_assert_str_eq(address_domain("u@example.org"), "example.org");
	ck_assert_str_eq(address_domain("\"a@b\"@example.org"), "example.org");
	ck_assert_ptr_null(address_domain("postmaster"));
}
END_TEST

START_TEST(domain_valid)
{
	ck_assert(address_domain_valid("example.org", 11, 0));
	ck_assert(address_domain_valid("[192.0.2.1]", 11, 0));
	ck_assert(!address_domain_valid("", 0, 0));
	ck_assert(!address_domain_valid("exa mple.org", 12, 0));
}
END_TEST

/* host->address_split: the last '@' outside quotes. */
START_TEST(split_local_domain)
{
	char local[16];

	ck_assert_str_eq(address_split("u@example.org", local, sizeof(local)),
	    "example.org");
	ck_assert_str_eq(local, "u");
	ck_assert_str_eq(address_split("\"a@b\"@x.test", local,
	    sizeof(local)), "x.test");
	ck_assert_str_eq(local, "\"a@b\"");
	ck_assert_ptr_null(address_split("nodomain", local, sizeof(local)));
	ck_assert_ptr_null(address_split("u@", local, sizeof(local)));
	ck_assert_ptr_null(address_split("averylonglocalpart@x", local,
	    sizeof(local)));
}
END_TEST

static Suite *
address_suite(void)
{
	Suite *s = suite_create("address");
	TCase *tc = tcase_create("paths");

	tcase_add_test(tc, good_paths);
	tcase_add_test(tc, bad_paths);
	tcase_add_test(tc, null_path);
	tcase_add_test(tc, postmaster);
	tcase_add_test(tc, source_route_skipped);
	tcase_add_test(tc, helo_names);
	tcase_add_test(tc, limits);
	tcase_add_test(tc, utf8_only_when_allowed);
	tcase_add_test(tc, domain_matches);
	tcase_add_test(tc, atoms);
	tcase_add_test(tc, domain_part);
	tcase_add_test(tc, domain_valid);
	tcase_add_test(tc, split_local_domain);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(address_suite());

	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
