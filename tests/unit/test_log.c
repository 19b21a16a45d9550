/*
 * NAME
 *	test_log - unit tests of the server's log lines (core/log.c)
 * DESCRIPTION
 *	A message with a CR, an LF, an escape and a DEL in it is written as
 *	one line, each of those octets as "?", while UTF-8 and printable
 *	text stay as they were: a client cannot start a log line of its own
 *	making.  An overlong message is cut, still one line.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/log.h"
#include "test_capture.h"

static char *
logged(const char *fmt, const char *arg)
{
	struct capture c;

	capture_begin(&c);
	log_msg(LOG_INFO, fmt, arg);
	return capture_end(&c);
}

static size_t
count_lines(const char *text)
{
	size_t n = 0;

	for (const char *p = text; (p = strchr(p, '\n')) != NULL; p++)
		n++;
	return n;
}

START_TEST(controls_become_question_marks)
{
	char *text = logged("helo=<%s> end",
	    "a\r\n2026-01-01T00:00:00.000+00:00 ehlod[1]: forged\x1b[0m\x7f"
	    "\t\xc3\xa9");

	ck_assert_uint_eq(count_lines(text), 1);
	ck_assert_ptr_nonnull(strstr(text, " ehlod["));
	ck_assert_ptr_nonnull(strstr(text, "helo=<a??2026-01-01T00:00:00.000"
	    "+00:00 ehlod[1]: forged?[0m??\xc3\xa9> end\n"));
	free(text);
}
END_TEST

START_TEST(overlong_message_one_line)
{
	char *big = malloc(5000);
	char *text;

	ck_assert_ptr_nonnull(big);
	for (size_t i = 0; i < 4999; i++)
		big[i] = i % 100 == 99 ? '\n' : 'x';
	big[4999] = '\0';
	text = logged("%s", big);
	ck_assert_uint_eq(count_lines(text), 1);
	ck_assert_uint_lt(strlen(text), 2048);
	ck_assert_int_eq(text[strlen(text) - 1], '\n');
	free(text);
	free(big);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("lines");
	SRunner *sr;
	int failed;

	log_open("ehlod", 0, LOG_MAIL);
	tcase_add_test(tc, controls_become_question_marks);
	tcase_add_test(tc, overlong_message_one_line);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
