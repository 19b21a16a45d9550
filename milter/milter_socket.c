/*
 * NAME
 *	milter_socket.c - a new listening socket for a reload that moves
 *	milter_socket
 * DESCRIPTION
 *	libmilter opens its socket once per process and keeps it in a static
 *	(smfi_opensocket does nothing while one is open), and its accept loop
 *	drops a connection whose address family is not the first socket's.
 *	So the master opens the new socket itself, in libmilter's notation
 *	("inet:PORT@HOST", "inet6:PORT@HOST", "unix:PATH", "local:PATH" or a
 *	bare path), and the reload puts it on libmilter's descriptor number
 *	before the next generation forks; the family must stay the same.
 *	A unix socket's stale file is replaced, as smfi_opensocket(1) does;
 *	any other file in its place is an error.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "log.h"
#include "milter.h"
#include "xmalloc.h"

const char *
milter_socket_unix_path(const char *spec)
{
	if (strncmp(spec, "unix:", 5) == 0)
		return spec + 5;
	if (strncmp(spec, "local:", 6) == 0)
		return spec + 6;
	if (strchr(spec, ':') == NULL)
		return spec;
	return NULL;
}

static int
open_unix(const char *spec, const char *path, struct stat *file)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_msg(LOG_ERR, "milter_socket %s: path too long", spec);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		log_msg(LOG_ERR, "milter_socket %s: %s exists and is not a "
		    "socket", spec, path);
		return -1;
	}
	(void)unlink(path);	/* a stale socket, as libmilter replaces it */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 &&
	    listen(fd, SOMAXCONN) == 0 && stat(path, file) == 0)
		return fd;
	log_msg(LOG_ERR, "cannot listen on %s: %s", spec, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

/* The port and host of "PORT@HOST" (what follows "inet:" or "inet6:"),
 * each newly allocated; no '@' or nothing after it means no host (every
 * address), and brackets around the host ("[::1]") are dropped. */
void
milter_socket_inet_split(const char *rest, char **port, char **host)
{
	const char *at = strchr(rest, '@');
	size_t n;

	*port = at ? xstrndup(rest, (size_t)(at - rest)) : xstrdup(rest);
	*host = at && at[1] ? xstrdup(at + 1) : NULL;
	if (*host == NULL)
		return;
	n = strlen(*host);
	if (n >= 2 && (*host)[0] == '[' && (*host)[n - 1] == ']') {
		memmove(*host, *host + 1, n - 2);
		(*host)[n - 2] = '\0';
	}
}

/* "inet:PORT@HOST" or "inet6:PORT@HOST" (rest is after the colon).  NULL
 * when it does not resolve (logged unless quiet). */
static struct addrinfo *
resolve_inet(const char *spec, int family, const char *rest, int quiet)
{
	struct addrinfo hints = { 0 }, *res;
	char *port, *host;
	int rc;

	milter_socket_inet_split(rest, &port, &host);
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	rc = getaddrinfo(host, port, &hints, &res);
	free(port);
	free(host);
	if (rc == 0)
		return res;
	if (!quiet)
		log_msg(LOG_ERR, "milter_socket %s: %s", spec,
		    gai_strerror(rc));
	return NULL;
}

static int
open_inet(const char *spec, int family, const char *rest)
{
	struct addrinfo *res = resolve_inet(spec, family, rest, 0);
	int fd, one = 1;

	if (res == NULL)
		return -1;
	fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd >= 0 && bind(fd, res->ai_addr, res->ai_addrlen) == 0 &&
	    listen(fd, SOMAXCONN) == 0) {
		freeaddrinfo(res);
		return fd;
	}
	log_msg(LOG_ERR, "cannot listen on %s: %s", spec, strerror(errno));
	if (fd >= 0)
		close(fd);
	freeaddrinfo(res);
	return -1;
}

static const char *
inet_rest(const char *spec, int family)
{
	return spec + (family == AF_INET ? 5 : 6);
}

int
milter_socket_family(const char *spec)
{
	if (milter_socket_unix_path(spec) != NULL)
		return AF_UNIX;
	if (strncmp(spec, "inet:", 5) == 0)
		return AF_INET;
	if (strncmp(spec, "inet6:", 6) == 0)
		return AF_INET6;
	return -1;
}

int
milter_socket_open(const char *spec, struct stat *file)
{
	const char *path = milter_socket_unix_path(spec);

	memset(file, 0, sizeof(*file));
	switch (milter_socket_family(spec)) {
	case AF_UNIX:
		return open_unix(spec, path, file);
	case AF_INET:
	case AF_INET6:
		return open_inet(spec, milter_socket_family(spec),
		    inet_rest(spec, milter_socket_family(spec)));
	}
	log_msg(LOG_ERR, "milter_socket %s: not inet:PORT@HOST, "
	    "inet6:PORT@HOST or unix:PATH", spec);
	return -1;
}

/* An address written another way (a host name for its address) is the
 * socket fd already listens on: nothing to move. */
int
milter_socket_same(const char *spec, int fd)
{
	struct sockaddr_storage bound;
	socklen_t len = sizeof(bound);
	int family = milter_socket_family(spec), same = 0;
	struct addrinfo *res;

	if (getsockname(fd, (struct sockaddr *)&bound, &len) < 0 ||
	    family != bound.ss_family)
		return 0;
	if (family == AF_UNIX)
		return strcmp(((struct sockaddr_un *)&bound)->sun_path,
		    milter_socket_unix_path(spec)) == 0;
	res = resolve_inet(spec, family, inet_rest(spec, family), 1);
	if (res == NULL)
		return 0;
	same = res->ai_addrlen == len &&
	    memcmp(res->ai_addr, &bound, len) == 0;
	freeaddrinfo(res);
	return same;
}

int
milter_socket_file(const char *spec, struct stat *file)
{
	const char *path = milter_socket_unix_path(spec);

	memset(file, 0, sizeof(*file));
	return path != NULL ? stat(path, file) : 0;
}

/* Remove a unix socket's file when it is still the one file names (not
 * one another process has put there since). */
void
milter_socket_unlink(const char *spec, const struct stat *file)
{
	const char *path = milter_socket_unix_path(spec);
	struct stat now;

	if (path == NULL || file->st_ino == 0 || stat(path, &now) < 0)
		return;
	if (S_ISSOCK(now.st_mode) && now.st_dev == file->st_dev &&
	    now.st_ino == file->st_ino)
		(void)unlink(path);
}
