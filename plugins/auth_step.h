/*
 * NAME
 *	auth_step.h - the auth plugin's SASL steps, off the event loop
 * DESCRIPTION
 *	sasl_server_start() and sasl_server_step() return only once the
 *	password is checked, and a check may wait: saslauthd asks PAM,
 *	which may sleep seconds after a wrong password.  auth_step.c runs
 *	them in threads of the worker process; the loop hands a step over
 *	(auth_step_submit), answers PENDING, and gets it back, done,
 *	through the function given to auth_step_setup, called in the loop.
 *
 *	While a step is out its SASL connection is the thread's: the loop
 *	touches neither it nor the step, except for s and st, which only
 *	the loop reads and writes (a session that ends sets them NULL and
 *	leaves the connection to whoever gets the step back).
 *
 *	SASL's log lines written during a step are kept in the step
 *	(auth_step_log, from the log callback) and logged by the loop:
 *	a plugin's threads must not call the host.
 */
#ifndef EHLOD_PLUGINS_AUTH_STEP_H
#define EHLOD_PLUGINS_AUTH_STEP_H

#include <stddef.h>
#include <sasl/sasl.h>

#include <ehlod/plugin.h>

#define AUTH_STEP_LOG_LINES 8
#define AUTH_STEP_LOG_TEXT 240

struct auth_step {
	struct auth_step *next;	/* in whichever list holds it */
	/* The loop's alone. */
	ehlod_ctx *s;		/* the session, NULL once it ended */
	void *st;		/* its auth state, NULL with s */
	/* Set by the loop before the thread has it. */
	sasl_conn_t *conn;
	/* conn's callbacks: SASL keeps a pointer to them, so they live
	 * as long as conn; the step's own only once the session ended. */
	sasl_callback_t *callbacks;
	int first;		/* sasl_server_start, else _step */
	char mech[SASL_MECHNAMEMAX + 1];
	char *in;		/* the decoded response, wiped after use */
	unsigned inlen;
	size_t inmax;		/* in's size, for the wipe */
	/* Set by the thread. */
	int rc;
	const char *out;	/* the conn's, valid until its next call */
	unsigned outlen;
	unsigned nlog;
	struct {
		int priority;
		char text[AUTH_STEP_LOG_TEXT];
	} log[AUTH_STEP_LOG_LINES];
};

/* In init: where finished steps go (called in the loop). */
void auth_step_setup(const struct ehlod_host *host, ehlod_ctx *inst,
    void (*finished)(struct auth_step *));
/* In the loop: hand a step to the threads (started in this process at
 * the first step); 0, or -1 with errno when they cannot start. */
int auth_step_submit(struct auth_step *j);
/* From SASL's log callback: 1 when called in a step's thread (the line
 * is kept in the step), 0 in the loop (the caller logs it). */
int auth_step_log(int priority, const char *text);
/* In fini: drop the steps not started, wait for those out, then stop
 * the threads.  Steps that came back unclaimed have their connection
 * disposed.  A step still out after THREADS_STOP_WAIT seconds (a
 * saslauthd or PAM module that never answers) is left behind with its
 * thread: returns how many threads are, and then SASL must be left as
 * it is, for the process to end with them. */
unsigned auth_step_stop(void);
/* Free a step, wiping its input. */
void auth_step_free(struct auth_step *j);
/* In the loop: dispose of a SASL connection, then free the callbacks it
 * points at (their context cleared first: the session may be gone). */
void auth_conn_dispose(sasl_conn_t **conn, sasl_callback_t **callbacks);

#endif
