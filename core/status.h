/*
 * NAME
 *	status.h - the status socket (bound by the master, served by the
 *	workers, read by ehlod -s)
 */
#ifndef EHLOD_STATUS_H
#define EHLOD_STATUS_H

#include <stdio.h>

struct event_base;
struct evconnlistener;

/* Bind and listen on path (mode 0600); -1 when there is none or on error
 * (logged). */
int status_listen(const char *path);
/* Answer every connection on fd with the counters. */
struct evconnlistener *status_serve(struct event_base *base, int fd);
/* Connect to path and copy what it says to out; -1 on error (said on
 * stderr). */
int status_print(const char *path, FILE *out);

#endif
