/*
 * fuzz_address - libFuzzer target: RFC 5321 paths, mailboxes, domains
 * DESCRIPTION
 *	The first octet picks the flags (null path, UTF-8, Postmaster); the
 *	rest is the text between '<' and '>'.  The domain checker takes an
 *	exact-size copy, so reading one octet past its length is caught.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *mailbox, *why;
	unsigned flags;
	char *text, *exact;

	if (size < 1)
		return 0;
	flags = data[0] & (ADDRESS_ALLOW_EMPTY | ADDRESS_ALLOW_UTF8 |
	    ADDRESS_ALLOW_POSTMASTER);
	data++;
	size--;
	text = malloc(size + 1);
	exact = malloc(size ? size : 1);
	if (text == NULL || exact == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	memcpy(exact, data, size);
	if (address_check_path(text, flags, &mailbox, &why) == 0) {
		const char *domain = address_domain(mailbox);

		if (mailbox < text || mailbox > text + strlen(text))
			abort();
		if (domain)
			address_domain_valid(domain, strlen(domain),
			    (flags & ADDRESS_ALLOW_UTF8) != 0);
	}
	utf8_has_8bit(text, strlen(text));
	address_domain_valid(exact, size, 0);
	address_domain_valid(exact, size, 1);
	free(text);
	free(exact);
	return 0;
}
