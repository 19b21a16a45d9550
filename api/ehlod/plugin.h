/*
 * NAME
 *	ehlod/plugin.h - the ehlod plugin ABI, version 1.5
 * SUMMARY
 *	#include <ehlod/plugin.h>
 *
 *	EHLOD_PLUGIN_EXPORT const struct ehlod_plugin ehlod_plugin = {
 *		EHLOD_PLUGIN_HEADER,
 *		.name = "example",
 *		...
 *	};
 * DESCRIPTION
 *	A plugin is a shared object that exports exactly one symbol, the
 *	constant descriptor "ehlod_plugin".  The descriptor carries the items
 *	RFC 1869 section 3 asks every service extension to define (name, EHLO
 *	keyword, EHLO parameters, verbs, MAIL/RCPT parameters, line length
 *	increment), the plugin's option table, the sizes of the state the
 *	host keeps for it, and its hooks.  No other library's header is
 *	needed to write a plugin.
 *
 *	Instances.  Each "plugin NAME { }" section of the configuration is
 *	one instance; one .so may be configured under several section names
 *	(path = "dnsbl").  Each instance has its own option values and
 *	state.  A plugin with an EHLO keyword, verbs or MAIL/RCPT parameters
 *	can have only one instance: a second claim of the same keyword, verb
 *	or parameter is refused when the configuration is loaded.
 *
 *	Contexts.  Every call the host makes into a plugin passes an
 *	ehlod_ctx: one instance's view of one SMTP session (hooks, handlers,
 *	timers and watches set in a session), or of no session (init, fini,
 *	timers set without a session).  Every host function takes that ctx
 *	and acts for exactly that instance; a ctx stays valid until its
 *	session ends (for the instance ctx: until fini returns), so a plugin
 *	may keep it in its own callbacks.
 *
 *	Threading.  The host never makes two calls into plugins at the same
 *	time, so plugins need no locks: ehlod calls them from its one event
 *	loop thread; ehlod-milter serialises every call with one lock, made
 *	from libmilter's connection threads and its event loop thread (so no
 *	thread-local state either).  A plugin must not call the host from
 *	threads of its own.  Nothing may block: a hook that must wait
 *	returns EHLOD_PENDING and later calls host->resume().
 *
 *	Processes.  init runs once per instance in each process that loads
 *	the plugins, and more than once in all: in "ehlod -t", in the
 *	master at start and at each SIGHUP reload (to check that the plugin
 *	can start), in every worker as it starts (as root when ehlod was
 *	started as root, before switching user), and in ehlod-milter's
 *	master at start and at each reload (to check) and in each of its
 *	generations (child processes) as it starts.  A worker or generation
 *	repeats its master's check, so what its init logs below LOG_ERR is
 *	dropped: one warning per start or reload, not one per process.
 *	fini always follows in the same process before the next init.
 *
 *	Compatibility.  The loader refuses a plugin whose abi_major differs
 *	from its own, or whose abi_minor is newer.  Fields are only ever
 *	appended to the structures below, each marked with the version that
 *	added it ("1.0" for all fields of this first release); a plugin built
 *	against an older minor version sees newer fields as zero, and a
 *	plugin built against 1.0 loads and works in every 1.x host.  Check
 *	EHLOD_HOST_HAS() before calling a host function newer than 1.0.
 *
 *	Build plugins with -fvisibility=hidden and EHLOD_PLUGIN_EXPORT on the
 *	descriptor; "pkg-config --cflags --libs ehlod-plugin" gives the flags,
 *	including one that makes an undefined symbol a link error.
 * SEE ALSO
 *	ehlod-plugin(3), the same ABI for plugin writers
 */
#ifndef EHLOD_PLUGIN_H
#define EHLOD_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include <syslog.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EHLOD_ABI_MAJOR 1
#define EHLOD_ABI_MINOR 5

/* The name of the one symbol every plugin exports. */
#define EHLOD_PLUGIN_SYMBOL "ehlod_plugin"

/* Put this in front of the descriptor's definition. */
#define EHLOD_PLUGIN_EXPORT __attribute__((visibility("default")))

/* Start every descriptor's initialiser with this: it records the ABI the
 * plugin was built against, which the loader checks. */
#define EHLOD_PLUGIN_HEADER \
	.abi_major = EHLOD_ABI_MAJOR, .abi_minor = EHLOD_ABI_MINOR, \
	.size = sizeof(struct ehlod_plugin)

#if defined(__GNUC__)
#define EHLOD_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define EHLOD_PRINTF(f, a)
#endif

/* One instance's view of one session, or of no session.  Opaque. (1.0) */
typedef struct ehlod_ctx ehlod_ctx;

/* A timer or file descriptor watch: host->timer(), host->watch().
 * Opaque. (1.0) */
typedef struct ehlod_event ehlod_event;

/* libevent's loop: the escape hatch of host->event_base(). */
struct event_base;

