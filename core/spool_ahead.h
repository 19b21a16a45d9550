/*
 * NAME
 *	spool_ahead.h - reading a spool file back without waiting in the loop
 * DESCRIPTION
 *	A relay sends a large message on from its spool file, piece by piece
 *	as the next hop takes it.  A pread(2) there could wait for the disk
 *	(pages of a just-written file can be evicted), and the event loop
 *	would wait with it.  So the spool writer's thread reads ahead, a
 *	window at a time, and the loop only copies from what has arrived:
 *	a caller that asks for octets not there yet hears SPOOL_AHEAD_AGAIN
 *	and is called back once asking again may find them.  Two windows
 *	are kept, the one being read and the next, so the next hop rarely
 *	waits.
 */
#ifndef EHLOD_CORE_SPOOL_AHEAD_H
#define EHLOD_CORE_SPOOL_AHEAD_H

#include <stddef.h>
#include <ehlod/plugin.h>

struct spool_file;

/* host->message_pread_nowait() passes it on as it is. */
#define SPOOL_AHEAD_AGAIN EHLOD_READ_AGAIN
#define SPOOL_AHEAD_WINDOW (128 * 1024)

struct spool_ahead_window {
	char *buf;		/* NULL: empty */
	size_t off, len;	/* file octets off to off + len */
};

struct spool_ahead {
	struct spool_ahead_window win[2];
	char *spare;		/* a window's buffer, for the next read: a
				 * message's reads reuse three buffers */
	size_t pos;		/* the octet after the last one given out */
	int reading;		/* a read is with the thread: */
	size_t reading_off, reading_len;	/* ... of these octets */
	int error;		/* a read failed, or the file was short */
	void (*ready)(void *);	/* who heard SPOOL_AHEAD_AGAIN */
	void *ready_arg;
};

/* Up to len octets of f (size octets long) from off on into buf: how
 * many (0 at the end), or SPOOL_AHEAD_AGAIN when they are not read yet
 * (ready(arg) then runs from the loop, never from inside this call, once
 * asking again may find them), or -1 on an error.  f must have no write
 * in flight. */
long spool_ahead_pread(struct spool_ahead *a, struct spool_file *f,
    size_t size, void *buf, size_t len, size_t off, void (*ready)(void *),
    void *arg);
/* Let go of the windows.  The caller releases f at the same time, so a
 * read still out never reaches a again (spool_writer.h). */
void spool_ahead_free(struct spool_ahead *a);

#endif
