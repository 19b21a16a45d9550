/*
 * NAME
 *	config_scan.c - lines of the configuration that libconfuse forgets
 * DESCRIPTION
 *	Implements config_scan.h.  The text is cut into tokens as
 *	libconfuse's scanner cuts it (bare words, quoted strings,
 *	environment references, punctuation; comments are blanked already),
 *	and only the top level and the sections in it are looked at:
 *	"KIND TITLE {" opens a section, "OPTION = { }" is an empty list.  Nothing here decides whether the
 *	file is valid: libconfuse does, and a token this scan reads another
 *	way only costs an error its exact line.
 */
#include <stdlib.h>
#include <string.h>

#include "config_scan.h"
#include "xmalloc.h"

enum token_kind { TOK_END, TOK_WORD, TOK_STRING, TOK_ENV, TOK_PUNCT };

struct token {
	enum token_kind kind;
	const char *text;	/* a string's without its quotes */
	size_t len;
	int line;		/* where it starts */
};

struct scanner {
	const char *p;
	int line;
};

/* Past a quoted string whose opening quote is at s->p; the token is its
 * inside.  libconfuse reads "${...}" in a double-quoted string up to the
 * next '}', a quote in it included. */
static void
read_string(struct scanner *s, struct token *t)
{
	char quote = *s->p++;
	const char *end;

	t->kind = TOK_STRING;
	t->text = s->p;
	for (; *s->p != '\0' && *s->p != quote; s->p++) {
		if (*s->p == '\n')
			s->line++;
		if (*s->p == '\\' && s->p[1] != '\0') {
			s->p++;
			if (*s->p == '\n')
				s->line++;
		} else if (quote == '"' && (end = config_env_reference(s->p,
		    &s->line)) != NULL)
			s->p = end;
	}
	t->len = (size_t)(s->p - t->text);
	if (*s->p != '\0')
		s->p++;
}

const char *
config_env_reference(const char *p, int *line)
{
	const char *end;

	if (p[0] != '$' || p[1] != '{' || (end = strchr(p, '}')) == NULL)
		return NULL;
	for (; p < end; p++)
		if (*p == '\n')
			(*line)++;
	return end;
}

static void
next_token(struct scanner *s, struct token *t)
{
	const char *end;

	for (; *s->p == ' ' || *s->p == '\t' || *s->p == '\r' ||
	    *s->p == '\n'; s->p++)
		if (*s->p == '\n')
			s->line++;
	t->line = s->line;
	t->text = s->p;
	if (*s->p == '\0') {
		t->kind = TOK_END;
		return;
	}
	if (*s->p == '"' || *s->p == '\'') {
		read_string(s, t);
		return;
	}
	if ((end = config_env_reference(s->p, &s->line)) != NULL) {
		t->kind = TOK_ENV;
		s->p = end + 1;
		t->len = (size_t)(s->p - t->text);
		return;
	}
	if (strchr(CONFIG_WORD_ENDS, *s->p) != NULL) {
		t->kind = TOK_PUNCT;
		t->len = 1;
		s->p++;
		return;
	}
	t->kind = TOK_WORD;
	t->len = strcspn(s->p, CONFIG_WORD_ENDS);
	s->p += t->len;
}

static int
is_word(const struct token *t, const char *word)
{
	return t->kind == TOK_WORD && t->len == strlen(word) &&
	    memcmp(t->text, word, t->len) == 0;
}

static int
is_punct(const struct token *t, char c)
{
	return t->kind == TOK_PUNCT && t->text[0] == c;
}

static void
note_start(struct config_scan *s, const struct token *kind,
    const struct token *title)
{
	struct section_start *st;

	s->starts = xreallocarray(s->starts, s->nstarts + 1,
	    sizeof(*s->starts));
	st = &s->starts[s->nstarts++];
	st->kind = xstrndup(kind->text, kind->len);
	st->title = xstrndup(title->text, title->len);
	st->line = kind->line;
}

static void
note_empty(struct config_scan *s, long in, const struct token *option)
{
	struct empty_list *e;

	s->empties = xreallocarray(s->empties, s->nempties + 1,
	    sizeof(*s->empties));
	e = &s->empties[s->nempties++];
	e->section = in;
	e->option = xstrndup(option->text, option->len);
	e->line = option->line;
}

void
config_scan(struct config_scan *s, const char *text)
{
	struct scanner sc = { .p = text, .line = 1 };
	struct token t, last[3] = { 0 };	/* last[0] the latest */
	int depth = 0;
	long in = -1;		/* the section depth 1 is in, -1: none known */

	memset(s, 0, sizeof(*s));
	for (next_token(&sc, &t); t.kind != TOK_END; next_token(&sc, &t)) {
		if (is_punct(&t, '{') && depth == 0) {
			in = -1;
			if ((is_word(&last[1], "plugin") ||
			    is_word(&last[1], "listener")) &&
			    (last[0].kind == TOK_WORD ||
			    last[0].kind == TOK_STRING)) {
				note_start(s, &last[1], &last[0]);
				in = (long)s->nstarts - 1;
			}
		}
		if (is_punct(&t, '}') && (depth == 1 || (depth == 2 &&
		    in >= 0)) && is_punct(&last[0], '{') &&
		    is_punct(&last[1], '=') && last[2].kind == TOK_WORD)
			note_empty(s, depth == 1 ? -1 : in, &last[2]);
		if (is_punct(&t, '{'))
			depth++;
		else if (is_punct(&t, '}') && depth > 0)
			depth--;
		last[2] = last[1];
		last[1] = last[0];
		last[0] = t;
	}
}

int
config_scan_section_line(const struct config_scan *s, const char *kind,
    const char *title, int fallback)
{
	for (size_t i = 0; i < s->nstarts; i++)
		if (strcmp(s->starts[i].kind, kind) == 0 &&
		    strcmp(s->starts[i].title, title) == 0)
			return s->starts[i].line;
	return fallback;
}

int
config_scan_empty_list_line(const struct config_scan *s, const char *kind,
    const char *title, const char *option)
{
	for (size_t i = s->nempties; i-- > 0; ) {
		const struct empty_list *e = &s->empties[i];

		const struct section_start *in = e->section < 0 ? NULL :
		    &s->starts[e->section];

		if (strcmp(e->option, option) != 0)
			continue;
		if (kind == NULL ? in == NULL : in != NULL &&
		    strcmp(in->kind, kind) == 0 && strcmp(in->title, title) == 0)
			return e->line;
	}
	return 0;
}

void
config_scan_free(struct config_scan *s)
{
	for (size_t i = 0; i < s->nstarts; i++) {
		free(s->starts[i].kind);
		free(s->starts[i].title);
	}
	free(s->starts);
	for (size_t i = 0; i < s->nempties; i++)
		free(s->empties[i].option);
	free(s->empties);
	memset(s, 0, sizeof(*s));
}
