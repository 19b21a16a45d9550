/*
 * NAME
 *	slowfsync - test only: an LD_PRELOAD shim that holds directory fsyncs
 * DESCRIPTION
 *	Loaded into ehlod with LD_PRELOAD by tests/interop/test_maildir_flush.py
 *	to make the flush of a maildir's new/ folder as slow as the test
 *	wants, without a slow disk and without test hooks in the plugin.
 *	With EHLOD_TEST_FSYNC_GATE=PATH in the environment, every fsync() of
 *	a directory appends a line to PATH.log, then waits until the file
 *	PATH exists, then flushes.  With EHLOD_TEST_FSYNC_GATE_FILES=1 as
 *	well, regular files are held that way instead of directories (the
 *	maildir's default order has no flush of new/).  Every other fsync(),
 *	and every fsync() without the variable, goes straight to the C
 *	library.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int fsync(int fd);

/* A directory, or a regular file with EHLOD_TEST_FSYNC_GATE_FILES=1. */
static int
is_held(int fd)
{
	const char *files = getenv("EHLOD_TEST_FSYNC_GATE_FILES");
	struct stat st;

	if (fstat(fd, &st) < 0)
		return 0;
	if (files != NULL && strcmp(files, "1") == 0)
		return S_ISREG(st.st_mode);
	return S_ISDIR(st.st_mode);
}

/* One line per flush: the test counts them (group commit). */
static void
note(const char *gate)
{
	char path[4096];
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s.log", gate) >=
	    sizeof(path))
		return;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0)
		return;
	if (write(fd, "fsync\n", 6) < 0)
		perror("slowfsync");
	close(fd);
}

static void
hold(const char *gate)
{
	const struct timespec tick = { 0, 10 * 1000 * 1000 };

	while (access(gate, F_OK) < 0)
		nanosleep(&tick, NULL);
}

int
fsync(int fd)
{
	int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	const char *gate = getenv("EHLOD_TEST_FSYNC_GATE");

	if (gate != NULL && gate[0] != '\0' && is_held(fd)) {
		note(gate);
		hold(gate);
	}
	return real(fd);
}
