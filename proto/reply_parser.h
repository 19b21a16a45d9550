/*
 * NAME
 *	reply_parser.h - incremental parser of SMTP replies
 * SUMMARY
 *	#include "reply_parser.h"
 * DESCRIPTION
 *	A reply is one or more lines "ddd-text" ending with one "ddd text"
 *	(RFC 5321 section 4.2).  The client feeds the parser one line at a
 *	time, as the bounded line reader hands them out, and gets REPLY_DONE
 *	once the final line has arrived.  The parser checks that every line
 *	carries the same code and keeps the text of each line; the number of
 *	lines and the length of each are bounded so that a hostile server
 *	cannot make the client grow without limit.
 *
 *	reply_enhanced() pulls an RFC 3463 enhanced status code ("2.1.0")
 *	out of the first line.  The client only calls it when the server
 *	offered ENHANCEDSTATUSCODES (RFC 2034), because otherwise text that
 *	merely looks like a code must not be read as one.
 */
#ifndef EHLOD_PROTO_REPLY_PARSER_H
#define EHLOD_PROTO_REPLY_PARSER_H

#include <stddef.h>

/* RFC 5321 4.5.3.1.5 says 512 octets; real servers send longer lines, so
 * we accept up to 2048, CRLF included. */
#define REPLY_LINE_MAX 2048
/* An EHLO reply of a well-equipped server has some 20 lines. */
#define REPLY_MAX_LINES 100
/* "5.7.1" .. "5.123.456" and a NUL */
#define REPLY_ENHANCED_MAX 12

struct smtp_reply {
	int code;		/* 200..599; 0 when nothing parsed yet */
	size_t nlines;
	char **lines;		/* the text after "ddd-" / "ddd ", NUL-ended */
};

enum reply_status {
	REPLY_MORE = 0,		/* a "ddd-" line: more lines follow */
	REPLY_DONE,		/* the final line arrived: take the reply */
	REPLY_ERROR		/* malformed; the parser is reset */
};

struct reply_parser {
	size_t max_lines;	/* lines accepted in one reply */
	size_t max_len;		/* longest line accepted, without CRLF */
	struct smtp_reply cur;	/* the reply being assembled */
};

void reply_parser_init(struct reply_parser *p, size_t max_lines,
    size_t max_len);
void reply_parser_free(struct reply_parser *p);

/*
 * Feed one line, without its CRLF.  On REPLY_ERROR *why holds a static
 * explanation and the partial reply is thrown away.
 */
enum reply_status reply_parser_feed(struct reply_parser *p, const char *line,
    size_t len, const char **why);

/* After REPLY_DONE: move the reply into *out (which the caller frees with
 * reply_free) and make the parser ready for the next reply. */
void reply_parser_take(struct reply_parser *p, struct smtp_reply *out);

void reply_free(struct smtp_reply *r);

/*
 * The enhanced status code at the start of the first line, when it is
 * well-formed (class.subject.detail, class matching the code's first
 * digit).  Copies it to out and returns the number of octets of text it
 * took (code and the space after it), or 0 when there is none.
 */
size_t reply_enhanced(const struct smtp_reply *r, char *out, size_t outlen);

/* The whole text, lines joined with "\n", into out (truncated to fit). */
void reply_text(const struct smtp_reply *r, char *out, size_t outlen);

/* 2, 3, 4 or 5: the class of the code. */
#define REPLY_CLASS(code) ((code) / 100)

#endif