/*
 * What a hook answers.  The reply that goes with a verdict is set with
 * host->reply() before returning; without one, or with one whose class
 * does not fit the verdict, the host sends its default for the step:
 *	connect	REJECT 554 Access denied (then only QUIT is served),
 *		TEMPFAIL 421 (closes)
 *	helo	REJECT 550 5.7.1, TEMPFAIL 421 4.3.0 (closes) unless the
 *		plugin set a 4xx of its own
 *	mail	REJECT 550 5.7.1, TEMPFAIL 451 4.7.1, else 250 2.1.0 Ok
 *	rcpt	REJECT 550 5.7.1, TEMPFAIL 450 4.7.1, else 250 2.1.5 Ok
 *	data	REJECT 554 5.7.1, TEMPFAIL 451 4.3.0, else 354
 *	content	(header, eoh, body: the refusal is sent at end of data)
 *		REJECT 554 5.7.1, TEMPFAIL 451 4.3.0
 *	eom	ACCEPT or DISCARD 250 2.0.0 Ok: queued as ID, REJECT 554
 *		5.7.1, TEMPFAIL 451 4.3.0; CONTINUE from every plugin 451
 *		4.3.0 (nothing delivered the message)
 *	unknown	CONTINUE from every plugin 500 5.5.1, REJECT 500 5.5.1,
 *		TEMPFAIL 451 4.3.0
 *	verbs, parameters: see struct ehlod_verb, struct ehlod_param.
 * ehlod-plugin(3), VERDICTS, says the same at length.
 */
typedef enum ehlod_verdict {
	EHLOD_CONTINUE = 0,	/* no objection: ask the next plugin */
	EHLOD_ACCEPT,		/* accept this step; skip later plugins for it.
				 * At end of message: the message is safely
				 * delivered (only then does the client get 250) */
	EHLOD_REJECT,		/* permanent failure: 5xx */
	EHLOD_TEMPFAIL,		/* temporary failure: 4xx */
	EHLOD_DISCARD,		/* accept the transaction but drop the message */
	EHLOD_PENDING		/* answer later through host->resume() */
} ehlod_verdict;

/* Session states, as a bit mask: where a plugin verb is allowed.  A verb
 * sent in any other state is answered 503 by the host. (1.0) */
enum ehlod_state {
	EHLOD_STATE_CONNECTED = 1u << 0,	/* before HELO/EHLO */
	EHLOD_STATE_GREETED = 1u << 1,		/* after HELO/EHLO, no transaction */
	EHLOD_STATE_MAIL = 1u << 2,		/* MAIL accepted, no recipient yet */
	EHLOD_STATE_RCPT = 1u << 3,		/* at least one recipient accepted */
	EHLOD_STATE_ANY = 0xfu
};

/* Verb flags. (1.0) */
enum ehlod_verb_flag {
	EHLOD_VERB_NEEDS_ARG = 1u << 0,	/* no argument: 501 */
	EHLOD_VERB_NO_ARG = 1u << 1,	/* an argument: 501 */
	EHLOD_VERB_ALWAYS = 1u << 2	/* allowed even when the plugin's EHLO
					 * keyword was not offered (HELO
					 * sessions, hidden keyword) */
};

/*
 * A new SMTP verb (RFC 1869 section 3, item 4), matched
 * case-insensitively.  The handler's args is the rest of the command line
 * after the verb and the spaces that follow it, without CRLF, as the
 * client sent it (inner and trailing spaces kept); "" when the line held
 * only the verb.  Only the verb's own plugin is called.  ACCEPT, CONTINUE
 * and DISCARD send the reply set with host->reply() (2xx or 3xx; default
 * 250 2.0.0 Ok), REJECT the 5xx or 421 set (default 550 5.7.1), TEMPFAIL
 * the 4xx set (default 451 4.3.0), PENDING waits for host->resume(). (1.0)
 */
struct ehlod_verb {
	const char *name;
	unsigned states;	/* mask of enum ehlod_state */
	unsigned flags;		/* mask of enum ehlod_verb_flag */
	ehlod_verdict (*handler)(ehlod_ctx *c, const char *args);
};

/* Whether a MAIL/RCPT parameter takes "=value". (1.0) */
enum ehlod_param_value {
	EHLOD_VALUE_NONE = 0,	/* KEYWORD only; KEYWORD=x is a 501 */
	EHLOD_VALUE_REQUIRED,	/* KEYWORD=x only; bare KEYWORD is a 501 */
	EHLOD_VALUE_OPTIONAL
};

