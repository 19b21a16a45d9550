/*
 * fuzz_milter - libFuzzer target: milter packets to jobs and their steps
 * DESCRIPTION
 *	The input is a run of packets, each a command octet, a length octet
 *	and that many data octets.  They are decoded as libmilter decodes an
 *	MTA's packets (NUL-separated strings; SMFIC_UNKNOWN's data handed
 *	over as received, terminated or not) and given to ehlod-milter's
 *	callbacks (milter/callbacks.c) through milter_desc, which build jobs
 *	and run them on the real loop thread (milter/loop.c,
 *	milter_steps.c) over the milterprobe test plugin, which has a hook
 *	at every step and changes headers.  libmilter's side (smfi_*) is
 *	replaced here by functions that keep the macros and check what
 *	comes back.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <libmilter/mfapi.h>

#include "log.h"
#include "milter.h"
#include "xmalloc.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 8

static struct config conf;
static struct plugin_set set;
static struct server srv;
static void *priv;
static char *macros[MAC_COUNT_];
static int ctx_dummy;
#define FUZZ_CTX ((SMFICTX *)(void *)&ctx_dummy)

/* libmilter's side, as far as the callbacks use it. */
void *
smfi_getpriv(SMFICTX *ctx)
{
	(void)ctx;
	return priv;
}

int
smfi_setpriv(SMFICTX *ctx, void *p)
{
	(void)ctx;
	priv = p;
	return MI_SUCCESS;
}

char *
smfi_getsymval(SMFICTX *ctx, char *name)
{
	(void)ctx;
	for (int i = 0; i < MAC_COUNT_; i++)
		if (strcmp(name, macro_names[i]) == 0)
			return macros[i];
	return NULL;
}

int
smfi_setsymlist(SMFICTX *ctx, int stage, char *list)
{
	(void)ctx;
	(void)stage;
	return list ? MI_SUCCESS : MI_FAILURE;
}

/* libmilter refuses a code that is not 4xx/5xx, and CR or LF in text. */
static int
check_reply(const char *rcode, const char *xcode, const char *text)
{
	if (rcode == NULL || strlen(rcode) != 3 ||
	    (rcode[0] != '4' && rcode[0] != '5'))
		abort();
	if (xcode && xcode[0] != rcode[0])
		abort();
	if (text && strpbrk(text, "\r\n"))
		return MI_FAILURE;
	return MI_SUCCESS;
}

int
smfi_setreply(SMFICTX *ctx, char *rcode, char *xcode, char *text)
{
	(void)ctx;
	return check_reply(rcode, xcode, text);
}

int
smfi_setmlreply(SMFICTX *ctx, const char *rcode, const char *xcode, ...)
{
	va_list ap;
	const char *line;
	int rc = MI_SUCCESS, n = 0;

	(void)ctx;
	va_start(ap, xcode);
	while ((line = va_arg(ap, const char *)) != NULL && n++ < 32)
		if (check_reply(rcode, xcode, line) != MI_SUCCESS)
			rc = MI_FAILURE;
	va_end(ap);
	return rc;
}

static int
check_header(const char *name, const char *value, int may_delete)
{
	if (name == NULL || name[0] == '\0' || (!value && !may_delete))
		abort();
	return MI_SUCCESS;
}

int
smfi_addheader(SMFICTX *ctx, char *name, char *value)
{
	(void)ctx;
	return check_header(name, value, 0);
}

int
smfi_insheader(SMFICTX *ctx, int index, char *name, char *value)
{
	(void)ctx;
	if (index < 0)
		abort();
	return check_header(name, value, 0);
}

int
smfi_chgheader(SMFICTX *ctx, char *name, int index, char *value)
{
	(void)ctx;
	if (index < 0)
		abort();
	return check_header(name, value, 1);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char file[] = "/tmp/ehlod-fuzz-milter-XXXXXX";
	unsigned long f[4] = { 0 };
	int fd = mkstemp(file);
	FILE *fp = fd >= 0 ? fdopen(fd, "w") : NULL;

	(void)argc;
	(void)argv;
	log_open("fuzz_milter", 0, 0);
	if (fp == NULL)
		abort();
	fprintf(fp, "plugin_dir = \"%s\"\n"
	    "plugin milterprobe {\n"
	    "  reject_rcpt = { \"bad@example.org\" }\n"
	    "  tempfail_rcpt = { \"later@example.org\" }\n"
	    "  discard_rcpt = { \"drop@example.org\" }\n"
	    "  reject_helo = { \"evil\" }\n"
	    "  reject_header = \"X-Bad\"\n"
	    "  multiline_marker = \"ML\"\n"
	    "}\n", FUZZ_PROBE_DIR);
	fclose(fp);
	if (config_read(file, &conf) < 0 || plugins_load(&set, &conf) < 0)
		abort();
	unlink(file);
	srv.conf = &conf;
	srv.plugins = &set;
	/* As milter/milter_main.c: the base is shared between threads. */
	if (evthread_use_pthreads() < 0)
		abort();
	srv.base = event_base_new();
	server = &srv;
	if (srv.base == NULL || plugins_init(&set, milter_host_table()) < 0)
		abort();
	milter_callbacks_init(5);
	if (loop_start(&srv) < 0)
		abort();
	milter_desc.xxfi_negotiate(FUZZ_CTX, SMFIF_ADDHDRS | SMFIF_CHGHDRS |
	    SMFIF_SETSYMLIST, 0, 0, 0, &f[0], &f[1], &f[2], &f[3]);
	return 0;
}

