/*
 * NAME
 *	maildir_space.c - is there room for the message the client declares?
 * DESCRIPTION
 *	Implements maildir_space_*() (maildir.h).  RFC 1870 section 6.1: a
 *	server that cannot store a message of the declared size now answers
 *	MAIL with 452, so the client tries later instead of sending the
 *	message for nothing.
 *
 *	statvfs() of a local file system answers from the kernel's counters,
 *	but on a network file system it asks the server and may wait for as
 *	long as the server is away.  So the event loop never calls it: a
 *	delivery thread measures (maildir_space_measure), and MAIL is
 *	answered from the last measure when it was taken in the current
 *	second; otherwise the plugin asks the threads for a new one and the
 *	session waits (PENDING) until it is there.  One measure serves every
 *	session of a worker for the rest of its second.
 */
#include "autoconfig.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "maildir.h"

struct space {
	time_t when;		/* of the last statvfs(), 0 for never */
	uint64_t octets;	/* free for an unprivileged writer */
	uint64_t files;		/* free inodes for one */
	int err;		/* errno of the last statvfs(), or 0 */
};

/* Written by the threads, read by the loop. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct space cached;

void
maildir_space_measure(const char *dir)
{
	struct space now = { .when = time(NULL) };
	struct statvfs v;

	if (statvfs(dir, &v) < 0) {
		now.err = errno;
	} else {
		now.octets = (uint64_t)v.f_bavail * v.f_frsize;
		/* A file system without inode counts reports 0 files in
		 * all. */
		now.files = v.f_files == 0 ? UINT64_MAX :
		    (uint64_t)v.f_favail;
	}
	pthread_mutex_lock(&lock);
	cached = now;
	pthread_mutex_unlock(&lock);
}

static struct space
last_measure(void)
{
	struct space sp;

	pthread_mutex_lock(&lock);
	sp = cached;
	pthread_mutex_unlock(&lock);
	return sp;
}

int
maildir_space_fresh(void)
{
	return last_measure().when == time(NULL);
}

ehlod_verdict
maildir_space_check(const struct ehlod_host *host, ehlod_ctx *s,
    const char *dir)
{
	const char *declared = host->txn_get(s, "size");
	uint64_t need = MAILDIR_SPACE_RESERVE;
	struct space sp = last_measure();

	/* The size plugin stored the value in canonical digits. */
	if (declared != NULL)
		need += strtoull(declared, NULL, 10);
	if (sp.when == 0)
		return EHLOD_CONTINUE;	/* never measured: delivery will say */
	if (sp.err != 0) {
		/* Delivery will say what is wrong; MAIL need not guess. */
		host->log(s, LOG_WARNING, "statvfs %s: %s", dir,
		    strerror(sp.err));
		return EHLOD_CONTINUE;
	}
	if (sp.octets >= need && sp.files > 0)
		return EHLOD_CONTINUE;
	host->log(s, LOG_WARNING, "%s: %llu octets and %llu files free, the "
	    "message needs %llu octets: deferred at MAIL", dir,
	    (unsigned long long)sp.octets, (unsigned long long)sp.files,
	    (unsigned long long)need);
	host->reply(s, 452, "4.3.1", "Insufficient system storage");
	return EHLOD_TEMPFAIL;
}
