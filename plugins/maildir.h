/*
 * NAME
 *	maildir.h - the maildir plugin's helpers beside the delivery itself
 * DESCRIPTION
 *	maildir_space.c answers MAIL with 452 4.3.1 when the declared size
 *	cannot be stored now (RFC 1870 section 6.1); maildir_tidy.c removes
 *	what crashed deliveries left in tmp/.
 */
#ifndef EHLOD_PLUGINS_MAILDIR_H
#define EHLOD_PLUGINS_MAILDIR_H

#include <ehlod/plugin.h>

/* Octets kept free beyond the declared size: the headers the server and
 * the plugin add, and room for the files' blocks. */
#define MAILDIR_SPACE_RESERVE (64 * 1024)

/* Files in tmp/ older than this are left from deliveries that died
 * (qmail's rule: 36 hours). */
#define MAILDIR_TMP_MAX_AGE (36 * 3600)

/* TEMPFAIL with 452 4.3.1 when the file system holding dir lacks room for
 * the size the client declared (the transaction value "size", 0 when
 * none) plus MAILDIR_SPACE_RESERVE; CONTINUE otherwise. */
ehlod_verdict maildir_space_check(const struct ehlod_host *host,
    ehlod_ctx *s, const char *dir);

/* Remove the regular files in dir/tmp older than MAILDIR_TMP_MAX_AGE,
 * logging each; returns how many were removed. */
int maildir_tidy_tmp(const struct ehlod_host *host, const char *dir);

#endif
