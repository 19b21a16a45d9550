/*
 * NAME
 *	smtpd.h - the session model every core module shares: types only
 * DESCRIPTION
 *	The public-to-core part of the session: its structures and the
 *	worker's context.  Each module's functions are declared in the
 *	module's own header (session.h, smtp_state.h, chain.h, content.h,
 *	...); tools/include-graph checks those headers stay layered.
 *
 *	The session is an explicit state machine.  "state" is where the SMTP
 *	dialogue stands (RFC 5321 section 4.1.4 ordering); "mode" is how the
 *	next input octets are to be read (a command line, DATA content, a
 *	BDAT chunk, a line for a plugin's exchange).  Input is processed in
 *	order and only while no plugin hook is pending, which is what keeps
 *	pipelined commands (RFC 2920) answered in order.
 */
#ifndef EHLOD_CORE_SMTPD_H
#define EHLOD_CORE_SMTPD_H

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <ehlod/plugin.h>

#include "data.h"
#include "linereader.h"
#include "listener.h"
#include "loader.h"
#include "message.h"
#include "steps.h"

enum session_state {
	S_CONNECTED = 0,	/* greeted by us, no HELO/EHLO yet */
	S_GREETED,		/* HELO/EHLO done, no transaction */
	S_MAIL,			/* MAIL accepted */
	S_RCPT,			/* at least one RCPT accepted */
	S_DATA			/* reading message content */
};

enum input_mode {
	IN_COMMAND = 0,
	IN_DATA,		/* DATA content up to CRLF.CRLF */
	IN_CHUNK,		/* BDAT: a counted number of octets */
	IN_PLUGIN_LINE,		/* the next line belongs to a plugin */
	IN_WAIT			/* nothing is read until a step finishes */
};

struct kv {
	char *key;
	char *value;
	struct kv *next;
};

struct rcpt {
	char *address;
	struct kv *kv;
};

/* An instance's host-owned state (session_data_size, txn_data_size). */
struct plugin_slot {
	void *data;
};

struct ehlod_session;
typedef void (*chain_done_fn)(struct ehlod_session *s, ehlod_verdict v,
    struct plugin *decider);

/* A run of one hook over the plugins in order; survives a pending hook. */
struct chain {
	enum step step;
	size_t next;		/* index into the step's plugin array */
	const char *arg1;	/* the caller's strings; owned copies (in
				 * own1, own2) once a hook is pending */
	const char *arg2;
	char *own1;
	char *own2;
	struct plugin *only;	/* STEP_VERB: the verb's plugin */
	const unsigned char *data;
	size_t len;
	const struct ehlod_verb *verb;
	chain_done_fn done;
	int active;
};

/* Where a message's content stands: whether all of it has arrived, and
 * how far the header/body hooks have walked it (content.c). */
enum content_state {
	CONTENT_NONE = 0,	/* no DATA/BDAT content yet */
	CONTENT_HEADERS,	/* arriving; hooks on the headers */
	CONTENT_BODY,		/* arriving; hooks on the body */
	CONTENT_IN_HEADERS,	/* all in; hooks still on the headers */
	CONTENT_IN_BODY,	/* all in; hooks on the body */
	CONTENT_DONE		/* all in, and every hook has seen it */
};

struct pending_reply {
	int set;
	int code;
	char enhanced[16];
	char *text;
};

struct transaction {
	char id[24];
	char *mail_from;	/* mailbox, "" for the null path */
	struct rcpt *rcpts;
	size_t nrcpts;
	size_t rcpts_cap;
	struct kv *kv;
	struct kv *cand_kv;	/* values for the RCPT being decided */
	struct plugin_slot *slots;	/* per plugin */
	enum ehlod_outcome outcome;	/* for the report; 0: reset/aborted */
	struct plugin *outcome_by;
	struct message msg;
	struct data_reader reader;
	int uses_bdat;
	enum content_state content;
	/* CONTINUE; DISCARD (from MAIL on); or the first REJECT/TEMPFAIL
	 * of a content hook, sent when the content is complete.  Either of
	 * the last three drops the rest of the content. */
	ehlod_verdict data_verdict;
	struct pending_reply data_reply;
	struct plugin *reply_plugin;
	size_t chunk_left;	/* BDAT octets still to read */
	size_t chunk_size;
	int chunk_last;
	int chunks;		/* BDAT commands so far */
	int spool_held;		/* input waited for the spool writer */
};

struct ehlod_event;

