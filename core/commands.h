/*
 * NAME
 *	commands.h - the SMTP commands of RFC 5321 and plugin verbs
 * DESCRIPTION
 *	One command line in, its answer out.
 */
#ifndef EHLOD_CORE_COMMANDS_H
#define EHLOD_CORE_COMMANDS_H

#include "smtpd.h"

void command_dispatch(struct ehlod_session *s, char *line, size_t len);

#endif
