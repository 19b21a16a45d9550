/*
 * NAME
 *	test_client_abi - the sized structures of <ehlod/client.h>
 * DESCRIPTION
 *	Linked against the installed library (libehlod-client), as an
 *	extension author's program is.  A caller's structure carries its
 *	size (struct_size): one that never set it is refused with a clear
 *	answer and nothing sent; one built against a newer header (a bigger
 *	structure) is read as far as the library knows it; and
 *	ehlod_client_opts_init() writes no further than the caller's size.
 *	The refusals happen before any connection, so the server address
 *	(a port nobody is asked to listen on) is never contacted.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include <ehlod/client.h>

#define NOWHERE "127.0.0.1:9"	/* discard; never connected to here */

START_TEST(opts_without_size_refused)
{
	struct ehlod_client_opts o;

	memset(&o, 0, sizeof(o));
	errno = 0;
	ck_assert_ptr_null(ehlod_client_new(NULL, NOWHERE, &o));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

/* A caller built against a later header: its structure is bigger.  The
 * init writes its whole size (zeroes past what this library knows) and
 * the client takes it. */
START_TEST(opts_from_a_newer_caller)
{
	struct {
		struct ehlod_client_opts known;
		char later_fields[64];
	} big;
	struct ehlod_client *c;

	memset(&big, 0xa5, sizeof(big));
	ehlod_client_opts_init_sized(&big.known, sizeof(big));
	ck_assert_uint_eq(big.known.struct_size, sizeof(big));
	ck_assert_int_eq(big.known.tls_verify, 1);
	ck_assert_uint_eq(big.known.timeout_sec, 300);
	for (size_t i = 0; i < sizeof(big.later_fields); i++)
		ck_assert_int_eq(big.later_fields[i], 0);
	c = ehlod_client_new(NULL, NOWHERE, &big.known);
	ck_assert_ptr_nonnull(c);
	ehlod_client_free(c);
}
END_TEST

/* The init writes no further than the size it is told. */
START_TEST(opts_init_stays_within_its_size)
{
	unsigned char buf[sizeof(struct ehlod_client_opts) + 16];
	size_t part = sizeof(size_t) + sizeof(const char *);

	memset(buf, 0xa5, sizeof(buf));
	ehlod_client_opts_init_sized((struct ehlod_client_opts *)buf, part);
	for (size_t i = part; i < sizeof(buf); i++)
		ck_assert_int_eq(buf[i], 0xa5);
}
END_TEST

START_TEST(job_without_size_fails_local)
{
	const char *rcpts[] = { "u@example.org" };
	struct ehlod_client_job job;
	struct ehlod_client *c = ehlod_client_new(NULL, NOWHERE, NULL);
	const struct ehlod_client_result *r;

	memset(&job, 0, sizeof(job));
	job.from = "s@x.test";
	job.rcpts = rcpts;
	job.nrcpts = 1;
	job.data = "Subject: x\r\n\r\nhi\r\n";
	job.len = strlen(job.data);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(ehlod_client_run(c, &job), EHLOD_CLIENT_PERMFAIL);
	r = ehlod_client_result(c);
	ck_assert_int_eq(r->reason, EHLOD_REASON_LOCAL);
	ck_assert_str_eq(r->step, "start");
	ck_assert_ptr_nonnull(strstr(r->text, "EHLOD_CLIENT_JOB_INIT"));
	ck_assert_ptr_null(strstr(ehlod_client_transcript(c), "C: "));
	ehlod_client_free(c);
}
END_TEST

static int open_called;
static struct ehlod_client_reply open_reply;

static void
on_open(struct ehlod_client *c, const struct ehlod_client_reply *r, void *arg)
{
	(void)c;
	(void)arg;
	open_called = 1;
	open_reply = *r;
}

START_TEST(needs_without_size_fail_local)
{
	struct event_base *base = event_base_new();
	struct ehlod_client_mail needs;
	struct ehlod_client *c;

	ck_assert_ptr_nonnull(base);
	c = ehlod_client_new(base, NOWHERE, NULL);
	ck_assert_ptr_nonnull(c);
	memset(&needs, 0, sizeof(needs));
	needs.from = "s@x.test";
	open_called = 0;
	ck_assert_int_eq(ehlod_client_open(c, &needs, on_open, NULL), 0);
	for (int i = 0; i < 100 && !open_called; i++)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	ck_assert(open_called);
	ck_assert_int_eq(open_reply.reason, EHLOD_REASON_LOCAL);
	ck_assert_int_eq(open_reply.status, EHLOD_CLIENT_PERMFAIL);
	ck_assert_ptr_nonnull(strstr(ehlod_client_result(c)->text,
	    "EHLOD_CLIENT_MAIL_INIT"));
	ck_assert_ptr_null(strstr(ehlod_client_transcript(c), "C: "));
	ehlod_client_free(c);
	event_base_free(base);
}
END_TEST

START_TEST(xforward_without_size_refused)
{
	struct ehlod_client_xforward xf;
	struct ehlod_client_xforward ok = EHLOD_CLIENT_XFORWARD_INIT;
	struct ehlod_client *c = ehlod_client_new(NULL, NOWHERE, NULL);

	memset(&xf, 0, sizeof(xf));
	xf.addr = "192.0.2.1";
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(ehlod_client_xforward(c, &xf), -1);
	ok.addr = "192.0.2.1";
	ck_assert_int_eq(ehlod_client_xforward(c, &ok), 0);
	ck_assert_int_eq(ehlod_client_xforward(c, NULL), 0);
	ehlod_client_free(c);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("client_abi");
	TCase *tc = tcase_create("sized");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, opts_without_size_refused);
	tcase_add_test(tc, opts_from_a_newer_caller);
	tcase_add_test(tc, opts_init_stays_within_its_size);
	tcase_add_test(tc, job_without_size_fails_local);
	tcase_add_test(tc, needs_without_size_fail_local);
	tcase_add_test(tc, xforward_without_size_refused);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
