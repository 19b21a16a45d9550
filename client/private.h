/*
 * NAME
 *	private.h - the client library's one private header
 * DESCRIPTION
 *	The client (ehlod/client.h) is built in layers, each in its own
 *	file, the way Dovecot's lib-smtp client is:
 *
 *	  connection.c	connecting, the greeting, EHLO with the RFC 1869
 *			HELO fall-backs and the one reconnect, STARTTLS
 *			(client_starttls.c) and AUTH (login.c), QUIT, the
 *			end of a connection;
 *	  command.c	the command queue: every command waits there for its
 *			reply (or replies), and is sent at once or behind the
 *			earlier ones as PIPELINING allows;
 *	  transaction.c	the one transaction state machine: MAIL, RCPT, DATA
 *			or BDAT, RSET, each answered through a callback;
 *	  client_session.c
 *			the public step-by-step API over transaction.c;
 *	  job.c		the public whole-job API, a driver over
 *			transaction.c (pipelining what it may);
 *	  result.c	the transcript, the job's result and the reply
 *			conversions they share;
 *	  client.c	the object itself: options, server address, lifetime.
 *
 *	Everything here is internal; nothing in it is exported.
 */
#ifndef EHLOD_CLIENT_PRIVATE_H
#define EHLOD_CLIENT_PRIVATE_H

#include <stddef.h>

#include <event2/util.h>
#include <openssl/ssl.h>

#include "ehlod/client.h"
#include "ehlo_table.h"
#include "../core/linereader.h"
#include "reply_parser.h"
#include "xmalloc.h"
#include "client_message.h"

#define CMD_LINE_MAX 2048	/* MAIL/RCPT with every parameter */
#define QUIT_TIMEOUT_SEC 10

/* The sizes of the caller's structures in 1.0 (client.h, "ABI"): the
 * least a caller's size field may say.  They stay these numbers when a
 * later version appends fields (write them out then). */
#define OPTS_SIZE_1_0 offsetof(struct ehlod_client_opts, dns)
#define JOB_SIZE_1_0 sizeof(struct ehlod_client_job)
#define MAIL_SIZE_1_0 sizeof(struct ehlod_client_mail)
#define XFORWARD_SIZE_1_0 sizeof(struct ehlod_client_xforward)

/* Copy a caller's structure (its size first) into the library's own, the
 * fields beyond the caller's size 0; -1 when its size is below min. */
int client_copy_sized(void *dst, size_t dst_size, const void *src,
    size_t min);

struct client_auth;
struct bufferevent;
struct evdns_base;
struct evbuffer;
struct event;

/* Where the connection is.  The handshake's commands (EHLO, STARTTLS,
 * AUTH ...) wait in the command queue like the transaction's; the state
 * says which layer owns the replies. */
enum conn_state {
	CONN_IDLE = 0,		/* nothing started */
	CONN_CONNECTING,
	CONN_HANDSHAKE,		/* greeting, EHLO/HELO, STARTTLS, AUTH */
	CONN_TLS,		/* TLS handshake running */
	CONN_READY,		/* transactions may run */
	CONN_QUIT,		/* QUIT sent */
	CONN_DONE
};

/* When a command may go out (command.c). */
enum cmd_pipe {
	CMD_ALONE = 0,		/* only when nothing is waiting for a reply */
	CMD_PIPE,		/* behind other CMD_PIPE commands (RFC 2920) */
	CMD_LAST		/* may end a pipelined group: DATA */
};

struct cmd;
typedef void (*cmd_reply_fn)(struct ehlod_client *c, struct cmd *cmd,
    const struct smtp_reply *r);

/* One command in the queue (command.c).  line NULL: no command line,
 * only a reply awaited (the greeting) or only octets to send (the
 * message after 354). */
struct cmd {
	struct cmd *next;
	char *line;
	char *shown;		/* in the transcript instead of line */
	char *addr;		/* RCPT: the recipient */
	const char *name;	/* the step, for errors: "EHLO", "RCPT", ... */
	const char *data;	/* octets sent after the line (not copied) */
	size_t data_len;
	char *data_owned;	/* data, when the command owns it: handed to
				 * the output buffer when sent, else freed */
	struct cmd_stream *stream;	/* instead of data: pulled from the
				 * caller as it goes (client_stream.c) */
	int pipeline;		/* enum cmd_pipe: when it may go out */
	int sent;
	unsigned replies;	/* replies still expected */
	cmd_reply_fn on_reply;
	/* for the transaction's commands */
	ehlod_client_step_cb cb;
	void *arg;
};

#define XF_ATTRS 6		/* XFORWARD attributes sent (client_xforward.c) */