/*
 * A MAIL FROM or RCPT TO parameter (RFC 1869 section 3, item 5; section 6).
 * Before any handler runs, the host has checked the esmtp-param grammar
 * (501), that the keyword belongs to a plugin whose EHLO keyword was
 * offered in this EHLO session (555 otherwise, and always 555 after HELO),
 * that it appears once (501) and the value rule above (501).  The handler
 * gets value NULL when none was given, still xtext-encoded where the
 * parameter's RFC says so (host->xtext_decode).  It answers CONTINUE when
 * the value is good, or REJECT (default 501 5.5.4) / TEMPFAIL (default 455
 * 4.5.4) with a reply such as 552 for SIZE over the limit; ACCEPT and
 * DISCARD count as CONTINUE.
 *
 * A MAIL parameter handler runs inside the new transaction: txn_data,
 * txn_set and (at end of data) add_header work, and a refusal ends the
 * transaction again.  An RCPT handler runs for the recipient being
 * decided, which rcpt_set/rcpt_get reach as index rcpt_count().
 * Handlers run in the order the parameters appear, before the on_mail /
 * on_rcpt hooks.  PENDING is not allowed here (treated as TEMPFAIL). (1.0)
 */
struct ehlod_param {
	const char *keyword;
	enum ehlod_param_value value;
	ehlod_verdict (*handler)(ehlod_ctx *c, const char *keyword,
	    const char *value);
};

/*
 * Options.  A plugin declares its options in a table ended by an entry
 * with a NULL name.  The host turns it into its configuration parser's
 * options, checks every value and stores it in the instance's own struct
 * (descriptor field instance_size; host->instance() returns it) at the
 * option's offset, before init runs.  Every error -- an unknown option,
 * a value of the wrong type, an integer out of range, a missing required
 * option, a check callback's refusal -- stops loading (and "ehlod -t")
 * with one line "FILE:LINE: plugin 'NAME': option 'OPT': why".
 */
enum ehlod_option_type {	/* (1.0) what is stored at offset */
	EHLOD_OPT_BOOL = 1,	/* int: 0 or 1 (true/false, yes/no, on/off) */
	EHLOD_OPT_INT,		/* long long */
	EHLOD_OPT_STRING,	/* const char *, NULL when unset without default */
	EHLOD_OPT_LIST		/* struct ehlod_list: a list of strings */
};

enum ehlod_option_flag {	/* (1.0) */
	EHLOD_OPT_REQUIRED = 1u << 0	/* the section must set it */
};

/* The value of an EHLOD_OPT_LIST option.  The strings stay valid until
 * fini has returned. (1.0) */
struct ehlod_list {
	size_t n;
	const char *const *v;
};

struct ehlod_option {		/* (1.0) */
	const char *name;
	enum ehlod_option_type type;
	size_t offset;		/* offsetof(your struct, field) */
	/* The default as the config file would spell it: "30", "yes",
	 * "text", and for a list its items separated by commas ("a,b").
	 * NULL: no default (0, NULL or the empty list). */
	const char *def;
	unsigned flags;		/* mask of enum ehlod_option_flag */
	long long min, max;	/* EHLOD_OPT_INT: the allowed range, when
				 * min < max */
	/* Called with a pointer to the value as it will be stored (int *,
	 * long long *, const char **, struct ehlod_list *); returns NULL when
	 * the value is good, or the text saying why not. */
	const char *(*check)(const void *value);
};

/* Strings the host knows about a session: host->get(). (1.0) */
enum ehlod_item {
	EHLOD_ITEM_SESSION_ID = 0,	/* unique per session, for logs */
	EHLOD_ITEM_CLIENT_ADDR,		/* "192.0.2.1", "2001:db8::1" */
	EHLOD_ITEM_CLIENT_PORT,
	EHLOD_ITEM_CLIENT_NAME,		/* verified name, or "unknown" */
	EHLOD_ITEM_LOCAL_ADDR,
	EHLOD_ITEM_LOCAL_PORT,
	EHLOD_ITEM_HOSTNAME,		/* this server's name */
	EHLOD_ITEM_HELO,		/* argument of HELO/EHLO, or NULL */
	EHLOD_ITEM_PROTOCOL,		/* "SMTP", "ESMTP", "ESMTPSA", ... */
	EHLOD_ITEM_TXN_ID,		/* transaction (queue) id, or NULL */
	EHLOD_ITEM_MAIL_FROM,		/* reverse-path without <>, or NULL */
	EHLOD_ITEM_TLS_VERSION,		/* NULL when not under TLS */
	EHLOD_ITEM_TLS_CIPHER,
	EHLOD_ITEM_AUTH_USER,		/* settable; NULL until AUTH succeeded */
	EHLOD_ITEM_AUTH_MECH,		/* settable */
	EHLOD_ITEM_USER,		/* the user the server runs as (any ctx) */
	EHLOD_ITEM_INSTANCE,		/* the calling instance's section name */
	EHLOD_ITEM_COUNT_
};

/* Yes/no facts about a session: host->flag(), host->set_flag(). (1.0) */
enum ehlod_flag {
	EHLOD_FLAG_ESMTP = 0,	/* the client greeted with EHLO */
	EHLOD_FLAG_TLS,		/* the connection is encrypted */
	EHLOD_FLAG_AUTH,	/* settable: the client authenticated */
	EHLOD_FLAG_RELAY,	/* settable: the client may send to any domain */
	EHLOD_FLAG_8BITMIME,	/* settable: this transaction is BODY=8BITMIME */
	EHLOD_FLAG_SMTPUTF8,	/* settable: this transaction is SMTPUTF8 */
	EHLOD_FLAG_COUNT_
};

