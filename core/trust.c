/*
 * NAME
 *	trust.c - which files root may read code and configuration from
 * DESCRIPTION
 *	Implements trust.h.  Both the path as written and the path with
 *	symbolic links resolved are checked, file first, then each directory
 *	up to "/": a link in a directory someone else can write could be
 *	turned to another file, and the target itself must be root's.
 *	The check is by name before the file is opened; with every directory
 *	on the way root's alone, no other user can swap the file in between.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "trust.h"

/* Why st may not be trusted, or NULL.  dir: a directory above the file. */
static const char *
distrust(const struct stat *st, int dir, char *why, size_t len)
{
	mode_t writable = st->st_mode & (S_IWGRP | S_IWOTH);

	if (st->st_uid != 0) {
		snprintf(why, len, "owned by uid %lu, not root",
		    (unsigned long)st->st_uid);
		return why;
	}
	if (writable && !(dir && (st->st_mode & S_ISVTX))) {
		snprintf(why, len, "writable by %s (mode %04o)",
		    (writable & S_IWOTH) ? "other" : "group",
		    (unsigned)(st->st_mode & 07777));
		return why;
	}
	if (!dir && !S_ISREG(st->st_mode)) {
		snprintf(why, len, "not a regular file");
		return why;
	}
	return NULL;
}

/* One line: the file asked for, what was refused, and which name on its
 * way fails the rule. */
static int
refuse(const char *what, const char *file, const char *name, int dir,
    const char *why)
{
	if (dir)
		log_msg(LOG_ERR, "%s: refusing %s: directory %s is %s; ehlod "
		    "runs as root (see TRUST in ehlod(8))", file, what, name,
		    why);
	else if (strcmp(file, name) != 0)
		log_msg(LOG_ERR, "%s: refusing %s: its target %s is %s; ehlod "
		    "runs as root (see TRUST in ehlod(8))", file, what, name,
		    why);
	else
		log_msg(LOG_ERR, "%s: refusing %s: %s; ehlod runs as root "
		    "(see TRUST in ehlod(8))", file, what, why);
	return -1;
}

/* One name on the way: 0 when it may stay. */
static int
check_one(const char *what, const char *file, const char *name, int dir)
{
	char why[128];
	struct stat st;

	/* What is missing is reported by the open that follows; the
	 * directories above it are still checked. */
	if (stat(name, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(why, sizeof(why), "not checkable (%s)",
		    strerror(errno));
		return refuse(what, file, name, dir, why);
	}
	if (distrust(&st, dir, why, sizeof(why)))
		return refuse(what, file, name, dir, why);
	return 0;
}

/* The file at path (unless from_parent), then every directory above it. */
static int
check_chain(const char *file, const char *path, const char *what,
    int from_parent)
{
	char name[PATH_MAX];

	if (strlen(path) >= sizeof(name))
		return refuse(what, file, file, 0, "a path too long to check");
	strcpy(name, path);
	if (!from_parent && check_one(what, file, name, 0) < 0)
		return -1;
	while (strcmp(name, "/") != 0) {
		char *slash = strrchr(name, '/');
		if (slash == NULL)
			return 0;
		if (slash == name)
			slash[1] = '\0';	/* up to "/" itself */
		else
			*slash = '\0';
		if (check_one(what, file, name, 1) < 0)
			return -1;
	}
	return 0;
}

int
trust_file_as(const char *path, const char *what, uid_t euid)
{
	char real[PATH_MAX];
	struct stat st;

	if (euid != 0)
		return 0;
	/* A relative name (ehlod -c FILE) is judged by where it leads. */
	/* A link itself is the directory's business; its target is checked
	 * below with the resolved path. */
	if (path[0] == '/' && check_chain(path, path, what,
	    lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) < 0)
		return -1;
	if (realpath(path, real) == NULL)
		return errno == ENOENT ? 0 : refuse(what, path, path, 0,
		    strerror(errno));
	if (strcmp(real, path) != 0 && check_chain(path, real, what, 0) < 0)
		return -1;
	return 0;
}

int
trust_file(const char *path, const char *what)
{
	return trust_file_as(path, what, geteuid());
}
