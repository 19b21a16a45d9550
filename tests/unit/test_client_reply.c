/*
 * NAME
 *	test_client_reply - unit tests of the SMTP reply parser
 *	(proto/reply_parser.c)
 * DESCRIPTION
 *	Feeds the parser the lines real servers send and the lines broken
 *	or hostile servers send, and checks what comes out: the code, the
 *	text of each line, the enhanced code, and the errors.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "reply_parser.h"

static enum reply_status
feed(struct reply_parser *p, const char *line)
{
	const char *why = NULL;

	return reply_parser_feed(p, line, strlen(line), &why);
}

START_TEST(single_line)
{
	struct reply_parser p;
	struct smtp_reply r;

	reply_parser_init(&p, 0, 0);
	ck_assert_int_eq(feed(&p, "220 mx.example ESMTP ready"), REPLY_DONE);
	reply_parser_take(&p, &r);
	ck_assert_int_eq(r.code, 220);
	ck_assert_uint_eq(r.nlines, 1);
	ck_assert_str_eq(r.lines[0], "mx.example ESMTP ready");
	reply_free(&r);
	reply_parser_free(&p);
}
END_TEST

START_TEST(multi_line)
{
	struct reply_parser p;
	struct smtp_reply r;

	reply_parser_init(&p, 0, 0);
	ck_assert_int_eq(feed(&p, "250-mx.example hello"), REPLY_MORE);
	ck_assert_int_eq(feed(&p, "250-PIPELINING"), REPLY_MORE);
	ck_assert_int_eq(feed(&p, "250 SIZE 1000"), REPLY_DONE);
	reply_parser_take(&p, &r);
	ck_assert_int_eq(r.code, 250);
	ck_assert_uint_eq(r.nlines, 3);
	ck_assert_str_eq(r.lines[1], "PIPELINING");
	ck_assert_str_eq(r.lines[2], "SIZE 1000");
	reply_free(&r);
	/* the parser is ready for the next reply */
	ck_assert_int_eq(feed(&p, "354 go on"), REPLY_DONE);
	reply_parser_take(&p, &r);
	ck_assert_int_eq(r.code, 354);
	ck_assert_uint_eq(r.nlines, 1);
	reply_free(&r);
	reply_parser_free(&p);
}
END_TEST

START_TEST(bare_code)
{
	struct reply_parser p;
	struct smtp_reply r;

	reply_parser_init(&p, 0, 0);
	ck_assert_int_eq(feed(&p, "250"), REPLY_DONE);
	reply_parser_take(&p, &r);
	ck_assert_int_eq(r.code, 250);
	ck_assert_str_eq(r.lines[0], "");
	reply_free(&r);
	reply_parser_free(&p);
}
END_TEST

START_TEST(code_changes)
{
	struct reply_parser p;
	const char *why = NULL;

	reply_parser_init(&p, 0, 0);
	ck_assert_int_eq(feed(&p, "250-one"), REPLY_MORE);
	ck_assert_int_eq(reply_parser_feed(&p, "251 two", 7, &why), REPLY_ERROR);
	ck_assert_ptr_nonnull(why);
	ck_assert_ptr_nonnull(strstr(why, "code changes"));
	/* reset after the error */
	ck_assert_int_eq(feed(&p, "221 bye"), REPLY_DONE);
	reply_parser_free(&p);
}
END_TEST

START_TEST(bad_lines)
{
	struct reply_parser p;

	reply_parser_init(&p, 0, 0);
	ck_assert_int_eq(feed(&p, "25"), REPLY_ERROR);
	ck_assert_int_eq(feed(&p, "hello"), REPLY_ERROR);
	ck_assert_int_eq(feed(&p, "250:x"), REPLY_ERROR);
	ck_assert_int_eq(feed(&p, "150 x"), REPLY_ERROR);
	ck_assert_int_eq(feed(&p, "260 x"), REPLY_ERROR);
	ck_assert_int_eq(feed(&p, "2a0 x"), REPLY_ERROR);
	reply_parser_free(&p);
}
END_TEST

