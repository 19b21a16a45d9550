/*
 * NAME
 *	ehlod/client.h - the ehlod RFC 1869 SMTP/LMTP client library
 * SUMMARY
 *	#include <ehlod/client.h>
 *
 *	struct ehlod_client_opts o;
 *	ehlod_client_opts_init(&o);
 *	c = ehlod_client_new(base, "mx.example:25", &o);
 *	ehlod_client_start(c, &job, done_cb, arg);	(non-blocking)
 *	ehlod_client_run(c, &job);			(blocking)
 *
 *	ehlod_client_open(c, &mail, step_cb, arg);	(session, step by step)
 *	ehlod_client_mail(c, &mail, step_cb, arg);
 *	ehlod_client_rcpt(c, "rcpt@example", NULL, NULL, step_cb, arg);
 *	ehlod_client_data(c, msg, len, step_cb, arg);
 *	ehlod_client_rset(c, step_cb, arg);
 *	ehlod_client_close(c);
 * DESCRIPTION
 *	One client object delivers one job (a message to a list of
 *	recipients) or probes a server, the way RFC 1869 asks of an extended
 *	client: EHLO first on every connection and again after STARTTLS; a
 *	fall-back to HELO when EHLO is refused; a second connection with HELO
 *	when the server drops the connection right after EHLO (before its
 *	reply, or after any reply but 421) and the job can be done without
 *	extensions; an extension is only used when the server offered it in
 *	this session.
 *
 *	The client runs on a libevent loop.  With base NULL it makes its own
 *	loop and ehlod_client_run() drives it to the end (the blocking
 *	wrapper); with a caller's base, ehlod_client_start() returns at once
 *	and done_cb is called from the loop when the job is over.
 *
 *	Every line sent and received is kept in a transcript ("C: ", "S: ",
 *	and "*: " for the client's own notes); the message body is noted by
 *	its size, and AUTH exchanges are masked.
 *
 *	Server addresses: "host", "host:port", "[ipv6]:port", "unix:/path".
 *	The default port is 25 (24 for LMTP).
 *
 *	Every string the caller gives that goes into a command line (the
 *	HELO name, the sender and recipient addresses, RET, NOTIFY, ORCPT)
 *	is judged first with the grammar the ehlod server uses: RFC 5321
 *	paths (source routes included), a HELO name that is a domain or an
 *	address literal, the RFC 3461 syntax of the DSN values.  A string that fails (a CR, LF, space or '>'
 *	that would end the command early or add to it) is never sent: a job
 *	fails at step "start" with reason LOCAL before connecting; a session
 *	step is refused unsent with reason LOCAL and enhanced code 5.1.7
 *	(sender), 5.1.3 (recipient) or 5.5.4 (parameter); ehlod_client_open
 *	with a bad HELO name fails the same way as a job.
 *
 *	See ehlod-client(3).
 *
 *	The session API (below the job API) serves a program that must
 *	answer its own client command by command with the server's verdict,
 *	such as a before-queue proxy: it opens the session (greeting, EHLO
 *	with the same RFC 1869 rules, STARTTLS, AUTH), then sends one
 *	command per call and hands the server's reply to a callback.  A
 *	client object is used either for one job or as one session, never
 *	both.
 *
 *	ABI (libehlod-client.so.0).  A structure the caller fills (opts,
 *	job, mail, xforward) begins with its size as the caller was built,
 *	struct_size, set by ehlod_client_opts_init() or the
 *	EHLOD_CLIENT_*_INIT initializers.  So a later library, whose
 *	structures have more fields at their end, reads an older caller's
 *	structure as it is and takes the fields beyond its size as 0 or
 *	NULL.  A size smaller than the
 *	1.0 structure (0: never set) is refused: ehlod_client_new answers
 *	NULL with errno EINVAL, a job or step fails with reason LOCAL, and
 *	ehlod_client_xforward returns -1.  The structures the library fills
 *	(result, rcpt, reply) may also grow at their end; the callers only
 *	read them.  Fields are only ever appended.
 */
#ifndef EHLOD_CLIENT_H
#define EHLOD_CLIENT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct event_base;
struct evdns_base;
struct ehlod_client;

enum ehlod_client_tls {
	EHLOD_TLS_NO = 0,	/* never STARTTLS */
	EHLOD_TLS_MAY,		/* STARTTLS when offered */
	EHLOD_TLS_MUST		/* fail (temporarily) when not offered */
};