/*
 * Envelope values plugins share through host->txn_set/txn_get (K_TXN)
 * and host->rcpt_set/rcpt_get (K_RCPT).  Spell them with these names;
 * the strings are part of the ABI. (1.0)
 */
#define EHLOD_KEY_SIZE "size"		/* K_TXN: SIZE=, decimal octets */
#define EHLOD_KEY_BODY "body"		/* K_TXN: "7BIT", "8BITMIME" or
					 * "BINARYMIME" from BODY= */
#define EHLOD_KEY_BDAT "bdat"		/* K_TXN: "yes" once content came
					 * by BDAT */
#define EHLOD_KEY_AUTH "auth"		/* K_TXN: AUTH= mailbox, decoded;
					 * "<>" for an unknown sender */
#define EHLOD_KEY_DSN_RET "dsn.ret"	/* K_TXN: "FULL" or "HDRS" */
#define EHLOD_KEY_DSN_ENVID "dsn.envid"	/* K_TXN: ENVID=, xtext decoded */
#define EHLOD_KEY_DSN_NOTIFY "dsn.notify" /* K_RCPT: "NEVER" or a list
					 * such as "SUCCESS,FAILURE" */
#define EHLOD_KEY_DSN_ORCPT "dsn.orcpt"	/* K_RCPT: ORCPT= as sent
					 * ("addr-type;xtext") */
#define EHLOD_KEY_DSN_ORCPT_DECODED "dsn.orcpt.decoded"
					/* K_RCPT: "addr-type;address" */
#define EHLOD_KEY_RELAY "relay"		/* K_RCPT: the relay instance that
					 * forwarded it at RCPT; "" once
					 * delivered at end of data */

/* host->features: what this host can do. (1.0) */
enum ehlod_host_feature {
	EHLOD_HOST_SMTP = 1u << 0,	/* keywords, verbs and parameters are
					 * live (ehlod); not in a milter */
	EHLOD_HOST_MESSAGE = 1u << 1	/* host->message_read() works */
};

/* host->watch() events, and what a watch callback is told. (1.0) */
enum ehlod_watch_event {
	EHLOD_WATCH_READ = 1u << 0,
	EHLOD_WATCH_WRITE = 1u << 1,
	EHLOD_WATCH_TIMEOUT = 1u << 2	/* only in the callback's events */
};

/*
 * Outcome reports (on_report).  Every instance hears how each
 * transaction ended and how the session ended, whether or not it took
 * part.  Reports are told, not asked: they cannot change anything. (1.0)
 */
enum ehlod_report_kind {
	EHLOD_REPORT_TXN = 1,	/* a transaction ended */
	EHLOD_REPORT_SESSION	/* the session ended */
};

enum ehlod_outcome {
	/* transactions */
	EHLOD_TXN_DELIVERED = 1,	/* 250 at end of data: by is the
					 * instance that ACCEPTed */
	EHLOD_TXN_DISCARDED,		/* 250 given, message dropped (by) */
	EHLOD_TXN_REFUSED,		/* 5xx at end of data (code) */
	EHLOD_TXN_TEMPFAILED,		/* 4xx at end of data (code) */
	EHLOD_TXN_RESET,		/* RSET, HELO/EHLO, or refused before
					 * content */
	EHLOD_TXN_ABORTED,		/* the session ended inside it */
	/* sessions */
	EHLOD_SESSION_QUIT,		/* the client said QUIT */
	EHLOD_SESSION_DISCONNECT,	/* the client went away (or the MTA
					 * closed a milter connection) */
	EHLOD_SESSION_TIMEOUT,		/* a timeout ended it */
	EHLOD_SESSION_CLOSED		/* the server ended it: 421, too many
					 * errors, shutdown */
};

struct ehlod_report {
	enum ehlod_report_kind kind;
	enum ehlod_outcome outcome;
	const char *by;		/* instance name that decided, or NULL */
	int by_me;		/* 1 when that is the instance being told */
	int code;		/* the reply the client got, 0 when none */
	const char *enhanced;	/* "2.0.0", or NULL */
	const char *text;	/* reply text, or NULL */
	size_t rcpts;		/* TXN: recipients accepted */
};

/* Callback for host->message_read(): returns 0 to go on, -1 to stop. */
typedef int (*ehlod_sink)(void *arg, const void *data, size_t len);

/* Callback for host->timer(). */
typedef void (*ehlod_timer_cb)(ehlod_ctx *c, void *arg);

/* Callback for host->watch(): events is a mask of enum ehlod_watch_event. */
typedef void (*ehlod_watch_cb)(ehlod_ctx *c, void *arg, unsigned events);

/* Callback for host->read_line(): the client's next line, without CRLF. */
typedef void (*ehlod_line_cb)(ehlod_ctx *c, void *arg, const char *line);

