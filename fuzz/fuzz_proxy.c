/*
 * fuzz_proxy - libFuzzer target: the PROXY protocol v1/v2 header parser
 * DESCRIPTION
 *	proxy_parse() (core/proxy.c) sees the octets received so far, so it
 *	is called on every prefix of the input, each an exact-size copy so
 *	a read past the octets received is caught.  A header it accepts may
 *	not claim more octets than it was given, and once a prefix gave a
 *	verdict a longer input may not give "need more".  The input read as
 *	text also goes to the proxy_trusted network parser.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "proxy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static enum proxy_result
parse_exact(const uint8_t *data, size_t len, struct proxy_header *h)
{
	unsigned char *copy = malloc(len ? len : 1);
	enum proxy_result r;

	if (copy == NULL)
		abort();
	memcpy(copy, data, len);
	memset(h, 0, sizeof(*h));
	r = proxy_parse(copy, len, h);
	free(copy);
	if (r == PROXY_OK && (h->len == 0 || h->len > len))
		abort();
	if (r == PROXY_OK && !h->local && h->srclen > sizeof(h->src))
		abort();
	return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_header h;
	struct proxy_net net;
	enum proxy_result first = PROXY_NEED_MORE;
	size_t max = size < PROXY_V2_MAX + 16 ? size : PROXY_V2_MAX + 16;

	for (size_t len = 0; len <= max; len++) {
		enum proxy_result r = parse_exact(data, len, &h);

		if (first != PROXY_NEED_MORE && r == PROXY_NEED_MORE)
			abort();
		if (first == PROXY_NEED_MORE)
			first = r;
	}
	char *text = malloc(size + 1);
	if (text == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	if (proxy_net_parse(text, &net) == 0) {
		if (net.prefix > (net.family == AF_INET ? 32u : 128u))
			abort();
		if (parse_exact(data, size, &h) == PROXY_OK && !h.local)
			proxy_trusted((struct sockaddr *)&h.src, &net, 1);
	}
	free(text);
	return 0;
}
