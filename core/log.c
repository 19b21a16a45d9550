/*
 * NAME
 *	log.c - the server's log
 * DESCRIPTION
 *	Writes each line with one write(2) so that lines from several worker
 *	processes sharing stderr never interleave.  On stderr each line starts
 *	with an RFC 3339 local time stamp (log tools such as fail2ban need
 *	one); syslog adds its own.  libevent's own messages come through
 *	here too, marked "libevent:".
 *
 *	Under systemd, stderr is a stream to journald, which stamps each
 *	line with the time, the program and the pid itself: there a line
 *	starts with its priority ("<3>"), which journald takes for the
 *	entry's, so that "journalctl -p err" and fail2ban's journal backend
 *	see the lines as ehlod wrote them, without a second stamp.
 *
 *	Clients choose much of what is logged (names, addresses, whatever a
 *	plugin quotes), and a CR or LF among it would start a line of the
 *	client's making, which log readers such as fail2ban believe.  So
 *	every control octet of a message is written as "?"; UTF-8 and the
 *	other octets above DEL are kept.
 *
 *	stderr on a regular file is switched to appending, so that a
 *	rotation that empties the file in place loses nothing and leaves no
 *	hole (append_to_stderr_file).
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#include <event2/event.h>

#include "log.h"

static const char *log_ident = "ehlod";
static unsigned log_opened;	/* log_open calls: the ident may change */
static int log_to_syslog;
static int log_debug;
static int log_errors_only;
static atomic_int log_to_journal = -1;	/* -1: not looked at yet */
static atomic_int cached_pid;	/* 0: ask the kernel again */

static void
forget_pid(void)
{
	atomic_store(&cached_pid, 0);
}

static void
watch_forks(void)
{
	pthread_atfork(NULL, NULL, forget_pid);
}

/* getpid() is a system call; a log line or an id needs it several times
 * per message.  A forked child forgets the parent's. */
pid_t
log_pid(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	int pid = atomic_load(&cached_pid);

	if (pid != 0)
		return pid;
	pthread_once(&once, watch_forks);
	pid = (int)getpid();
	atomic_store(&cached_pid, pid);
	return pid;
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

/* A log file that logrotate empties in place (copytruncate, as the
 * shipped snippet does) must get the next line at its new end; written
 * at the offset the server had reached, the line would follow a hole of
 * NULs as long as the old file.  So stderr on a regular file appends,
 * whether the shell opened it with ">>" or with ">". */
static void
append_to_stderr_file(void)
{
	struct stat st;
	int flags;

	if (fstat(STDERR_FILENO, &st) < 0 || !S_ISREG(st.st_mode))
		return;
	flags = fcntl(STDERR_FILENO, F_GETFL);
	if (flags >= 0 && !(flags & O_APPEND))
		(void)fcntl(STDERR_FILENO, F_SETFL, flags | O_APPEND);
}

void
log_open(const char *ident, int use_syslog, int facility)
{
	static char ident_copy[64];	/* the config holding ident may go */

	/* Again at a reload: the new file may name another ident or
	 * facility, or leave syslog for stderr. */
	if (log_to_syslog)
		closelog();
	snprintf(ident_copy, sizeof(ident_copy), "%s", ident);
	log_ident = ident_copy;
	log_opened++;
	log_to_syslog = use_syslog;
	atomic_store(&log_to_journal, -1);
	append_to_stderr_file();
	if (use_syslog)
		openlog(ident_copy, LOG_PID | LOG_NDELAY, facility);
	event_set_log_callback(libevent_log);
}

/* Copy what fits of s (slen octets) to line at *n, a line of len. */
static void
append(char *line, size_t len, size_t *n, const char *s, size_t slen)
{
	if (slen > len - *n)
		slen = len - *n;
	memcpy(line + *n, s, slen);
	*n += slen;
}

/* "2026-12-03T06:50:01.123+00:00 " at *n.  The part that changes once a
 * second is made once a second, and nothing goes through printf: with
 * strftime and snprintf the log took a third of the cost of a message.
 * Per thread, for ehlod-milter's. */
static void
put_timestamp(char *line, size_t len, size_t *n)
{
	static _Thread_local time_t made_for = (time_t)-1;
	static _Thread_local char second[32];	/* "2026-12-03T06:50:01" */
	static _Thread_local char offset[16];	/* "+00:00 " */
	struct timespec ts;
	long ms;
	char frac[4];

	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != made_for) {
		struct tm tm;
		char zone[8];

		localtime_r(&ts.tv_sec, &tm);
		if (strftime(second, sizeof(second), "%Y-%m-%dT%H:%M:%S",
		    &tm) == 0 || strftime(zone, sizeof(zone), "%z", &tm) != 5)
			return;
		snprintf(offset, sizeof(offset), "%.3s:%s ", zone, zone + 3);
		made_for = ts.tv_sec;
	}
	ms = ts.tv_nsec / 1000000;
	frac[0] = '.';
	frac[1] = (char)('0' + ms / 100);
	frac[2] = (char)('0' + ms / 10 % 10);
	frac[3] = (char)('0' + ms % 10);
	append(line, len, n, second, strlen(second));
	append(line, len, n, frac, sizeof(frac));
	append(line, len, n, offset, strlen(offset));
}