/* Which limit the session's deadline (deadline.c) stands for. */
enum deadline_kind {
	DEADLINE_NONE = 0,	/* only the idle timeout */
	DEADLINE_LINE,		/* a command line must be complete */
	DEADLINE_CONTENT	/* DATA/BDAT content at a minimum rate */
};

struct ehlod_session {
	char id[16];
	struct bufferevent *bev;
	struct linereader lr;
	enum session_state state;
	enum input_mode mode;
	int closing;		/* close once output is flushed */
	int tls_switch;		/* start TLS once the reply is flushed */
	int tls_on_connect;	/* implicit TLS: greet once it is up */
	const char *limit_reply;	/* over a limit: the 421 text, sent
					 * once implicit TLS is up */
	const struct listener *listener;	/* whose policy applies */
	void *ssl_ctx;

	char client_addr[64];
	char client_port[8];
	char xforward_peer[64];	/* the proxy, once XFORWARD named another */
	char local_addr[64];
	char local_port[8];
	char *helo;
	char *items[EHLOD_ITEM_COUNT_];	/* plugin-settable items */
	int flags[EHLOD_FLAG_COUNT_];
	unsigned char *offered;		/* per plugin: keyword offered */
	int ehlo_done;

	struct plugin_set *plugins;	/* the set it started with */
	struct ehlod_ctx *ctx;		/* per instance: what its hooks get */
	struct plugin_slot *slots;	/* per plugin, session scope */
	struct transaction txn;
	enum ehlod_outcome end_reason;	/* for the report; 0: disconnect */
	int ending;			/* a transaction now is aborted */
	int last_code;			/* the last reply sent, for reports */
	char last_enhanced[16];
	char *last_text;

	struct pending_reply reply;	/* set by host->reply() */
	struct plugin *reply_by;	/* whose it is (chain.c keeps it
					 * only for the deciding plugin) */
	struct plugin *current;		/* plugin being called */
	int walking;			/* a chain is calling its plugins */
	struct plugin *pending;		/* plugin whose hook is pending */
	struct chain chain;
	struct event *resume_ev;	/* pending.c */
	const struct pending_ops *pend_ops;
	struct event *pending_timer;	/* bounds a pending hook */
	ehlod_verdict resume_verdict;

	ehlod_line_cb line_cb;		/* IN_PLUGIN_LINE */
	void *line_arg;

	struct ehlod_event *events;	/* plugins' timers and watches */
	int pumping;		/* inside content_pump() */
	int in_process;		/* inside session_process() */
	int refused;		/* greeting refused: only QUIT is served */
	int resume_scheduled;
	int read_held;		/* EV_READ off until the output drains */
	int anvil_counted;	/* counted in the limits table */
	int greet_wait;		/* greet_pause running: input is early talk */
	struct event *greet_ev;
	struct event *spool_stall_ev;	/* bounds a wait for the spool
					 * writer (content.c), made at the
					 * first one */
	enum deadline_kind deadline_kind;
	long deadline;		/* seconds, the event base's clock */
	long timeouts_rd, timeouts_wr;	/* as last set (deadline.c) */
	int timeouts_known;	/* ... and set on this bufferevent */
	size_t in_left;		/* input octets left after the last pass */
	char last_verb[16];	/* for "timeout after VERB" */
	unsigned ncommands;
	unsigned errors;
	unsigned messages;
	unsigned mails, rcpts;	/* MAIL and RCPT accepted, for the
				 * disconnect line */
	struct ehlod_session *prev, *next;	/* the worker's list */
};

/* How a worker is winding down. */
enum drain {
	DRAIN_NONE = 0,
	DRAIN_RELOAD,	/* not accepting; sessions end by themselves */
	DRAIN_STOP	/* 421 to every session between transactions */
};

/* The worker's context, one per process. */
struct server {
	struct config *conf;
	struct plugin_set *plugins;
	struct event_base *base;
	struct ehlod_session *sessions;
	size_t nsessions;
	size_t tls_refusals;	/* over-limit sessions in their TLS
				 * handshake, to be told 421 (session.c) */
	enum drain draining;
	const struct listener *accepting;	/* of the connection being
						 * accepted now */
};

/* Whether instance p is active on the session's listener (a listener's
 * plugins = { } subset); every hook, keyword, verb and parameter lookup
 * asks this. */
#define PLUGIN_ACTIVE(s, p) ((s)->listener == NULL || \
	(s)->listener->enabled == NULL || (s)->listener->enabled[(p)->index])

extern struct server *server;

/* The ctx instance p gets in session s. */
#define CTX(s, p) (&(s)->ctx[(p)->index])

#endif
