/*
 * NAME
 *	spool_writer.h - the spool file's writes, off the event loop
 * DESCRIPTION
 *	A message's body past spool_threshold goes to an unlinked file.
 *	Creating that file, writing to it and closing it can all wait for
 *	the disk (inode allocation, dirty-page throttling, freeing the
 *	blocks), so one thread per worker process does them, in the order
 *	they were asked.  The event loop hands over copies of the octets
 *	and learns of each finished write through an eventfd it watches;
 *	the file's owner is then woken, to read more input or to finish its
 *	message once nothing is in flight.
 *
 *	The same thread reads the file back for a caller that must not wait
 *	for the disk in the loop either (a relay sending the message on).
 *
 *	A spool file is the owner's until spool_file_release(); each write
 *	or read in flight holds it too, so an owner that goes away (a client that
 *	disconnects in the middle of DATA) does not pull the descriptor
 *	from under the thread.  Everything here but the thread runs in the
 *	event loop.
 */
#ifndef EHLOD_CORE_SPOOL_WRITER_H
#define EHLOD_CORE_SPOOL_WRITER_H

#include <stddef.h>
#include <sys/types.h>

struct event_base;
struct spool_file;

/* Once per worker process, before the first spool_file_new(); the
 * thread starts with the first write.  0, or -1 (errno set). */
int spool_writer_init(struct event_base *base);
/* Before the event base is freed. */
void spool_writer_shutdown(void);

/* A file to be created in dir (kept, not copied) by the thread when the
 * first write comes.  wake(arg) runs in the loop after each finished
 * write while the owner holds the file. */
struct spool_file *spool_file_new(const char *dir, void (*wake)(void *),
    void *arg);
/* The owner is done with it: no more wake-ups; the thread closes the
 * descriptor once no write is in flight. */
void spool_file_release(struct spool_file *f);

/* Hand len octets at data (malloc'd; the writer frees them) to the
 * thread, to be written at offset off.  0, or -1 when the writer is not
 * running or its thread cannot start (data freed, errno set). */
int spool_file_write(struct spool_file *f, char *data, size_t len,
    off_t off);

/* Have the thread read up to len octets at off (fewer only at the end
 * of the file) into buf (malloc'd, at least len octets), which is the
 * writer's until done(arg, buf, n) runs in the loop with it: n octets
 * read (0 at the end), or -1 on an error.  done does not run once the
 * owner has released the file; the writer frees buf then.  Only once
 * every write has finished.  0, or -1 when the writer is not running
 * (errno set; buf is still the caller's). */
int spool_file_read(struct spool_file *f, char *buf, size_t len, off_t off,
    void (*done)(void *arg, char *data, long n), void *arg);

/* Octets handed over and not yet written. */
size_t spool_file_in_flight(const struct spool_file *f);
/* The first failure of the file's creation or of a write (an errno
 * value), or 0. */
int spool_file_error(const struct spool_file *f);
/* The descriptor, once every write has finished without error; else
 * -1.  It stays the file's: the caller must not close it. */
int spool_file_fd(const struct spool_file *f);

#endif
