/*
 * NAME
 *	spool_ahead.c - reading a spool file back without waiting in the loop
 * DESCRIPTION
 *	Implements spool_ahead.h.  At most one read is with the spool
 *	writer's thread at a time.  When it comes back, its window replaces
 *	the one the caller is not in (the caller is at pos); then the
 *	caller, if it was told to wait, is called back.  Each time octets
 *	are given out, the window after the caller's is asked for if it is
 *	not there or on its way, so a reader that keeps up with the disk
 *	finds the next octets read.  The buffer a window gives up is the
 *	next read's, so a message allocates three at most, once: a fresh
 *	128 KiB buffer per read is an mmap, page faults and an munmap.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "spool_ahead.h"
#include "spool_writer.h"
#include "xmalloc.h"

static struct spool_ahead_window *
window_with(struct spool_ahead *a, size_t off)
{
	for (int i = 0; i < 2; i++) {
		struct spool_ahead_window *w = &a->win[i];

		if (w->buf != NULL && off >= w->off && off < w->off + w->len)
			return w;
	}
	return NULL;
}

/* The buffer w had is kept for the next read. */
static void
window_set(struct spool_ahead *a, struct spool_ahead_window *w, char *buf,
    size_t off, size_t len)
{
	if (a->spare == NULL)
		a->spare = w->buf;
	else
		free(w->buf);
	w->buf = buf;
	w->off = off;
	w->len = len;
}

/* The thread's read is back (a is still its owner's: see spool_ahead.h).
 * A short read before the end of the file means the file is not what
 * was written, and is an error, or the reader would ask for ever. */
static void
read_back(void *arg, char *data, long n)
{
	struct spool_ahead *a = arg;
	void (*ready)(void *) = a->ready;

	a->reading = 0;
	if (n < 0 || (size_t)n < a->reading_len) {
		if (a->spare == NULL)
			a->spare = data;
		else
			free(data);
		a->error = 1;
	} else {
		struct spool_ahead_window *keep = window_with(a, a->pos);
		struct spool_ahead_window *w = keep == &a->win[0] ?
		    &a->win[1] : &a->win[0];

		window_set(a, w, data, a->reading_off, (size_t)n);
	}
	a->ready = NULL;
	if (ready)
		ready(a->ready_arg);
}

static int
start_read(struct spool_ahead *a, struct spool_file *f, size_t size,
    size_t off)
{
	size_t want = size - off;
	char *buf = a->spare;

	if (want > SPOOL_AHEAD_WINDOW)
		want = SPOOL_AHEAD_WINDOW;
	if (buf == NULL)
		buf = xmalloc(SPOOL_AHEAD_WINDOW);	/* fixed size: HACKING */
	if (spool_file_read(f, buf, want, (off_t)off, read_back, a) < 0) {
		a->spare = buf;
		return -1;
	}
	a->spare = NULL;
	a->reading = 1;
	a->reading_off = off;
	a->reading_len = want;
	return 0;
}

/* The window after the caller's, if it is neither there nor coming. */
static void
read_next(struct spool_ahead *a, struct spool_file *f, size_t size)
{
	struct spool_ahead_window *w = window_with(a, a->pos);
	size_t next = w ? w->off + w->len : a->pos;

	if (a->reading || next >= size || window_with(a, next) != NULL)
		return;
	(void)start_read(a, f, size, next);	/* tried again on a miss */
}

long
spool_ahead_pread(struct spool_ahead *a, struct spool_file *f, size_t size,
    void *buf, size_t len, size_t off, void (*ready)(void *), void *arg)
{
	struct spool_ahead_window *w;

	if (a->error)
		return -1;
	if (off >= size || len == 0)
		return 0;
	if ((w = window_with(a, off)) != NULL) {
		size_t n = w->off + w->len - off;

		if (n > len)
			n = len;
		memcpy(buf, w->buf + (off - w->off), n);
		a->pos = off + n;
		read_next(a, f, size);
		return (long)n;
	}
	/* A read already out (the next window) comes back first; the
	 * caller then asks again and this starts the one it needs. */
	if (!a->reading && start_read(a, f, size, off) < 0)
		return -1;
	a->pos = off;
	a->ready = ready;
	a->ready_arg = arg;
	return SPOOL_AHEAD_AGAIN;
}

void
spool_ahead_free(struct spool_ahead *a)
{
	free(a->win[0].buf);
	free(a->win[1].buf);
	free(a->spare);
	memset(a, 0, sizeof(*a));
}
