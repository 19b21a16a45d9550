/*
 * NAME
 *	maildir.h - the maildir plugin's helpers beside the delivery itself
 * DESCRIPTION
 *	maildir_space.c answers MAIL with 452 4.3.1 when the declared size
 *	cannot be stored now (RFC 1870 section 6.1); maildir_tidy.c removes
 *	what crashed deliveries left in tmp/; maildir_flush.c writes,
 *	flushes and renames the files in threads, off the event loop.
 */
#ifndef EHLOD_PLUGINS_MAILDIR_H
#define EHLOD_PLUGINS_MAILDIR_H

#include <limits.h>
#include <stddef.h>

#include <ehlod/plugin.h>

#include "crlf.h"

/* Octets kept free beyond the declared size: the headers the server and
 * the plugin add, and room for the files' blocks. */
#define MAILDIR_SPACE_RESERVE (64 * 1024)

/* Files in tmp/ older than this are left from deliveries that died
 * (qmail's rule: 36 hours). */
#define MAILDIR_TMP_MAX_AGE (36 * 3600)

/* In the loop: TEMPFAIL with 452 4.3.1 when the last measure of the file
 * system holding dir left no room for the size the client declared (the
 * transaction value "size", 0 when none) plus MAILDIR_SPACE_RESERVE;
 * CONTINUE otherwise, and when nothing was measured yet. */
ehlod_verdict maildir_space_check(const struct ehlod_host *host,
    ehlod_ctx *s, const char *dir);
/* In the loop: 1 when the last measure was taken in the current second. */
int maildir_space_fresh(void);
/* In any thread (it may wait on a network file system): measure the free
 * space of dir's file system for maildir_space_check. */
void maildir_space_measure(const char *dir);

/* Remove the regular files in dir/tmp older than MAILDIR_TMP_MAX_AGE,
 * logging each; returns how many were removed. */
int maildir_tidy_tmp(const struct ehlod_host *host, const char *dir);

/* One message on its way to disk (maildir_flush.c).  The loop fills in
 * s, data and the spool part; a thread fills in the rest. */
struct maildir_job {
	struct maildir_job *next;	/* in whichever list holds it */
	int measure;		/* 1: no message, only a new measure of the
				 * free space for the session's MAIL */
	ehlod_ctx *s;		/* the session waiting; NULL once it ended
				 * (read and written in the loop only) */
	unsigned char *data;	/* the whole file, or its start when the
				 * body is copied from the spool */
	size_t len;
	/* A spooled body, copied by a thread: spool_len octets from a dup
	 * of the host's spool file, then the rest of the message (tail), both
	 * as the host has them (CRLF), turned into LF on the way. */
	int spool_fd;		/* or -1 */
	size_t spool_len;
	unsigned char *tail;
	size_t tail_len;
	struct crlf crlf;	/* the conversion's state after data */
	int fd;			/* tmp/NAME while a thread has it, or -1 */
	int err;		/* errno of the step that failed, or 0 */
	const char *what;	/* that step: "create", "write", ... */
	/* The paths stay last: a new job zeroes only what comes before. */
	char name[NAME_MAX + 1];
	char tmp[PATH_MAX];	/* tmp/NAME, or the folder for errors */
	char dst[PATH_MAX];	/* new/NAME */
};

void maildir_job_free(struct maildir_job *j);

/* write(2) until all is written; 0 or an errno value. */
int maildir_write_all(int fd, const unsigned char *p, size_t len);

/* How a file is made durable (maildir_flush.c says why). */
enum maildir_flush {
	MAILDIR_FLUSH_NONE,		/* fsync = no: benchmarks only */
	MAILDIR_FLUSH_BEFORE_RENAME,	/* fsync, rename, fsync new/ */
	MAILDIR_FLUSH_AFTER_RENAME	/* wait for the data, rename, fsync
					 * the file (a Linux journal) */
};

/* Remember where and how to deliver; finished is called in the event
 * loop with each job once it is done (err 0: durable in new/). */
void maildir_flush_setup(const struct ehlod_host *host, ehlod_ctx *inst,
    const char *dir, const char *hostpart, enum maildir_flush flush,
    unsigned threads, void (*finished)(struct maildir_job *));

/* NULL when dir is on a file system known to make a file's rename
 * durable with the file's fsync (ext4 with its journal, XFS, btrfs) or
 * on one that keeps nothing anyway (tmpfs, ramfs); else why not, for
 * the log: "ext4 without a journal", "NFS", "a file system not known to
 * journal its metadata (statfs type 0x...)" (maildir_fs.c). */
const char *maildir_fs_no_known_journal(const char *dir);
/* "tmpfs" or "ramfs" when dir's file system keeps nothing over a
 * reboot, else NULL. */
const char *maildir_fs_volatile(const char *dir);

/* Queue a job, starting the threads at this process's first; -1 with
 * errno when they cannot start. */
int maildir_flush_submit(struct maildir_job *j);

/* Let the threads finish what is queued, and end them (from fini).
 * Returns how many threads were still busy THREADS_STOP_WAIT seconds
 * later (a hung disk): they are left running, and so must be the
 * folder's name they use. */
unsigned maildir_flush_stop(void);

#endif
