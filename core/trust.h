/*
 * NAME
 *	trust.h - which files root may read code and configuration from
 * DESCRIPTION
 *	The rule of Postfix's dynamic maps, applied by ehlod and
 *	ehlod-milter alike before they open the configuration file or a
 *	plugin: a process running as root takes a file only when the file
 *	and every directory above it are owned by root and not writable by
 *	group or other, for whoever can change one of them can run code as
 *	root.  A root-owned directory with the sticky bit (such as /tmp) is
 *	accepted above the file: others may add names there but cannot
 *	remove or rename root's.  A process that is not root can only hurt
 *	itself, so nothing is checked then.
 */
#ifndef EHLOD_CORE_TRUST_H
#define EHLOD_CORE_TRUST_H

#include <sys/types.h>

/* 0 when the file at path may be used; otherwise -1 after one log line
 * naming the file (or the directory above it) and why, with what, such
 * as "plugin" or "configuration file", saying what was refused. */
int trust_file(const char *path, const char *what);

/* The same rule with the effective user id given (tests, and callers
 * that check on behalf of another process). */
int trust_file_as(const char *path, const char *what, uid_t euid);

#endif
