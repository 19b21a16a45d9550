/*
 * NAME
 *	address.c - RFC 5321 path and mailbox syntax
 * DESCRIPTION
 *	Implements address.h.  The checks follow RFC 5321 section 4.1.2
 *	(Path, Mailbox, Local-part, Domain, address-literal) and the size
 *	limits of section 4.5.3.1; RFC 6531 widens atext, qtext and domain
 *	labels to UTF-8 when the caller allows it.
 */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "address.h"

#define LOCAL_PART_MAX 64
#define DOMAIN_MAX 255
#define PATH_MAX_LEN 256
#define HELO_MAX 255

static int
is_alpha_digit(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9');
}

static int
is_atext(unsigned char c, int utf8)
{
	if (c >= 128)
		return utf8;
	return is_alpha_digit(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

int
address_atom_valid(const char *s, size_t len, int utf8)
{
	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!is_atext((unsigned char)s[i], utf8))
			return 0;
	return 1;
}

static int
dot_string_valid(const char *s, size_t len, int utf8)
{
	int atom_len = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (atom_len == 0)
				return 0;
			atom_len = 0;
			continue;
		}
		if (!is_atext(c, utf8))
			return 0;
		atom_len++;
	}
	return atom_len > 0;
}

static int
quoted_string_valid(const char *s, size_t len, int utf8)
{
	if (len < 2 || s[0] != '"' || s[len - 1] != '"')
		return 0;
	for (size_t i = 1; i + 1 < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\\') {
			if (i + 2 >= len)
				return 0;
			unsigned char n = (unsigned char)s[++i];
			if (n < 32 || n > 126)
				return 0;
			continue;
		}
		if (c == '"')
			return 0;
		if (c >= 128 ? !utf8 : (c < 32 || c > 126))
			return 0;
	}
	return 1;
}

static int
label_valid(const char *s, size_t len, int utf8)
{
	if (len == 0 || len > 63)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 128 && utf8)
			continue;
		if (is_alpha_digit(c))
			continue;
		if (c == '-' && i > 0 && i + 1 < len)
			continue;
		return 0;
	}
	return 1;
}

static int
address_literal_valid(const char *s, size_t len)
{
	char buf[64];
	unsigned char addr[16];

	if (len < 3 || len - 2 >= sizeof(buf) || s[len - 1] != ']')
		return 0;
	memcpy(buf, s + 1, len - 2);
	buf[len - 2] = '\0';
	if (strncasecmp(buf, "IPv6:", 5) == 0)
		return inet_pton(AF_INET6, buf + 5, addr) == 1;
	return inet_pton(AF_INET, buf, addr) == 1;
}

int
address_domain_valid(const char *s, size_t len, int utf8)
{
	if (len == 0 || len > DOMAIN_MAX)
		return 0;
	if (s[0] == '[')
		return address_literal_valid(s, len);
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '.')
			continue;
		if (!label_valid(s + start, i - start, utf8))
			return 0;
		start = i + 1;
	}
	return 1;
}

/* "@a,@b:" source routes are obsolete; RFC 5321 says accept and ignore
 * them, but only when they have the A-d-l grammar (At-domain *( ","
 * At-domain ) ":"): a route is text inside the path, and anything else
 * there (a '>', a space, a line end) would change the command. */
static const char *
skip_source_route(const char *p, const char **why)
{
	const char *colon;

	if (*p != '@')
		return p;
	if ((colon = strchr(p, ':')) == NULL) {
		*why = "malformed source route";
		return NULL;
	}
	for (const char *d = p;; d++) {
		const char *end = memchr(d, ',', (size_t)(colon - d));

		if (end == NULL)
			end = colon;
		if (end == d || *d != '@' || !address_domain_valid(d + 1,
		    (size_t)(end - d - 1), 0)) {
			*why = "malformed source route";
			return NULL;
		}
		if (end == colon)
			return colon + 1;
		d = end;
	}
}

/* The '@' that separates local part and domain: the last one outside a
 * quoted local part. */
static const char *
find_at(const char *s)
{
	const char *at = NULL;
	int quoted = 0;

	for (const char *p = s; *p; p++) {
		if (quoted && *p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (*p == '"')
			quoted = !quoted;
		else if (*p == '@' && !quoted)
			at = p;
	}
	return at;
}

int
address_check_path(const char *path, unsigned flags, const char **mailbox,
    const char **why)
{
	const char *dummy;
	int utf8 = (flags & ADDRESS_ALLOW_UTF8) != 0;

	if (why == NULL)
		why = &dummy;
	if (strlen(path) > PATH_MAX_LEN - 2) {
		*why = "path too long";
		return -1;
	}
	if (*path == '\0') {
		if (!(flags & ADDRESS_ALLOW_EMPTY)) {
			*why = "the null path is not allowed here";
			return -1;
		}
		*mailbox = path;
		return 0;
	}
	const char *mb = skip_source_route(path, why);
	if (mb == NULL)
		return -1;
	if ((flags & ADDRESS_ALLOW_POSTMASTER) &&
	    strcasecmp(mb, "postmaster") == 0) {
		*mailbox = mb;
		return 0;
	}
	const char *at = find_at(mb);
	if (at == NULL) {
		*why = "the address has no domain";
		return -1;
	}
	size_t local_len = (size_t)(at - mb);
	if (local_len == 0 || local_len > LOCAL_PART_MAX) {
		*why = "bad local part length";
		return -1;
	}
	if (!dot_string_valid(mb, local_len, utf8) &&
	    !quoted_string_valid(mb, local_len, utf8)) {
		*why = "malformed local part";
		return -1;
	}
	if (!address_domain_valid(at + 1, strlen(at + 1), utf8)) {
		*why = "malformed domain";
		return -1;
	}
	*mailbox = mb;
	return 0;
}

const char *
address_domain(const char *mailbox)
{
	const char *at = find_at(mailbox);
	return at ? at + 1 : NULL;
}

int
address_helo_valid(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > HELO_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 32 || c == 127)
			return 0;
	}
	return 1;
}

int
address_domain_matches(const char *domain, const char *pattern)
{
	size_t dlen = strlen(domain), plen = strlen(pattern);

	if (strcasecmp(domain, pattern) == 0)
		return 1;
	return pattern[0] == '.' && dlen > plen &&
	    strcasecmp(domain + dlen - plen, pattern) == 0;
}

const char *
address_split(const char *mailbox, char *local, size_t localsz)
{
	const char *at = mailbox ? find_at(mailbox) : NULL;
	size_t n;

	if (at == NULL || at[1] == '\0')
		return NULL;
	n = (size_t)(at - mailbox);
	if (n >= localsz)
		return NULL;
	memcpy(local, mailbox, n);
	local[n] = '\0';
	return at + 1;
}
