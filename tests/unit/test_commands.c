/*
 * NAME
 *	test_commands - unit tests of the command and parameter parsers,
 *	through a real session in this process
 * DESCRIPTION
 *	Builds the server context the way a worker does (config, loader,
 *	plugins initialised, an event loop), accepts one TCP connection on
 *	loopback and hands it to session_new().  Each test writes command
 *	lines to the client end and runs the loop until the reply is
 *	complete, then checks the code.  Covered: verbs and their argument
 *	rules, sequence (503), MAIL/RCPT path syntax (501), the esmtp-param
 *	grammar (501), unknown and un-offered parameters (555), parameters
 *	after HELO (555), SIZE and BODY values, relay refusal (554), the line
 *	limit with the plugins' increments (500) and pipelined input.
 */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "../../core/config.h"
#include "../../core/loader.h"
#include "../../core/hostapi.h"
#include "../../core/session.h"
#include "test_capture.h"

#ifndef TEST_PLUGIN_DIR
#error "TEST_PLUGIN_DIR must name plugins/.libs"
#endif

static struct config conf;
static struct plugin_set set;
static struct server srv;
static char *conf_path;
static int client = -1;
static char inbuf[65536];
static size_t inlen;

/* Start the server context and one session; the greeting is read. */
static void
start(const char *plugins)
{
	char text[4096];
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	int lfd, sfd;

	snprintf(text, sizeof(text), "hostname = \"mx.test\"\n"
	    "local_domains = {\"example.org\"}\nmax_recipients = 3\n"
	    "plugin_dir = \"%s\"\n%s", TEST_PLUGIN_DIR, plugins);
	conf_path = write_temp(text);
	ck_assert_int_eq(config_read(conf_path, &conf), 0);
	ck_assert_int_eq(plugins_load(&set, &conf), 0);
	srv.conf = &conf;
	srv.plugins = &set;
	srv.base = event_base_new();
	ck_assert_ptr_nonnull(srv.base);
	server = &srv;
	ck_assert_int_eq(plugins_init(&set, host_table()), 0);

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(lfd, 1), 0);
	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sin, &slen), 0);
	client = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(connect(client, (struct sockaddr *)&sin, slen), 0);
	slen = sizeof(sin);
	sfd = accept(lfd, (struct sockaddr *)&sin, &slen);
	ck_assert_int_ge(sfd, 0);
	close(lfd);
	evutil_make_socket_nonblocking(sfd);
	struct bufferevent *bev = bufferevent_socket_new(srv.base, sfd,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	ck_assert_ptr_nonnull(bev);
	session_new(bev, (struct sockaddr *)&sin, slen);
	ck_assert_uint_eq(srv.nsessions, 1);
	inlen = 0;
}

static void
stop(void)
{
	close(client);
	client = -1;
	/* let the session see the close and free itself */
	for (int i = 0; i < 20 && srv.nsessions > 0; i++)
		event_base_loop(srv.base, EVLOOP_NONBLOCK);
	while (srv.sessions)
		session_free(srv.sessions);
	plugins_unload(&set);
	event_base_free(srv.base);
	config_free(&conf);
	memset(&srv, 0, sizeof(srv));
	server = NULL;
	unlink(conf_path);
	free(conf_path);
}

/* Length of the first complete reply in inbuf, or 0. */
static size_t
reply_length(void)
{
	size_t off = 0;

	while (off < inlen) {
		char *nl = memchr(inbuf + off, '\n', inlen - off);
		if (nl == NULL)
			return 0;
		size_t linelen = (size_t)(nl - (inbuf + off)) + 1;
		int last = linelen >= 4 && inbuf[off + 3] != '-';
		off += linelen;
		if (last)
			return off;
	}
	return 0;
}

/* Run the loop until a whole reply is in; return its code. */
static int
reply(char *text, size_t textlen)
{
	for (int round = 0; round < 400; round++) {
		size_t n = reply_length();
		if (n > 0) {
			int code = atoi(inbuf);
			if (text) {
				size_t c = n < textlen ? n : textlen - 1;
				memcpy(text, inbuf, c);
				text[c] = '\0';
			}
			memmove(inbuf, inbuf + n, inlen - n);
			inlen -= n;
			return code;
		}
		event_base_loop(srv.base, EVLOOP_NONBLOCK);
		struct pollfd pfd = { client, POLLIN, 0 };
		if (poll(&pfd, 1, 5) > 0) {
			ssize_t r = read(client, inbuf + inlen,
			    sizeof(inbuf) - inlen - 1);
			if (r <= 0)
				return -1;
			inlen += (size_t)r;
		}
	}
	return 0;	/* no reply within ~2 s */
}

static void
send_text(const char *s)
{
	size_t len = strlen(s);
	ck_assert_int_eq(write(client, s, len), (ssize_t)len);
}

