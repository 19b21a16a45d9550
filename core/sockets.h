/*
 * NAME
 *	sockets.h - the master's listening sockets, kept across reloads
 * DESCRIPTION
 *	A socket set holds one listening socket per address a listen entry
 *	resolves to, each with the name of the listener it serves.  A
 *	reload builds the next set from the current one: an address both
 *	configurations listen on keeps its socket (the connections waiting
 *	in its backlog are taken by the new workers), a new one is bound,
 *	and the sockets of addresses the new file dropped are closed.
 */
#ifndef EHLOD_CORE_SOCKETS_H
#define EHLOD_CORE_SOCKETS_H

#include <stddef.h>
#include <sys/socket.h>

#include "config.h"

struct socket_set {
	int *fds;
	char **names;		/* fds[i]'s listener; NULL-terminated */
	struct sockaddr_storage *addrs;	/* what fds[i] is bound to */
	socklen_t *addrlens;
	int *kept;		/* set by sockets_open: fds[i] goes on */
	size_t n;
};

/* Bind (or take from was, which may be NULL) a socket for every address
 * of c's listen entries.  0 on success; -1 with the reason logged and
 * nothing of was touched, the sockets bound for it closed. */
int sockets_open(const struct config *c, struct socket_set *was,
    struct socket_set *out);

/* Log each socket of was that sockets_open did not carry over. */
void sockets_log_dropped(const struct socket_set *was);

/* Close the sockets of set that sockets_open did not carry over into a
 * newer set (all of them when none was made), and free set. */
void sockets_retire(struct socket_set *set);

#endif