/* The transaction (transaction.c). */
struct txn {
	int bdat;		/* the message goes with BDAT */
	int binary;		/* BODY=BINARYMIME: octets as they are */
	char **acc;		/* recipients accepted, in order */
	size_t nacc, cap;
	struct client_message msg;
	struct cmd_stream *stream;	/* measured, waiting for DATA's 354 */
	struct ehlod_client_rcpt *lmtp;	/* LMTP: a reply per recipient */
	size_t nlmtp, lmtp_seen;
	/* XFORWARD lines still to send before MAIL, then MAIL itself */
	char *xf_lines[XF_ATTRS];
	size_t xf_n, xf_next;
	char *xf_mail;
};

/* The whole-job driver (job.c). */
struct job_state {
	const struct ehlod_client_job *job;	/* &copy, or NULL: a probe */
	struct ehlod_client_job copy;
	int probe;
	int pipelining;
	int mail_ok;
	size_t next_rcpt;	/* without pipelining: the next RCPT to send */
	size_t waiting;		/* steps sent and not yet answered */
	size_t accepted;
	size_t *acc_idx;	/* job index of each accepted recipient */
	char **orcpt;		/* "rfc822;xtext" per recipient, or NULL */
	struct ehlod_client_rcpt *rcpts;
};

struct ehlod_client {
	struct event_base *base;
	int own_base;
	struct evdns_base *dns;	/* the caller's (opts.dns) or our own */
	int own_dns;
	struct event *done_ev;
	ehlod_client_cb cb;
	void *cb_arg;

	/* where and how */
	char *host;		/* NULL for unix sockets */
	char *unix_path;
	int port;
	struct ehlod_client_opts o;
	char *helo_name;
	int need_8bit, need_utf8, need_binary;	/* what the mail needs */

	/* the connection (connection.c) */
	enum conn_state st;
	void (*on_ready)(struct ehlod_client *c);	/* job or session */
	struct bufferevent *bev;
	SSL_CTX *ssl_ctx;
	struct linereader lr;
	struct reply_parser rp;
	int closing;		/* 421 seen or fatal: no QUIT */
	int ehlo_refused;	/* this connection: EHLO got an error */
	int last_was_ehlo;	/* the last reply was the one to EHLO */
	int force_helo;		/* reconnected after a close: HELO only */
	int tls_tried;		/* STARTTLS refused (its code): go on in
				 * the clear */
	struct ehlo_table ext;
	char *greeting;
	struct client_auth *auth;

	/* the command queue (command.c) */
	struct cmd *q_head, *q_tail;
	int pipelining;		/* this session pipelines (RFC 2920) */

	struct txn txn;
	struct job_state j;

	/* XFORWARD attributes (client_xforward.c), by XF_ATTRS index */
	char *xf[XF_ATTRS];
	int xf_set;

	/* the outcome (result.c) */
	struct ehlod_client_result res;
	int failed;		/* res holds a failure */
	int notified;
	struct evbuffer *transcript;
	int transcript_full;
	char *transcript_str;	/* the last copy handed out */

	/* the session API (client_session.c) */
	int session;
	int opening;		/* ehlod_client_open waits for "open" */
	int free_when_done;	/* ehlod_client_close: free after QUIT */
	ehlod_client_step_cb step_cb;
	void *step_arg;
	int data_open;		/* ehlod_client_data_begin, no end yet */
	struct event *step_ev;
	struct event *stream_ev;	/* client_stream_start's kick */
	struct ehlod_client_reply sr;	/* the reply handed to step_cb */
};

