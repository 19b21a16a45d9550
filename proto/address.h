/*
 * NAME
 *	address.h - RFC 5321 path and mailbox syntax
 * DESCRIPTION
 *	Used by the server core to judge the <path> of MAIL FROM and RCPT TO,
 *	and by the client to judge addresses and its HELO name before
 *	sending them: one grammar on both sides.
 */
#ifndef EHLOD_PROTO_ADDRESS_H
#define EHLOD_PROTO_ADDRESS_H

#include <stddef.h>

enum address_flags {
	ADDRESS_ALLOW_EMPTY = 1u << 0,	/* "<>" is fine (MAIL FROM) */
	ADDRESS_ALLOW_UTF8 = 1u << 1,	/* RFC 6531 mailboxes */
	ADDRESS_ALLOW_POSTMASTER = 1u << 2 /* bare "Postmaster" (RCPT TO) */
};

/*
 * Check the text between '<' and '>' of a path.  A source route
 * ("@a,@b:user@domain") is accepted and skipped as RFC 5321 says.
 * On success returns 0 and *mailbox points into path at the mailbox
 * (empty for the null path).  Returns -1 and sets *why on a syntax error.
 */
int address_check_path(const char *path, unsigned flags,
    const char **mailbox, const char **why);

/* The domain part of a mailbox (after the last '@'), or NULL. */
const char *address_domain(const char *mailbox);

/* The argument of HELO/EHLO/LHLO as the server takes it: 1 to 255
 * octets, none of them a control, a space or DEL.  The client refuses a
 * name of its own that fails this, since such a name (a CR, an LF, a
 * space) would change the command it is sent in. */
int address_helo_valid(const char *s);

/* 1 when s (len octets) is an RFC 5322 atom: one or more atext, which
 * RFC 6531 widens to UTF-8 octets when utf8 is set.  The 8-bit check
 * itself is utf8_has_8bit() (utf8.h). */
int address_atom_valid(const char *s, size_t len, int utf8);

/* Copy mailbox's local part (before its last '@' outside quotes) to
 * local and return the domain after it; NULL without a domain or when
 * local (localsz octets) is too small. */
const char *address_split(const char *mailbox, char *local, size_t localsz);

/* Whether domain matches pattern, as local_domains and the relay's
 * domains list match: "example.org" is that domain, in any case;
 * ".example.org" is every domain below it, not example.org itself. */
int address_domain_matches(const char *domain, const char *pattern);

/* RFC 5321 Domain or address-literal ([192.0.2.1], [IPv6:...]). */
int address_domain_valid(const char *s, size_t len, int utf8);

#endif
