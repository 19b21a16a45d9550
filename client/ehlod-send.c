/*
 * NAME
 *	ehlod-send - send a message or probe a server with the ehlod client
 * SUMMARY
 *	ehlod-send --server HOST[:PORT] --probe
 *	ehlod-send --server HOST[:PORT] --from ADDR --to ADDR... [FILE]
 * DESCRIPTION
 *	A thin command-line front end to the blocking wrapper of the client
 *	library (ehlod/client.h): it turns options into a job, runs it, and
 *	turns the result into sysexits(3) codes and one line per failed
 *	recipient on standard error, so scripts and admins can tell a
 *	temporary failure (75) from a permanent one (65, 69, 77).
 *	See ehlod-send(1).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "ehlod/client.h"

#define MESSAGE_MAX (256L * 1024 * 1024)
#define RCPTS_MAX 1000

static const char *progname = "ehlod-send";

struct args {
	struct ehlod_client_opts o;
	struct ehlod_client_job job;
	const char *server;
	const char *rcpts[RCPTS_MAX];
	const char *file;
	int probe;
	int verbose;
};

enum {
	OPT_STARTTLS = 256, OPT_TLS_VERIFY, OPT_TLS_CA, OPT_TLS_NAME,
	OPT_AUTH_USER, OPT_AUTH_PASS, OPT_AUTH_MECH, OPT_LMTP, OPT_DSN_RET,
	OPT_DSN_ENVID, OPT_DSN_NOTIFY, OPT_DSN_ORCPT, OPT_HELO, OPT_RSET,
	OPT_NO_PIPE, OPT_CHUNKING, OPT_BODY, OPT_UTF8, OPT_TIMEOUT,
	OPT_AUTH_PLAIN
};

static const struct option longopts[] = {
	{ "server", required_argument, NULL, 's' },
	{ "probe", no_argument, NULL, 'p' },
	{ "from", required_argument, NULL, 'f' },
	{ "to", required_argument, NULL, 't' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "starttls", optional_argument, NULL, OPT_STARTTLS },
	{ "tls-verify", required_argument, NULL, OPT_TLS_VERIFY },
	{ "tls-ca-file", required_argument, NULL, OPT_TLS_CA },
	{ "tls-server-name", required_argument, NULL, OPT_TLS_NAME },
	{ "auth-user", required_argument, NULL, OPT_AUTH_USER },
	{ "auth-password", required_argument, NULL, OPT_AUTH_PASS },
	{ "auth-mech", required_argument, NULL, OPT_AUTH_MECH },
	{ "auth-plaintext", no_argument, NULL, OPT_AUTH_PLAIN },
	{ "lmtp", no_argument, NULL, OPT_LMTP },
	{ "dsn-ret", required_argument, NULL, OPT_DSN_RET },
	{ "dsn-envid", required_argument, NULL, OPT_DSN_ENVID },
	{ "dsn-notify", required_argument, NULL, OPT_DSN_NOTIFY },
	{ "dsn-orcpt", no_argument, NULL, OPT_DSN_ORCPT },
	{ "helo", required_argument, NULL, OPT_HELO },
	{ "rset-before-helo", no_argument, NULL, OPT_RSET },
	{ "no-pipelining", no_argument, NULL, OPT_NO_PIPE },
	{ "chunking", no_argument, NULL, OPT_CHUNKING },
	{ "body", required_argument, NULL, OPT_BODY },
	{ "smtputf8", no_argument, NULL, OPT_UTF8 },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ NULL, 0, NULL, 0 }
};

static void
usage(void)
{
	fprintf(stderr,
	    "usage: %s --server HOST[:PORT]|unix:PATH --probe [options]\n"
	    "       %s --server HOST[:PORT]|unix:PATH --from ADDR --to ADDR"
	    " [--to ADDR...] [options] [FILE]\n"
	    "options: --starttls[=require|may] --tls-verify=yes|no"
	    " --tls-ca-file FILE --tls-server-name NAME\n"
	    "         --auth-user USER --auth-password PASS --auth-mech LIST"
	    " --auth-plaintext\n"
	    "         --lmtp --helo NAME --rset-before-helo\n"
	    "         --dsn-ret FULL|HDRS --dsn-envid ID --dsn-notify LIST"
	    " --dsn-orcpt --body 7bit|8bitmime|binarymime --smtputf8\n"
	    "         --no-pipelining --chunking --timeout SEC --verbose\n"
	    "see ehlod-send(1)\n", progname, progname);
	exit(EX_USAGE);
}

static int
yes_no(const char *s)
{
	if (strcasecmp(s, "yes") == 0 || strcmp(s, "1") == 0)
		return 1;
	if (strcasecmp(s, "no") == 0 || strcmp(s, "0") == 0)
		return 0;
	fprintf(stderr, "%s: expected yes or no, not \"%s\"\n", progname, s);
	exit(EX_USAGE);
}

static void
set_tls(struct args *a, const char *v)
{
	if (v == NULL || strcasecmp(v, "require") == 0)
		a->o.starttls = EHLOD_TLS_MUST;
	else if (strcasecmp(v, "may") == 0)
		a->o.starttls = EHLOD_TLS_MAY;
	else
		usage();
}

static void
set_body(struct args *a, const char *v)
{
	if (strcasecmp(v, "7bit") == 0)
		a->job.body = EHLOD_BODY_7BIT;
	else if (strcasecmp(v, "8bitmime") == 0)
		a->job.body = EHLOD_BODY_8BITMIME;
	else if (strcasecmp(v, "binarymime") == 0)
		a->job.body = EHLOD_BODY_BINARYMIME;
	else
		usage();
}

static void
add_rcpt(struct args *a, const char *v)
{
	if (a->job.nrcpts >= RCPTS_MAX) {
		fprintf(stderr, "%s: more than %d recipients\n", progname, RCPTS_MAX);
		exit(EX_USAGE);
	}
	a->rcpts[a->job.nrcpts++] = v;
}

static void
set_timeout(struct args *a, const char *v)
{
	char *end;
	long n = strtol(v, &end, 10);

	if (*end || n < 1 || n > 3600)
		usage();
	a->o.timeout_sec = (unsigned)n;
	a->o.connect_timeout_sec = (unsigned)n;
}

static void
one_option(struct args *a, int ch)
{
	switch (ch) {
	case 's': a->server = optarg; break;
	case 'p': a->probe = 1; break;
	case 'f': a->job.from = optarg; break;
	case 't': add_rcpt(a, optarg); break;
	case 'v': a->verbose = 1; break;
	case OPT_STARTTLS: set_tls(a, optarg); break;
	case OPT_TLS_VERIFY: a->o.tls_verify = yes_no(optarg); break;
	case OPT_TLS_CA: a->o.tls_ca_file = optarg; break;
	case OPT_TLS_NAME: a->o.tls_server_name = optarg; break;
	case OPT_AUTH_USER: a->o.auth_user = optarg; break;
	case OPT_AUTH_PASS: a->o.auth_password = optarg; break;
	case OPT_AUTH_MECH: a->o.auth_mechs = optarg; break;
	case OPT_AUTH_PLAIN: a->o.auth_plaintext = 1; break;
	case OPT_LMTP: a->o.lmtp = 1; break;
	case OPT_DSN_RET: a->job.dsn_ret = optarg; break;
	case OPT_DSN_ENVID: a->job.dsn_envid = optarg; break;
	case OPT_DSN_NOTIFY: a->job.dsn_notify = optarg; break;
	case OPT_DSN_ORCPT: a->job.dsn_orcpt = 1; break;
	case OPT_HELO: a->o.helo_name = optarg; break;
	case OPT_RSET: a->o.rset_before_helo = 1; break;
	case OPT_NO_PIPE: a->o.no_pipelining = 1; break;
	case OPT_CHUNKING: a->o.chunking = 1; break;
	case OPT_BODY: set_body(a, optarg); break;
	case OPT_UTF8: a->job.smtputf8 = 1; break;
	case OPT_TIMEOUT: set_timeout(a, optarg); break;
	default: usage();
	}
}

static void
parse_args(struct args *a, int argc, char **argv)
{
	int ch;

	memset(a, 0, sizeof(*a));
	ehlod_client_opts_init(&a->o);
	a->job = (struct ehlod_client_job)EHLOD_CLIENT_JOB_INIT;
	a->job.smtputf8 = -1;
	while ((ch = getopt_long(argc, argv, "s:pf:t:vh", longopts, NULL)) != -1)
		one_option(a, ch);
	if (optind < argc)
		a->file = argv[optind++];
	if (optind < argc || a->server == NULL)
		usage();
	if (!a->probe && (a->job.from == NULL || a->job.nrcpts == 0))
		usage();
	if (a->o.auth_user && a->o.auth_password == NULL)
		a->o.auth_password = getenv("EHLOD_AUTH_PASSWORD");
	a->job.rcpts = a->rcpts;
}

/* The whole message, bounded. */
static char *
read_message(const char *file, size_t *len)
{
	FILE *fp = file && strcmp(file, "-") ? fopen(file, "rb") : stdin;
	size_t cap = 65536, n = 0;
	char *buf = NULL, *nb;

	if (fp == NULL) {
		fprintf(stderr, "%s: %s: %s\n", progname, file, strerror(errno));
		exit(EX_NOINPUT);
	}
	for (;;) {
		if ((nb = realloc(buf, cap)) == NULL)
			exit(EX_OSERR);
		buf = nb;
		n += fread(buf + n, 1, cap - n, fp);
		if (n < cap)
			break;
		if (cap >= (size_t)MESSAGE_MAX) {
			fprintf(stderr, "%s: message larger than %ld octets\n",
			    progname, MESSAGE_MAX);
			exit(EX_DATAERR);
		}
		cap *= 2;
	}
	if (ferror(fp)) {
		fprintf(stderr, "%s: reading the message: %s\n", progname,
		    strerror(errno));
		exit(EX_IOERR);
	}
	if (fp != stdin)
		fclose(fp);
	*len = n;
	return buf;
}

