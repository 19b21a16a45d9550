/*
 * NAME
 *	user_access.h - what may the user the workers run as do with a path?
 */
#ifndef EHLOD_PROTO_USER_ACCESS_H
#define EHLOD_PROTO_USER_ACCESS_H

/* 0 when user (NULL or "": the current one) may access path as mode
 * asks (access(2)'s R_OK, W_OK, X_OK), else an errno value (EACCES,
 * ENOENT, ...).  As root, a short-lived child asks as that user. */
int user_access(const char *path, const char *user, int mode);
/* user_access(path, user, R_OK). */
int user_can_read(const char *path, const char *user);

#endif
