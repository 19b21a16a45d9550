/*
 * NAME
 *	hello - an example ehlod plugin, built out of tree
 * SUMMARY
 *	plugin hello {
 *		path = "/path/to/hello.so"
 *		greeting = "Hello"
 *		reject_domain = "spam.example"
 *		delay_ms = 200
 *	}
 * DESCRIPTION
 *	A small plugin that shows the parts most plugins need: a descriptor,
 *	declared options, a local EHLO keyword with a verb, hooks that
 *	refuse, change the message and wait without blocking.
 *
 *	EHLO keyword XHELLO, verb XHELLO [name]
 *		After EHLO the server offers XHELLO.  The verb answers
 *		"250 <greeting>, <name>", where name is the verb's argument,
 *		or the client's HELO name when there is none.  It is allowed
 *		once the client has greeted (503 before) and only in sessions
 *		where XHELLO was offered (502 after HELO).
 *	MAIL FROM
 *		A sender whose domain is reject_domain (compared without
 *		regard to case) is refused with 550 5.7.1.
 *	RCPT TO
 *		Each recipient waits delay_ms milliseconds before the next
 *		plugin (or the core) decides on it.  The hook sets a timer
 *		with host->timer_add() and returns EHLOD_PENDING; the timer
 *		calls host->resume().  The worker serves other sessions
 *		meanwhile.
 *	End of headers
 *		Adds the header "X-Hello: <greeting>" to the message.
 *
 *	The plugin keeps no state per session: its settings are read in
 *	init and freed in fini.
 * CONFIGURATION
 *	greeting (string, default "Hello")
 *		Printable ASCII, 1 to 200 characters.
 *	reject_domain (string, default none)
 *		The sender domain to refuse; unset or "" refuses nothing.
 *	delay_ms (integer, default 0)
 *		0 to 60000; 0 answers at once, without a timer.
 * BUILDING
 *	make			(uses pkg-config --cflags --libs ehlod-plugin)
 */
/* strdup() and strcasecmp() are POSIX, not C11. */
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ehlod/plugin.h>

#define GREETING_MAX 200
#define DELAY_MAX_MS 60000

static const struct ehlod_host *host;
static char *greeting;
static char *reject_domain;
static unsigned delay_ms;

/* ---- the verb ---------------------------------------------------- */

static ehlod_verdict
hello_verb(ehlod_session *s, const char *args)
{
	const char *name = args;

	if (name[0] == '\0')
		name = host->get(s, EHLOD_ITEM_HELO);
	host->reply(s, 250, "2.0.0", "%s, %s", greeting,
	    name != NULL ? name : "stranger");
	return EHLOD_ACCEPT;
}

/* ---- hooks ------------------------------------------------------- */

static ehlod_verdict
hello_on_mail(ehlod_session *s, const char *reverse_path)
{
	const char *at = strrchr(reverse_path, '@');

	/* The null sender "" has no domain and is never refused here. */
	if (reject_domain == NULL || at == NULL ||
	    strcasecmp(at + 1, reject_domain) != 0)
		return EHLOD_CONTINUE;
	host->log(s, LOG_INFO, "refusing sender <%s>", reverse_path);
	host->reply(s, 550, "5.7.1", "hello: mail from %s is not welcome",
	    reject_domain);
	return EHLOD_REJECT;
}

/* The timer's callback: the wait is over, let the next plugin decide. */
static void
hello_wake(ehlod_session *s, void *arg)
{
	(void)arg;
	host->resume(s, EHLOD_CONTINUE);
}

static ehlod_verdict
hello_on_rcpt(ehlod_session *s, const char *forward_path)
{
	(void)forward_path;
	if (delay_ms == 0)
		return EHLOD_CONTINUE;
	/* The host cancels the timer itself if the session ends first. */
	if (host->timer_add(s, delay_ms, hello_wake, NULL) == NULL) {
		host->log(s, LOG_ERR, "cannot set a timer");
		host->reply(s, 451, "4.3.0", "Local error in processing");
		return EHLOD_TEMPFAIL;
	}
	return EHLOD_PENDING;
}

static ehlod_verdict
hello_on_eoh(ehlod_session *s)
{
	if (host->add_header(s, "X-Hello", greeting) < 0)
		host->log(s, LOG_WARNING, "cannot add the X-Hello header");
	return EHLOD_CONTINUE;
}

/* ---- start and stop ---------------------------------------------- */

static int
greeting_valid(const char *text)
{
	size_t len = strlen(text);

	if (len == 0 || len > GREETING_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (text[i] < 32 || text[i] > 126)
			return 0;
	return 1;
}

static void
hello_fini(void)
{
	free(greeting);
	free(reject_domain);
	greeting = NULL;
	reject_domain = NULL;
}

static int
hello_init(const struct ehlod_host *h, cfg_t *section)
{
	const char *g = cfg_getstr(section, "greeting");
	const char *d = cfg_getstr(section, "reject_domain");
	long ms = cfg_getint(section, "delay_ms");

	host = h;
	if (g == NULL || !greeting_valid(g)) {
		host->log(NULL, LOG_ERR, "greeting must be 1 to %d printable "
		    "ASCII characters", GREETING_MAX);
		return -1;
	}
	if (ms < 0 || ms > DELAY_MAX_MS) {
		host->log(NULL, LOG_ERR, "delay_ms must be 0 to %d, not %ld",
		    DELAY_MAX_MS, ms);
		return -1;
	}
	greeting = strdup(g);
	reject_domain = d != NULL && d[0] != '\0' ? strdup(d) : NULL;
	if (greeting == NULL || (d != NULL && d[0] != '\0' &&
	    reject_domain == NULL)) {
		host->log(NULL, LOG_ERR, "out of memory");
		hello_fini();
		return -1;
	}
	delay_ms = (unsigned)ms;
	return 0;
}

/* ---- the descriptor ---------------------------------------------- */

static const struct ehlod_verb hello_verbs[] = {
	{ "XHELLO", EHLOD_STATE_GREETED | EHLOD_STATE_MAIL | EHLOD_STATE_RCPT,
	    0, hello_verb },
	{ NULL, 0, 0, NULL }
};

static cfg_opt_t hello_options[] = {
	CFG_STR("greeting", "Hello", CFGF_NONE),
	CFG_STR("reject_domain", NULL, CFGF_NONE),
	CFG_INT("delay_ms", 0, CFGF_NONE),
	CFG_END()
};

EHLOD_PLUGIN_EXPORT const struct ehlod_plugin ehlod_plugin = {
	EHLOD_PLUGIN_HEADER,
	.name = "hello",
	.version = "1.0",
	.description = "example: XHELLO verb, sender refusal, X-Hello header, "
	    "a wait on RCPT",
	.ehlo_keyword = "XHELLO",
	.verbs = hello_verbs,
	.options = hello_options,
	.init = hello_init,
	.fini = hello_fini,
	.on_mail = hello_on_mail,
	.on_rcpt = hello_on_rcpt,
	.on_eoh = hello_on_eoh,
};
