/*
 * NAME
 *	test_proxy - unit tests of the PROXY header parsers (core/proxy.c)
 * DESCRIPTION
 *	Feeds proxy_parse() whole headers, prefixes of them and broken ones:
 *	a good header gives the source address and the header's length, a
 *	prefix asks for more, and every broken header is refused with a
 *	reason, never read past its bound.  Also the proxy_trusted matcher.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "../../core/proxy.h"

static const unsigned char sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

static enum proxy_result
parse_str(const char *text, struct proxy_header *h)
{
	return proxy_parse((const unsigned char *)text, strlen(text), h);
}

static void
check_v4(const struct proxy_header *h, const char *addr, unsigned port)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&h->src;
	char text[INET_ADDRSTRLEN];

	ck_assert_int_eq(h->local, 0);
	ck_assert_int_eq(sin->sin_family, AF_INET);
	ck_assert_int_eq(h->srclen, sizeof(*sin));
	inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text));
	ck_assert_str_eq(text, addr);
	ck_assert_uint_eq(ntohs(sin->sin_port), port);
}

static void
check_v6(const struct proxy_header *h, const char *addr, unsigned port)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&h->src;
	char text[INET6_ADDRSTRLEN];

	ck_assert_int_eq(h->local, 0);
	ck_assert_int_eq(sin6->sin6_family, AF_INET6);
	inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof(text));
	ck_assert_str_eq(text, addr);
	ck_assert_uint_eq(ntohs(sin6->sin6_port), port);
}

/* A v2 header: signature, version/command, family, addresses. */
static size_t
v2(unsigned char *out, int cmd, int fam, const void *addrs, size_t alen)
{
	memcpy(out, sig, 12);
	out[12] = (unsigned char)(0x20 | cmd);
	out[13] = (unsigned char)fam;
	out[14] = (unsigned char)(alen >> 8);
	out[15] = (unsigned char)(alen & 0xff);
	memcpy(out + 16, addrs, alen);
	return 16 + alen;
}

START_TEST(v1_tcp4)
{
	struct proxy_header h;
	const char *hdr = "PROXY TCP4 192.0.2.7 198.51.100.1 56324 25\r\n";

	ck_assert_int_eq(parse_str(hdr, &h), PROXY_OK);
	ck_assert_int_eq(h.version, 1);
	ck_assert_uint_eq(h.len, strlen(hdr));
	check_v4(&h, "192.0.2.7", 56324);
}
END_TEST

START_TEST(v1_tcp4_followed_by_smtp)
{
	struct proxy_header h;
	const char *hdr = "PROXY TCP4 192.0.2.7 198.51.100.1 0 65535\r\n";
	char buf[128];

	snprintf(buf, sizeof(buf), "%sEHLO x\r\n", hdr);
	ck_assert_int_eq(parse_str(buf, &h), PROXY_OK);
	ck_assert_uint_eq(h.len, strlen(hdr));
	check_v4(&h, "192.0.2.7", 0);
}
END_TEST

START_TEST(v1_tcp6)
{
	struct proxy_header h;

	ck_assert_int_eq(parse_str("PROXY TCP6 2001:db8::1 2001:db8::2 "
	    "1234 25\r\n", &h), PROXY_OK);
	check_v6(&h, "2001:db8::1", 1234);
}
END_TEST

START_TEST(v1_unknown)
{
	struct proxy_header h;

	ck_assert_int_eq(parse_str("PROXY UNKNOWN\r\n", &h), PROXY_OK);
	ck_assert_int_eq(h.local, 1);
	ck_assert_uint_eq(h.len, 15);
	ck_assert_int_eq(parse_str("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n",
	    &h), PROXY_OK);
	ck_assert_int_eq(h.local, 1);
}
END_TEST

