/*
 * NAME
 *	message.h - the message content of one transaction
 * DESCRIPTION
 *	Content arrives (unstuffed) through message_append(), bounded by the
 *	configured size limit: past it nothing more is stored but the octets
 *	are still counted, so the client can be told 552 once it finishes.
 *	Header fields are split off as they become complete, for the header
 *	hooks; plugins' header changes are kept in the header list and
 *	applied when the message is written out for delivery.
 */
#ifndef EHLOD_CORE_MESSAGE_H
#define EHLOD_CORE_MESSAGE_H

#include <stddef.h>
#include <ehlod/plugin.h>

#include "spool_ahead.h"

struct header {
	char *name;
	char *value;		/* raw text after the colon, folding kept */
};

struct message {
	char *buf;
	size_t len;
	size_t cap;
	size_t limit;
	size_t total;		/* octets received, stored or not */
	int overflow;
	int dropped;		/* refused already: count, keep nothing */
	size_t cursor;		/* how far header parsing has come */
	size_t scanned;		/* no line end unseen before this offset */
	size_t field_end;	/* the field at cursor: end of its last line
				 * found so far, 0 before its first */
	size_t field_colon;	/* ... and the offset of its colon */
	int body_started;
	size_t body_offset;
	struct header *hdrs;
	size_t nhdrs;
	size_t hcap;
	char *received;		/* "Received: ..." without CRLF */
	/* Body octets the hooks have seen go, past spool_threshold, to an
	 * unlinked file: buf then holds the header text and the body not
	 * yet seen, and the file the body before it. */
	size_t spool_threshold;	/* 0: never */
	const char *spool_dir;
	void (*spool_wake)(void *);	/* a write of the file finished */
	void *spool_wake_arg;
	struct spool_file *spool;	/* NULL until the first octet goes */
	int spool_failed;	/* a write failed: the message is dropped */
	size_t spooled;		/* body octets handed to the file */
	struct spool_ahead ahead;	/* message_pread_nowait's */
};

void message_init(struct message *m, size_t limit);
void message_free(struct message *m);
void message_spool_setup(struct message *m, size_t threshold,
    const char *dir);
/* wake(arg) runs in the event loop whenever a write of the spool file
 * has finished (spool_writer.h): the owner then calls
 * message_spool_settle() and goes on.  Before the first octet. */
void message_spool_notify(struct message *m, void (*wake)(void *),
    void *arg);

/* Move the body the hooks have seen (before the cursor) to the spool file
 * once the buffer holds more than the threshold: a copy goes to the
 * writer thread, never synced (the file dies with the transaction).
 * Nothing moves while as much as the threshold is still in flight, so
 * memory stays bounded when the owner also stops reading
 * (message_spool_held).  -1 when the hand-over failed (the message is
 * then dropped and spool_failed set). */
int message_spool(struct message *m);
/* The writer is behind: take no more input until it wakes the owner. */
int message_spool_held(const struct message *m);
/* Writes are in flight: the content may not be read or delivered yet. */
int message_spool_busy(const struct message *m);
/* Take in the writer's results: a failed write drops the message and
 * sets spool_failed. */
void message_spool_settle(struct message *m);

void message_append(struct message *m, const char *p, size_t n);

/* The message is refused or discarded whatever follows: free the content
 * and from now on only count it, so a plugin's limit below the size limit
 * also bounds the memory (the headers already split off stay). */
void message_drop(struct message *m);

/* Split off the next complete header field.  Returns 1 with *index set,
 * 0 when more content is needed, -1 once the headers have ended. */
int message_next_header(struct message *m, int complete, size_t *index);

/* The value as hooks see it: leading blanks skipped. */
const char *message_header_value(const struct message *m, size_t index);

int message_add_header(struct message *m, const char *name,
    const char *value);
int message_insert_header(struct message *m, size_t index, const char *name,
    const char *value);
int message_change_header(struct message *m, const char *name, size_t nth,
    const char *value);

/* Received header, headers, blank line, body; CRLF line ends. */
int message_write(const struct message *m, ehlod_sink sink, void *arg);
size_t message_output_size(const struct message *m);
/* Up to len octets of what message_write gives, from offset on, into buf:
 * the number copied, 0 at the end, -1 when the spool cannot be read.
 * The head is made again on each call (it is small); the body is read
 * where it is, so no call holds more than len octets. */
long message_pread(const struct message *m, void *buf, size_t len,
    size_t offset);
/* message_pread without waiting for the disk: the head and what is in
 * memory as message_pread gives them, the spool file's octets from what
 * the writer's thread has read ahead (spool_ahead.h), or
 * SPOOL_AHEAD_AGAIN with ready(arg) called from the loop once asking
 * again may find them.  Not called back once the message is freed or
 * dropped. */
long message_pread_nowait(struct message *m, void *buf, size_t len,
    size_t offset, void (*ready)(void *), void *arg);
/* The spool file, whose octets 0 to *len are message_write's octets
 * *offset on; -1 when nothing is spooled, or while writes are in
 * flight. */
int message_spool_fd(const struct message *m, size_t *offset, size_t *len);

#endif