enum ehlod_client_body {
	EHLOD_BODY_AUTO = 0,	/* 8BITMIME when the message has 8-bit octets */
	EHLOD_BODY_7BIT,
	EHLOD_BODY_8BITMIME,
	EHLOD_BODY_BINARYMIME	/* RFC 3030: BODY=BINARYMIME, sent with BDAT
				 * and octet for octet (no line end is
				 * repaired); needs CHUNKING and BINARYMIME */
};

struct ehlod_client_opts {
	size_t struct_size;	/* set by ehlod_client_opts_init() */
	const char *helo_name;	/* our name in EHLO/HELO; default: hostname */
	int lmtp;		/* speak LMTP (RFC 2033): LHLO, reply per rcpt */
	enum ehlod_client_tls starttls;
	int tls_verify;		/* verify the server certificate (default 1) */
	const char *tls_ca_file;	/* else the system's trust store */
	const char *tls_server_name;	/* SNI and name check; default: host */
	const char *auth_user;	/* AUTH (RFC 4954) through Cyrus SASL */
	const char *auth_password;
	const char *auth_mechs;	/* allowed mechanisms, space-separated */
	int rset_before_helo;	/* RFC 1869 4.7: RSET before a HELO fallback */
	int no_pipelining;	/* do not pipeline even when offered */
	int chunking;		/* use BDAT when CHUNKING is offered */
	unsigned timeout_sec;	/* per reply; default 300 (RFC 5321 4.5.3.2) */
	unsigned connect_timeout_sec;	/* default 30 */
	/* AUTH is sent only under TLS.  Without TLS (STARTTLS not asked
	 * for, not offered, or refused) the job or open fails before AUTH,
	 * unless this is 1: then the credentials may cross the network in
	 * the clear. */
	int auth_plaintext;
	/* Since 1.1.  The resolver for a server given by name: a program
	 * that runs many clients on one loop (a server relaying mail) makes
	 * it once, where waiting is allowed, and keeps it for as long as
	 * any client uses it.  NULL: each client makes its own when it
	 * first needs one, reading /etc/resolv.conf and /etc/hosts then,
	 * on the loop.  The client never frees a resolver it was given. */
	struct evdns_base *dns;
	/* Since 1.2.  The TLS context for STARTTLS (an OpenSSL SSL_CTX *)
	 * from ehlod_client_tls_context_new(), made once where waiting is
	 * allowed: making one loads the trust store, tls_ca_file or the
	 * system's (whose bundle costs about 20 ms of CPU to parse), which
	 * a client left to make its own does on the loop at each STARTTLS.
	 * Its trust store is the one for verifying: made for opts whose
	 * tls_verify is 0, it has none.  The client takes a
	 * reference of its own; the caller frees its context with
	 * ehlod_client_tls_context_free() when no client is left using it.
	 * NULL: each client makes its own. */
	void *tls_context;
};

/* A message and its envelope.  The strings and data must stay valid until
 * the job is over. */
struct ehlod_client_job {
	size_t struct_size;	/* EHLOD_CLIENT_JOB_INIT sets it */
	const char *from;	/* reverse-path without <>; "" for the null path */
	const char *const *rcpts;
	size_t nrcpts;
	const void *data;	/* the message; LF or CRLF line ends */
	size_t len;
	enum ehlod_client_body body;
	int smtputf8;		/* -1: when an address has UTF-8; 0 no; 1 yes */
	/* DSN (RFC 3461), sent only when the server offers DSN */
	const char *dsn_ret;	/* "FULL" or "HDRS" */
	const char *dsn_envid;	/* plain text; xtext-encoded by the library */
	const char *dsn_notify;	/* "NEVER" or e.g. "SUCCESS,FAILURE,DELAY" */
	int dsn_orcpt;		/* send ORCPT=rfc822;<recipient> */
};

/* struct ehlod_client_job job = EHLOD_CLIENT_JOB_INIT; then set fields. */
#define EHLOD_CLIENT_JOB_INIT \
	{ .struct_size = sizeof(struct ehlod_client_job) }

enum ehlod_client_status {
	EHLOD_CLIENT_OK = 0,	/* done: every recipient accepted */
	EHLOD_CLIENT_TEMPFAIL,	/* try again later */
	EHLOD_CLIENT_PERMFAIL	/* do not try again as is */
};

/* Why a job (or a recipient) failed, for programs that map it to an exit
 * status or a reply. */
enum ehlod_client_reason {
	EHLOD_REASON_NONE = 0,
	EHLOD_REASON_REPLY,	/* the server refused; code and text are its */
	EHLOD_REASON_NETWORK,	/* connect failed, connection lost, timeout */
	EHLOD_REASON_PROTOCOL,	/* the server broke the protocol */
	EHLOD_REASON_TLS,	/* STARTTLS missing or handshake/verify failed */
	EHLOD_REASON_AUTH,	/* authentication failed or impossible */
	EHLOD_REASON_NEEDS_EXTENSION,	/* the job needs what the server lacks:
					 * 8BITMIME, SMTPUTF8, a bigger SIZE */
	EHLOD_REASON_LOCAL	/* bad job or options, out of memory */
};