/*
 * The host's functions, handed to every instance's init (the same table
 * for all of them, valid until fini returns).  Every function takes the
 * ctx the host passed to the calling hook, handler or callback; those
 * about a session do nothing (or return NULL/0/-1) for an instance ctx.
 * All fields are (1.0).
 */
struct ehlod_host {
	uint16_t abi_major;
	uint16_t abi_minor;
	uint32_t size;		/* sizeof(struct ehlod_host) of the host */
	const char *name;	/* "ehlod" or "ehlod-milter" */
	unsigned features;	/* mask of enum ehlod_host_feature */

	/* Log one line at a syslog priority (LOG_ERR ... LOG_DEBUG),
	 * prefixed with the session id and the instance name.  Control
	 * characters in the text are written as '?' (UTF-8 is kept). */
	void (*log)(ehlod_ctx *c, int priority, const char *fmt, ...)
	    EHLOD_PRINTF(3, 4);

	/* Set the reply that goes with the verdict the current hook returns
	 * (or passes to resume).  code is a three-digit SMTP code, enhanced an
	 * RFC 3463 code such as "5.7.1" or NULL.  Lines of a multi-line reply
	 * are separated by '\n' in the text.  The host sends the enhanced code
	 * only when the session offered ENHANCEDSTATUSCODES.  Any reply with
	 * code 421 closes the session after it has been sent (RFC 5321
	 * section 3.8).  Ignored (and logged) from an instance that is neither
	 * being called nor pending on the session. */
	void (*reply)(ehlod_ctx *c, int code, const char *enhanced,
	    const char *fmt, ...) EHLOD_PRINTF(4, 5);

	/* Facts about the session; the strings stay valid until they change
	 * or the session ends. */
	const char *(*get)(ehlod_ctx *c, enum ehlod_item item);
	int (*set)(ehlod_ctx *c, enum ehlod_item item, const char *value);
	int (*flag)(ehlod_ctx *c, enum ehlod_flag flag);
	int (*set_flag)(ehlod_ctx *c, enum ehlod_flag flag, int on);

	/* 1 when the EHLO keyword was offered in this session's last EHLO. */
	int (*offered)(ehlod_ctx *c, const char *keyword);

	/* The instance's struct (instance_size octets, options filled in). */
	void *(*instance)(ehlod_ctx *c);

	/* The instance's state for this session and for the current
	 * transaction: session_data_size / txn_data_size octets, allocated
	 * zeroed by the host on first use and freed -- after the matching
	 * cleanup callback -- when the session (transaction) ends.  The
	 * transaction ends at delivery, RSET, a new HELO/EHLO, or the
	 * session's end.  NULL when the size is 0, for an instance ctx, and
	 * txn_data outside a transaction. */
	void *(*session_data)(ehlod_ctx *c);
	void *(*txn_data)(ehlod_ctx *c);

	/* Envelope values shared between plugins (EHLOD_KEY_*), for the
	 * transaction and per recipient (index in acceptance order).  The
	 * host copies the strings; value NULL removes the key. */
	int (*txn_set)(ehlod_ctx *c, const char *key, const char *value);
	const char *(*txn_get)(ehlod_ctx *c, const char *key);
	size_t (*rcpt_count)(ehlod_ctx *c);
	const char *(*rcpt_address)(ehlod_ctx *c, size_t index);
	int (*rcpt_set)(ehlod_ctx *c, size_t index, const char *key,
	    const char *value);
	const char *(*rcpt_get)(ehlod_ctx *c, size_t index, const char *key);

	/* Header changes, applied to the message as delivered; from on_data
	 * to on_eom.  add_header appends after the last header;
	 * insert_header puts the header at position index (0 = first);
	 * change_header replaces the index'th (1-based) header called name,
	 * or deletes it when value is NULL. */
	int (*add_header)(ehlod_ctx *c, const char *name, const char *value);
	int (*insert_header)(ehlod_ctx *c, size_t index, const char *name,
	    const char *value);
	int (*change_header)(ehlod_ctx *c, const char *name, size_t index,
	    const char *value);

	/* Feed the message as it will be delivered -- the host's Received
	 * header, the headers with all changes applied, the body -- to sink,
	 * with CRLF line ends and no dot-stuffing.  Only in on_eom.  Returns 0,
	 * or -1 when the sink stopped or the host has no message
	 * (no EHLOD_HOST_MESSAGE). */
	int (*message_read)(ehlod_ctx *c, ehlod_sink sink, void *arg);
	size_t (*message_size)(ehlod_ctx *c);

	/* A one-shot timer, and a one-shot watch of fd for the events asked
	 * (EHLOD_WATCH_READ/WRITE) or, when msec > 0, for msec milliseconds
	 * to pass.  The callback gets the ctx passed here.  Set with a
	 * session's ctx, they are cancelled when the session ends; with an
	 * instance ctx, before fini.  An event that has fired is gone: set
	 * another one to go on.  cancel() accepts NULL. */
	ehlod_event *(*timer)(ehlod_ctx *c, unsigned msec, ehlod_timer_cb cb,
	    void *arg);
	ehlod_event *(*watch)(ehlod_ctx *c, int fd, unsigned events,
	    unsigned msec, ehlod_watch_cb cb, void *arg);
	void (*cancel)(ehlod_event *e);

