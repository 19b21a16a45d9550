/*
 * fuzz_milter_socket - libFuzzer target: ehlod-milter's milter_socket
 *	setting, in libmilter's notation
 * DESCRIPTION
 *	The input is the setting's value (up to the first NUL).  Only the
 *	parsing is fuzzed: opening and resolving the socket would make the
 *	loop call the resolver and bind sockets, and the value comes from
 *	the admin's own file, checked again by config.c.
 *
 *	Properties checked besides the sanitizers:
 *	- a spec has a family exactly when it is a unix path ("unix:",
 *	  "local:" or no colon at all), "inet:" or "inet6:";
 *	- a unix path is the spec's tail, after its prefix;
 *	- an inet spec's port holds no '@', and PORT@HOST (brackets put
 *	  back when they were dropped) is the text after the prefix, with
 *	  a trailing '@' the only thing lost.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "milter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_unix(const char *spec)
{
	const char *path = milter_socket_unix_path(spec);

	if (path < spec || path > spec + strlen(spec))
		abort();
	if (strncmp(spec, "unix:", 5) == 0 && path != spec + 5)
		abort();
	if (strncmp(spec, "local:", 6) == 0 && path != spec + 6)
		abort();
}

static void
check_inet(const char *rest)
{
	char *port, *host, *again;
	size_t n;

	milter_socket_inet_split(rest, &port, &host);
	if (strchr(port, '@') != NULL)
		abort();
	n = strlen(port) + (host ? strlen(host) + 3 : 0) + 2;
	again = malloc(n);
	if (again == NULL)
		abort();
	strcpy(again, port);
	if (host != NULL) {
		const char *at = strchr(rest, '@');
		int bracketed = at[1] == '[' && strlen(at) > 2 &&
		    at[strlen(at) - 1] == ']';

		strcat(again, bracketed ? "@[" : "@");
		strcat(again, host);
		if (bracketed)
			strcat(again, "]");
	}
	if (strcmp(again, rest) != 0 && !(host == NULL &&
	    strlen(rest) == strlen(port) + 1 && rest[strlen(port)] == '@'))
		abort();
	free(again);
	free(port);
	free(host);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *spec = malloc(size + 1);
	int family;

	if (spec == NULL)
		return 0;
	memcpy(spec, data, size);
	spec[size] = '\0';
	family = milter_socket_family(spec);
	if ((family == AF_UNIX) != (milter_socket_unix_path(spec) != NULL))
		abort();
	if (family == AF_UNIX)
		check_unix(spec);
	else if (family == AF_INET)
		check_inet(spec + 5);
	else if (family == AF_INET6)
		check_inet(spec + 6);
	else if (family != -1 || strchr(spec, ':') == NULL ||
	    strncmp(spec, "inet:", 5) == 0 || strncmp(spec, "inet6:", 6) == 0)
		abort();
	free(spec);
	return 0;
}
