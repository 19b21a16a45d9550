/*
 * NAME
 *	status.c - the status socket: counters for operators
 * DESCRIPTION
 *	The master binds status_socket (a unix socket, mode 0600: root
 *	reads it) before it forks; the workers accept on it like on the SMTP
 *	sockets, and each connection gets the counters in Prometheus text
 *	format (stats.c), then the end of the connection.  "ehlod -s" is the
 *	reader.  Nothing is read from the connection, so it cannot be made to
 *	wait or to hold more than one rendering.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "log.h"
#include "stats.h"
#include "status.h"

static int
unix_address(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path))
		return -1;
	memcpy(sun->sun_path, path, strlen(path));
	return 0;
}

int
status_listen(const char *path)
{
	struct sockaddr_un sun;
	mode_t old;
	int fd;

	if (path == NULL || path[0] == '\0')
		return -1;
	if (unix_address(path, &sun) < 0) {
		log_msg(LOG_ERR, "status_socket %s: path too long", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	unlink(path);
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    listen(fd, 16) < 0) {
		log_msg(LOG_ERR, "status_socket %s: %s", path, strerror(errno));
		umask(old);
		close(fd);
		return -1;
	}
	umask(old);
	return fd;
}

static void
written(struct bufferevent *bev, void *arg)
{
	(void)arg;
	bufferevent_free(bev);
}

static void
failed(struct bufferevent *bev, short what, void *arg)
{
	(void)what;
	(void)arg;
	bufferevent_free(bev);
}

static void
serve_one(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct event_base *base = evconnlistener_get_base(l);
	struct bufferevent *bev;
	char *text = NULL;
	size_t len = 0;
	FILE *out;
	(void)sa;
	(void)salen;
	(void)arg;

	bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	out = open_memstream(&text, &len);
	if (bev == NULL || out == NULL) {
		if (out)
			fclose(out);
		if (bev)
			bufferevent_free(bev);
		else
			close(fd);
		return;
	}
	stats_write(out);
	fclose(out);
	bufferevent_write(bev, text, len);
	free(text);
	bufferevent_setcb(bev, NULL, written, failed, NULL);
	bufferevent_enable(bev, EV_WRITE);
}

struct evconnlistener *
status_serve(struct event_base *base, int fd)
{
	evutil_make_socket_nonblocking(fd);
	return evconnlistener_new(base, serve_one, NULL, LEV_OPT_CLOSE_ON_FREE,
	    -1, fd);
}

int
status_print(const char *path, FILE *out)
{
	struct sockaddr_un sun;
	char buf[4096];
	ssize_t n;
	int fd;

	if (path == NULL || path[0] == '\0') {
		fprintf(stderr, "ehlod: no status_socket in the configuration\n");
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || unix_address(path, &sun) < 0 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr, "ehlod: status_socket %s: %s\n", path,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, out);
	close(fd);
	return n < 0 ? -1 : 0;
}
