/*
 * NAME
 *	session.h - one SMTP session: its state, transaction and I/O
 * DESCRIPTION
 *	The session is an explicit state machine.  "state" is where the SMTP
 *	dialogue stands (RFC 5321 section 4.1.4 ordering); "mode" is how the
 *	next input octets are to be read (a command line, DATA content, a
 *	BDAT chunk, a line for a plugin's exchange).  Input is processed in
 *	order and only while no plugin hook is pending, which is what keeps
 *	pipelined commands (RFC 2920) answered in order.
 */
#ifndef EHLOD_CORE_SESSION_H
#define EHLOD_CORE_SESSION_H

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <ehlod/plugin.h>

#include "data.h"
#include "listener.h"
#include "linereader.h"
#include "loader.h"
#include "message.h"

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

/* The hook steps, in session order. */
enum step {
	STEP_CONNECT = 0, STEP_HELO, STEP_MAIL, STEP_RCPT, STEP_DATA,
	STEP_HEADER, STEP_EOH, STEP_BODY, STEP_EOM, STEP_UNKNOWN, STEP_VERB,
	STEP_COUNT_
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
	size_t next;		/* index of the plugin to ask next */
	char *arg1;		/* owned copies of the hook's arguments */
	char *arg2;
	unsigned char *data;
	size_t len;
	const struct ehlod_verb *verb;
	chain_done_fn done;
	int active;
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
	int data_failed;	/* a header/body hook refused */
	int data_discard;
	ehlod_verdict data_verdict;	/* the refusal to send at the end */
	struct pending_reply data_reply;
	struct plugin *reply_plugin;
	int hooks_done;		/* header/body/eoh hooks finished */
	int in_headers;
	int content_complete;	/* the last octet of content is in */
	size_t chunk_left;	/* BDAT octets still to read */
	size_t chunk_size;
	int chunk_last;
	int chunks;		/* BDAT commands so far */
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

	struct ehlod_ctx *ctx;		/* per instance: what its hooks get */
	struct plugin_slot *slots;	/* per plugin, session scope */
	struct transaction txn;
	enum ehlod_outcome end_reason;	/* for the report; 0: disconnect */
	int ending;			/* a transaction now is aborted */
	int last_code;			/* the last reply sent, for reports */
	char last_enhanced[16];
	char *last_text;

	struct pending_reply reply;	/* set by host->reply() */
	struct plugin *current;		/* plugin being called */
	struct plugin *pending;		/* plugin whose hook is pending */
	struct chain chain;
	struct event *resume_ev;
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
	enum deadline_kind deadline_kind;
	long deadline;		/* seconds, the event base's clock */
	size_t in_left;		/* input octets left after the last pass */
	char last_verb[16];	/* for "timeout after VERB" */
	unsigned ncommands;
	unsigned errors;
	unsigned messages;
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

struct ehlod_session *session_new(struct bufferevent *bev,
    const struct sockaddr *peer, socklen_t peerlen);
/* The same behind a proxy: client (the PROXY header's source address, or
 * NULL for the peer) becomes the session's client address. */
struct ehlod_session *session_new_via(struct bufferevent *bev,
    const struct sockaddr *peer, socklen_t peerlen,
    const struct sockaddr *client, socklen_t clientlen);
/* A session with no connection, for ehlod -t (EHLO parameters). */
struct ehlod_session *session_detached(void);
void session_free(struct ehlod_session *s);
void session_process(struct ehlod_session *s);
/* SIGTERM: send 421 to a session that is between transactions. */
void session_shutdown(struct ehlod_session *s);

/* Replies (reply.c). */
void session_reply(struct ehlod_session *s, int code, const char *enhanced,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void session_reply_text(struct ehlod_session *s, int code, const char *enhanced,
    const char *text);
void session_log_reject(struct ehlod_session *s, const char *verb,
    const char *rcpt, int code, const char *enhanced, const char *text,
    const char *plugin);
/* Send the reply a plugin set for its verdict, or the default. */
void session_reply_verdict(struct ehlod_session *s, ehlod_verdict v,
    struct plugin *decider, int def_code, const char *def_enhanced,
    const char *def_text, const char *what, const char *rcpt);
void pending_reply_clear(struct pending_reply *r);
int session_offers_enhanced(const struct ehlod_session *s);

/* Hook chains (hooks.c). */
void chain_start(struct ehlod_session *s, enum step step, const char *arg1,
    const char *arg2, const void *data, size_t len, chain_done_fn done);
void chain_start_verb(struct ehlod_session *s, struct plugin *p,
    const struct ehlod_verb *verb, const char *args, chain_done_fn done);
void chain_resume(struct ehlod_session *s, ehlod_verdict v);
void chain_clear(struct chain *c);
void session_call_void_hook(struct ehlod_session *s, int which);
enum { STEP_RSET_HOOK = 100, STEP_CLOSE_HOOK };

/* Commands (commands.c). */
void command_dispatch(struct ehlod_session *s, char *line, size_t len);
void session_count_error(struct ehlod_session *s);

/* deadline.c: whole-line and minimum-rate content deadlines. */
void deadline_after_input(struct ehlod_session *s, size_t got, size_t left);
void deadline_content_begin(struct ehlod_session *s);
void deadline_content_end(struct ehlod_session *s);
void session_reset_transaction(struct ehlod_session *s, int call_rset_hook);
const char *session_protocol(const struct ehlod_session *s);

/* DATA and BDAT (content.c). */
void content_begin(struct ehlod_session *s, int bdat);
int content_read(struct ehlod_session *s);
void content_pump(struct ehlod_session *s);
int content_read_chunk(struct ehlod_session *s);
void content_bdat_data(struct ehlod_session *s);

/* Transactions (txn.c). */
void txn_init(struct ehlod_session *s);
void txn_free(struct ehlod_session *s);
int kv_set(struct kv **list, const char *key, const char *value);
const char *kv_get(const struct kv *list, const char *key);
void kv_free(struct kv **list);
int txn_add_rcpt(struct ehlod_session *s, const char *address);
/* Per-instance ctx and session state of a new session; and their end. */
int session_ctx_init(struct ehlod_session *s);
void session_ctx_free(struct ehlod_session *s);
/* The ctx instance p gets in session s. */
#define CTX(s, p) (&(s)->ctx[(p)->index])

/* Outcome reports (report.c): every instance's on_report. */
void report_txn(struct ehlod_session *s);
void report_session(struct ehlod_session *s);

/* Timers (hostapi.c). */
void session_cancel_timers(struct ehlod_session *s);
const struct ehlod_host *host_table(void);

#endif
