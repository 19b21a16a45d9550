/*
 * NAME
 *	config_scan.h - lines of the configuration that libconfuse forgets
 * DESCRIPTION
 *	libconfuse keeps one line per section, the one it closed at, and
 *	none for a list set to {}.  Errors about a whole section (a plugin
 *	that cannot be loaded, a listener without listen) should name the
 *	line where the section starts, and an empty list (listen = {},
 *	plugins = {}) the line that says so.  config_scan() reads the text libconfuse is given
 *	(includes expanded, comments blanked) and notes both; its lines
 *	are of that text, for include_where() to map to a file.
 */
#ifndef EHLOD_CORE_CONFIG_SCAN_H
#define EHLOD_CORE_CONFIG_SCAN_H

#include <stddef.h>

/* What ends a bare word for libconfuse's scanner. */
#define CONFIG_WORD_ENDS " #\"'\t\n\r={}()+,*"

/* When p starts "${", libconfuse reads up to the next '}' as an
 * environment reference, quotes, '#' and lines included: that '}', with
 * *line counting the lines passed; NULL when p starts none. */
const char *config_env_reference(const char *p, int *line);

struct section_start {
	char *kind;	/* "plugin", "listener" */
	char *title;	/* as written, quotes taken off */
	int line;
};

/* "option = {}": libconfuse calls no check for an empty list. */
struct empty_list {
	long section;	/* its index in starts, -1: the top level */
	char *option;
	int line;
};

struct config_scan {
	struct section_start *starts;	/* every top-level section */
	size_t nstarts;
	struct empty_list *empties;	/* at the top level and one down */
	size_t nempties;
};

void config_scan(struct config_scan *s, const char *text);

/* The line where the top-level section "kind title" opens, or fallback
 * when the scan did not see it (a title made by an environment
 * reference, for one). */
int config_scan_section_line(const struct config_scan *s, const char *kind,
    const char *title, int fallback);

/* The line of the last "option = {}" in the top-level section "kind
 * title" (kind NULL: at the top level), or 0. */
int config_scan_empty_list_line(const struct config_scan *s,
    const char *kind, const char *title, const char *option);

void config_scan_free(struct config_scan *s);

#endif
