/*
 * NAME
 *	ehlod/plugin.h - the ehlod plugin ABI
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
 *	increment), the plugin's configuration options, and its hooks.
 *
 *	The plugin never links against the program that loads it.  Its init
 *	function receives a table of host functions (struct ehlod_host); every
 *	service the plugin needs -- replies, logging, session data, header
 *	changes, timers, resuming a pending hook -- comes through that table.
 *	The same .so therefore runs inside ehlod and inside ehlod-milter.
 *
 *	Compatibility: the loader refuses a plugin whose abi_major differs from
 *	its own, or whose abi_minor is newer.  Fields are only ever appended to
 *	the structures below; a plugin built against an older minor version
 *	sees the newer fields as zero.  Build plugins with
 *	-fvisibility=hidden so that only the descriptor is exported.
 */
#ifndef EHLOD_PLUGIN_H
#define EHLOD_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include <syslog.h>
#include <confuse.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EHLOD_ABI_MAJOR 1
#define EHLOD_ABI_MINOR 0

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

/* One SMTP session, as the host sees it.  Opaque to plugins. */
typedef struct ehlod_session ehlod_session;

/* A timer made with host->timer_add().  Opaque to plugins. */
typedef struct ehlod_timer ehlod_timer;

/* libevent's loop, for plugins that do their own asynchronous I/O. */
struct event_base;

/*
 * What a hook answers.  The reply that goes with a verdict is set with
 * host->reply() before returning; without one the host uses a default
 * that fits the step (for instance 550 5.7.1 for a rejected recipient).
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
 * sent in any other state is answered 503 by the host. */
enum ehlod_state {
	EHLOD_STATE_CONNECTED = 1u << 0,	/* before HELO/EHLO */
	EHLOD_STATE_GREETED = 1u << 1,		/* after HELO/EHLO, no transaction */
	EHLOD_STATE_MAIL = 1u << 2,		/* MAIL accepted, no recipient yet */
	EHLOD_STATE_RCPT = 1u << 3,		/* at least one recipient accepted */
	EHLOD_STATE_ANY = 0xfu
};

/* Verb flags. */
enum ehlod_verb_flag {
	EHLOD_VERB_NEEDS_ARG = 1u << 0,	/* no argument: 501 */
	EHLOD_VERB_NO_ARG = 1u << 1,	/* an argument: 501 */
	EHLOD_VERB_ALWAYS = 1u << 2	/* allowed even when the plugin's EHLO
					 * keyword was not offered (HELO
					 * sessions, hidden keyword) */
};

/*
 * A new SMTP verb (RFC 1869 section 3, item 4).  Verbs are matched
 * case-insensitively.  The handler is called with the text after the verb
 * and one space ("" when there is none).  It sets its reply with
 * host->reply(); ACCEPT and CONTINUE send that reply (250 2.0.0 OK when
 * none was set), REJECT and TEMPFAIL send it as the failure, PENDING waits
 * for host->resume().
 */
struct ehlod_verb {
	const char *name;
	unsigned states;	/* mask of enum ehlod_state */
	unsigned flags;		/* mask of enum ehlod_verb_flag */
	ehlod_verdict (*handler)(ehlod_session *s, const char *args);
};

/* Whether a MAIL/RCPT parameter takes "=value". */
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
 * gets value NULL when none was given.  It answers CONTINUE when the value
 * is good, or REJECT/TEMPFAIL with a reply (for instance 501 for a bad
 * value, 552 for SIZE over the limit, 455 when it cannot be honoured now).
 * Handlers run in the order the parameters appear, before the mail/rcpt
 * hooks.  PENDING is not allowed here.
 */
struct ehlod_param {
	const char *keyword;
	enum ehlod_param_value value;
	ehlod_verdict (*handler)(ehlod_session *s, const char *keyword,
	    const char *value);
};

/* Strings the host knows about a session: host->get(). */
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
	EHLOD_ITEM_USER,		/* s may be NULL: the user the server runs as */
	EHLOD_ITEM_COUNT_
};

/* Yes/no facts about a session: host->flag(), host->set_flag(). */
enum ehlod_flag {
	EHLOD_FLAG_ESMTP = 0,	/* the client greeted with EHLO */
	EHLOD_FLAG_TLS,		/* the connection is encrypted */
	EHLOD_FLAG_AUTH,	/* settable: the client authenticated */
	EHLOD_FLAG_RELAY,	/* settable: the client may send to any domain */
	EHLOD_FLAG_8BITMIME,	/* settable: this transaction is BODY=8BITMIME */
	EHLOD_FLAG_SMTPUTF8,	/* settable: this transaction is SMTPUTF8 */
	EHLOD_FLAG_COUNT_
};

/* host->features: what this host can do. */
enum ehlod_host_feature {
	EHLOD_HOST_SMTP = 1u << 0,	/* keywords, verbs and parameters are
					 * live (ehlod); not in a milter */
	EHLOD_HOST_MESSAGE = 1u << 1	/* host->message_read() works */
};