START_TEST(v1_longest)
{
	struct proxy_header h;
	/* The spec's worst case: 107 octets exactly (TCP6 is 104). */
	const char *hdr = "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
	const char *tcp6 = "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";

	ck_assert_uint_eq(strlen(hdr), 107);
	ck_assert_int_eq(parse_str(hdr, &h), PROXY_OK);
	ck_assert_uint_eq(h.len, 107);
	ck_assert_int_eq(parse_str(tcp6, &h), PROXY_OK);
	check_v6(&h, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535);
}
END_TEST

START_TEST(v1_prefixes_need_more)
{
	struct proxy_header h;
	const char *hdr = "PROXY TCP4 192.0.2.7 198.51.100.1 56324 25\r\n";

	for (size_t n = 0; n < strlen(hdr); n++)
		ck_assert_msg(proxy_parse((const unsigned char *)hdr, n, &h) ==
		    PROXY_NEED_MORE, "prefix of %zu octets", n);
}
END_TEST

START_TEST(v1_too_long)
{
	struct proxy_header h;
	char buf[200];

	memset(buf, 'x', sizeof(buf));
	memcpy(buf, "PROXY UNKNOWN ", 14);
	ck_assert_int_eq(proxy_parse((unsigned char *)buf, PROXY_V1_MAX, &h),
	    PROXY_BAD);
	ck_assert_ptr_nonnull(h.error);
	/* CRLF one octet past the bound */
	memcpy(buf + 106, "\r\n", 2);
	ck_assert_int_eq(proxy_parse((unsigned char *)buf, 108, &h), PROXY_BAD);
}
END_TEST

START_TEST(v1_bad)
{
	static const char *const bad[] = {
		"PROXY TCP4 192.0.2.7 198.51.100.1 56324 65536\r\n",
		"PROXY TCP4 192.0.2.7 198.51.100.1 -1 25\r\n",
		"PROXY TCP4 192.0.2.7 198.51.100.1 12a 25\r\n",
		"PROXY TCP4 192.0.2.7 198.51.100.1 123456 25\r\n",
		"PROXY TCP4 192.0.2.7 198.51.100.1  25\r\n",
		"PROXY TCP4 192.0.2.7 198.51.100.1 25\r\n",
		"PROXY TCP4 192.0.2.256 198.51.100.1 1 25\r\n",
		"PROXY TCP4 2001:db8::1 198.51.100.1 1 25\r\n",
		"PROXY TCP6 192.0.2.7 2001:db8::2 1 25\r\n",
		"PROXY TCP4 host.example 198.51.100.1 1 25\r\n",
		"PROXY UDP4 192.0.2.7 198.51.100.1 1 25\r\n",
		"PROXY TCP4 192.0.2.7 198.51.100.1 1 25\n",
		"PROXY TCP4 192.0.2.7 198.51.100.1 1 25\rX",
		"PROXY\r\n",
		"proxy TCP4 192.0.2.7 198.51.100.1 1 25\r\n",
		"EHLO client.test\r\n",
		"\r\n\r\nQUIT\r\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct proxy_header h;
		ck_assert_msg(parse_str(bad[i], &h) == PROXY_BAD,
		    "accepted %s", bad[i]);
		ck_assert_ptr_nonnull(h.error);
	}
}
END_TEST

START_TEST(v2_proxy_ipv4)
{
	unsigned char buf[64];
	const unsigned char a[12] = { 192, 0, 2, 7, 198, 51, 100, 1,
	    0xdc, 0x04, 0x00, 0x19 };
	struct proxy_header h;
	size_t n = v2(buf, 1, 0x11, a, sizeof(a));

	ck_assert_int_eq(proxy_parse(buf, n, &h), PROXY_OK);
	ck_assert_int_eq(h.version, 2);
	ck_assert_uint_eq(h.len, 28);
	check_v4(&h, "192.0.2.7", 0xdc04);
	for (size_t k = 0; k < n; k++)
		ck_assert_int_eq(proxy_parse(buf, k, &h), PROXY_NEED_MORE);
}
END_TEST

