/*
 * NAME
 *	helpers.c - grammar helpers plugins get through the host table
 * DESCRIPTION
 *	Implements helpers.h: one implementation of each (proto/'s), so a
 *	plugin never carries its own copy that could disagree with the
 *	server's.
 */
#include "address.h"
#include "enhanced_code.h"
#include "esmtp.h"
#include "helpers.h"
#include "smtpd.h"
#include "utf8.h"

long
help_xtext_decode(const char *in, char *out, size_t outlen)
{
	if (in == NULL || out == NULL)
		return -1;
	return esmtp_xtext_decode(in, out, outlen);
}

long
help_xtext_encode(const char *in, char *out, size_t outlen)
{
	if (in == NULL || out == NULL)
		return -1;
	return esmtp_xtext_encode(in, out, outlen);
}

const char *
help_address_split(const char *mailbox, char *local, size_t localsz)
{
	if (local == NULL)
		return NULL;
	return address_split(mailbox, local, localsz);
}

int
help_is_local_domain(const char *domain)
{
	if (domain == NULL || server == NULL || server->conf == NULL)
		return 0;
	return config_is_local_domain(server->conf, domain);
}

int
help_enhanced_split(const char *text, int *cls, int *subject, int *detail)
{
	struct enhanced_code ec;

	if (enhanced_code_split(text, &ec) < 0)
		return -1;
	if (cls)
		*cls = ec.cls;
	if (subject)
		*subject = ec.subject;
	if (detail)
		*detail = ec.detail;
	return 0;
}

int
help_utf8_valid(const char *s, size_t len)
{
	return s != NULL && utf8_valid(s, len);
}

int
help_has_8bit(const char *s, size_t len)
{
	return s != NULL && utf8_has_8bit(s, len);
}
