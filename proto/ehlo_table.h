/*
 * NAME
 *	ehlo_table.h - the EHLO reply as a keyword -> parameters table
 * SUMMARY
 *	#include "ehlo_table.h"
 * DESCRIPTION
 *	RFC 1869 section 4.3: the first line of a 250 reply to EHLO holds the
 *	server's domain (and a greeting), every later line one ehlo-keyword
 *	and its parameters.  Keywords are case-insensitive; the table keeps
 *	them upper-cased so lookups are simple.
 *
 *	Real servers bend the grammar, so the parser is tolerant:
 *	  - lower-case keywords ("size 1000") are folded;
 *	  - old-style "AUTH=LOGIN PLAIN" lines (sent for clients of the
 *	    AUTH draft) are read as "AUTH LOGIN PLAIN" and merged with a
 *	    regular AUTH line, the mechanisms once each;
 *	  - runs of spaces or tabs between parameters are collapsed;
 *	  - a keyword seen twice gets the union of its parameters;
 *	  - a single-line "250 domain" gives an empty table;
 *	  - a line whose keyword is not valid ehlo-keyword syntax is skipped
 *	    rather than failing the whole reply.
 *	The table is bounded: at most EHLO_MAX_KEYWORDS entries, each keyword
 *	at most EHLO_KEYWORD_MAX octets.
 */
#ifndef EHLOD_PROTO_EHLO_TABLE_H
#define EHLOD_PROTO_EHLO_TABLE_H

#include <stddef.h>

#include "reply_parser.h"

#define EHLO_MAX_KEYWORDS 64
#define EHLO_KEYWORD_MAX 64

struct ehlo_entry {
	char keyword[EHLO_KEYWORD_MAX + 1];	/* upper case */
	char *params;		/* single spaces between words; "" if none */
};

struct ehlo_table {
	char *domain;		/* first word of the first line */
	char *greeting;		/* the rest of the first line, or "" */
	size_t n;
	struct ehlo_entry e[EHLO_MAX_KEYWORDS];
};

void ehlo_table_init(struct ehlo_table *t);
void ehlo_table_free(struct ehlo_table *t);

/* Fill the table from a 250 reply.  Returns 0, or -1 when the reply is
 * not a 2xx.  The table is cleared first. */
int ehlo_table_parse(struct ehlo_table *t, const struct smtp_reply *r);

/* The entry for keyword (any case), or NULL when not offered. */
const struct ehlo_entry *ehlo_table_find(const struct ehlo_table *t,
    const char *keyword);

/* 1 when keyword is offered. */
int ehlo_table_has(const struct ehlo_table *t, const char *keyword);

/* 1 when keyword is offered with word among its parameters (any case),
 * e.g. ("AUTH", "PLAIN"). */
int ehlo_table_has_param(const struct ehlo_table *t, const char *keyword,
    const char *word);

/* SIZE (RFC 1870): -1 when SIZE is not offered, 0 when offered with no
 * limit (or a limit we cannot read), else the limit in octets. */
long long ehlo_table_size_limit(const struct ehlo_table *t);

#endif
