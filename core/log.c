/*
 * NAME
 *	log.c - the server's log
 * DESCRIPTION
 *	Writes each line with one write(2) so that lines from several worker
 *	processes sharing stderr never interleave.  On stderr each line starts
 *	with an RFC 3339 local time stamp (log tools such as fail2ban need
 *	one); syslog adds its own.  libevent's own messages come through
 *	here too, marked "libevent:".
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#include <event2/event.h>

#include "log.h"

static const char *log_ident = "ehlod";
static int log_to_syslog;
static int log_debug;
static pid_t cached_pid;	/* 0: ask the kernel again */

static void
forget_pid(void)
{
	cached_pid = 0;
}

/* getpid() is a system call; a log line or an id needs it several times
 * per message.  A forked child forgets the parent's. */
pid_t
log_pid(void)
{
	static int registered;

	if (!registered) {
		registered = 1;
		pthread_atfork(NULL, NULL, forget_pid);
	}
	if (cached_pid == 0)
		cached_pid = getpid();
	return cached_pid;
}

static void
libevent_log(int severity, const char *msg)
{
	int priority = severity >= EVENT_LOG_ERR ? LOG_ERR :
	    severity == EVENT_LOG_WARN ? LOG_WARNING :
	    severity == EVENT_LOG_MSG ? LOG_INFO : LOG_DEBUG;

	log_msg(priority, "libevent: %s", msg);
}

const char *
log_program(void)
{
	return log_ident;
}

void
log_open(const char *ident, int use_syslog, int facility)
{
	static char ident_copy[64];	/* the config holding ident may go */

	snprintf(ident_copy, sizeof(ident_copy), "%s", ident);
	log_ident = ident_copy;
	log_to_syslog = use_syslog;
	if (use_syslog)
		openlog(ident_copy, LOG_PID | LOG_NDELAY, facility);
	event_set_log_callback(libevent_log);
}

/* "2026-12-03T06:50:01.123+00:00 " */
static int
timestamp(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	char zone[8];
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	if (n == 0 || strftime(zone, sizeof(zone), "%z", &tm) != 5)
		return 0;
	return snprintf(buf + n, len - n, ".%03ld%.3s:%s ",
	    ts.tv_nsec / 1000000, zone, zone + 3) + (int)n;
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
	n = timestamp(line, sizeof(line));
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	n += snprintf(line + n, sizeof(line) - (size_t)n, "%s[%ld]: %s",
	    log_ident, (long)log_pid(), level_name(priority));
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
