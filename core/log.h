/*
 * NAME
 *	log.h - the server's log
 * DESCRIPTION
 *	One line per event, to stderr (foreground, the default) or syslog.
 *	Lines an admin can grep: "SESSIONID: key=value, key=value".
 */
#ifndef EHLOD_CORE_LOG_H
#define EHLOD_CORE_LOG_H

#include <stdarg.h>
#include <syslog.h>
#include <sys/types.h>

void log_open(const char *ident, int use_syslog, int facility);
void log_set_debug(int on);
/* While on, lines less severe than LOG_ERR are dropped: for work that
 * repeats what an earlier step of the same process tree has logged. */
void log_set_errors_only(int on);
/* The program logging: "ehlod" or "ehlod-milter", for messages. */
const char *log_program(void);
/* This process's id, as its log lines show it (cached, forgotten at
 * fork): also for ids made from it. */
pid_t log_pid(void);
/* "<N>" (the priority, for journald) when stderr is the journal, else
 * "": for a line a command prints itself rather than logs. */
const char *log_stderr_priority(int priority);
/* 1 when a line of that priority would be written: callers that format
 * before they log skip the work for lines that would be dropped. */
int log_wanted(int priority);
void log_msg(int priority, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_vmsg(int priority, const char *fmt, va_list ap);
/* Map "mail", "local0" … to a syslog facility; -1 when unknown. */
int log_facility(const char *name);

#endif