/* Callback for host->message_read(): returns 0 to go on, -1 to stop. */
typedef int (*ehlod_sink)(void *arg, const void *data, size_t len);

/* Callback for host->timer_add(). */
typedef void (*ehlod_timer_cb)(ehlod_session *s, void *arg);

/* Callback for host->read_line(): the client's next line, without CRLF. */
typedef void (*ehlod_line_cb)(ehlod_session *s, void *arg, const char *line);

/*
 * The host's functions, handed to the plugin's init.  "s" is the session the
 * call is about; functions that accept s == NULL say so.  Data accessors
 * (session_data, txn_data) are per plugin: the host knows which plugin is
 * calling because it only ever calls a plugin through a hook, a verb or
 * parameter handler, or a timer the plugin set.
 */
struct ehlod_host {
	uint16_t abi_major;
	uint16_t abi_minor;
	uint32_t size;		/* sizeof(struct ehlod_host) of the host */
	const char *name;	/* "ehlod" or "ehlod-milter" */
	unsigned features;	/* mask of enum ehlod_host_feature */

	/* Log one line at a syslog priority (LOG_ERR ... LOG_DEBUG), prefixed
	 * with the session id and the plugin name.  s may be NULL. */
	void (*log)(ehlod_session *s, int priority, const char *fmt, ...)
	    EHLOD_PRINTF(3, 4);

	/* Set the reply that goes with the verdict the current hook returns
	 * (or passes to resume).  code is a three-digit SMTP code, enhanced an
	 * RFC 3463 code such as "5.7.1" or NULL.  Lines of a multi-line reply
	 * are separated by '\n' in the text.  The host sends the enhanced code
	 * only when the session offered ENHANCEDSTATUSCODES. */
	void (*reply)(ehlod_session *s, int code, const char *enhanced,
	    const char *fmt, ...) EHLOD_PRINTF(4, 5);

	/* Facts about the session; the strings stay valid until they change
	 * or the session ends. */
	const char *(*get)(ehlod_session *s, enum ehlod_item item);
	int (*set)(ehlod_session *s, enum ehlod_item item, const char *value);
	int (*flag)(ehlod_session *s, enum ehlod_flag flag);
	int (*set_flag)(ehlod_session *s, enum ehlod_flag flag, int on);

	/* 1 when the EHLO keyword was offered in this session's last EHLO. */
	int (*offered)(ehlod_session *s, const char *keyword);

	/* The calling plugin's private data for the session (freed with
	 * free_fn when the session ends) and for the transaction (freed when
	 * it ends: delivery, RSET, a new EHLO, the session's end). */
	void *(*session_data)(ehlod_session *s);
	void (*set_session_data)(ehlod_session *s, void *data,
	    void (*free_fn)(void *));
	void *(*txn_data)(ehlod_session *s);
	void (*set_txn_data)(ehlod_session *s, void *data,
	    void (*free_fn)(void *));

	/* Envelope values shared between plugins ("dsn.ret", "size"),
	 * for the transaction and per recipient (index in acceptance order).
	 * The host copies the strings; value NULL removes the key. */
	int (*txn_set)(ehlod_session *s, const char *key, const char *value);
	const char *(*txn_get)(ehlod_session *s, const char *key);
	size_t (*rcpt_count)(ehlod_session *s);
	const char *(*rcpt_address)(ehlod_session *s, size_t index);
	int (*rcpt_set)(ehlod_session *s, size_t index, const char *key,
	    const char *value);
	const char *(*rcpt_get)(ehlod_session *s, size_t index,
	    const char *key);

	/* Header changes, applied to the message as delivered.  add_header
	 * appends after the last header; insert_header puts the header at
	 * position index (0 = first); change_header replaces the index'th
	 * (1-based) header called name, or deletes it when value is NULL. */
	int (*add_header)(ehlod_session *s, const char *name,
	    const char *value);
	int (*insert_header)(ehlod_session *s, size_t index, const char *name,
	    const char *value);
	int (*change_header)(ehlod_session *s, const char *name, size_t index,
	    const char *value);

	/* Feed the message as it will be delivered -- the host's Received
	 * header, the headers with all changes applied, the body -- to sink,
	 * with CRLF line ends and no dot-stuffing.  Only in on_eom.  Returns 0,
	 * or -1 when the sink stopped or the host has no message
	 * (no EHLOD_HOST_MESSAGE). */
	int (*message_read)(ehlod_session *s, ehlod_sink sink, void *arg);
	size_t (*message_size)(ehlod_session *s);

	/* A one-shot timer on the host's event loop.  It is cancelled by the
	 * host when the session ends. */
	ehlod_timer *(*timer_add)(ehlod_session *s, unsigned msec,
	    ehlod_timer_cb cb, void *arg);
	void (*timer_cancel)(ehlod_timer *t);