/* result.c */
void note(struct ehlod_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void note_prefixed(struct ehlod_client *c, const char *prefix,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void set_str(const char **field, const char *value);
enum ehlod_client_status status_of(int code);
void reply_parts(struct ehlod_client *c, const struct smtp_reply *r,
    char *enh, size_t enhlen, char *text, size_t textlen);
void fail(struct ehlod_client *c, enum ehlod_client_status status,
    enum ehlod_client_reason reason, const char *step,
    const struct smtp_reply *r, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
void fail_forget(struct ehlod_client *c);
void fail_reply(struct ehlod_client *c, const char *step,
    const struct smtp_reply *r);
void fail_from(struct ehlod_client *c, const struct ehlod_client_reply *r);
void rcpt_clear(struct ehlod_client_rcpt *rc);
void rcpt_from(struct ehlod_client_rcpt *rc, const struct ehlod_client_reply *r);
void rcpt_copy(struct ehlod_client_rcpt *rc,
    const struct ehlod_client_rcpt *from);
const char *shown(const char *s, char *buf, size_t len);

/* connection.c */
void conn_done_fire(evutil_socket_t fd, short what, void *arg);
int conn_start(struct ehlod_client *c, void (*on_ready)(struct ehlod_client *));
void conn_finish(struct ehlod_client *c);
void conn_done(struct ehlod_client *c);
void conn_close(struct ehlod_client *c);
void conn_proceed(struct ehlod_client *c);
void conn_send_hello(struct ehlod_client *c);
void conn_set_timeouts(struct ehlod_client *c, struct bufferevent *bev);
void conn_idle_timeouts(struct ehlod_client *c);
void conn_read_cb(struct bufferevent *bev, void *arg);
void conn_write_cb(struct bufferevent *bev, void *arg);
void conn_event_cb(struct bufferevent *bev, short what, void *arg);

/* client_stream.c: open starts the measuring read, which goes on from
 * the loop (client_stream_start) and ends in txn_stream_measured. */
struct cmd_stream;
struct cmd_stream *client_stream_open(enum message_form form,
    ehlod_client_read_cb read, void *arg, ehlod_client_step_cb cb,
    void *cbarg);
ehlod_client_step_cb client_stream_step(const struct cmd_stream *st,
    void **cbarg);
size_t client_stream_size(const struct cmd_stream *st);
int client_stream_has_8bit(const struct cmd_stream *st);
void client_stream_free(struct cmd_stream *st);
void client_stream_start(struct ehlod_client *c);
void client_stream_more(struct ehlod_client *c);
void client_stream_fire(evutil_socket_t fd, short what, void *arg);
void client_stream_watch(struct bufferevent *bev);

/* client_starttls.c */
void tls_send_starttls(struct ehlod_client *c);
void tls_established(struct ehlod_client *c);
void tls_handshake_failed(struct ehlod_client *c);
void tls_error_text(struct ehlod_client *c, unsigned long e, char *why,
    size_t len);

/* tls_sessions.c: sessions kept for resumption in a shared context */
int tls_sessions_enable(SSL_CTX *ctx);
void tls_sessions_offer(SSL *ssl, int verify, const char *name,
    const char *host, int port);
void tls_sessions_forget(SSL *ssl);

/* login.c */
void login_start(struct ehlod_client *c);
void login_in_clear(struct ehlod_client *c);

/* command.c */
struct cmd *cmd_push(struct ehlod_client *c, char *line, const char *name,
    int pipeline, cmd_reply_fn on_reply);
void cmd_pump(struct ehlod_client *c);
void cmd_dispatch(struct ehlod_client *c, const struct smtp_reply *r);
struct cmd *cmd_waiting(const struct ehlod_client *c);
int cmd_idle(const struct ehlod_client *c);
void cmd_clear(struct ehlod_client *c);
char *cmd_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* An evbuffer_add_reference cleanup: frees arg, the octets handed over. */
void cmd_free_sent(const void *data, size_t len, void *arg);

/* transaction.c */
void txn_mail(struct ehlod_client *c, const struct ehlod_client_mail *m,
    ehlod_client_step_cb cb, void *arg);
void txn_rcpt(struct ehlod_client *c, const char *rcpt, const char *notify,
    const char *orcpt, ehlod_client_step_cb cb, void *arg);
void txn_data(struct ehlod_client *c, const void *data, size_t len,
    ehlod_client_step_cb cb, void *arg);
void txn_rset(struct ehlod_client *c, ehlod_client_step_cb cb, void *arg);
/* The message in pieces: begin, add (-1 when out of memory), end. */
void txn_data_begin(struct ehlod_client *c, size_t size_hint);
int txn_data_add(struct ehlod_client *c, const void *data, size_t len);
void txn_data_cancel(struct ehlod_client *c);
void txn_data_end(struct ehlod_client *c, ehlod_client_step_cb cb,
    void *arg);
void txn_data_stream(struct ehlod_client *c, ehlod_client_read_cb read,
    void *read_arg, ehlod_client_step_cb cb, void *arg);
void txn_stream_measured(struct ehlod_client *c, int ok);
void txn_forget(struct ehlod_client *c);
void txn_free(struct ehlod_client *c);
void txn_refuse(struct ehlod_client *c, ehlod_client_step_cb cb, void *arg,
    const char *step, enum ehlod_client_reason reason, const char *enh,
    const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* client_xforward.c */
void xforward_clear(struct ehlod_client *c);
size_t xforward_lines(const struct ehlod_client *c, char *lines[XF_ATTRS]);

/* job.c */
const char *job_needs(struct ehlod_client *c);
void job_settle(struct ehlod_client *c);
void job_free(struct ehlod_client *c);

/* client_session.c */
void session_over(struct ehlod_client *c);
void session_fire(evutil_socket_t fd, short what, void *arg);

#endif