struct ehlod_client_rcpt {
	const char *address;
	enum ehlod_client_status status;
	enum ehlod_client_reason reason;
	const char *step;	/* "RCPT", "DATA", "end of data", ... */
	int code;		/* the server's reply code, 0 when none */
	const char *enhanced;	/* "5.1.1" or "" */
	const char *text;	/* the server's text, or our explanation */
};

struct ehlod_client_result {
	enum ehlod_client_status status;
	enum ehlod_client_reason reason;
	const char *step;	/* the step that failed, or "" */
	int code;
	const char *enhanced;
	const char *text;
	int esmtp;		/* the session ran with EHLO (LHLO) */
	int helo_fallback;	/* EHLO failed and HELO was used */
	int connections;	/* 2 when reconnected after a close */
	int tls;		/* the session ran under TLS */
	int authenticated;
	size_t nrcpts;
	const struct ehlod_client_rcpt *rcpts;
};

typedef void (*ehlod_client_cb)(struct ehlod_client *c, void *arg);

/* Fill opts with the defaults (verification on, timeouts, ...) and its
 * size.  A macro, so that the size is the caller's. */
#define ehlod_client_opts_init(opts) \
	ehlod_client_opts_init_sized((opts), sizeof(*(opts)))
void ehlod_client_opts_init_sized(struct ehlod_client_opts *opts,
    size_t size);

/* base NULL: the client makes and owns a loop (see ehlod_client_run).
 * The options are copied.  Returns NULL on a bad server address (errno
 * EINVAL) or when libevent cannot make its objects; the client's own
 * allocations abort the process when memory runs out. */
struct ehlod_client *ehlod_client_new(struct event_base *base,
    const char *server, const struct ehlod_client_opts *opts);
void ehlod_client_free(struct ehlod_client *c);

/* Start the job (job NULL: probe, i.e. greeting, EHLO, STARTTLS when
 * asked, QUIT).  cb is called once, from the loop, when it is over; the
 * callback may free the client.  Returns 0, or -1 when already started. */
int ehlod_client_start(struct ehlod_client *c,
    const struct ehlod_client_job *job, ehlod_client_cb cb, void *arg);

/* The blocking wrapper: start the job and run the client's own loop until
 * it is over.  Returns the status of the job. */
enum ehlod_client_status ehlod_client_run(struct ehlod_client *c,
    const struct ehlod_client_job *job);

const struct ehlod_client_result *ehlod_client_result(
    const struct ehlod_client *c);
const char *ehlod_client_transcript(const struct ehlod_client *c);

/* What the server said in the last session: the greeting's text, and the
 * extension table of the last EHLO (empty after HELO). */
const char *ehlod_client_greeting(const struct ehlod_client *c);
size_t ehlod_client_ext_count(const struct ehlod_client *c);
const char *ehlod_client_ext_keyword(const struct ehlod_client *c, size_t i);
const char *ehlod_client_ext_params(const struct ehlod_client *c, size_t i);

const char *ehlod_client_status_name(enum ehlod_client_status s);

/*
 * The session API.
 *
 * Each call sends one step and returns 0, or -1 (nothing sent) when the
 * session is not ready for a command: not yet open, a step still waiting
 * for its reply, or the session over.  The step's callback is then
 * called once, from the loop (never from inside the call), with the
 * server's reply; it may start the next step, or free the client.
 *
 * When the session ends on its own (421, connection lost, timeout,
 * failed TLS) the waiting step's callback gets that failure
 * (reason NETWORK, PROTOCOL, TLS, or REPLY with the 421) and
 * ehlod_client_ready() says 0 from then on: open a new client.  A step
 * the library refuses before sending anything because the server lacks
 * an extension gets reason NEEDS_EXTENSION, code 0, and in enhanced the
 * RFC 3463 code of what is missing: "5.6.3" (8BITMIME), "5.6.7"
 * (SMTPUTF8) or "5.3.4" (SIZE); the session stays usable.
 *
 * While no step is waiting, the reply timeout is off: the session may
 * sit idle as long as the server allows.
 */

/* What a transaction declares, for MAIL FROM; at open time it says what
 * the session must be able to carry, so that a server closing after EHLO
 * is retried with HELO only when that is enough (RFC 1869 4.5). */