	/* Finish a hook that returned EHLOD_PENDING, as if it had returned v
	 * (with the reply set by host->reply() before this call).  Call it
	 * once, from a timer or other host callback, not from the hook. */
	void (*resume)(ehlod_session *s, ehlod_verdict v);

	/* The host's libevent loop, for a plugin's own sockets (a relay's
	 * next hop, a DNS resolver).  Callbacks a plugin registers on it run
	 * outside any hook: in them, session_data/txn_data/reply act for the
	 * plugin that is pending on the session.  NULL in hosts without one. */
	struct event_base *(*event_base)(void);

	/* For a verb handler (AUTH): send "code text" now as an intermediate
	 * reply (334) and hand the client's next line to cb instead of the
	 * command parser.  The handler returns EHLOD_PENDING; cb then calls
	 * read_line again or host->resume() with the final verdict.  A line
	 * longer than the host's limit ends the exchange with 500. */
	int (*read_line)(ehlod_session *s, int code, const char *text,
	    ehlod_line_cb cb, void *arg);

	/* For the STARTTLS verb handler: once the reply it set (220) has been
	 * sent, discard every octet the client sent after the command
	 * (RFC 3207 section 6), run the TLS handshake with an SSL made from
	 * ssl_ctx (an OpenSSL SSL_CTX *), and on success put the session back
	 * in its initial state (EHLO needed again; TLS flag and items set).
	 * A failed handshake closes the connection.  Returns -1 when the host
	 * cannot do TLS. */
	int (*start_tls)(ehlod_session *s, void *ssl_ctx);

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
	int (*read_chunk)(ehlod_session *s, size_t size, int last);
};

/* True when the host table has the named field (hosts of older minor
 * versions are shorter). */
#define EHLOD_HOST_HAS(host, field) \
	(offsetof(struct ehlod_host, field) < (host)->size)

/* Any reply with code 421 closes the session after it has been sent
 * (RFC 5321 section 3.8). */

/* Descriptor flags. */
enum ehlod_plugin_flag {
	/* The hooks do useful work without the plugin's keyword, verbs and
	 * parameters, so the plugin makes sense inside a host MTA through
	 * ehlod-milter. */
	EHLOD_PLUGIN_MILTER_HOOKS = 1u << 0
};

/*
 * The descriptor.  Every field but the header and name may be zero.
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
	 * (NUL-terminated, "" for none) and return 0, or return -1 to not
	 * offer the keyword in this session.  NULL: offer it, no parameters. */
	int (*ehlo_params)(ehlod_session *s, char *buf, size_t buflen);

	/* RFC 1869 3.4 and 3.5: tables ended by an entry with a NULL name. */
	const struct ehlod_verb *verbs;
	const struct ehlod_param *mail_params;
	const struct ehlod_param *rcpt_params;

	/* RFC 1869 3.7: octets this extension may add to a MAIL or RCPT
	 * line; the host's line limit is 512 plus the sum over plugins. */
	unsigned line_increment;

	/* Configuration: libconfuse options of the plugin's section
	 * "plugin NAME { ... }", ended by CFG_END().  The host validates them
	 * together with its own. */
	cfg_opt_t *options;

	unsigned flags;		/* mask of enum ehlod_plugin_flag */

	/* Called once after loading, with the plugin's parsed section.
	 * Return 0, or -1 after logging why (host->log with s NULL). */
	int (*init)(const struct ehlod_host *host, cfg_t *section);
	void (*fini)(void);

	/* RFC 1869 3.6: hooks on each phase of the session, called in the
	 * config file's order of plugins.  on_eom is the delivery step: a
	 * plugin that has stored or relayed the message answers ACCEPT, and
	 * the client gets 250 only when some plugin did (or DISCARD). */
	ehlod_verdict (*on_connect)(ehlod_session *s);
	ehlod_verdict (*on_helo)(ehlod_session *s, const char *domain);
	ehlod_verdict (*on_mail)(ehlod_session *s, const char *reverse_path);
	ehlod_verdict (*on_rcpt)(ehlod_session *s, const char *forward_path);
	ehlod_verdict (*on_data)(ehlod_session *s);
	ehlod_verdict (*on_header)(ehlod_session *s, const char *name,
	    const char *value);
	ehlod_verdict (*on_eoh)(ehlod_session *s);
	ehlod_verdict (*on_body)(ehlod_session *s, const unsigned char *chunk,
	    size_t len);
	ehlod_verdict (*on_eom)(ehlod_session *s);
	void (*on_rset)(ehlod_session *s);	/* transaction abandoned */
	void (*on_close)(ehlod_session *s);
	ehlod_verdict (*on_unknown)(ehlod_session *s, const char *line);
};

#ifdef __cplusplus
}
#endif

#endif /* EHLOD_PLUGIN_H */