static int
cmd(const char *line)
{
	send_text(line);
	send_text("\r\n");
	return reply(NULL, 0);
}

#define EXPECT(line, code) \
	ck_assert_msg(cmd(line) == (code), "%s: want %d", (line), (code))

#define PLUGINS_ALL \
	"plugin pipelining {}\nplugin size { limit = 1000 }\n" \
	"plugin 8bitmime {}\nplugin enhancedstatuscodes {}\n"

START_TEST(greeting_and_simple_verbs)
{
	start(PLUGINS_ALL);
	char text[512];
	ck_assert_int_eq(reply(text, sizeof(text)), 220);
	ck_assert_ptr_nonnull(strstr(text, "mx.test"));
	EXPECT("NOOP", 250);
	EXPECT("RSET", 250);
	EXPECT("VRFY u@example.org", 252);
	EXPECT("HELP", 214);
	EXPECT("FOO", 500);
	EXPECT("EHLO", 501);
	EXPECT("HELO", 501);
	EXPECT("eHlO client.test", 250);
	EXPECT("QUIT", 221);
	stop();
}
END_TEST

START_TEST(sequence)
{
	start(PLUGINS_ALL);
	ck_assert_int_eq(reply(NULL, 0), 220);
	EXPECT("MAIL FROM:<s@x.test>", 503);
	EXPECT("RCPT TO:<u@example.org>", 503);
	EXPECT("DATA", 503);
	EXPECT("EHLO client.test", 250);
	EXPECT("RCPT TO:<u@example.org>", 503);
	EXPECT("MAIL FROM:<s@x.test>", 250);
	EXPECT("MAIL FROM:<s@x.test>", 503);
	EXPECT("RCPT TO:<u@example.org>", 250);
	EXPECT("EHLO again.test", 250);
	EXPECT("RCPT TO:<u@example.org>", 503);
	stop();
}
END_TEST

START_TEST(mail_paths)
{
	static const struct { const char *line; int code; } cases[] = {
		{ "MAIL FROM <s@x.test>", 501 },
		{ "MAIL FROM:s@x.test", 501 },
		{ "MAIL FROM:<a@@b>", 501 },
		{ "MAIL FROM:<s@x.test", 501 },
		{ "MAIL FROM:", 501 },
		{ "MAIL", 501 },
		{ "MAIL FROM:<>", 250 },
		{ "mail from:<s@x.test>", 250 },
		{ "MAIL FROM: <s@x.test>", 250 },
	};

	start(PLUGINS_ALL);
	ck_assert_int_eq(reply(NULL, 0), 220);
	EXPECT("EHLO client.test", 250);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		EXPECT(cases[i].line, cases[i].code);
		if (cases[i].code == 250)
			EXPECT("RSET", 250);
	}
	stop();
}
END_TEST

START_TEST(mail_params)
{
	static const struct { const char *line; int code; } cases[] = {
		{ "MAIL FROM:<s@x.test> SIZE=", 501 },
		{ "MAIL FROM:<s@x.test> =x", 501 },
		{ "MAIL FROM:<s@x.test> SI_ZE=1", 501 },
		{ "MAIL FROM:<s@x.test> SIZE=1 SIZE=1", 501 },
		{ "MAIL FROM:<s@x.test> SIZE=abc", 501 },
		{ "MAIL FROM:<s@x.test> SIZE", 501 },
		{ "MAIL FROM:<s@x.test> BODY=foo", 501 },
		{ "MAIL FROM:<s@x.test> FOO=1", 555 },
		{ "MAIL FROM:<s@x.test> SIZE=1001", 552 },
		{ "MAIL FROM:<s@x.test> SIZE=1000", 250 },
		{ "MAIL FROM:<s@x.test> size=10 body=8bitmime", 250 },
		{ "MAIL FROM:<s@x.test> BODY=7BIT", 250 },
	};

	start(PLUGINS_ALL);
	ck_assert_int_eq(reply(NULL, 0), 220);
	EXPECT("EHLO client.test", 250);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		EXPECT(cases[i].line, cases[i].code);
		if (cases[i].code == 250)
			EXPECT("RSET", 250);
	}
	stop();
}
END_TEST

START_TEST(params_after_helo)
{
	start(PLUGINS_ALL);
	ck_assert_int_eq(reply(NULL, 0), 220);
	EXPECT("HELO client.test", 250);
	EXPECT("MAIL FROM:<s@x.test> SIZE=10", 555);
	EXPECT("MAIL FROM:<s@x.test> BODY=8BITMIME", 555);
	EXPECT("MAIL FROM:<s@x.test>", 250);
	stop();
}
END_TEST