	/* Finish a hook of this instance that returned EHLOD_PENDING, as if
	 * it had returned v (with the reply set by host->reply() before this
	 * call).  Call it once, from a timer, watch or other callback, not
	 * from the hook.  Ignored (and logged) when this instance is not the
	 * one pending on the session. */
	void (*resume)(ehlod_ctx *c, ehlod_verdict v);

	/* Escape hatch: the host's libevent loop, for a plugin that needs
	 * libevent itself (bufferevents, evdns).  The plugin then includes
	 * libevent's headers and links libevent; its callbacks must use a
	 * ctx they kept.  NULL in a host without one.  Prefer timer/watch. */
	struct event_base *(*event_base)(void);

	/* For a verb handler (AUTH): send "code text" now as an intermediate
	 * reply (334) and hand the client's next line to cb instead of the
	 * command parser.  The handler returns EHLOD_PENDING; cb then calls
	 * read_line again or host->resume() with the final verdict.  A line
	 * longer than the host's limit ends the exchange with 500. */
	int (*read_line)(ehlod_ctx *c, int code, const char *text,
	    ehlod_line_cb cb, void *arg);

	/* For the STARTTLS verb handler: once the reply it set (220) has been
	 * sent, discard every octet the client sent after the command
	 * (RFC 3207 section 6), run the TLS handshake with an SSL made from
	 * ssl_ctx (an OpenSSL SSL_CTX *), and on success put the session back
	 * in its initial state (EHLO needed again; TLS flag and items set).
	 * A failed handshake closes the connection.  Returns -1 when the host
	 * cannot do TLS. */
	int (*start_tls)(ehlod_ctx *c, void *ssl_ctx);

	/* For the BDAT verb handler (RFC 3030): the next size octets of input
	 * are message content.  The host reads them exactly, feeds them to
	 * the header/body hooks (the first chunk of a transaction also runs
	 * on_data), and answers the command itself: 250 for a chunk, and for
	 * the last chunk the end-of-message verdict.  A transaction that used
	 * BDAT refuses DATA with 503 and vice versa; after a failed chunk the
	 * rest are read and refused until the last.  Called after MAIL
	 * without an accepted recipient, or with no transaction, the host
	 * reads the size octets, drops them and answers 503, so that chunk
	 * data is never taken for commands (RFC 3030 clients send it
	 * whatever the reply).  The handler returns EHLOD_ACCEPT after this
	 * call; -1 means the host cannot read the chunk (not in ehlod). */
	int (*read_chunk)(ehlod_ctx *c, size_t size, int last);

	/* Helpers: the host's own grammar code, so that plugins agree with
	 * it.  They need no ctx and may be called from init. */

	/* RFC 3461 section 4 xtext.  decode writes at most outlen octets
	 * (NUL included) and returns the decoded length, or -1 for bad
	 * xtext or too small a buffer; encode likewise. */
	long (*xtext_decode)(const char *in, char *out, size_t outlen);
	long (*xtext_encode)(const char *in, char *out, size_t outlen);

	/* Split a mailbox "local@domain" at its last '@' that is outside a
	 * quoted local part: copies the local part to local (localsz
	 * octets) and returns the domain (a pointer into mailbox), or NULL
	 * when there is no domain or local does not fit. */
	const char *(*address_split)(const char *mailbox, char *local,
	    size_t localsz);

	/* 1 when domain is one of the host's local_domains. */
	int (*is_local_domain)(const char *domain);

	/* Split an RFC 3463 enhanced status code "C.S.D": returns 0 and the
	 * three numbers, or -1 when text is not one (class 2, 4 or 5, subject
	 * 0-999, detail 0-999). */
	int (*enhanced_split)(const char *text, int *cls, int *subject,
	    int *detail);

	/* 1 when s[0..len) is well-formed UTF-8 (RFC 3629); 1 when it has an
	 * octet >= 0x80. */
	int (*utf8_valid)(const char *s, size_t len);
	int (*has_8bit)(const char *s, size_t len);

	/* Since 1.1.  1 while the host only checks the configuration
	 * ("ehlod -t"): init should verify what it would create or change
	 * (folders, files, ownership) and leave it as it is.  1.0 hosts lack
	 * it: test with EHLOD_HOST_HAS(host, checking) first. */
	int (*checking)(void);

	/* Since 1.1.  Add n to counter number "counter" (an index into the
	 * descriptor's counters) of the calling instance; any ctx of the
	 * instance will do.  Shown live by "ehlod -s".  Does nothing in a
	 * host without counters (ehlod-milter, "ehlod -t") or for an index
	 * past the table.  1.0 hosts lack it: test with
	 * EHLOD_HOST_HAS(host, count) first. */
	void (*count)(ehlod_ctx *c, unsigned counter, unsigned long n);

