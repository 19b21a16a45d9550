/*
 * NAME
 *	content.h - message content: DATA and BDAT, header/body hooks
 * DESCRIPTION
 *	The content state machine (enum content_state in smtpd.h).
 */
#ifndef EHLOD_CORE_CONTENT_H
#define EHLOD_CORE_CONTENT_H

#include "smtpd.h"

/* DATA's 354 is sent: content follows. */
void content_data_begin(struct ehlod_session *s);
/* BDAT: the next size octets are a chunk (host->read_chunk). */
int content_chunk_begin(struct ehlod_session *s, size_t size, int last);
/* The last octet of content is in; and whether it is. */
void content_arrived(struct transaction *t);
int content_is_complete(const struct transaction *t);
int content_read(struct ehlod_session *s);
void content_pump(struct ehlod_session *s);
int content_read_chunk(struct ehlod_session *s);
void content_bdat_data(struct ehlod_session *s);
/* The session waits for the spool writer: for at most data_timeout
 * without a write finishing, then 421 (a disk that stopped). */
void content_spool_wait(struct ehlod_session *s);
void content_spool_wait_free(struct ehlod_session *s);

#endif
