/*
 * NAME
 *	test_message_pread - unit tests of message_pread (core/message.c)
 * DESCRIPTION
 *	host->message_pread must give exactly what host->message_read feeds,
 *	from any offset: the Received header, the header fields with the
 *	plugins' changes, the blank line, then the body from the spool file
 *	and from memory.  Each case reads the message back in pieces of
 *	several sizes (1 octet, odd sizes across every boundary, 64 KiB) and
 *	at every offset near the boundaries, spooled and not, and compares
 *	with message_write's output.  message_spool_fd (host->message_spool)
 *	must point at the same octets: the file's 0..len are the output's
 *	offset..offset+len, and -1 when nothing is spooled.  The spool file
 *	is written by the real writer thread (core/spool_writer.c), whose
 *	results come back through an event loop run here; a spool directory
 *	that does not exist must come back as a failed, dropped message.
 *
 *	message_pread_nowait (host->message_pread_nowait) must give the same
 *	octets in the same pieces, with the spool file read by the writer's
 *	thread: a spooled message's body answers EHLOD_READ_AGAIN at least
 *	once, ready is called from the loop and never from inside the call,
 *	and a message in memory never waits.  A message freed while a read
 *	is out is never called back.
 */
#include <check.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>

#include "../../core/message.h"
#include "../../core/spool_writer.h"

struct out {
	char *p;
	size_t len, cap;
};

/* Grows by doubling: pieces of one octet would cost quadratic copying
 * (and under AddressSanitizer, whose realloc always moves, minutes). */
static int
collect(void *arg, const void *data, size_t len)
{
	struct out *o = arg;

	if (o->len + len + 1 > o->cap) {
		o->cap = o->cap ? o->cap : 4096;
		while (o->len + len + 1 > o->cap)
			o->cap *= 2;
		o->p = realloc(o->p, o->cap);
		ck_assert_ptr_nonnull(o->p);
	}
	memcpy(o->p + o->len, data, len);
	o->len += len;
	return 0;
}

/* The loop the writer reports to: one per process (check forks a child
 * for each test). */
static struct event_base *
loop(void)
{
	static struct event_base *base;

	if (base == NULL) {
		base = event_base_new();
		ck_assert_ptr_nonnull(base);
		ck_assert_int_eq(spool_writer_init(base), 0);
	}
	return base;
}

/* Wait, as the session does before delivery, for the writes in flight. */
static void
settle(struct message *m)
{
	while (message_spool_busy(m))
		ck_assert_int_ge(event_base_loop(loop(), EVLOOP_ONCE), 0);
	message_spool_settle(m);
}

/* A message as the core builds it: headers split off as they come, the
 * body spooled past threshold (0: never), then header changes. */
static void
build_in(struct message *m, size_t threshold, size_t body_lines,
    const char *dir)
{
	static const char head[] = "Subject: pread\r\nX-Folded: one\r\n"
	    "\ttwo\r\nFrom: <s@x.test>\r\n\r\n";
	size_t idx;

	message_init(m, 1 << 24);
	message_spool_setup(m, threshold, dir);
	loop();
	m->received = strdup("Received: from client.test\n\tby ehlod");
	message_append(m, head, strlen(head));
	while (message_next_header(m, 0, &idx) == 1)
		;
	for (size_t i = 0; i < body_lines; i++) {
		char line[80];
		int n = snprintf(line, sizeof(line), "%s%06zu body line\r\n",
		    i % 5 == 0 ? "." : "", i);

		message_append(m, line, (size_t)n);
		/* The session hands over what a read brought, not lines. */
		if (i % 64 == 63 && message_spool(m) < 0)
			break;		/* the hand-over failed */
		m->cursor = m->len;	/* the body hooks have seen it */
		if (message_spool_held(m))
			settle(m);	/* as the session stops reading */
	}
	settle(m);
	if (m->spool_failed)
		return;
	ck_assert_int_eq(message_add_header(m, "X-Added", "yes"), 0);
	ck_assert_int_eq(message_change_header(m, "Subject", 1,
	    "changed\n\tover two lines"), 0);
}

