/*
 * NAME
 *	flush-floor - maildir's durable steps alone, in a loop, no SMTP
 * DESCRIPTION
 *	bench/flushfloor compiles and runs it to show what the disk path
 *	of "ehlod maildir" can do on this machine with nothing else in the
 *	way: each of THREADS threads creates a file in DIR/tmp, writes
 *	SIZE octets, waits until they are on the disk (sync_file_range),
 *	renames the file into DIR/new and fsyncs it, which is the maildir
 *	plugin's default order (plugins/maildir_flush.c), and starts over.
 *	Files stay in new/, as delivered mail does; the caller removes DIR.
 *	After one second of warm-up it counts the files made durable for
 *	SECONDS seconds and prints "N files/s".
 * SYNOPSIS
 *	flush-floor DIR THREADS SECONDS SIZE
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define THREADS_MAX 256

static const char *dir;
static size_t size;
static atomic_long made;
static atomic_int stop;

static int
write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One file through the maildir plugin's steps; 0 or -1. */
static int
deliver_one(long thread, long seq, const char *data)
{
	char tmp[4096], dst[4096];
	int fd, rc = 0;

	snprintf(tmp, sizeof(tmp), "%s/tmp/%ld.%ld", dir, thread, seq);
	snprintf(dst, sizeof(dst), "%s/new/%ld.%ld", dir, thread, seq);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return -1;
	if (write_all(fd, data, size) < 0 ||
	    sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WAIT_BEFORE |
	    SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER) < 0 ||
	    rename(tmp, dst) < 0 || fsync(fd) < 0)
		rc = -1;
	close(fd);
	return rc;
}

static void *
run(void *arg)
{
	long thread = (long)arg;
	char *data = malloc(size);

	if (data == NULL)
		return NULL;
	memset(data, 'x', size);
	for (long seq = 0; !atomic_load(&stop); seq++) {
		if (deliver_one(thread, seq, data) < 0) {
			perror("flush-floor");
			exit(1);
		}
		atomic_fetch_add(&made, 1);
	}
	free(data);
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t threads[THREADS_MAX];
	long n, before, after;
	int seconds;

	if (argc != 5) {
		fprintf(stderr, "usage: flush-floor DIR THREADS SECONDS SIZE\n");
		return 2;
	}
	dir = argv[1];
	n = atol(argv[2]);
	seconds = atoi(argv[3]);
	size = (size_t)atol(argv[4]);
	if (n < 1 || n > THREADS_MAX || seconds < 1 || size < 1) {
		fprintf(stderr, "flush-floor: 1-%d threads, seconds and size "
		    "above 0\n", THREADS_MAX);
		return 2;
	}
	for (long i = 0; i < n; i++)
		pthread_create(&threads[i], NULL, run, (void *)i);
	sleep(1);
	before = atomic_load(&made);
	sleep((unsigned)seconds);
	after = atomic_load(&made);
	atomic_store(&stop, 1);
	for (long i = 0; i < n; i++)
		pthread_join(threads[i], NULL);
	printf("%.0f files/s\n", (double)(after - before) / seconds);
	return 0;
}