struct ehlod_client_mail {
	size_t struct_size;	/* EHLOD_CLIENT_MAIL_INIT sets it */
	const char *from;	/* reverse-path without <>; "" for the null path */
	enum ehlod_client_body body;	/* 8BITMIME: BODY=8BITMIME, required */
	int smtputf8;		/* 1: SMTPUTF8, required */
	unsigned long long size;	/* SIZE= (RFC 1870); 0: not declared */
	const char *dsn_ret;	/* "FULL" or "HDRS", sent only when DSN is */
	const char *dsn_envid;	/* offered; ENVID plain, xtext-encoded here */
};

#define EHLOD_CLIENT_MAIL_INIT \
	{ .struct_size = sizeof(struct ehlod_client_mail) }

/* A step's outcome. */
struct ehlod_client_reply {
	enum ehlod_client_status status;	/* OK for a 2xx (3xx never
						 * reaches the caller) */
	enum ehlod_client_reason reason;	/* NONE when OK */
	const char *step;	/* "open", "MAIL", "RCPT", "DATA", "end of data",
				 * "BDAT", "RSET" */
	int code;		/* the server's code; 0 when it said nothing */
	const char *enhanced;	/* as in ehlod_client_rcpt */
	const char *text;
	/* LMTP end of data (RFC 2033 4.2): one reply per recipient accepted
	 * in this transaction, in the order of acceptance; the fields above
	 * then repeat the first failure, or the first reply when all
	 * succeeded.  0 and NULL otherwise. */
	size_t nrcpts;
	const struct ehlod_client_rcpt *rcpts;
};

typedef void (*ehlod_client_step_cb)(struct ehlod_client *c,
    const struct ehlod_client_reply *r, void *arg);

/* Connect and greet: the callback gets code 250 (step "open") once the
 * session is ready for MAIL.  needs may be NULL. */
int ehlod_client_open(struct ehlod_client *c,
    const struct ehlod_client_mail *needs, ehlod_client_step_cb cb,
    void *arg);

/* MAIL FROM with SIZE, BODY, SMTPUTF8, RET, ENVID, each only when the
 * server offered its extension.  Refused unsent (NEEDS_EXTENSION) when
 * the transaction needs 8BITMIME, SMTPUTF8, or BINARYMIME with CHUNKING
 * that the server lacks ("5.6.3", "5.6.7", "5.6.3"), or its size is over
 * the server's SIZE. */
int ehlod_client_mail(struct ehlod_client *c,
    const struct ehlod_client_mail *m, ehlod_client_step_cb cb, void *arg);

/* RCPT TO; notify ("NEVER", "SUCCESS,FAILURE", ...) and orcpt (an
 * RFC 3461 ORCPT value "addr-type;xtext", sent as it is) only when DSN is
 * offered; either may be NULL. */
int ehlod_client_rcpt(struct ehlod_client *c, const char *rcpt,
    const char *notify, const char *orcpt, ehlod_client_step_cb cb,
    void *arg);

/* The message (LF or CRLF line ends; copied) with BDAT when the options
 * ask for chunking and CHUNKING is offered, else DATA, dot-stuffed.  In a
 * transaction whose MAIL declared EHLOD_BODY_BINARYMIME, always BDAT and
 * the octets as they are.  The
 * callback gets the reply to DATA when it is not 354, else the final
 * reply(ies).  Refused unsent when the message has 8-bit octets and
 * 8BITMIME is not offered, or is over the server's SIZE. */
int ehlod_client_data(struct ehlod_client *c, const void *data, size_t len,
    ehlod_client_step_cb cb, void *arg);

/* The same message in pieces, for a caller that reads it from elsewhere
 * (a relay reading the message it received): begin (size_hint, the
 * expected size or 0, reserves room), add each piece, then end, which
 * sends it as ehlod_client_data() would and calls cb.  Each piece is put
 * in the form that will be sent as it comes (line ends repaired,
 * dot-stuffed for DATA), so the library holds one copy, which it lets go
 * of as it is written, and the caller need hold none.  begin returns -1
 * when the session is not ready for a step; add -1 when out of memory
 * (end then answers the step with reason LOCAL) or without begin; end -1
 * without begin.  cancel drops what was added, nothing sent: for a
 * message the caller could not read whole. */
int ehlod_client_data_begin(struct ehlod_client *c, size_t size_hint);
int ehlod_client_data_add(struct ehlod_client *c, const void *data,
    size_t len);
int ehlod_client_data_end(struct ehlod_client *c, ehlod_client_step_cb cb,
    void *arg);
void ehlod_client_data_cancel(struct ehlod_client *c);