	/* Since 1.2.  Copy up to len octets of the message as
	 * host->message_read() would feed it, starting offset octets in, to
	 * buf; returns the number copied, 0 at the end, -1 when there is no
	 * message (no EHLOD_HOST_MESSAGE, or outside the window below).  For
	 * a plugin that passes the message on bit by bit as its peer takes
	 * it (relay), so that no copy of a large message is held: the host
	 * keeps the body in its spool file.  From on_eom until the session's
	 * end-of-data reply; the octets do not change in that time.  1.1
	 * hosts lack it: test with EHLOD_HOST_HAS(host, message_pread). */
	long (*message_pread)(ehlod_ctx *c, void *buf, size_t len,
	    size_t offset);

	/* Since 1.3.  Where the host keeps the message's body in a file:
	 * returns a descriptor open for reading whose octets 0 to *len are
	 * the message's octets *offset to *offset + *len, as message_read()
	 * would feed them; the octets before and after are read with
	 * message_pread().  Returns -1, setting neither, when no part of
	 * the message is in a file (a small message, a host that keeps
	 * everything in memory) or outside message_pread's window.  The
	 * descriptor stays the host's and closes with the transaction: a
	 * plugin that reads it later, or from a thread of its own (threads
	 * may not call the host), reads a dup(2) of it made before the
	 * hook returns, with pread(2) only.  For a plugin that copies a
	 * large message in a thread (maildir), so that neither the copy
	 * nor the wait for the disk happens in the event loop.  1.2 hosts
	 * lack it: test with EHLOD_HOST_HAS(host, message_spool). */
	int (*message_spool)(ehlod_ctx *c, size_t *offset, size_t *len);

	/* Since 1.4.  message_pread() for the event loop: what the host
	 * has in memory is copied at once, as message_pread() does, but the
	 * spool file is read by a thread of the host's, ahead of the
	 * caller.  Octets not read yet give EHLOD_READ_AGAIN: the host has
	 * started reading them, and calls ready(arg) from the event loop
	 * (never from inside this call) once asking again, with the same
	 * offset, may find them; only the last call that gave
	 * EHLOD_READ_AGAIN is answered.  ready is not called after the
	 * session's end-of-data reply.  Otherwise as message_pread().  For
	 * a plugin that sends the message on from the loop (relay), so
	 * that a read of a spool page the kernel has let go does not stop
	 * every session of the worker.  1.3 hosts lack it: test with
	 * EHLOD_HOST_HAS(host, message_pread_nowait). */
	long (*message_pread_nowait)(ehlod_ctx *c, void *buf, size_t len,
	    size_t offset, void (*ready)(void *arg), void *arg);

	/* Since 1.5.  A watch of fd for the events asked
	 * (EHLOD_WATCH_READ/WRITE) that stays until host->cancel() or its
	 * owner's end (as watch()'s does): cb runs each time the loop finds
	 * fd ready, and may cancel the watch itself.  For a descriptor that
	 * is ready again and again, such as the eventfd a plugin's own
	 * threads wake the loop with: watch() would be set anew after each
	 * event, two epoll_ctl calls each time.  The plugin keeps fd open
	 * until it cancelled the watch.  1.4 hosts lack it: test with
	 * EHLOD_HOST_HAS(host, watch_persistent). */
	ehlod_event *(*watch_persistent)(ehlod_ctx *c, int fd, unsigned events,
	    ehlod_watch_cb cb, void *arg);
};

/* message_pread_nowait(): not read yet, ready() follows (since 1.4). */
#define EHLOD_READ_AGAIN (-2)

/* True when the host table has the named field (hosts of older minor
 * versions are shorter). */
#define EHLOD_HOST_HAS(host, field) \
	(offsetof(struct ehlod_host, field) < (host)->size)

/* A counter of the plugin's own, for operators (since 1.1): "ehlod -s"
 * shows it, summed over the workers, as a Prometheus counter
 * "ehlod_NAME{plugin="INSTANCE"} VALUE" with "# HELP ehlod_NAME HELP".
 * name: lower-case letters, digits and '_', at most 40 octets, ending in
 * "_total" (say "relay_hop_sessions_total"); help: one line.  The loader
 * refuses a plugin with a bad name or more than EHLOD_COUNTERS_MAX. */
struct ehlod_counter {
	const char *name;
	const char *help;
};

#define EHLOD_COUNTERS_MAX 8

/* The size of the buffer ehlo_params gets. (1.0) */
#define EHLOD_EHLO_PARAMS_MAX 512

/* Descriptor flags. (1.0) */
enum ehlod_plugin_flag {
	/*
	 * The hooks do useful work without the plugin's keyword, verbs and
	 * parameters, so the plugin makes sense inside a host MTA.
	 * Advisory: ehlod-milter loads every plugin, so that one config
	 * serves ehlod and ehlod-milter alike; "ehlod-milter -t" lists
	 * what each plugin runs and what is inert there, and warns about a
	 * plugin with a keyword, verbs or parameters that lacks this flag
	 * ("it may do nothing here").  ehlod ignores the flag.
	 */
	EHLOD_PLUGIN_MILTER_HOOKS = 1u << 0
};

