/*
 * NAME
 *	test_client_message - unit tests of the client's message preparation
 * DESCRIPTION
 *	client/client_message.c: the job measures its message before
 *	connecting (client_message_measure, for SIZE= and the 8BITMIME
 *	decision) and the transaction prepares it later
 *	(client_message_prepare); both must agree on every shape of line
 *	end, or SIZE= would not be the size sent.
 *	Also the repairs themselves and dot-stuffing, and that a message
 *	handed over in pieces, cut anywhere (between a CR and its LF, before
 *	a dot), comes out exactly as when handed over whole.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "client_message.h"

static void
agree(const char *data, size_t len)
{
	struct client_message m;
	size_t size;
	int has_8bit;

	ck_assert_int_eq(client_message_prepare(&m, FORM_CRLF, data, len), 0);
	client_message_measure(data, len, &size, &has_8bit);
	ck_assert_uint_eq(size, m.crlf_len);
	ck_assert_uint_eq(size, m.out_len);
	ck_assert_int_eq(has_8bit, m.has_8bit);
	client_message_free(&m);
}

static const char *const cases[] = {
	"", "a", "a\n", "a\r\n", "a\r", "\r\n", "\n\n", "\r\r",
	"line one\nline two", "x\r\ny\rz\n", "caf\xc3\xa9\n",
	".\r\n..\r\n.", "\r", "\n", "no end\r\n\r", "a\r\n.b\r.c\n.",
};

START_TEST(measure_agrees_with_prepare)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		agree(cases[i], strlen(cases[i]));
	agree("nul\0inside\n", 11);
}
END_TEST

START_TEST(line_ends_repaired_and_dots_stuffed)
{
	struct client_message m;
	const char *in = "a\rb\nc\r\n.d\n..e";
	const char *crlf = "a\r\nb\r\nc\r\n.d\r\n..e\r\n";
	const char *stuffed = "a\r\nb\r\nc\r\n..d\r\n...e\r\n";

	ck_assert_int_eq(client_message_prepare(&m, FORM_CRLF, in, strlen(in)),
	    0);
	ck_assert_uint_eq(m.out_len, strlen(crlf));
	ck_assert(memcmp(m.out, crlf, m.out_len) == 0);
	ck_assert_int_eq(m.has_8bit, 0);
	client_message_free(&m);
	ck_assert_int_eq(client_message_prepare(&m, FORM_STUFFED, in,
	    strlen(in)), 0);
	ck_assert_uint_eq(m.out_len, strlen(stuffed));
	ck_assert(memcmp(m.out, stuffed, m.out_len) == 0);
	ck_assert_uint_eq(m.crlf_len, strlen(crlf));	/* SIZE= unstuffed */
	client_message_free(&m);
}
END_TEST

/* Every case, in every form, cut into two pieces at every place and
 * into single octets: the same octets as in one piece. */
START_TEST(pieces_cut_anywhere_give_the_same)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		for (int form = FORM_CRLF; form <= FORM_RAW; form++) {
			const char *in = cases[i];
			size_t len = strlen(in);
			struct client_message whole, part;

			ck_assert_int_eq(client_message_prepare(&whole, form,
			    in, len), 0);
			for (size_t cut = 0; cut <= len; cut++) {
				client_message_begin(&part, form, 0);
				ck_assert_int_eq(client_message_add(&part, in,
				    cut), 0);
				ck_assert_int_eq(client_message_add(&part,
				    in + cut, len - cut), 0);
				ck_assert_int_eq(client_message_finish(&part), 0);
				ck_assert_uint_eq(part.out_len, whole.out_len);
				ck_assert(memcmp(part.out, whole.out,
				    whole.out_len) == 0);
				ck_assert_uint_eq(part.crlf_len, whole.crlf_len);
				client_message_free(&part);
			}
			client_message_begin(&part, form, 0);
			for (size_t k = 0; k < len; k++)
				client_message_add(&part, in + k, 1);
			client_message_finish(&part);
			ck_assert_uint_eq(part.out_len, whole.out_len);
			ck_assert(memcmp(part.out, whole.out, whole.out_len) == 0);
			client_message_free(&part);
			client_message_free(&whole);
		}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("client_message");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, measure_agrees_with_prepare);
	tcase_add_test(tc, line_ends_repaired_and_dots_stuffed);
	tcase_add_test(tc, pieces_cut_anywhere_give_the_same);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