/* The same message pulled from a source as the connection takes it, so
 * that not even one copy of it is held: for a message that sits in a file
 * (a relay's spool).  read copies up to len octets from offset on into
 * buf and returns how many (fewer is fine; 0 at the end, -1 on an
 * error).  The library reads the message through once, 1 MiB per turn
 * of the event loop, to judge it as ehlod_client_data() does (8BITMIME,
 * SIZE) and to count BDAT's size, then again from offset 0 as the output
 * drains, keeping at most a few hundred KiB ahead of the socket; read is
 * never called from inside this function.  read must give the same
 * octets both times and stay valid until cb is called.  A read error
 * while measuring answers the step with reason LOCAL and sends nothing;
 * while sending it drops the connection (the server never sees the
 * message end) and cb gets reason LOCAL.  Returns -1 when the session is
 * not ready for a step.
 *
 * A source that cannot give the octets at once (a file read by another
 * thread) returns EHLOD_CLIENT_READ_LATER instead: the library then reads
 * nothing more until the caller calls ehlod_client_data_stream_ready(),
 * and asks again for the same offset.  ready returns -1 when no stream of
 * c waits for it (the session ended meanwhile, say); it never calls read
 * itself. */
typedef long (*ehlod_client_read_cb)(void *arg, void *buf, size_t len,
    size_t offset);
#define EHLOD_CLIENT_READ_LATER (-2)
int ehlod_client_data_stream(struct ehlod_client *c,
    ehlod_client_read_cb read, void *read_arg, ehlod_client_step_cb cb,
    void *arg);
int ehlod_client_data_stream_ready(struct ehlod_client *c);

int ehlod_client_rset(struct ehlod_client *c, ehlod_client_step_cb cb,
    void *arg);

/* Who the client being relayed is, for a server that offers XFORWARD
 * (Postfix's XFORWARD_README): a before-queue proxy tells its next hop so
 * that the next hop's IP policies judge the client, not the proxy.  Each
 * field NULL when not known. */
struct ehlod_client_xforward {
	size_t struct_size;	/* EHLOD_CLIENT_XFORWARD_INIT sets it */
	const char *name;	/* the client's verified host name */
	const char *addr;	/* "192.0.2.1", "2001:db8::1" (no brackets) */
	const char *port;	/* "49152" */
	const char *proto;	/* "SMTP" or "ESMTP" */
	const char *helo;	/* the client's HELO/EHLO argument */
	const char *source;	/* "LOCAL" or "REMOTE" */
};

#define EHLOD_CLIENT_XFORWARD_INIT \
	{ .struct_size = sizeof(struct ehlod_client_xforward) }

/* Remember (copied) who the client is; NULL forgets it.  Before each
 * later MAIL of the session API, when the server offers XFORWARD, the
 * attributes it lists in its EHLO reply are sent, xtext-encoded (values
 * cut at 255 octets), unknown ones as "[UNAVAILABLE]", in as many
 * XFORWARD lines as keep each under 512 octets.  Each line waits for its
 * reply and MAIL goes only after the last 250: a refusal answers the
 * MAIL step (step "XFORWARD", the server's reply) and MAIL is not sent,
 * so the next hop never judges the transaction by the proxy's address.
 * A server that does not offer XFORWARD hears none of it.  Not used by
 * the whole-job API (ehlod_client_start).  Returns 0, or -1 (nothing
 * changed) when xf's size is not set. */
int ehlod_client_xforward(struct ehlod_client *c,
    const struct ehlod_client_xforward *xf);

/* 1 when the session is open and no step is waiting. */
int ehlod_client_ready(const struct ehlod_client *c);

/* End the session and let go of c: QUIT when the session is idle (the
 * client then frees itself after the reply or a short timeout), else
 * close at once and free.  No callback is called after this; the caller
 * must forget c.  The loop must outlive the QUIT. */
void ehlod_client_close(struct ehlod_client *c);

/* Since 1.2.  A TLS context (an OpenSSL SSL_CTX *) for opts->tls_context:
 * TLS 1.2 at least, trusting opts->tls_ca_file, else the system's trust
 * store; with opts->tls_verify 0 no trust store is loaded (clients using
 * the context must then not verify either).  Reads files: call it where
 * waiting is allowed (a server plugin's init, as root if the file is
 * root's).  NULL when the CA file cannot be loaded, with why in err
 * (errlen octets, may be 0).  Free with ehlod_client_tls_context_free()
 * (NULL does nothing). */
void *ehlod_client_tls_context_new(const struct ehlod_client_opts *opts,
    char *err, size_t errlen);
void ehlod_client_tls_context_free(void *ctx);

#ifdef __cplusplus
}
#endif

#endif
