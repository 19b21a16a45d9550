/*
 * NAME
 *	maildir_space.c - is there room for the message the client declares?
 * DESCRIPTION
 *	Implements maildir_space_check() (maildir.h).  RFC 1870 section 6.1:
 *	a server that cannot store a message of the declared size now
 *	answers MAIL with 452, so the client tries later instead of sending
 *	the message for nothing.  statvfs() of a local file system answers
 *	from the kernel's counters without I/O; still, one answer serves
 *	all sessions of a worker for a second, so a slow (network) file
 *	system costs the event loop at most one call per second.
 */
#include "autoconfig.h"

#include <errno.h>
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

static struct space cached;

static const struct space *
space_now(const char *dir)
{
	struct statvfs v;
	time_t now = time(NULL);

	if (cached.when == now)
		return &cached;
	cached.when = now;
	if (statvfs(dir, &v) < 0) {
		cached.err = errno;
		return &cached;
	}
	cached.err = 0;
	cached.octets = (uint64_t)v.f_bavail * v.f_frsize;
	/* A file system without inode counts reports 0 files in all. */
	cached.files = v.f_files == 0 ? UINT64_MAX : (uint64_t)v.f_favail;
	return &cached;
}

ehlod_verdict
maildir_space_check(const struct ehlod_host *host, ehlod_ctx *s,
    const char *dir)
{
	const char *declared = host->txn_get(s, "size");
	uint64_t need = MAILDIR_SPACE_RESERVE;
	const struct space *sp = space_now(dir);

	/* The size plugin stored the value in canonical digits. */
	if (declared != NULL)
		need += strtoull(declared, NULL, 10);
	if (sp->err != 0) {
		/* Delivery will say what is wrong; MAIL need not guess. */
		host->log(s, LOG_WARNING, "statvfs %s: %s", dir,
		    strerror(sp->err));
		return EHLOD_CONTINUE;
	}
	if (sp->octets >= need && sp->files > 0)
		return EHLOD_CONTINUE;
	host->log(s, LOG_WARNING, "%s: %llu octets and %llu files free, the "
	    "message needs %llu octets: deferred at MAIL", dir,
	    (unsigned long long)sp->octets, (unsigned long long)sp->files,
	    (unsigned long long)need);
	host->reply(s, 452, "4.3.1", "Insufficient system storage");
	return EHLOD_TEMPFAIL;
}