static void
print_probe(struct ehlod_client *c)
{
	const struct ehlod_client_result *r = ehlod_client_result(c);

	printf("greeting: %s\n", ehlod_client_greeting(c));
	if (r->helo_fallback)
		printf("esmtp: no (EHLO failed, fell back to HELO%s)\n",
		    r->connections > 1 ? " on a new connection" : "");
	else
		printf("esmtp: %s\n", r->esmtp ? "yes" : "no");
	if (r->tls)
		printf("tls: yes\n");
	for (size_t i = 0; i < ehlod_client_ext_count(c); i++) {
		const char *p = ehlod_client_ext_params(c, i);

		printf("%s%s%s\n", ehlod_client_ext_keyword(c, i), *p ? " " : "", p);
	}
}

/* sysexits for one permanent failure. */
static int
perm_exit(enum ehlod_client_reason reason, const char *enhanced)
{
	if (reason == EHLOD_REASON_AUTH)
		return EX_NOPERM;
	if (enhanced && strncmp(enhanced, "5.7.", 4) == 0)
		return EX_NOPERM;
	if (reason == EHLOD_REASON_NEEDS_EXTENSION || reason == EHLOD_REASON_LOCAL)
		return EX_DATAERR;
	return EX_UNAVAILABLE;
}

/* An address as given may hold control characters (the library refused
 * it for that): print them escaped, one failure per line. */
