/*
 * NAME
 *	log.c - the server's log
 * DESCRIPTION
 *	Writes each line with one write(2) so that lines from several worker
 *	processes sharing stderr never interleave.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *log_ident = "ehlod";
static int log_to_syslog;
static int log_debug;

void
log_open(const char *ident, int use_syslog, int facility)
{
	log_ident = ident;
	log_to_syslog = use_syslog;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, facility);
}

void
log_set_debug(int on)
{
	log_debug = on;
}

static const char *
level_name(int priority)
{
	switch (priority) {
	case LOG_EMERG: case LOG_ALERT: case LOG_CRIT:
		return "fatal: ";
	case LOG_ERR:
		return "error: ";
	case LOG_WARNING:
		return "warning: ";
	case LOG_DEBUG:
		return "debug: ";
	default:
		return "";
	}
}

void
log_vmsg(int priority, const char *fmt, va_list ap)
{
	char line[2048];
	int n;

	if (priority == LOG_DEBUG && !log_debug)
		return;
	if (log_to_syslog) {
		vsyslog(priority, fmt, ap);
		return;
	}
	n = snprintf(line, sizeof(line), "%s[%ld]: %s", log_ident,
	    (long)getpid(), level_name(priority));
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	ssize_t ignored = write(STDERR_FILENO, line, (size_t)n);
	(void)ignored;
}

void
log_msg(int priority, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(priority, fmt, ap);
	va_end(ap);
}

int
log_facility(const char *name)
{
	static const struct { const char *name; int facility; } map[] = {
		{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON },
		{ "user", LOG_USER }, { "local0", LOG_LOCAL0 },
		{ "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
		{ "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 },
		{ "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 },
		{ "local7", LOG_LOCAL7 },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcasecmp(map[i].name, name) == 0)
			return map[i].facility;
	return -1;
}
