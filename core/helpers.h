/*
 * NAME
 *	helpers.h - grammar helpers plugins get through the host table
 * DESCRIPTION
 *	Thin wrappers around proto/ and the configuration, so that a plugin
 *	judges xtext, addresses, enhanced codes and UTF-8 exactly as the
 *	server does.  Shared by ehlod and ehlod-milter.
 */
#ifndef EHLOD_CORE_HELPERS_H
#define EHLOD_CORE_HELPERS_H

#include <stddef.h>

long help_xtext_decode(const char *in, char *out, size_t outlen);
long help_xtext_encode(const char *in, char *out, size_t outlen);
const char *help_address_split(const char *mailbox, char *local,
    size_t localsz);
int help_is_local_domain(const char *domain);
int help_enhanced_split(const char *text, int *cls, int *subject,
    int *detail);
int help_utf8_valid(const char *s, size_t len);
int help_has_8bit(const char *s, size_t len);

#endif
