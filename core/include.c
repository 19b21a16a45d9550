/*
 * NAME
 *	include.c - "include" lines of the configuration file
 * DESCRIPTION
 *	Implements include.h.  libconfuse has an include() function of its
 *	own, but its errors name the top file and it knows nothing of our
 *	trust rule, so the text is expanded here before libconfuse sees it,
 *	with a map from each line of the result to its file and line.
 */
#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "include.h"
#include "log.h"
#include "trust.h"
#include "xmalloc.h"

struct origin {
	const char *file;	/* one of files[] */
	int line;
};

/* The map of the last expansion, and the names it points into. */
static struct origin *map;
static size_t nmap, capmap;
static char **files;
static size_t nfiles;

struct expansion {
	FILE *out;
	include_reader read;
};

static void
map_reset(void)
{
	for (size_t i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
	free(map);
	files = NULL;
	map = NULL;
	nfiles = nmap = capmap = 0;
}

static const char *
file_keep(const char *name)
{
	files = xreallocarray(files, nfiles + 1, sizeof(*files));
	files[nfiles] = xstrdup(name);
	return files[nfiles++];
}

static void
map_add(const char *file, int line)
{
	if (nmap == capmap) {
		size_t cap = capmap ? capmap * 2 : 64;
		map = xreallocarray(map, cap, sizeof(*map));
		capmap = cap;
	}
	map[nmap++] = (struct origin){ file, line };
}

/* The pattern of an include line (in place, in the cleaned text), or
 * NULL when the line is something else. */
static char *
include_pattern(char *line)
{
	char *p = line, *end;

	while (isspace((unsigned char)*p))
		p++;
	if (strncmp(p, "include", 7) != 0 || !isspace((unsigned char)p[7]))
		return NULL;
	p += 7;
	while (isspace((unsigned char)*p))
		p++;
	if (*p != '"' || (end = strchr(p + 1, '"')) == NULL)
		return NULL;
	for (char *q = end + 1; *q; q++)
		if (!isspace((unsigned char)*q))
			return NULL;
	*end = '\0';
	return p + 1;
}

/* PATTERN relative to the directory of file. */
static char *
relative_to(const char *file, const char *pattern)
{
	const char *slash = strrchr(file, '/');

	if (pattern[0] == '/' || slash == NULL)
		return xstrdup(pattern);
	return xasprintf("%.*s/%s", (int)(slash - file), file, pattern);
}

static int expand_file(struct expansion *x, const char *file, int depth,
    const char *from, int from_line);

static int
expand_include(struct expansion *x, const char *file, int line,
    const char *pattern, int depth)
{
	char *path = relative_to(file, pattern);
	glob_t g;
	int rc, wild;

	wild = strpbrk(pattern, "*?[") != NULL;
	rc = glob(path, GLOB_ERR, NULL, &g);
	if (rc == GLOB_NOMATCH && wild) {
		free(path);
		return 0;	/* an empty conf.d */
	}
	if (rc != 0) {
		log_msg(LOG_ERR, "%s:%d: include \"%s\": %s", file, line,
		    pattern, rc == GLOB_NOMATCH ? "no such file" :
		    "cannot read the directory");
		free(path);
		return -1;
	}
	free(path);
	rc = 0;
	for (size_t i = 0; rc == 0 && i < g.gl_pathc; i++)
		rc = expand_file(x, g.gl_pathv[i], depth + 1, file, line);
	globfree(&g);
	return rc;
}

static int
expand_text(struct expansion *x, const char *file, char *text, int depth)
{
	int line = 0;

	for (char *p = text, *nl; p != NULL; p = nl ? nl + 1 : NULL) {
		char *pattern;

		line++;
		if ((nl = strchr(p, '\n')) != NULL)
			*nl = '\0';
		if (nl == NULL && *p == '\0')
			break;
		if ((pattern = include_pattern(p)) != NULL) {
			if (expand_include(x, file, line, pattern, depth) < 0)
				return -1;
			continue;
		}
		if (fprintf(x->out, "%s\n", p) < 0) {
			log_msg(LOG_ERR, "%s: out of memory", file);
			return -1;
		}
		map_add(file, line);
	}
	return 0;
}

static int
expand_file(struct expansion *x, const char *file, int depth,
    const char *from, int from_line)
{
	const char *kept;
	char *text;
	int rc;

	if (depth > INCLUDE_DEPTH) {
		log_msg(LOG_ERR, "%s:%d: includes nested more than %d deep "
		    "(a file that includes itself?)", from, from_line,
		    INCLUDE_DEPTH);
		return -1;
	}
	if (depth > 0 && trust_file(file, "included configuration file") < 0)
		return -1;
	kept = file_keep(file);
	if ((text = x->read(kept)) == NULL)
		return -1;
	rc = expand_text(x, kept, text, depth);
	free(text);
	return rc;
}

char *
include_expand(const char *file, include_reader read)
{
	struct expansion x = { NULL, read };
	char *text = NULL;
	size_t len = 0;
	int rc;

	map_reset();
	if ((x.out = open_memstream(&text, &len)) == NULL) {
		log_msg(LOG_ERR, "%s: out of memory", file);
		return NULL;
	}
	rc = expand_file(&x, file, 0, file, 0);
	if (fclose(x.out) != 0 || rc < 0) {
		free(text);
		return NULL;
	}
	return text;
}

void
include_where(const char *file, int line, const char **wfile, int *wline)
{
	*wfile = file;
	*wline = line;
	if (line < 1 || (size_t)line > nmap)
		return;
	*wfile = map[line - 1].file;
	*wline = map[line - 1].line;
}
