/*
 * NAME
 *	chunking - the CHUNKING service extension: BDAT (RFC 3030)
 * SUMMARY
 *	plugin chunking { }
 * DESCRIPTION
 *	Offers the EHLO keyword CHUNKING and the verb BDAT, by which a
 *	client sends the message in chunks of a stated number of octets,
 *	"BDAT size" for each and "BDAT size LAST" for the last, instead of
 *	DATA's dot-stuffed text ended by a lone ".".  The octets are taken
 *	exactly as they come: no dot-unstuffing, no end marker, no line
 *	length, so BDAT also carries binary content (see binarymime).
 *
 *	The plugin checks the argument strictly (see bdat_parse.h; 501
 *	5.5.4 otherwise) and hands the chunk to the server, which reads
 *	exactly size octets, feeds them to the header and body hooks (the
 *	first chunk of a transaction also runs the on_data hooks) and
 *	answers: 250 for each chunk, and after the LAST chunk the
 *	end-of-message verdict of the delivery step.  The server's
 *	message_size_limit and every plugin's content checks (the size
 *	plugin's limit) apply across the chunks: a chunk that makes the
 *	message too big is answered 552, as are the chunks after it.
 *	A transaction that used BDAT refuses DATA with 503, and DATA leaves
 *	no room for BDAT (it reads to its end marker).
 *
 *	BDAT needs an accepted recipient.  Sent earlier it is answered
 *	503, and its octets are read and dropped first: RFC 3030 clients
 *	send the chunk behind the command without waiting for a reply, and
 *	those octets must never be taken for commands.  Only a BDAT whose
 *	size cannot be read (501) leaves them to be read as commands: then
 *	nobody knows how many there are.
 *
 *	The first BDAT of a transaction sets the transaction value "bdat"
 *	to "yes", so other plugins can tell BDAT from DATA in their on_data
 *	hook (binarymime refuses DATA for BODY=BINARYMIME).
 *
 *	Keyword and verb only: no part of it runs inside a host MTA through
 *	ehlod-milter.
 * CONFIGURATION
 *	None.
 * SEE ALSO
 *	ehlod-plugin-chunking(5), the plugin's manual
 */
#include "autoconfig.h"

#include <stdint.h>

#include <ehlod/plugin.h>

#include "bdat_parse.h"

static const struct ehlod_host *host;

/* Mark the transaction once, at its first chunk.  Without recipients
 * there is no transaction to mark, and the chunk is refused anyway. */
static void
mark_bdat(ehlod_ctx *s)
{
	if (host->rcpt_count(s) == 0 || host->txn_get(s, EHLOD_KEY_BDAT) != NULL)
		return;
	if (host->txn_set(s, EHLOD_KEY_BDAT, "yes") < 0)
		host->log(s, LOG_ERR, "cannot record the use of BDAT");
}

static ehlod_verdict
bdat_verb(ehlod_ctx *s, const char *args)
{
	uint64_t size;
	int last;
	const char *why;

	if (bdat_parse(args, &size, &last, &why) < 0) {
		host->reply(s, 501, "5.5.4", "Syntax: BDAT size [LAST]: %s",
		    why);
		return EHLOD_REJECT;
	}
	mark_bdat(s);
	/* A host that cannot read the chunk leaves its octets in the input,
	 * where they would be read as commands: the session cannot go on. */
	if (host->read_chunk(s, (size_t)size, last) < 0) {
		host->log(s, LOG_ERR, "the host cannot read BDAT chunks");
		host->reply(s, 421, "4.3.0", "Cannot read the chunk; closing "
		    "the connection");
		return EHLOD_REJECT;
	}
	return EHLOD_ACCEPT;
}

static int
chunking_init(const struct ehlod_host *h, ehlod_ctx *inst)
{
	host = h;
	if (!EHLOD_HOST_HAS(host, read_chunk) || host->read_chunk == NULL) {
		host->log(inst, LOG_ERR, "this host cannot read BDAT chunks");
		return -1;
	}
	return 0;
}

/* BDAT is accepted from EHLO on, so that a BDAT without recipients can
 * have its chunk read and dropped (the host answers 503 then). */
static const struct ehlod_verb chunking_verbs[] = {
	{ "BDAT", EHLOD_STATE_GREETED | EHLOD_STATE_MAIL | EHLOD_STATE_RCPT,
	    EHLOD_VERB_NEEDS_ARG, bdat_verb },
	{ NULL, 0, 0, NULL }
};

EHLOD_PLUGIN_EXPORT const struct ehlod_plugin ehlod_plugin = {
	EHLOD_PLUGIN_HEADER,
	.name = "chunking",
	.version = PACKAGE_VERSION,
	.description = "CHUNKING: message content by BDAT size [LAST] "
	    "(RFC 3030)",
	.ehlo_keyword = "CHUNKING",
	.verbs = chunking_verbs,
	.init = chunking_init,
};
