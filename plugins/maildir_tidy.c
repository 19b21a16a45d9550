/*
 * NAME
 *	maildir_tidy.c - remove what crashed deliveries left in tmp/
 * DESCRIPTION
 *	Implements maildir_tidy_tmp() (maildir.h).  A delivery removes its
 *	file from tmp/ when it fails, but a worker killed in the middle
 *	cannot; such files are never renamed into new/ and would fill the
 *	disk.  As qmail does, a file in tmp/ not touched for 36 hours is
 *	taken to be such a leftover: no delivery takes that long.  Only
 *	regular files are removed (lstat, so a symbolic link is left alone
 *	and never followed).
 */
#include "autoconfig.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "maildir.h"

static int
stale(int dfd, const char *name, time_t now)
{
	struct stat st;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	return S_ISREG(st.st_mode) && st.st_mtime < now - MAILDIR_TMP_MAX_AGE;
}

int
maildir_tidy_tmp(const struct ehlod_host *host, const char *dir)
{
	char path[4096];
	time_t now = time(NULL);
	struct dirent *e;
	int removed = 0;
	DIR *d;

	if ((size_t)snprintf(path, sizeof(path), "%s/tmp", dir) >=
	    sizeof(path))
		return 0;
	d = opendir(path);
	if (d == NULL) {
		host->log(NULL, LOG_WARNING, "cannot tidy %s: %s", path,
		    strerror(errno));
		return 0;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || !stale(dirfd(d), e->d_name, now))
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) < 0) {
			host->log(NULL, LOG_WARNING, "cannot remove %s/%s: %s",
			    path, e->d_name, strerror(errno));
			continue;
		}
		host->log(NULL, LOG_INFO, "removed %s/%s, left by a delivery "
		    "that did not finish (older than 36 hours)", path,
		    e->d_name);
		removed++;
	}
	closedir(d);
	return removed;
}
