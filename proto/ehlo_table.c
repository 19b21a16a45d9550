/*
 * NAME
 *	ehlo_table.c - the EHLO reply as a keyword -> parameters table
 * DESCRIPTION
 *	See ehlo_table.h.  Every extension line goes through one path:
 *	cut the keyword (ending at a blank or, for old-style lines, at "="),
 *	fold it to upper case, then add each parameter word to the entry
 *	unless the entry already holds it.  That single path is what merges
 *	"AUTH=LOGIN" into "AUTH LOGIN PLAIN" and repeated keywords alike.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "esmtp.h"
#include "ehlo_table.h"
#include "xmalloc.h"

void
ehlo_table_init(struct ehlo_table *t)
{
	memset(t, 0, sizeof(*t));
}

void
ehlo_table_free(struct ehlo_table *t)
{
	free(t->domain);
	free(t->greeting);
	for (size_t i = 0; i < t->n; i++)
		free(t->e[i].params);
	memset(t, 0, sizeof(*t));
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static const char *
skip_blanks(const char *s)
{
	while (is_blank(*s))
		s++;
	return s;
}

static size_t
word_len(const char *s)
{
	size_t n = 0;

	while (s[n] != '\0' && !is_blank(s[n]))
		n++;
	return n;
}

const struct ehlo_entry *
ehlo_table_find(const struct ehlo_table *t, const char *keyword)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcasecmp(t->e[i].keyword, keyword) == 0)
			return &t->e[i];
	return NULL;
}

int
ehlo_table_has(const struct ehlo_table *t, const char *keyword)
{
	return ehlo_table_find(t, keyword) != NULL;
}

/* 1 when the space-separated list holds word (any case). */
static int
list_has(const char *list, const char *word, size_t wlen)
{
	const char *p = list;

	while (*p != '\0') {
		size_t n;

		p = skip_blanks(p);
		n = word_len(p);
		if (n == wlen && n > 0 && strncasecmp(p, word, n) == 0)
			return 1;
		p += n;
	}
	return 0;
}

int
ehlo_table_has_param(const struct ehlo_table *t, const char *keyword,
    const char *word)
{
	const struct ehlo_entry *e = ehlo_table_find(t, keyword);

	return e != NULL && list_has(e->params, word, strlen(word));
}

/* Append one word to an entry's parameters unless already there. */
static void
add_word(struct ehlo_entry *e, const char *w, size_t n)
{
	size_t have = strlen(e->params);
	char *p;

	if (list_has(e->params, w, n))
		return;
	p = xrealloc(e->params, have + n + 2);
	if (have > 0)
		p[have++] = ' ';
	memcpy(p + have, w, n);
	p[have + n] = '\0';
	e->params = p;
}

/* The entry for keyword, made when new; NULL when the table is full. */
static struct ehlo_entry *
entry_for(struct ehlo_table *t, const char *kw, size_t n)
{
	struct ehlo_entry *e;
	char upper[EHLO_KEYWORD_MAX + 1];

	for (size_t i = 0; i < n; i++)
		upper[i] = (char)toupper((unsigned char)kw[i]);
	upper[n] = '\0';
	if ((e = (struct ehlo_entry *)ehlo_table_find(t, upper)) != NULL)
		return e;
	if (t->n >= EHLO_MAX_KEYWORDS)
		return NULL;
	e = &t->e[t->n];
	e->params = xstrdup("");
	memcpy(e->keyword, upper, n + 1);
	t->n++;
	return e;
}

/* One extension line; a line we cannot read is skipped, as a tolerant
 * client must. */
static void
parse_line(struct ehlo_table *t, const char *line)
{
	const char *s = skip_blanks(line), *p;
	struct ehlo_entry *e;
	size_t n = 0;

	while (s[n] != '\0' && !is_blank(s[n]) && s[n] != '=')
		n++;
	if (n == 0 || n > EHLO_KEYWORD_MAX || !esmtp_keyword_valid(s, n))
		return;
	if ((e = entry_for(t, s, n)) == NULL)
		return;
	p = s + n;
	if (*p == '=')
		p++;
	for (p = skip_blanks(p); *p != '\0'; p = skip_blanks(p + n)) {
		n = word_len(p);
		add_word(e, p, n);
	}
}

static void
parse_first(struct ehlo_table *t, const char *line)
{
	const char *s = skip_blanks(line);
	size_t n = word_len(s);

	t->domain = xstrndup(s, n);
	t->greeting = xstrdup(skip_blanks(s + n));
}

int
ehlo_table_parse(struct ehlo_table *t, const struct smtp_reply *r)
{
	ehlo_table_free(t);
	if (REPLY_CLASS(r->code) != 2 || r->nlines == 0)
		return -1;
	parse_first(t, r->lines[0]);
	for (size_t i = 1; i < r->nlines; i++)
		parse_line(t, r->lines[i]);
	return 0;
}

long long
ehlo_table_size_limit(const struct ehlo_table *t)
{
	const struct ehlo_entry *e = ehlo_table_find(t, "SIZE");
	long long v;
	char *end;

	if (e == NULL)
		return -1;
	if (!isdigit((unsigned char)e->params[0]))
		return 0;
	errno = 0;
	v = strtoll(e->params, &end, 10);
	if (errno != 0 || (*end != '\0' && *end != ' ') || v < 0)
		return 0;
	return v;
}
