/*
 * NAME
 *	user_access.c - what may the user the workers run as do with a path?
 * DESCRIPTION
 *	"ehlod -t" and the master run as root, but a plugin that opens a
 *	file during a session (the auth plugin's sasldb) opens it as the
 *	worker user, and the core writes its spool files there as that user.
 *	A short-lived child takes that user's uid, gid and groups and asks
 *	access(2), so directories on the way, groups and ACLs count exactly
 *	as the kernel will count them later.  Plain libc, so it lives with
 *	the other shared code in proto/.
 */
#include "autoconfig.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "user_access.h"

#define GROUPS_MAX 256

/* The child: become the user, ask, exit with the errno (0: allowed). */
static void
probe(const char *path, int mode, const struct passwd *pw,
    const gid_t *groups, int ngroups)
{
	if (setgroups((size_t)ngroups, groups) < 0 ||
	    setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
		_exit(errno ? errno : EPERM);
	_exit(access(path, mode) == 0 ? 0 : errno);
}

int
user_can_read(const char *path, const char *user)
{
	return user_access(path, user, R_OK);
}

int
user_access(const char *path, const char *user, int mode)
{
	gid_t groups[GROUPS_MAX];
	int ngroups = GROUPS_MAX, status;
	struct passwd *pw;
	pid_t pid;

	if (geteuid() != 0 || user == NULL || user[0] == '\0')
		return access(path, mode) == 0 ? 0 : errno;
	if ((pw = getpwnam(user)) == NULL)
		return ESRCH;
	if (getgrouplist(user, pw->pw_gid, groups, &ngroups) < 0)
		ngroups = 0;
	/* The child only makes system calls: safe after fork in any
	 * process, threads or not. */
	if ((pid = fork()) < 0)
		return errno;
	if (pid == 0)
		probe(path, mode, pw, groups, ngroups);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : EIO;
}