START_TEST(v2_proxy_ipv6_with_tlv)
{
	unsigned char buf[128], a[36 + 4] = { 0 };
	struct proxy_header h;

	a[0] = 0x20; a[1] = 0x01; a[2] = 0x0d; a[3] = 0xb8; a[15] = 1;
	a[16] = 0x20; a[17] = 0x01; a[18] = 0x0d; a[19] = 0xb8; a[31] = 2;
	a[32] = 0x04; a[33] = 0xd2; a[34] = 0; a[35] = 25;
	/* a NOOP TLV after the addresses is skipped */
	a[36] = 0x04; a[37] = 0; a[38] = 1; a[39] = 0;
	size_t n = v2(buf, 1, 0x21, a, sizeof(a));
	ck_assert_int_eq(proxy_parse(buf, n, &h), PROXY_OK);
	ck_assert_uint_eq(h.len, 16 + 40);
	check_v6(&h, "2001:db8::1", 1234);
}
END_TEST

START_TEST(v2_local)
{
	unsigned char buf[64];
	const unsigned char a[12] = { 0 };
	struct proxy_header h;

	ck_assert_int_eq(proxy_parse(buf, v2(buf, 0, 0x00, a, 0), &h),
	    PROXY_OK);
	ck_assert_int_eq(h.local, 1);
	ck_assert_uint_eq(h.len, 16);
	/* LOCAL with addresses: they are ignored */
	ck_assert_int_eq(proxy_parse(buf, v2(buf, 0, 0x11, a, 12), &h),
	    PROXY_OK);
	ck_assert_int_eq(h.local, 1);
	ck_assert_uint_eq(h.len, 28);
	/* PROXY with AF_UNSPEC: the real peer too */
	ck_assert_int_eq(proxy_parse(buf, v2(buf, 1, 0x00, a, 0), &h),
	    PROXY_OK);
	ck_assert_int_eq(h.local, 1);
}
END_TEST

START_TEST(v2_bad)
{
	unsigned char buf[PROXY_V2_MAX + 64];
	unsigned char a[36] = { 0 };
	struct proxy_header h;
	size_t n;

	/* wrong signature */
	n = v2(buf, 1, 0x11, a, 12);
	buf[3] = 'x';
	ck_assert_int_eq(proxy_parse(buf, n, &h), PROXY_BAD);
	/* wrong version */
	n = v2(buf, 1, 0x11, a, 12);
	buf[12] = 0x11;
	ck_assert_int_eq(proxy_parse(buf, n, &h), PROXY_BAD);
	/* unknown command */
	ck_assert_int_eq(proxy_parse(buf, v2(buf, 2, 0x11, a, 12), &h),
	    PROXY_BAD);
	/* addresses shorter than the family needs */
	ck_assert_int_eq(proxy_parse(buf, v2(buf, 1, 0x11, a, 8), &h),
	    PROXY_BAD);
	ck_assert_int_eq(proxy_parse(buf, v2(buf, 1, 0x21, a, 12), &h),
	    PROXY_BAD);
	/* UDP, UNIX, unknown family */
	ck_assert_int_eq(proxy_parse(buf, v2(buf, 1, 0x12, a, 12), &h),
	    PROXY_BAD);
	ck_assert_int_eq(proxy_parse(buf, v2(buf, 1, 0x31, a, 36), &h),
	    PROXY_BAD);
	ck_assert_int_eq(proxy_parse(buf, v2(buf, 1, 0x41, a, 36), &h),
	    PROXY_BAD);
	/* a length past the bound is refused from the first 16 octets */
	n = v2(buf, 1, 0x11, a, 12);
	buf[14] = 0xff;
	buf[15] = 0xff;
	ck_assert_int_eq(proxy_parse(buf, 16, &h), PROXY_BAD);
	ck_assert_ptr_nonnull(h.error);
}
END_TEST