/* NUL-separated strings, as libmilter splits MAIL and RCPT arguments. */
static void
envelope(sfsistat (*cb)(SMFICTX *, char **), char *p, size_t len)
{
	char *argv[MAX_ARGS + 1];
	int n = 0;

	for (size_t i = 0; i < len && n < MAX_ARGS; n++) {
		argv[n] = p + i;
		i += strlen(p + i) + 1;
	}
	argv[n] = NULL;
	if (n > 0)
		cb(FUZZ_CTX, argv);
}

static void
connect_packet(char *p, size_t len)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in sin = { .sin_family = AF_INET };
	size_t hlen = strlen(p);
	const char *addr = hlen + 1 < len ? p + hlen + 1 : "";
	struct sockaddr *sa = NULL;

	if (inet_pton(AF_INET, addr, &sin.sin_addr) == 1)
		sa = (struct sockaddr *)&sin;
	else if (inet_pton(AF_INET6, addr, &sin6.sin6_addr) == 1)
		sa = (struct sockaddr *)&sin6;
	milter_desc.xxfi_connect(FUZZ_CTX, p, sa);
}

static void
set_macro(const char *p, size_t len)
{
	if (len == 0)
		return;
	int i = (unsigned char)p[0] % MAC_COUNT_;
	free(macros[i]);
	macros[i] = xstrdup(p + 1);
}

/* One packet; buf holds len octets and a NUL after them. */
static void
packet(int cmd, char *buf, size_t len)
{
	char *raw;

	switch (cmd) {
	case SMFIC_CONNECT:
		connect_packet(buf, len);
		break;
	case SMFIC_HELO:
		milter_desc.xxfi_helo(FUZZ_CTX, buf);
		break;
	case SMFIC_MAIL:
		envelope(milter_desc.xxfi_envfrom, buf, len);
		break;
	case SMFIC_RCPT:
		envelope(milter_desc.xxfi_envrcpt, buf, len);
		break;
	case SMFIC_DATA:
		milter_desc.xxfi_data(FUZZ_CTX);
		break;
	case SMFIC_HEADER:
		milter_desc.xxfi_header(FUZZ_CTX, buf, buf + strlen(buf) +
		    (strlen(buf) < len));
		break;
	case SMFIC_EOH:
		milter_desc.xxfi_eoh(FUZZ_CTX);
		break;
	case SMFIC_BODY:
		milter_desc.xxfi_body(FUZZ_CTX, (unsigned char *)buf, len);
		break;
	case SMFIC_BODYEOB:
		milter_desc.xxfi_eom(FUZZ_CTX);
		break;
	case SMFIC_ABORT:
		milter_desc.xxfi_abort(FUZZ_CTX);
		break;
	case SMFIC_UNKNOWN:
		/* libmilter's own buffer: exactly the packet, no NUL added */
		raw = malloc(len ? len : 1);
		if (raw == NULL)
			abort();
		memcpy(raw, buf, len);
		milter_desc.xxfi_unknown(FUZZ_CTX, len ? raw : NULL);
		free(raw);
		break;
	case SMFIC_MACRO:
		set_macro(buf, len);
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;

	while (off + 2 <= size) {
		int cmd = data[off];
		size_t len = data[off + 1];

		off += 2;
		if (len > size - off)
			len = size - off;
		char *buf = malloc(len + 1);
		if (buf == NULL)
			abort();
		memcpy(buf, data + off, len);
		buf[len] = '\0';
		packet(cmd, buf, len);
		free(buf);
		off += len;
	}
	milter_desc.xxfi_close(FUZZ_CTX);
	for (int i = 0; i < MAC_COUNT_; i++) {
		free(macros[i]);
		macros[i] = NULL;
	}
	return 0;
}
