/*
 * NAME
 *	smtputf8 - the SMTPUTF8 service extension: internationalized
 *	email (RFC 6531)
 * SUMMARY
 *	plugin 8bitmime { }
 *	plugin smtputf8 { }
 * DESCRIPTION
 *	Offers the EHLO keyword SMTPUTF8 and takes the MAIL FROM parameter
 *	SMTPUTF8 (no value), which marks the transaction as one that may
 *	carry UTF-8 in its addresses and header fields.  The parameter sets
 *	the session flag EHLOD_FLAG_SMTPUTF8 for the transaction, and with
 *	it the server:
 *
 *	o accepts UTF-8 mailboxes in MAIL FROM and RCPT TO.  Without the
 *	  parameter the server refuses a non-ASCII address as RFC 6531
 *	  section 3.5 says: 550 5.6.7 for MAIL, 553 5.6.7 for RCPT.  With
 *	  it, this plugin refuses an address that is not well-formed UTF-8
 *	  (RFC 3629) as bad syntax: 501 5.1.7 for MAIL, 501 5.1.3 for RCPT.
 *
 *	o names the protocol UTF8SMTP (UTF8SMTPS under TLS, UTF8SMTPA
 *	  after AUTH, UTF8SMTPSA with both) in the Received header, as RFC
 *	  6531 section 3.7.3 and its IANA registrations say.
 *
 *	A message whose header fields hold octets above 127 in a
 *	transaction without SMTPUTF8 is refused after the final "." (or the
 *	last BDAT chunk) with 554 5.6.9: RFC 6532 allows UTF-8 header fields
 *	only in SMTPUTF8 transactions, and RFC 6531 section 3.5 names 554
 *	and X.6.9 ("UTF-8 header message cannot be transmitted") for a
 *	message with UTF-8 headers refused after the DATA; X.6.7, which the
 *	IANA registry describes as a reply to MAIL or RCPT, would be wrong
 *	there, and 553 is not an end-of-data reply in RFC 5321 section
 *	4.3.2.  In an SMTPUTF8 transaction the header fields are not
 *	inspected: RFC 6531 section 3.6 does not ask the server to.
 *
 *	RFC 6531 section 3.1 item 8 requires a server that offers SMTPUTF8
 *	to offer 8BITMIME too: load the 8bitmime plugin as well.
 *
 *	Keyword and parameter only: no part of it runs inside a host MTA
 *	through ehlod-milter.
 * CONFIGURATION
 *	None.
 * SEE ALSO
 *	ehlod-plugin-smtputf8(5), the plugin's manual
 */
#include "autoconfig.h"

#include <stddef.h>
#include <string.h>

#include <ehlod/plugin.h>

#include "utf8.h"

static const struct ehlod_host *host;

static ehlod_verdict
smtputf8_param(ehlod_ctx *s, const char *keyword, const char *value)
{
	/* The host has refused SMTPUTF8=x (EHLOD_VALUE_NONE). */
	if (host->set_flag(s, EHLOD_FLAG_SMTPUTF8, 1) < 0) {
		host->log(s, LOG_ERR, "cannot mark the transaction SMTPUTF8");
		host->reply(s, 451, "4.3.0", "Local error in processing");
		return EHLOD_TEMPFAIL;
	}
	return EHLOD_CONTINUE;
}

/* The core accepts any octet above 127 in a UTF-8 mailbox; RFC 6531
 * section 3.3 asks for UTF-8 strings. */
static ehlod_verdict
check_mailbox(ehlod_ctx *s, const char *mailbox, int rcpt)
{
	if (!host->flag(s, EHLOD_FLAG_SMTPUTF8) ||
	    utf8_valid(mailbox, strlen(mailbox)))
		return EHLOD_CONTINUE;
	host->reply(s, 501, rcpt ? "5.1.3" : "5.1.7", "Bad %s address "
	    "syntax: not valid UTF-8", rcpt ? "recipient" : "sender");
	return EHLOD_REJECT;
}

static ehlod_verdict
smtputf8_on_mail(ehlod_ctx *s, const char *reverse_path)
{
	return check_mailbox(s, reverse_path, 0);
}

static ehlod_verdict
smtputf8_on_rcpt(ehlod_ctx *s, const char *forward_path)
{
	return check_mailbox(s, forward_path, 1);
}

static ehlod_verdict
smtputf8_on_header(ehlod_ctx *s, const char *name, const char *value)
{
	/* Only the value can hold 8-bit octets: the server takes a line
	 * for a header field only when its name is printable ASCII. */
	if (host->flag(s, EHLOD_FLAG_SMTPUTF8) ||
	    !utf8_has_8bit(value, strlen(value)))
		return EHLOD_CONTINUE;
	host->reply(s, 554, "5.6.9", "Header field %.64s has 8-bit octets: "
	    "UTF-8 headers need MAIL FROM with SMTPUTF8 (RFC 6531)", name);
	return EHLOD_REJECT;
}

static int
smtputf8_init(const struct ehlod_host *h, ehlod_ctx *inst)
{
	host = h;
	return 0;
}

static const struct ehlod_param smtputf8_mail_params[] = {
	{ "SMTPUTF8", EHLOD_VALUE_NONE, smtputf8_param },
	{ NULL, 0, NULL }
};

EHLOD_PLUGIN_EXPORT const struct ehlod_plugin ehlod_plugin = {
	EHLOD_PLUGIN_HEADER,
	.name = "smtputf8",
	.version = PACKAGE_VERSION,
	.description = "SMTPUTF8: UTF-8 addresses and headers (RFC 6531)",
	.ehlo_keyword = "SMTPUTF8",
	.mail_params = smtputf8_mail_params,
	/* RFC 6531 section 3.1 item 5 */
	.line_increment = 10,
	.init = smtputf8_init,
	.on_mail = smtputf8_on_mail,
	.on_rcpt = smtputf8_on_rcpt,
	.on_header = smtputf8_on_header,
};
