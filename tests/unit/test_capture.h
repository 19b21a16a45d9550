/*
 * NAME
 *	test_capture.h - capture what the code under test logs to stderr
 * DESCRIPTION
 *	The core logs with write(2) on descriptor 2; the unit tests point
 *	that descriptor at a temporary file for the duration of a call and
 *	read the text back, to check that errors name the file and line.
 */
#ifndef EHLOD_TEST_CAPTURE_H
#define EHLOD_TEST_CAPTURE_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct capture {
	int saved;
	int fd;
	char path[64];
};

static inline void
capture_begin(struct capture *c)
{
	strcpy(c->path, "/tmp/ehlod-unit-XXXXXX");
	c->fd = mkstemp(c->path);
	ck_assert_int_ge(c->fd, 0);
	fflush(stderr);
	c->saved = dup(2);
	ck_assert_int_ge(c->saved, 0);
	ck_assert_int_ge(dup2(c->fd, 2), 0);
}

/* Restore stderr; returns the captured text (malloc'd), echoing it to
 * stderr so that a failing test shows what was logged. */
static inline char *
capture_end(struct capture *c)
{
	fflush(stderr);
	dup2(c->saved, 2);
	close(c->saved);
	off_t len = lseek(c->fd, 0, SEEK_END);
	ck_assert_int_ge(len, 0);
	char *text = calloc(1, (size_t)len + 1);
	ck_assert_ptr_nonnull(text);
	if (len > 0)
		ck_assert_int_eq(pread(c->fd, text, (size_t)len, 0), len);
	close(c->fd);
	unlink(c->path);
	fputs(text, stderr);
	return text;
}

/* Write text to a fresh temporary file; returns its path (malloc'd). */
static inline char *
write_temp(const char *text)
{
	char *path = strdup("/tmp/ehlod-unit-conf-XXXXXX");
	ck_assert_ptr_nonnull(path);
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	size_t len = strlen(text);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

#endif
