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
 *		with host->timer() and returns EHLOD_PENDING; the timer
 *		calls host->resume().  The worker serves other sessions
 *		meanwhile.
 *	End of headers
 *		Adds the header "X-Hello: <greeting>" to the message.
 *
 *	The plugin keeps no state per session: the host fills its
 *	settings into struct hello_conf (the option table below) and
 *	hands them back with host->instance().
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
/* strcasecmp() is POSIX, not C11. */
#define _POSIX_C_SOURCE 200809L

#include <string.h>
#include <strings.h>

#include <ehlod/plugin.h>

#define GREETING_MAX 200
#define DELAY_MAX_MS 60000

static const struct ehlod_host *host;

/* The options, filled in by the host before init. */
struct hello_conf {
	const char *greeting;
	const char *reject_domain;
	long long delay_ms;
};

#define CONF(s) ((const struct hello_conf *)host->instance(s))

/* ---- the verb ---------------------------------------------------- */

static ehlod_verdict
hello_verb(ehlod_ctx *s, const char *args)
{
	const char *name = args;

	if (name[0] == '\0')
		name = host->get(s, EHLOD_ITEM_HELO);
	host->reply(s, 250, "2.0.0", "%s, %s", CONF(s)->greeting,
	    name != NULL ? name : "stranger");
	return EHLOD_ACCEPT;
}

/* ---- hooks ------------------------------------------------------- */

static ehlod_verdict
hello_on_mail(ehlod_ctx *s, const char *reverse_path)
{
	const char *at = strrchr(reverse_path, '@');
	const char *reject_domain = CONF(s)->reject_domain;

	/* The null sender "" has no domain and is never refused here. */
	if (reject_domain == NULL || reject_domain[0] == '\0' || at == NULL ||
	    strcasecmp(at + 1, reject_domain) != 0)
		return EHLOD_CONTINUE;
	host->log(s, LOG_INFO, "refusing sender <%s>", reverse_path);
	host->reply(s, 550, "5.7.1", "hello: mail from %s is not welcome",
	    reject_domain);
	return EHLOD_REJECT;
}

/* The timer's callback: the wait is over, let the next plugin decide. */
static void
hello_wake(ehlod_ctx *s, void *arg)
{
	(void)arg;
	host->resume(s, EHLOD_CONTINUE);
}

static ehlod_verdict
hello_on_rcpt(ehlod_ctx *s, const char *forward_path)
{
	unsigned delay_ms = (unsigned)CONF(s)->delay_ms;

	(void)forward_path;
	if (delay_ms == 0)
		return EHLOD_CONTINUE;
	/* The host cancels the timer itself if the session ends first. */
	if (host->timer(s, delay_ms, hello_wake, NULL) == NULL) {
		host->log(s, LOG_ERR, "cannot set a timer");
		host->reply(s, 451, "4.3.0", "Local error in processing");
		return EHLOD_TEMPFAIL;
	}
	return EHLOD_PENDING;
}

static ehlod_verdict
hello_on_eoh(ehlod_ctx *s)
{
	if (host->add_header(s, "X-Hello", CONF(s)->greeting) < 0)
		host->log(s, LOG_WARNING, "cannot add the X-Hello header");
	return EHLOD_CONTINUE;
}

/* ---- start and stop ---------------------------------------------- */

static const char *
greeting_valid(const void *value)
{
	const char *text = *(const char *const *)value;
	size_t len = strlen(text);

	if (len == 0 || len > GREETING_MAX)
		return "must be 1 to 200 printable ASCII characters";
	for (size_t i = 0; i < len; i++)
		if (text[i] < 32 || text[i] > 126)
			return "must be printable ASCII";
	return NULL;
}

static int
hello_init(const struct ehlod_host *h, ehlod_ctx *inst)
{
	const struct hello_conf *conf = h->instance(inst);

	host = h;
	host->log(inst, LOG_DEBUG, "greeting is %s", conf->greeting);
	return 0;
}

/* ---- the descriptor ---------------------------------------------- */

static const struct ehlod_verb hello_verbs[] = {
	{ "XHELLO", EHLOD_STATE_GREETED | EHLOD_STATE_MAIL | EHLOD_STATE_RCPT,
	    0, hello_verb },
	{ NULL, 0, 0, NULL }
};

static const struct ehlod_option hello_options[] = {
	{ "greeting", EHLOD_OPT_STRING, offsetof(struct hello_conf, greeting),
	  "Hello", 0, 0, 0, greeting_valid },
	{ "reject_domain", EHLOD_OPT_STRING,
	  offsetof(struct hello_conf, reject_domain), NULL, 0, 0, 0, NULL },
	{ "delay_ms", EHLOD_OPT_INT, offsetof(struct hello_conf, delay_ms),
	  "0", 0, 0, DELAY_MAX_MS, NULL },
	{ NULL, 0, 0, NULL, 0, 0, 0, NULL }
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
	.instance_size = sizeof(struct hello_conf),
	.init = hello_init,
	.on_mail = hello_on_mail,
	.on_rcpt = hello_on_rcpt,
	.on_eoh = hello_on_eoh,
};