START_TEST(line_count_bounded)
{
	struct reply_parser p;

	reply_parser_init(&p, 3, 0);
	ck_assert_int_eq(feed(&p, "250-a"), REPLY_MORE);
	ck_assert_int_eq(feed(&p, "250-b"), REPLY_MORE);
	ck_assert_int_eq(feed(&p, "250-c"), REPLY_MORE);
	ck_assert_int_eq(feed(&p, "250 d"), REPLY_ERROR);
	reply_parser_free(&p);
}
END_TEST

START_TEST(line_length_bounded)
{
	struct reply_parser p;
	char line[64];

	reply_parser_init(&p, 0, 20);
	memset(line, 'x', sizeof(line));
	memcpy(line, "250 ", 4);
	line[21] = '\0';
	ck_assert_int_eq(feed(&p, line), REPLY_ERROR);
	line[20] = '\0';
	ck_assert_int_eq(feed(&p, line), REPLY_DONE);
	reply_parser_free(&p);
}
END_TEST

static size_t
enhanced_of(const char *line, char *out, size_t outlen)
{
	struct reply_parser p;
	struct smtp_reply r;
	size_t n;

	reply_parser_init(&p, 0, 0);
	ck_assert_int_eq(feed(&p, line), REPLY_DONE);
	reply_parser_take(&p, &r);
	n = reply_enhanced(&r, out, outlen);
	reply_free(&r);
	reply_parser_free(&p);
	return n;
}

START_TEST(enhanced_codes)
{
	char e[REPLY_ENHANCED_MAX];

	ck_assert_uint_eq(enhanced_of("250 2.1.0 Ok", e, sizeof(e)), 6);
	ck_assert_str_eq(e, "2.1.0");
	ck_assert_uint_eq(enhanced_of("550 5.123.456 no", e, sizeof(e)), 10);
	ck_assert_str_eq(e, "5.123.456");
	ck_assert_uint_eq(enhanced_of("451 4.3.0", e, sizeof(e)), 5);
	ck_assert_str_eq(e, "4.3.0");
	/* class must match the reply code */
	ck_assert_uint_eq(enhanced_of("250 5.1.0 odd", e, sizeof(e)), 0);
	/* not a code: plain text, too many digits, trailing junk */
	ck_assert_uint_eq(enhanced_of("250 ok", e, sizeof(e)), 0);
	ck_assert_uint_eq(enhanced_of("250 2.1234.0 x", e, sizeof(e)), 0);
	ck_assert_uint_eq(enhanced_of("250 2.1.0x y", e, sizeof(e)), 0);
	/* 3yz replies have no enhanced code */
	ck_assert_uint_eq(enhanced_of("354 3.0.0 go", e, sizeof(e)), 0);
	/* too small an output buffer is refused, not overrun */
	ck_assert_uint_eq(enhanced_of("250 2.1.0 Ok", e, 4), 0);
}
END_TEST

START_TEST(text_joined)
{
	struct reply_parser p;
	struct smtp_reply r;
	char out[16];

	reply_parser_init(&p, 0, 0);
	feed(&p, "550-first line");
	feed(&p, "550 second");
	reply_parser_take(&p, &r);
	reply_text(&r, out, sizeof(out));
	ck_assert_str_eq(out, "first line\nseco");
	reply_free(&r);
	reply_parser_free(&p);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("reply");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, single_line);
	tcase_add_test(tc, multi_line);
	tcase_add_test(tc, bare_code);
	tcase_add_test(tc, code_changes);
	tcase_add_test(tc, bad_lines);
	tcase_add_test(tc, line_count_bounded);
	tcase_add_test(tc, line_length_bounded);
	tcase_add_test(tc, enhanced_codes);
	tcase_add_test(tc, text_joined);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
