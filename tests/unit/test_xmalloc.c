/*
 * NAME
 *	test_xmalloc - unit tests of the allocation helpers
 * DESCRIPTION
 *	Checks proto/xmalloc.c: each helper returns what its libc
 *	counterpart would, never NULL (a zero size, a NULL string), and a
 *	request that cannot be met writes "out of memory" to stderr and
 *	aborts (HACKING.md, Out of memory).  The failing request is an
 *	overflowing array size, refused before any allocator is asked, so
 *	the test behaves the same under the sanitizers.
 */
#include <check.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xmalloc.h"

START_TEST(copies)
{
	const char *src = "relay.example";
	char *d = xstrdup(src);
	char *n = xstrndup(src, 5);
	char *e = xstrdup(NULL);
	char *f = xasprintf("%s:%d", "host", 25);

	ck_assert_str_eq(d, src);
	ck_assert_ptr_ne(d, src);
	ck_assert_str_eq(n, "relay");
	ck_assert_str_eq(e, "");
	ck_assert_str_eq(f, "host:25");
	free(d);
	free(n);
	free(e);
	free(f);
}
END_TEST

START_TEST(sizes)
{
	unsigned char *z = xcalloc(16, 4);
	int *v = xreallocarray(NULL, 4, sizeof(int));

	for (size_t i = 0; i < 64; i++)
		ck_assert_int_eq(z[i], 0);
	for (int i = 0; i < 4; i++)
		v[i] = i * 7;
	v = xreallocarray(v, 1000, sizeof(int));
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(v[i], i * 7);
	/* A zero size still gives memory one may free. */
	free(xmalloc(0));
	free(xcalloc(0, 8));
	free(xrealloc(NULL, 0));
	free(z);
	free(v);
}
END_TEST

START_TEST(overflow_aborts)
{
	int fds[2];
	char buf[64] = "";
	ssize_t n;
	int status;
	pid_t pid;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], 2);
		xreallocarray(NULL, SIZE_MAX / 2 + 1, 2);
		_exit(0);	/* not reached when the helper keeps its word */
	}
	close(fds[1]);
	n = read(fds[0], buf, sizeof(buf) - 1);
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
	    "the child did not abort (status %d)", status);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_str_eq(buf, "out of memory\n");
}
END_TEST

static Suite *
xmalloc_suite(void)
{
	Suite *s = suite_create("xmalloc");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, copies);
	tcase_add_test(tc, sizes);
	tcase_add_test(tc, overflow_aborts);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(xmalloc_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