START_TEST(rcpt)
{
	start(PLUGINS_ALL);
	ck_assert_int_eq(reply(NULL, 0), 220);
	EXPECT("EHLO client.test", 250);
	EXPECT("MAIL FROM:<s@x.test>", 250);
	EXPECT("RCPT TO:<u@other.test>", 554);
	EXPECT("RCPT TO:u@example.org", 501);
	EXPECT("RCPT TO:<u@example.org> FOO=1", 555);
	EXPECT("RCPT TO:<u@example.org> SIZE=1", 555);
	EXPECT("RCPT TO:<postmaster>", 250);
	EXPECT("RCPT TO:<a@EXAMPLE.org>", 250);
	EXPECT("RCPT TO:<b@example.org>", 250);
	EXPECT("RCPT TO:<c@example.org>", 452);
	stop();
}
END_TEST

START_TEST(line_limit)
{
	char line[2048];
	size_t limit;

	/* 512 + size (26, RFC 1870) + 8bitmime (at least 14 for
	 * " BODY=8BITMIME"): lines up to the limit, CRLF included, pass */
	start(PLUGINS_ALL);
	limit = set.line_limit;
	ck_assert_uint_ge(limit, 512 + 26 + 14);
	ck_assert_uint_lt(limit, sizeof(line) - 1);
	ck_assert_int_eq(reply(NULL, 0), 220);
	EXPECT("EHLO client.test", 250);
	snprintf(line, sizeof(line), "MAIL FROM:<s@x.test> XLONG=");
	memset(line + strlen(line), 'x', limit - 2 - strlen(line));
	line[limit - 2] = '\0';
	EXPECT(line, 555);		/* the limit with CRLF: accepted */
	line[limit - 2] = 'x';
	line[limit - 1] = '\0';
	EXPECT(line, 500);		/* one more: too long */
	EXPECT("NOOP", 250);
	stop();
}
END_TEST

START_TEST(line_limit_without_increments)
{
	char line[1024];

	start("plugin pipelining {}\n");
	ck_assert_int_eq(reply(NULL, 0), 220);
	EXPECT("EHLO client.test", 250);
	snprintf(line, sizeof(line), "NOOP ");
	memset(line + 5, 'x', 510 - 5);
	line[510] = '\0';
	EXPECT(line, 250);		/* 512 with CRLF */
	line[510] = 'x';
	line[511] = '\0';
	EXPECT(line, 500);		/* 513 */
	EXPECT("NOOP", 250);
	stop();
}
END_TEST

START_TEST(pipelined_in_order)
{
	start(PLUGINS_ALL);
	ck_assert_int_eq(reply(NULL, 0), 220);
	send_text("EHLO c.test\r\nMAIL FROM:<s@x.test>\r\nRCPT TO:<x@other.test>"
	    "\r\nRCPT TO:<u@example.org>\r\nBOGUS\r\nRSET\r\nQUIT\r\n");
	ck_assert_int_eq(reply(NULL, 0), 250);
	ck_assert_int_eq(reply(NULL, 0), 250);
	ck_assert_int_eq(reply(NULL, 0), 554);
	ck_assert_int_eq(reply(NULL, 0), 250);
	ck_assert_int_eq(reply(NULL, 0), 500);
	ck_assert_int_eq(reply(NULL, 0), 250);
	ck_assert_int_eq(reply(NULL, 0), 221);
	stop();
}
END_TEST

START_TEST(enhanced_codes_only_when_offered)
{
	char text[512];

	start(PLUGINS_ALL);
	ck_assert_int_eq(reply(NULL, 0), 220);
	send_text("NOOP\r\n");
	ck_assert_int_eq(reply(text, sizeof(text)), 250);
	ck_assert_msg(strncmp(text, "250 2.", 6) != 0, "before EHLO: %s", text);
	EXPECT("EHLO client.test", 250);
	send_text("NOOP\r\n");
	ck_assert_int_eq(reply(text, sizeof(text)), 250);
	ck_assert_msg(strncmp(text, "250 2.0.0", 9) == 0, "after EHLO: %s",
	    text);
	send_text("MAIL FROM:<s@x.test> FOO=1\r\n");
	ck_assert_int_eq(reply(text, sizeof(text)), 555);
	ck_assert_msg(strncmp(text, "555 5.5.4", 9) == 0, "%s", text);
	stop();
}
END_TEST

static Suite *
commands_suite(void)
{
	Suite *s = suite_create("commands");
	TCase *tc = tcase_create("session");

	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, greeting_and_simple_verbs);
	tcase_add_test(tc, sequence);
	tcase_add_test(tc, mail_paths);
	tcase_add_test(tc, mail_params);
	tcase_add_test(tc, params_after_helo);
	tcase_add_test(tc, rcpt);
	tcase_add_test(tc, line_limit);
	tcase_add_test(tc, line_limit_without_increments);
	tcase_add_test(tc, pipelined_in_order);
	tcase_add_test(tc, enhanced_codes_only_when_offered);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(commands_suite());

	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