/*
 * The descriptor.  Every field but the header and name may be zero.
 * All fields are (1.0).
 */
struct ehlod_plugin {
	uint16_t abi_major;	/* EHLOD_PLUGIN_HEADER fills these three */
	uint16_t abi_minor;
	uint32_t size;

	const char *name;	/* RFC 1869 3.1: the textual name */
	const char *version;
	const char *description;

	/* RFC 1869 3.2: the EHLO keyword, NULL for a hook-only plugin. */
	const char *ehlo_keyword;

	/* RFC 1869 3.3: write this session's keyword parameters into buf
	 * (buflen is EHLOD_EHLO_PARAMS_MAX; NUL-terminated, "" for none) and
	 * return 0, or return -1 to not offer the keyword in this session.
	 * NULL: offer it, no parameters. */
	int (*ehlo_params)(ehlod_ctx *c, char *buf, size_t buflen);

	/* RFC 1869 3.4 and 3.5: tables ended by an entry with a NULL name. */
	const struct ehlod_verb *verbs;
	const struct ehlod_param *mail_params;
	const struct ehlod_param *rcpt_params;

	/* RFC 1869 3.7: octets this extension may add to a MAIL or RCPT
	 * line; the host's line limit is 512 plus the sum over plugins. */
	unsigned line_increment;

	unsigned flags;		/* mask of enum ehlod_plugin_flag */

	/* Options (see struct ehlod_option) stored in an instance struct of
	 * instance_size octets, zeroed before the options are filled in. */
	const struct ehlod_option *options;
	size_t instance_size;

	/* Host-owned state: host->session_data(), host->txn_data(). */
	size_t session_data_size;
	size_t txn_data_size;
	void (*session_cleanup)(ehlod_ctx *c, void *data);
	void (*txn_cleanup)(ehlod_ctx *c, void *data);

	/* Called once per instance and process (see Processes above) with
	 * the instance ctx, after the options are in.  Return 0, or -1 after
	 * logging why with host->log(inst, ...).  fini undoes it. */
	int (*init)(const struct ehlod_host *host, ehlod_ctx *inst);
	void (*fini)(ehlod_ctx *inst);

	/* RFC 1869 3.6: hooks on each phase of the session, called in the
	 * config file's order of instances.  on_eom is the delivery step: a
	 * plugin that has stored or relayed the message answers ACCEPT, and
	 * the client gets 250 only when some plugin did (or DISCARD). */
	ehlod_verdict (*on_connect)(ehlod_ctx *c);
	ehlod_verdict (*on_helo)(ehlod_ctx *c, const char *domain);
	ehlod_verdict (*on_mail)(ehlod_ctx *c, const char *reverse_path);
	ehlod_verdict (*on_rcpt)(ehlod_ctx *c, const char *forward_path);
	ehlod_verdict (*on_data)(ehlod_ctx *c);
	ehlod_verdict (*on_header)(ehlod_ctx *c, const char *name,
	    const char *value);
	ehlod_verdict (*on_eoh)(ehlod_ctx *c);
	/* The body comes in chunks of at least 64 KiB, except the
	 * message's last and (BDAT) the end of each BDAT chunk: a message
	 * under 64 KiB is one call, however it was read. */
	ehlod_verdict (*on_body)(ehlod_ctx *c, const unsigned char *chunk,
	    size_t len);
	ehlod_verdict (*on_eom)(ehlod_ctx *c);
	void (*on_rset)(ehlod_ctx *c);	/* transaction abandoned */
	void (*on_close)(ehlod_ctx *c);	/* session ends; state still there */
	ehlod_verdict (*on_unknown)(ehlod_ctx *c, const char *line);

	/* How a transaction or the session ended (struct ehlod_report). */
	void (*on_report)(ehlod_ctx *c, const struct ehlod_report *r);

	/* Since 1.1.  For a plugin that provides TLS (starttls): return the
	 * OpenSSL SSL_CTX * its sessions use, or NULL.  Called with the
	 * instance ctx, after init, when a connection arrives on a listener
	 * with tls = "implicit" (RFC 8314): the host then runs the handshake
	 * before the greeting and the session counts as under TLS from the
	 * start.  A listener with tls = "none" leaves the instances that set
	 * this inactive.  A 1.0 host never calls it. */
	void *(*tls_context)(ehlod_ctx *inst);

	/* Since 1.1.  Counters this plugin keeps for operators (see struct
	 * ehlod_counter), ended by an entry with a NULL name; at most
	 * EHLOD_COUNTERS_MAX.  host->count adds to them by index.  NULL:
	 * none. */
	const struct ehlod_counter *counters;
};

#ifdef __cplusplus
}
#endif

#endif /* EHLOD_PLUGIN_H */
