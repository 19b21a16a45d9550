/*
 * NAME
 *	describe.c - ehlod-milter -t: what runs and what is inert per plugin
 * DESCRIPTION
 *	Inside a host MTA only a plugin's hooks run.  Its EHLO keyword and
 *	keyword parameters, its verbs, its MAIL/RCPT parameters and its line
 *	length increment are the MTA's business and do nothing here.  The
 *	listing says so for each plugin from what it declared, warns about a
 *	plugin that does not declare its hooks useful without them
 *	(EHLOD_PLUGIN_MILTER_HOOKS), and shows the protocol steps the milter
 *	will ask the MTA for.
 */
#include <stdio.h>
#include <string.h>

#include "milter.h"

static void
print_params(FILE *out, const char *label, const struct ehlod_param *p,
    int *any)
{
	if (p == NULL || p->keyword == NULL)
		return;
	fprintf(out, "%s%s", *any ? "; " : "", label);
	for (; p->keyword; p++)
		fprintf(out, " %s", p->keyword);
	*any = 1;
}

static void
print_inert(FILE *out, const struct plugin *p)
{
	int any = 0;

	fprintf(out, "    %-14s ", "inert");
	if (p->d.ehlo_keyword) {
		fprintf(out, "keyword %s%s", p->d.ehlo_keyword,
		    p->d.ehlo_params ? " (and its parameters)" : "");
		any = 1;
	}
	if (p->d.verbs && p->d.verbs->name) {
		fprintf(out, "%sverbs", any ? "; " : "");
		for (const struct ehlod_verb *v = p->d.verbs; v->name; v++)
			fprintf(out, " %s", v->name);
		any = 1;
	}
	print_params(out, "mail params", p->d.mail_params, &any);
	print_params(out, "rcpt params", p->d.rcpt_params, &any);
	if (p->d.line_increment) {
		fprintf(out, "%sline length +%u", any ? "; " : "",
		    p->d.line_increment);
		any = 1;
	}
	fprintf(out, "%s\n", any ? "" : "-");
}

static int
has_smtp_parts(const struct plugin *p)
{
	return p->d.ehlo_keyword || (p->d.verbs && p->d.verbs->name) ||
	    (p->d.mail_params && p->d.mail_params->keyword) ||
	    (p->d.rcpt_params && p->d.rcpt_params->keyword);
}

static void
describe_plugin(FILE *out, const struct plugin *p)
{
	char hooks[256];

	fprintf(out, "plugin %zu: %s %s (%s)\n", p->index + 1, p->name,
	    p->d.version ? p->d.version : "", p->path);
	if (p->d.description)
		fprintf(out, "    %-14s %s\n", "description", p->d.description);
	plugins_hook_names(p, hooks, sizeof(hooks));
	fprintf(out, "    %-14s %s\n", "runs", strcmp(hooks, "(none)") ?
	    hooks : "nothing: the plugin has no hooks");
	print_inert(out, p);
	if (p->d.flags & EHLOD_PLUGIN_MILTER_HOOKS)
		fprintf(out, "    %-14s declared useful in a milter "
		    "(EHLOD_PLUGIN_MILTER_HOOKS)\n", "milter");
	else if (has_smtp_parts(p))
		fprintf(out, "    warning: %s does not declare its hooks useful "
		    "without its keyword, verbs and parameters "
		    "(EHLOD_PLUGIN_MILTER_HOOKS); it may do nothing here\n",
		    p->name);
	else
		fprintf(out, "    %-14s hook-only plugin: all of it runs\n",
		    "milter");
}

void
milter_describe(FILE *out, const struct config *c, struct plugin_set *set)
{
	unsigned long no = milter_unneeded_steps(set);
	char steps[256];

	fprintf(out, "%s: configuration is valid for ehlod-milter\n", c->file);
	fprintf(out, "milter_socket %s, milter_timeout %ld s, "
	    "milter_hook_timeout %ld s\n", c->milter_socket ?
	    c->milter_socket : "(not set)", c->milter_timeout,
	    c->milter_hook_timeout);
	if (c->milter_socket != NULL &&
	    milter_socket_unix_path(c->milter_socket) != NULL)
		fprintf(out, "milter_socket mode 0660, owner %s, group %s%s "
		    "(the MTA connects through the group)\n", c->user,
		    c->milter_socket_group ? c->milter_socket_group : c->user,
		    c->milter_socket_group ? "" : "'s");
	milter_step_names(no, steps, sizeof(steps), 1);
	fprintf(out, "steps asked of the MTA: %s eom abort close\n",
	    strcmp(steps, "-") ? steps : "");
	milter_step_names(no, steps, sizeof(steps), 0);
	fprintf(out, "steps declined (SMFIP_NO*): %s\n", steps);
	fprintf(out, "%zu plugins, in the order of their hooks:\n", set->n);
	for (size_t i = 0; i < set->n; i++)
		describe_plugin(out, &set->v[i]);
}
