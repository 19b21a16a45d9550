/*
 * NAME
 *	include.h - "include" lines of the configuration file
 * DESCRIPTION
 *	A line
 *		include "PATTERN"
 *	is replaced by the files PATTERN names: a glob(3) pattern, relative
 *	to the directory of the file that has the line, its matches taken
 *	in sorted order.  A pattern with wildcards may match nothing (an
 *	empty conf.d); a plain name must exist.  Included files may include
 *	others, INCLUDE_DEPTH deep.  Every file goes through trust_file()
 *	like the main one.  The parser sees one text; include_where() turns
 *	a line of that text back into the file and line it came from, for
 *	the error messages.
 */
#ifndef EHLOD_CORE_INCLUDE_H
#define EHLOD_CORE_INCLUDE_H

#define INCLUDE_DEPTH 8

/* Reads one file, comments blanked; NULL after logging why. */
typedef char *(*include_reader)(const char *file);

/* The text of file with its includes expanded (malloc'ed), or NULL
 * after one log line naming FILE:LINE.  Replaces the line map. */
char *include_expand(const char *file, include_reader read);

/* The file and line of line (1-based) of the last expanded text; the
 * given file and line when the map does not know it. */
void include_where(const char *file, int line, const char **wfile,
    int *wline);

#endif
