/*
 * NAME
 *	client_stream_send - drive ehlod_client_data_stream for the tests
 * SYNOPSIS
 *	client_stream_send HOST:PORT MODE KIB [chunking] [tls]
 * DESCRIPTION
 *	Sends one generated message of about KIB KiB (a Subject header,
 *	then 22-octet lines, every third starting with a dot) from
 *	s@x.test to u@example.org with the session API, the message pulled
 *	through ehlod_client_data_stream.  MODE says what the read callback
 *	does on its second pass (the one that sends): "ok" gives the same
 *	octets, "fail" fails halfway, "shrink" ends halfway, "grow" adds a
 *	line at the end; "measurefail" fails halfway through the first pass
 *	(the one that measures).  The read callback exits 3 when it is
 *	called from inside ehlod_client_data_stream, which promises to read
 *	only from the loop.  Prints the outcome of the end of data as "STEP
 *	STATUS REASON CODE TEXT" and exits 0 when the server accepted the
 *	message.  "chunking" lets it use BDAT, "tls" makes STARTTLS a must
 *	(the certificate unverified: the tests' is self-signed).
 *	tests/interop/test_client_stream.py runs it against aiosmtpd (DATA,
 *	also under TLS) and Postfix's smtpd (BDAT).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "ehlod/client.h"

#define HEAD "Subject: stream\r\n\r\n"
#define LINE_LEN 22

struct source {
	const char *mode;
	size_t size;		/* octets of the message */
	unsigned pass;		/* reads that started at offset 0 */
	int grew;
};

static struct event_base *base;
static int result = 2;
static int inside_call;	/* in ehlod_client_data_stream */

/* The octet at off of the generated message. */
static char
octet(size_t off)
{
	char line[LINE_LEN + 1];
	size_t i, at;

	if (off < sizeof(HEAD) - 1)
		return HEAD[off];
	i = (off - (sizeof(HEAD) - 1)) / LINE_LEN;
	at = (off - (sizeof(HEAD) - 1)) % LINE_LEN;
	snprintf(line, sizeof(line), "%c%07zu stream line\r\n",
	    i % 3 == 0 ? '.' : 'x', i);
	return line[at];
}

static long
pull(void *arg, void *buf, size_t len, size_t offset)
{
	struct source *src = arg;
	size_t end = src->size;
	char *out = buf;

	if (inside_call) {
		fprintf(stderr, "read called inside the library call\n");
		exit(3);
	}
	if (offset == 0)
		src->pass++;
	if (src->pass == 1 && strcmp(src->mode, "measurefail") == 0 &&
	    offset >= src->size / 2)
		return -1;
	if (src->pass >= 2 && strcmp(src->mode, "fail") == 0 &&
	    offset >= src->size / 2)
		return -1;
	if (src->pass >= 2 && strcmp(src->mode, "shrink") == 0)
		end = src->size / 2;
	if (src->pass >= 2 && strcmp(src->mode, "grow") == 0 &&
	    offset >= src->size) {
		static const char more[] = "xgrown line\r\n";

		if (src->grew || len < sizeof(more) - 1)
			return 0;
		src->grew = 1;
		memcpy(buf, more, sizeof(more) - 1);
		return (long)(sizeof(more) - 1);
	}
	if (offset >= end)
		return 0;
	if (len > end - offset)
		len = end - offset;
	for (size_t i = 0; i < len; i++)
		out[i] = octet(offset + i);
	return (long)len;
}

static const char *const reasons[] = { "none", "reply", "network",
	"protocol", "tls", "auth", "needs-extension", "local" };

static void
print_reply(const struct ehlod_client_reply *r)
{
	unsigned n = (unsigned)r->reason;

	printf("%s %s %s %d %s\n", r->step ? r->step : "-",
	    ehlod_client_status_name(r->status),
	    n < sizeof(reasons) / sizeof(reasons[0]) ? reasons[n] : "?",
	    r->code, r->text ? r->text : "-");
	fflush(stdout);
}

static void
on_end(struct ehlod_client *c, const struct ehlod_client_reply *r,
    void *arg)
{
	(void)c;
	(void)arg;
	print_reply(r);
	result = r->status == EHLOD_CLIENT_OK ? 0 : 1;
	event_base_loopbreak(base);
}

static void
on_rcpt(struct ehlod_client *c, const struct ehlod_client_reply *r,
    void *arg)
{
	if (r->status != EHLOD_CLIENT_OK) {
		print_reply(r);
		event_base_loopbreak(base);
		return;
	}
	inside_call = 1;
	if (ehlod_client_data_stream(c, pull, arg, on_end, NULL) < 0)
		event_base_loopbreak(base);
	inside_call = 0;
}

static void
on_mail(struct ehlod_client *c, const struct ehlod_client_reply *r,
    void *arg)
{
	if (r->status != EHLOD_CLIENT_OK) {
		print_reply(r);
		event_base_loopbreak(base);
		return;
	}
	ehlod_client_rcpt(c, "u@example.org", NULL, NULL, on_rcpt, arg);
}

static void
on_open(struct ehlod_client *c, const struct ehlod_client_reply *r,
    void *arg)
{
	struct ehlod_client_mail m = EHLOD_CLIENT_MAIL_INIT;

	m.from = "s@x.test";
	if (r->status != EHLOD_CLIENT_OK) {
		print_reply(r);
		event_base_loopbreak(base);
		return;
	}
	ehlod_client_mail(c, &m, on_mail, arg);
}

int
main(int argc, char **argv)
{
	struct ehlod_client_opts opts;
	struct ehlod_client *c;
	struct source src = { 0 };
	size_t lines;

	if (argc < 4) {
		fprintf(stderr, "usage: %s HOST:PORT MODE KIB [chunking] "
		    "[tls]\n", argv[0]);
		return 2;
	}
	src.mode = argv[2];
	lines = (size_t)strtoul(argv[3], NULL, 10) * 1024 / LINE_LEN;
	src.size = sizeof(HEAD) - 1 + lines * LINE_LEN;
	ehlod_client_opts_init(&opts);
	opts.helo_name = "client.test";
	opts.starttls = EHLOD_TLS_NO;
	for (int i = 4; i < argc; i++) {
		if (strcmp(argv[i], "chunking") == 0)
			opts.chunking = 1;
		if (strcmp(argv[i], "tls") == 0) {
			opts.starttls = EHLOD_TLS_MUST;
			opts.tls_verify = 0;
		}
	}
	base = event_base_new();
	c = ehlod_client_new(base, argv[1], &opts);
	if (base == NULL || c == NULL ||
	    ehlod_client_open(c, NULL, on_open, &src) < 0) {
		fprintf(stderr, "cannot start the client\n");
		return 2;
	}
	event_base_dispatch(base);
	ehlod_client_free(c);
	event_base_free(base);
	return result;
}