/* systemd says which stream goes to journald by its device and inode
 * (JOURNAL_STREAM); stderr may since have been sent elsewhere, by a
 * shell of the admin's or a test, so it must be that very file. */
static int
stderr_is_journal(void)
{
	const char *v = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (v == NULL || sscanf(v, "%llu:%llu", &dev, &ino) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &st) < 0)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

/* "ehlod[1234]: ", made again only when the process or its name changes. */
static void
put_program(char *line, size_t len, size_t *n)
{
	static _Thread_local char who[96];
	static _Thread_local pid_t who_pid;
	static _Thread_local unsigned who_opened;
	pid_t pid = log_pid();

	if (pid != who_pid || log_opened != who_opened) {
		snprintf(who, sizeof(who), "%s[%ld]: ", log_ident, (long)pid);
		who_pid = pid;
		who_opened = log_opened;
	}
	append(line, len, n, who, strlen(who));
}

/* Looked at once per log_open, not per line: a server does not move its
 * stderr, and a reload opens the log again. */
static int
journal_on_stderr(void)
{
	int journal = atomic_load(&log_to_journal);

	if (journal < 0) {
		journal = stderr_is_journal();
		atomic_store(&log_to_journal, journal);
	}
	return journal;
}

/* journald's syslog-style priority prefix, "<0>" to "<7>". */
static const char *
priority_tag(int priority)
{
	static const char tags[8][4] = { "<0>", "<1>", "<2>", "<3>", "<4>",
	    "<5>", "<6>", "<7>" };

	return tags[priority & 7];
}

const char *
log_stderr_priority(int priority)
{
	return journal_on_stderr() ? priority_tag(priority) : "";
}

/* What starts a line on stderr: the priority for journald, else the
 * time stamp and the program. */
static void
put_prefix(char *line, size_t len, size_t *n, int priority)
{
	if (journal_on_stderr()) {
		append(line, len, n, priority_tag(priority), 3);
		return;
	}
	put_timestamp(line, len, n);
	put_program(line, len, n);
}

void
log_set_debug(int on)
{
	log_debug = on;
}

void
log_set_errors_only(int on)
{
	log_errors_only = on;
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

/* Control octets (C0 and DEL) of p[0..len) become '?'. */
static void
neuter_controls(char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c < 32 || c == 127)
			p[i] = '?';
	}
}

/* The message into buf[0..len), controls neutered: its length. */
static size_t
format_message(char *buf, size_t len, const char *fmt, va_list ap)
{
	int m;
	size_t n;

	if (len == 0)
		return 0;
	m = vsnprintf(buf, len, fmt, ap);
	if (m < 0)
		return 0;
	n = (size_t)m < len ? (size_t)m : len - 1;
	neuter_controls(buf, n);
	return n;
}

int
log_wanted(int priority)
{
	if (priority == LOG_DEBUG && !log_debug)
		return 0;
	return !(log_errors_only && priority > LOG_ERR);
}

void
log_vmsg(int priority, const char *fmt, va_list ap)
{
	char line[2048];
	size_t n = 0;

	if (!log_wanted(priority))
		return;
	if (log_to_syslog) {
		(void)format_message(line, sizeof(line), fmt, ap);
		syslog(priority, "%s", line);
		return;
	}
	put_prefix(line, sizeof(line) - 1, &n, priority);
	append(line, sizeof(line) - 1, &n, level_name(priority),
	    strlen(level_name(priority)));
	n += format_message(line + n, sizeof(line) - n - 1, fmt, ap);
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