START_TEST(v2_truncated)
{
	unsigned char buf[64];
	const unsigned char a[12] = { 192, 0, 2, 7 };
	struct proxy_header h;
	size_t n = v2(buf, 1, 0x11, a, sizeof(a));

	/* Short input is a prefix, not a header: the reader waits for the
	 * rest (and its timeout ends a proxy that never sends it). */
	ck_assert_int_eq(proxy_parse(buf, n - 1, &h), PROXY_NEED_MORE);
	ck_assert_int_eq(proxy_parse(buf, 13, &h), PROXY_NEED_MORE);
	/* A truncated signature followed by something else is refused. */
	memcpy(buf + 8, "EHLO", 4);
	ck_assert_int_eq(proxy_parse(buf, 12, &h), PROXY_BAD);
}
END_TEST

START_TEST(trusted_nets)
{
	struct proxy_net nets[3];
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };

	ck_assert_int_eq(proxy_net_parse("127.0.0.1", &nets[0]), 0);
	ck_assert_int_eq(proxy_net_parse("10.1.0.0/15", &nets[1]), 0);
	ck_assert_int_eq(proxy_net_parse("2001:db8::/32", &nets[2]), 0);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	ck_assert_int_eq(proxy_trusted((struct sockaddr *)&sin, nets, 3), 1);
	inet_pton(AF_INET, "127.0.0.2", &sin.sin_addr);
	ck_assert_int_eq(proxy_trusted((struct sockaddr *)&sin, nets, 3), 0);
	inet_pton(AF_INET, "10.0.255.255", &sin.sin_addr);
	ck_assert_int_eq(proxy_trusted((struct sockaddr *)&sin, nets, 3), 1);
	inet_pton(AF_INET, "10.2.0.0", &sin.sin_addr);
	ck_assert_int_eq(proxy_trusted((struct sockaddr *)&sin, nets, 3), 0);
	inet_pton(AF_INET6, "2001:db8:ffff::9", &sin6.sin6_addr);
	ck_assert_int_eq(proxy_trusted((struct sockaddr *)&sin6, nets, 3), 1);
	inet_pton(AF_INET6, "2001:db9::9", &sin6.sin6_addr);
	ck_assert_int_eq(proxy_trusted((struct sockaddr *)&sin6, nets, 3), 0);
	/* a dual-stack listener's view of an IPv4 proxy */
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &sin6.sin6_addr);
	ck_assert_int_eq(proxy_trusted((struct sockaddr *)&sin6, nets, 3), 1);

	ck_assert_int_eq(proxy_net_parse("127.0.0.1/33", &nets[0]), -1);
	ck_assert_int_eq(proxy_net_parse("::1/129", &nets[0]), -1);
	ck_assert_int_eq(proxy_net_parse("10.0.0.0/", &nets[0]), -1);
	ck_assert_int_eq(proxy_net_parse("10.0.0.0/x", &nets[0]), -1);
	ck_assert_int_eq(proxy_net_parse("localhost", &nets[0]), -1);
	ck_assert_int_eq(proxy_net_parse("", &nets[0]), -1);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("proxy");
	TCase *tc = tcase_create("parse");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, v1_tcp4);
	tcase_add_test(tc, v1_tcp4_followed_by_smtp);
	tcase_add_test(tc, v1_tcp6);
	tcase_add_test(tc, v1_unknown);
	tcase_add_test(tc, v1_longest);
	tcase_add_test(tc, v1_prefixes_need_more);
	tcase_add_test(tc, v1_too_long);
	tcase_add_test(tc, v1_bad);
	tcase_add_test(tc, v2_proxy_ipv4);
	tcase_add_test(tc, v2_proxy_ipv6_with_tlv);
	tcase_add_test(tc, v2_local);
	tcase_add_test(tc, v2_bad);
	tcase_add_test(tc, v2_truncated);
	tcase_add_test(tc, trusted_nets);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