static void
print_escaped(const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch >= 32 && ch != 127)
			fputc(ch, stderr);
		else
			fprintf(stderr, ch == '\r' ? "\\r" : ch == '\n' ? "\\n" :
			    "\\x%02X", ch);
	}
}

static void
print_failure(const char *who, const char *status, const char *step,
    int code, const char *enh, const char *text)
{
	char code_s[16] = "";

	if (code)
		snprintf(code_s, sizeof(code_s), "%d ", code);
	fprintf(stderr, "%s: ", progname);
	print_escaped(who);
	fprintf(stderr, "%s%s at %s: %s%s%s%s\n", *who ? ": " : "", status,
	    step, code_s, enh && *enh ? enh : "", enh && *enh ? " " : "", text);
}

/* Report the failures and pick the exit status. */
static int
report(struct ehlod_client *c, int probe)
{
	const struct ehlod_client_result *r = ehlod_client_result(c);
	int ex = EX_OK, temp = 0;

	if (r->status == EHLOD_CLIENT_OK)
		return EX_OK;
	if (r->step && *r->step) {
		print_failure("", ehlod_client_status_name(r->status), r->step,
		    r->code, r->enhanced, r->text);
		if (r->status == EHLOD_CLIENT_TEMPFAIL)
			return EX_TEMPFAIL;
		ex = perm_exit(r->reason, r->enhanced);
	}
	for (size_t i = 0; i < r->nrcpts; i++) {
		const struct ehlod_client_rcpt *rc = &r->rcpts[i];

		if (rc->status == EHLOD_CLIENT_OK)
			continue;
		print_failure(rc->address, ehlod_client_status_name(rc->status),
		    rc->step, rc->code, rc->enhanced, rc->text);
		if (rc->status == EHLOD_CLIENT_TEMPFAIL)
			temp = 1;
		else if (ex == EX_OK)
			ex = perm_exit(rc->reason, rc->enhanced);
	}
	if (temp)
		return EX_TEMPFAIL;
	return ex == EX_OK ? EX_UNAVAILABLE : ex;
}

int
main(int argc, char **argv)
{
	struct args a;
	struct ehlod_client *c;
	char *data = NULL;
	int ex;

	parse_args(&a, argc, argv);
	if (!a.probe) {
		data = read_message(a.file, &a.job.len);
		a.job.data = data;
	}
	if ((c = ehlod_client_new(NULL, a.server, &a.o)) == NULL) {
		fprintf(stderr, "%s: bad server \"%s\": %s\n", progname, a.server,
		    strerror(errno));
		return errno == EINVAL ? EX_USAGE : EX_OSERR;
	}
	ehlod_client_run(c, a.probe ? NULL : &a.job);
	if (a.verbose)
		fputs(ehlod_client_transcript(c), stdout);
	if (a.probe)
		print_probe(c);
	ex = report(c, a.probe);
	ehlod_client_free(c);
	free(data);
	return ex;
}
