/*
 * NAME
 *	milter.h - ehlod-milter: ehlod plugins inside a host MTA, by libmilter
 * DESCRIPTION
 *	libmilter calls each MTA connection's callbacks in a thread of its
 *	own; the plugins are not thread-safe and may keep timers and sockets
 *	on an event loop.  One mutex, the plugin lock (loop.c), serialises
 *	every plugin call: a callback takes it and runs its step's hook chain
 *	with the core's chain code in its own thread, so PENDING and
 *	host->resume() behave as in ehlod.  The loop thread, which owns the
 *	libevent event_base, holds the same lock whenever it is not asleep,
 *	so timers and a plugin's own socket callbacks are serialised too.
 *	A pending hook's callback thread sleeps on its connection's
 *	condition variable (bounded by milter_hook_timeout), which lets the
 *	lock go, so other connections go on meanwhile.
 *
 *	The session, transaction and header model are the core's (struct
 *	ehlod_session with bev NULL, txn.c, message.c), so a plugin sees the
 *	same data structures behind the same host functions as in ehlod.
 */
#ifndef EHLOD_MILTER_H
#define EHLOD_MILTER_H

#include <pthread.h>
#include <stddef.h>

#include "smtpd.h"

/* The MTA macros read at each callback (smfi_getsymval). */
enum macro {
	MAC_HOSTNAME = 0,	/* j */
	MAC_CLIENT_ADDR,	/* {client_addr} */
	MAC_CLIENT_PORT,	/* {client_port} */
	MAC_CLIENT_NAME,	/* {client_name} */
	MAC_DAEMON_ADDR,	/* {daemon_addr} */
	MAC_DAEMON_PORT,	/* {daemon_port} */
	MAC_TLS_VERSION,	/* {tls_version} */
	MAC_CIPHER,		/* {cipher} */
	MAC_AUTH_AUTHEN,	/* {auth_authen} */
	MAC_AUTH_TYPE,		/* {auth_type} */
	MAC_QUEUE_ID,		/* i */
	MAC_COUNT_
};

extern const char *const macro_names[MAC_COUNT_];

enum job_kind {
	J_CONNECT = 0, J_HELO, J_MAIL, J_RCPT, J_DATA, J_HEADER, J_EOH,
	J_BODY, J_EOM, J_UNKNOWN, J_ABORT, J_CLOSE
};

/* A header change a plugin made, replayed with smfi_* at end of message. */
enum hdr_op_kind { OP_ADD, OP_INSERT, OP_CHANGE };

struct hdr_op {
	enum hdr_op_kind kind;
	size_t index;		/* OP_INSERT: position; OP_CHANGE: nth */
	char *name;
	char *value;		/* NULL: OP_CHANGE deletes */
	struct hdr_op *next;
};

struct mconn;

/*
 * One callback's work, on the callback thread's stack.  The inputs are
 * borrowed from libmilter and stay valid until the callback returns,
 * which is after the chain finished or was dropped.  text and ops are
 * owned (job_release()).
 */
struct job {
	enum job_kind kind;
	struct mconn *c;
	const char *arg1;	/* helo name, sender, recipient, header name,
				 * unknown command */
	const char *arg2;	/* header value */
	const unsigned char *data;	/* body chunk */
	size_t len;
	int flag_8bit;		/* MAIL: BODY=8BITMIME */
	int flag_utf8;		/* MAIL: SMTPUTF8 */
	int has_params;		/* MAIL: any ESMTP parameter */
	char addr[64];		/* CONNECT: from hostaddr */
	char port[8];
	const char *mac[MAC_COUNT_];	/* NULL: the MTA did not send it */

	pthread_cond_t *wake;	/* set while the callback thread waits */
	int done;
	int timed_out;		/* dropped after milter_hook_timeout */

	ehlod_verdict verdict;	/* results, valid once done */
	int code;		/* reply code, 0: none */
	char enhanced[16];
	char *text;
	struct hdr_op *ops;	/* EOM: the changes to apply */
};

/* One MTA connection.  The session is the first member, so the host
 * functions can find the connection from the ehlod_session pointer. */
struct mconn {
	struct ehlod_session s;
	int ready;		/* session set up (at its first step) */
	char *client_name;
	char *hostname;		/* macro j */
	struct job *running;	/* the job whose chain is active */
	struct hdr_op *ops;	/* this transaction's header changes */
	struct hdr_op **ops_tail;
	pthread_cond_t cond;	/* a pending step's callback thread waits */
};

/* loop.c: the plugin lock and the loop thread. */
int loop_start(struct server *srv);
void loop_stop(void);
/* Run j's step under the plugin lock in this thread; when its chain goes
 * pending, wait for it up to timeout seconds.  Returns 0 when j is done,
 * -1 when it timed out (its chain dropped, nothing left running). */
int loop_run(struct job *j, long timeout);
int loop_conn_init(struct mconn *c);
void job_release(struct job *j);
void hdr_ops_free(struct hdr_op *op);
/* The chain of j finished (under the lock): wake its waiter. */
void loop_job_done(struct job *j);

/* milter_steps.c: a job's step on the shared session model (plugin lock
 * held). */
void step_start(struct job *j);
/* The job's chain finished: hand the verdict over. */
void step_finish(struct mconn *c, ehlod_verdict v);
/* A chain whose waiter timed out: drop it. */
void step_drop_parked(struct mconn *c);

/* hostapi_milter.c */
const struct ehlod_host *milter_host_table(void);

/* callbacks.c */
extern struct smfiDesc milter_desc;
void milter_callbacks_init(long hook_timeout);
/* The SMFIP_NO* steps the loaded plugins do not need. */
unsigned long milter_unneeded_steps(const struct plugin_set *set);
void milter_step_names(unsigned long no_steps, char *buf, size_t len,
    int wanted);

/* MTA connections this process holds state for (a draining process
 * exits when none is left). */
int milter_connections_open(void);
unsigned milter_connections_seen(void);

/* milter_main.c: one generation, in a child of the master: load and start
 * the plugins of file, serve the MTA on the inherited socket; write one
 * byte to ready_fd once serving; on SIGUSR1 stop taking connections
 * (listen_fd), finish the open ones, exit.  Returns the exit code. */
int milter_generation(const char *file, int debug, int ready_fd,
    int listen_fd);

/* milter_socket.c: the path of a unix socket spec ("unix:", "local:"
 * or a bare path), else NULL; its family (AF_UNIX, AF_INET, AF_INET6),
 * -1 when unknown; a new listening socket for it (-1 logged), with
 * *file the unix socket's file as bound (zeroed for inet); the file
 * of a spec now; and removing that file while it is still *file. */
struct stat;
const char *milter_socket_unix_path(const char *spec);
int milter_socket_family(const char *spec);
/* The PORT and HOST of "PORT@HOST" (after "inet:" or "inet6:"), newly
 * allocated; *host NULL for none, brackets around it dropped. */
void milter_socket_inet_split(const char *rest, char **port, char **host);
int milter_socket_open(const char *spec, struct stat *file);
/* 1 when fd listens where spec says (written another way or not). */
int milter_socket_same(const char *spec, int fd);
int milter_socket_file(const char *spec, struct stat *file);
void milter_socket_unlink(const char *spec, const struct stat *file);

/* milter_master.c: check file, open the MTA's socket, run one generation
 * after another (SIGHUP: a new one from the file as it is now, then the
 * old one drains); SIGTERM or SIGINT stop them all. */
int milter_master(const char *file, int debug);

/* describe.c: ehlod-milter -t */
void milter_describe(FILE *out, const struct config *c,
    struct plugin_set *set);

#endif