static void
build(struct message *m, size_t threshold, size_t body_lines)
{
	build_in(m, threshold, body_lines, getenv("TMPDIR") ?
	    getenv("TMPDIR") : "/tmp");
	ck_assert(!m->spool_failed);
}

static struct out
whole(const struct message *m)
{
	struct out o = { NULL, 0, 0 };

	ck_assert_int_eq(message_write(m, collect, &o), 0);
	return o;
}

static void
ready(void *arg)
{
	(*(int *)arg)++;
}

/* Read it all back in pieces of step octets, by message_pread or by
 * message_pread_nowait (running the loop while it says to wait);
 * returns how many times it waited. */
static unsigned
read_back(struct message *m, const struct out *want, size_t step,
    int nowait)
{
	char *buf = malloc(step);
	struct out got = { NULL, 0, 0 };
	unsigned waits = 0;

	for (;;) {
		int called = 0;
		long n = nowait ? message_pread_nowait(m, buf, step, got.len,
		    ready, &called) : message_pread(m, buf, step, got.len);

		if (nowait && n == EHLOD_READ_AGAIN) {
			ck_assert_int_eq(called, 0);	/* not from inside */
			while (!called)
				ck_assert_int_ge(event_base_loop(loop(),
				    EVLOOP_ONCE), 0);
			ck_assert_int_eq(called, 1);
			waits++;
			continue;
		}
		ck_assert_int_ge(n, 0);
		ck_assert_int_le(n, (long)step);
		if (n == 0)
			break;
		collect(&got, buf, (size_t)n);
	}
	ck_assert_uint_eq(got.len, want->len);
	ck_assert(memcmp(got.p, want->p, want->len) == 0);
	free(got.p);
	free(buf);
	return waits;
}

/* The spool file holds exactly the octets it says it holds. */
static void
check_spool_fd(const struct message *m, const struct out *want)
{
	size_t offset = 7, len = 7;
	int fd = message_spool_fd(m, &offset, &len);
	char *buf;

	if (m->spooled == 0) {
		ck_assert_int_eq(fd, -1);
		ck_assert_uint_eq(offset, 7);	/* left alone */
		return;
	}
	ck_assert_int_ge(fd, 0);
	ck_assert_uint_eq(len, m->spooled);
	ck_assert_uint_lt(offset + len, want->len + 1);
	buf = malloc(len);
	ck_assert_int_eq(pread(fd, buf, len, 0), (ssize_t)len);
	ck_assert(memcmp(buf, want->p + offset, len) == 0);
	/* What is not in the file is the head before it and the part of
	 * the body still in memory after it. */
	ck_assert_uint_eq(offset + len + (m->len - m->body_offset),
	    want->len);
	free(buf);
}

static void
check_message(size_t threshold, size_t body_lines)
{
	struct message m;
	struct out want;
	size_t steps[] = { 1, 3, 17, 100, 4096, 65536 };
	unsigned waits = 0;

	build(&m, threshold, body_lines);
	if (threshold > 0 && body_lines > 0)
		ck_assert(m.spooled > 0);	/* the file is read too */
	want = whole(&m);
	ck_assert_uint_eq(want.len, message_output_size(&m));
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		ck_assert_uint_eq(read_back(&m, &want, steps[i], 0), 0);
		/* Later passes may find the windows the first one left. */
		waits += read_back(&m, &want, steps[i], 1);
	}
	if (m.spooled > 0)
		ck_assert_uint_gt(waits, 0);
	else
		ck_assert_uint_eq(waits, 0);
	/* Every offset up to a little past the head, one octet each. */
	for (size_t off = 0; off < 300 && off < want.len; off++) {
		char ch;

		ck_assert_int_eq(message_pread(&m, &ch, 1, off), 1);
		ck_assert_int_eq(ch, want.p[off]);
	}
	ck_assert_int_eq(message_pread(&m, want.p, 10, want.len), 0);
	ck_assert_int_eq(message_pread(&m, want.p, 10, want.len + 5), 0);
	check_spool_fd(&m, &want);
	free(want.p);
	message_free(&m);
}

