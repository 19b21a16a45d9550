/*
 * NAME
 *	reply_parser.c - incremental parser of SMTP replies
 * DESCRIPTION
 *	See reply_parser.h.  Each line is judged on its own (three digits, then
 *	"-", " " or the end of the line) and against the lines before it
 *	(same code).  A bare "ddd" with no text is accepted as a final line:
 *	RFC 5321 4.2 makes the text optional.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "enhanced_code.h"
#include "reply_parser.h"
#include "xmalloc.h"

void
reply_parser_init(struct reply_parser *p, size_t max_lines, size_t max_len)
{
	memset(p, 0, sizeof(*p));
	p->max_lines = max_lines ? max_lines : REPLY_MAX_LINES;
	p->max_len = max_len ? max_len : REPLY_LINE_MAX - 2;
}

void
reply_free(struct smtp_reply *r)
{
	for (size_t i = 0; i < r->nlines; i++)
		free(r->lines[i]);
	free(r->lines);
	memset(r, 0, sizeof(*r));
}

void
reply_parser_free(struct reply_parser *p)
{
	reply_free(&p->cur);
}

/* The code of a line, or -1.  The first digit is 2..5 (RFC 5321 4.2.1;
 * 1yz is never used in SMTP) and the second 0..5. */
static int
line_code(const char *line, size_t len)
{
	if (len < 3)
		return -1;
	if (line[0] < '2' || line[0] > '5')
		return -1;
	if (line[1] < '0' || line[1] > '5')
		return -1;
	if (!isdigit((unsigned char)line[2]))
		return -1;
	return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

static enum reply_status
fail(struct reply_parser *p, const char **why, const char *text)
{
	if (why)
		*why = text;
	reply_free(&p->cur);
	return REPLY_ERROR;
}

static void
append_line(struct smtp_reply *r, const char *text, size_t len)
{
	r->lines = xreallocarray(r->lines, r->nlines + 1, sizeof(*r->lines));
	r->lines[r->nlines++] = xstrndup(text, len);
}

enum reply_status
reply_parser_feed(struct reply_parser *p, const char *line, size_t len,
    const char **why)
{
	int code, last;

	if (len > p->max_len)
		return fail(p, why, "reply line too long");
	if ((code = line_code(line, len)) < 0)
		return fail(p, why, "reply line does not start with a code");
	if (len == 3 || line[3] == ' ')
		last = 1;
	else if (line[3] == '-')
		last = 0;
	else
		return fail(p, why, "no space or hyphen after the reply code");
	if (p->cur.nlines > 0 && code != p->cur.code)
		return fail(p, why, "reply code changes within a multi-line reply");
	if (p->cur.nlines >= p->max_lines)
		return fail(p, why, "too many lines in one reply");
	p->cur.code = code;
	append_line(&p->cur, len > 4 ? line + 4 : "", len > 4 ? len - 4 : 0);
	return last ? REPLY_DONE : REPLY_MORE;
}

void
reply_parser_take(struct reply_parser *p, struct smtp_reply *out)
{
	*out = p->cur;
	memset(&p->cur, 0, sizeof(p->cur));
}

size_t
reply_enhanced(const struct smtp_reply *r, char *out, size_t outlen)
{
	struct enhanced_code ec;
	const char *s;
	size_t pos;

	if (r->nlines == 0 || outlen == 0)
		return 0;
	s = r->lines[0];
	/* class: 2, 4 or 5 and the same as the reply's (RFC 3463 2) */
	if ((pos = enhanced_code_scan(s, &ec)) == 0 ||
	    ec.cls != REPLY_CLASS(r->code) || ec.cls == 3)
		return 0;
	if (s[pos] != '\0' && s[pos] != ' ')
		return 0;
	if (pos >= outlen)
		return 0;
	memcpy(out, s, pos);
	out[pos] = '\0';
	return s[pos] == ' ' ? pos + 1 : pos;
}

void
reply_text(const struct smtp_reply *r, char *out, size_t outlen)
{
	size_t used = 0;

	if (outlen == 0)
		return;
	out[0] = '\0';
	for (size_t i = 0; i < r->nlines; i++) {
		size_t n = strlen(r->lines[i]);

		if (i > 0 && used + 1 < outlen)
			out[used++] = '\n';
		if (n > outlen - 1 - used)
			n = outlen - 1 - used;
		memcpy(out + used, r->lines[i], n);
		used += n;
		out[used] = '\0';
	}
}
