/*
 * NAME
 *	capture - test plugin: deliver each message exactly as the host
 *	hands it over
 * SUMMARY
 *	plugin capture {
 *		path = "tests/plugins/.libs/capture.so"
 *		directory = "/tmp/capture"
 *		refuse_data = false
 *		log_body = false
 *	}
 * DESCRIPTION
 *	Exists only for the tests, to prove that content arrives unchanged:
 *	the maildir plugin turns CRLF into LF, which hides a server that
 *	would add or drop a CR.  This delivery step writes what
 *	host->message_read() gives -- the host's Received header, the
 *	header fields, the empty line, the body, CRLF line ends as they
 *	are -- into directory/PID-N.eml without changing an octet, and
 *	answers ACCEPT.  The directory must exist and be writable by the
 *	user the workers run as.
 *
 *	With refuse_data, its on_data hook refuses every transaction (554
 *	5.7.1 "capture: refused at DATA"), to show that on_data runs for
 *	BDAT as it does for DATA.
 *
 *	Built by "make check" only, never installed.
 * CONFIGURATION
 *	directory (string, required)
 *		Where the files go, as an absolute path.
 *	refuse_data (boolean, default false)
 *		Refuse at on_data.
 *	log_body (boolean, default false)
 *		Log each on_body chunk's length.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ehlod/plugin.h>

static const struct ehlod_host *host;
static char *directory;
static unsigned long count;
static int refuse_data;
static int log_body;

static int
put(void *arg, const void *data, size_t len)
{
	const char *p = data;
	int fd = *(int *)arg;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static ehlod_verdict
capture_on_eom(ehlod_ctx *s)
{
	char path[PATH_MAX];
	int fd, rc;

	snprintf(path, sizeof(path), "%s/%ld-%lu.eml", directory,
	    (long)getpid(), ++count);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		host->log(s, LOG_ERR, "%s: %s", path, strerror(errno));
		host->reply(s, 451, "4.3.0", "capture failed");
		return EHLOD_TEMPFAIL;
	}
	rc = host->message_read(s, put, &fd);
	if (close(fd) < 0 || rc < 0) {
		host->log(s, LOG_ERR, "%s: write failed", path);
		unlink(path);
		host->reply(s, 451, "4.3.0", "capture failed");
		return EHLOD_TEMPFAIL;
	}
	host->reply(s, 250, "2.0.0", "Ok: captured");
	return EHLOD_ACCEPT;
}

static ehlod_verdict
capture_on_data(ehlod_ctx *s)
{
	if (!refuse_data)
		return EHLOD_CONTINUE;
	host->reply(s, 554, "5.7.1", "capture: refused at DATA");
	return EHLOD_REJECT;
}

static ehlod_verdict
capture_on_body(ehlod_ctx *s, const unsigned char *chunk, size_t len)
{
	(void)chunk;
	if (log_body)
		host->log(s, LOG_INFO, "on_body %zu octets", len);
	return EHLOD_CONTINUE;
}

struct capture_conf {
	const char *directory;
	int refuse_data;
	int log_body;
};

static void
capture_fini(ehlod_ctx *inst)
{
	(void)inst;
	free(directory);
	directory = NULL;
}

static int
capture_init(const struct ehlod_host *h, ehlod_ctx *inst)
{
	const struct capture_conf *conf = h->instance(inst);
	const char *dir = conf->directory;

	host = h;
	if (dir == NULL || dir[0] != '/') {
		host->log(inst, LOG_ERR, "directory must be an absolute path");
		return -1;
	}
	refuse_data = conf->refuse_data;
	log_body = conf->log_body;
	free(directory);
	directory = strdup(dir);
	return directory != NULL ? 0 : -1;
}

static const struct ehlod_option capture_options[] = {
	{ "directory", EHLOD_OPT_STRING, offsetof(struct capture_conf,
	  directory), NULL, 0, 0, 0, NULL },
	{ "refuse_data", EHLOD_OPT_BOOL, offsetof(struct capture_conf,
	  refuse_data), "no", 0, 0, 0, NULL },
	{ "log_body", EHLOD_OPT_BOOL, offsetof(struct capture_conf,
	  log_body), "no", 0, 0, 0, NULL },
	{ NULL, 0, 0, NULL, 0, 0, 0, NULL }
};

EHLOD_PLUGIN_EXPORT const struct ehlod_plugin ehlod_plugin = {
	EHLOD_PLUGIN_HEADER,
	.name = "capture",
	.version = PACKAGE_VERSION,
	.description = "test only: deliver the message as the host hands it "
	    "over",
	.options = capture_options,
	.instance_size = sizeof(struct capture_conf),
	.init = capture_init,
	.fini = capture_fini,
	.on_data = capture_on_data,
	.on_body = capture_on_body,
	.on_eom = capture_on_eom,
};