START_TEST(in_memory)
{
	check_message(0, 2000);
}
END_TEST

static int
contains(const struct out *o, const char *s)
{
	return memmem(o->p, o->len, s, strlen(s)) != NULL;
}

/* message_write turns the bare LFs of the Received header and of header
 * values plugins set ("\n\t" folds) into CRLF, and leaves CRLF alone. */
START_TEST(head_line_ends)
{
	struct message m;
	struct out o;

	build(&m, 0, 3);
	o = whole(&m);
	ck_assert(contains(&o, "Received: from client.test\r\n\tby ehlod\r\n"));
	ck_assert(contains(&o, "Subject: changed\r\n\tover two lines\r\n"));
	ck_assert(contains(&o, "X-Folded: one\r\n\ttwo\r\n"));
	for (size_t i = 0; i < o.len; i++)
		if (o.p[i] == '\n')
			ck_assert_msg(i > 0 && o.p[i - 1] == '\r',
			    "bare LF at %zu", i);
	free(o.p);
	message_free(&m);
}
END_TEST

START_TEST(spooled)
{
	check_message(1024, 5000);
}
END_TEST

START_TEST(empty_body)
{
	check_message(1024, 0);
}
END_TEST

/* A body of several read-ahead windows, read through and then read
 * again from the start (as the relay's client library does: it measures
 * the message, then sends it). */
START_TEST(spooled_windows)
{
	struct message m;
	struct out want;
	size_t steps[] = { 17, 4096, 65536, 4096 };

	build(&m, 1024, 40000);
	ck_assert_uint_gt(m.spooled, 4 * SPOOL_AHEAD_WINDOW);
	want = whole(&m);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		ck_assert_uint_gt(read_back(&m, &want, steps[i], 1), 3);
	free(want.p);
	message_free(&m);
}
END_TEST

/* Freed while the thread reads ahead for it: no call back (under the
 * sanitizer, no write into the freed message either). */
START_TEST(freed_while_reading)
{
	struct message *m = malloc(sizeof(*m));
	struct out want;
	char buf[4096];
	int called = 0;
	size_t head;

	build(m, 1024, 5000);
	want = whole(m);
	head = want.len - m->spooled - (m->len - m->body_offset);
	ck_assert_int_eq(message_pread_nowait(m, buf, sizeof(buf), head,
	    ready, &called), EHLOD_READ_AGAIN);
	message_free(m);
	free(m);
	for (int i = 0; i < 20; i++) {
		usleep(10000);
		ck_assert_int_ge(event_base_loop(loop(), EVLOOP_NONBLOCK), 0);
	}
	ck_assert_int_eq(called, 0);
	free(want.p);
}
END_TEST

/* The writer thread cannot create the file: the message is dropped and
 * marked, for the session's 452, and nothing of it stays in memory. */
START_TEST(unwritable_directory)
{
	struct message m;

	build_in(&m, 1024, 5000, "/nonexistent-ehlod-spool");
	ck_assert(m.spool_failed);
	ck_assert(m.dropped);
	ck_assert_ptr_null(m.buf);
	ck_assert_ptr_null(m.spool);
	message_free(&m);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("message_pread");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, in_memory);
	tcase_add_test(tc, head_line_ends);
	tcase_add_test(tc, spooled);
	tcase_add_test(tc, empty_body);
	tcase_add_test(tc, unwritable_directory);
	tcase_add_test(tc, spooled_windows);
	tcase_add_test(tc, freed_while_reading);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
