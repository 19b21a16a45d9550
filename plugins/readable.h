/*
 * readable.h - can the user the workers run as read a file?
 */
#ifndef EHLOD_PLUGINS_READABLE_H
#define EHLOD_PLUGINS_READABLE_H

/* 0 when user (NULL or "": the current one) can open path for reading,
 * else an errno value (EACCES, ENOENT, ...). */
int user_can_read(const char *path, const char *user);

#endif
