/*
 * NAME
 *	steps.h - the table of plugin hook steps, and per-step plugin arrays
 * DESCRIPTION
 *	Every hook of struct ehlod_plugin is one row of STEP_TABLE: the
 *	step's id, its hook field, how the hook is called, and the replies
 *	the core gives when a plugin refuses without setting one.  The chain
 *	runner, the loader, ehlod -t, the statistics and the milter's step
 *	negotiation all read this one table, so adding a hook is a row here
 *	and its field in api/ehlod/plugin.h.
 *
 *	A chain_table holds, for each step, the plugins that have its hook in
 *	config order: a chain walks only those, so a hook a plugin leaves
 *	NULL costs nothing.
 */
#ifndef EHLOD_CORE_STEPS_H
#define EHLOD_CORE_STEPS_H

#include <stddef.h>
#include <ehlod/plugin.h>

/*
 * X(ID, hook, call, reject code, enhanced, text, tempfail code, enhanced,
 *   text).  "call" is how the hook is called: NONE (ctx only), ARG1,
 * ARG2 (two strings), DATA (octets and length), VOID (no verdict) or
 * NOTE (called by its own module, report.c).  The order is the session
 * order and the order ehlod -t lists hooks in.
 */
#define STEP_TABLE(X) \
	X(CONNECT, connect, NONE, 554, NULL, "Access denied", \
	    421, NULL, "Service not available, try later") \
	X(HELO, helo, ARG1, 550, "5.7.1", "Access denied", \
	    421, "4.3.0", "Service not available, try later") \
	X(MAIL, mail, ARG1, 550, "5.7.1", "Sender rejected", \
	    451, "4.7.1", "Sender temporarily rejected") \
	X(RCPT, rcpt, ARG1, 550, "5.7.1", "Recipient rejected", \
	    450, "4.7.1", "Recipient temporarily rejected") \
	X(DATA, data, NONE, 554, "5.7.1", "Transaction failed", \
	    451, "4.3.0", "Try again later") \
	X(HEADER, header, ARG2, 554, "5.7.1", "Message rejected", \
	    451, "4.3.0", "Try again later") \
	X(EOH, eoh, NONE, 554, "5.7.1", "Message rejected", \
	    451, "4.3.0", "Try again later") \
	X(BODY, body, DATA, 554, "5.7.1", "Message rejected", \
	    451, "4.3.0", "Try again later") \
	X(EOM, eom, NONE, 554, "5.7.1", "Message rejected", \
	    451, "4.3.0", "Try again later") \
	X(RSET, rset, VOID, 0, NULL, NULL, 0, NULL, NULL) \
	X(CLOSE, close, VOID, 0, NULL, NULL, 0, NULL, NULL) \
	X(UNKNOWN, unknown, ARG1, 500, "5.5.1", "Command unrecognized", \
	    451, "4.3.0", "Command unrecognized") \
	X(REPORT, report, NOTE, 0, NULL, NULL, 0, NULL, NULL)

#define STEP_ENUM_(id, ...) STEP_##id,
enum step {
	STEP_TABLE(STEP_ENUM_)
	STEP_VERB,		/* a plugin's own command (ehlod_verb) */
	STEP_COUNT_
};
#undef STEP_ENUM_

/* How a step's hook is called (the "call" column of STEP_TABLE). */
enum step_shape { SHAPE_NONE, SHAPE_ARG1, SHAPE_ARG2, SHAPE_DATA,
	SHAPE_VOID, SHAPE_NOTE };

/* A hook function of any shape, read once from its descriptor slot so
 * that the chain runner calls it directly. */
union step_hook {
	ehlod_verdict (*none)(ehlod_ctx *c);
	ehlod_verdict (*arg1)(ehlod_ctx *c, const char *a);
	ehlod_verdict (*arg2)(ehlod_ctx *c, const char *a, const char *b);
	ehlod_verdict (*data)(ehlod_ctx *c, const unsigned char *d,
	    size_t len);
	void (*vd)(ehlod_ctx *c);
};

struct step_reply {
	int code;
	const char *enhanced;	/* NULL: none (before EHLO, CONNECT) */
	const char *text;
};

typedef ehlod_verdict (*step_call_fn)(const struct ehlod_plugin *d,
    ehlod_ctx *x, const char *arg1, const char *arg2,
    const unsigned char *data, size_t len);

struct step_info {
	const char *name;	/* "helo": ehlod -t, logs, milter */
	const char *label;	/* "HELO": statistics */
	size_t slot;		/* offset of the hook in struct ehlod_plugin */
	step_call_fn call;	/* NULL for NOTE and STEP_VERB */
	enum step_shape shape;
	int chained;		/* answers a verdict: run by chain_start */
	struct step_reply reject;
	struct step_reply tempfail;
};

extern const struct step_info step_table[STEP_COUNT_];

/* 1 when the plugin defines the step's hook (never for STEP_VERB). */
int step_has_hook(const struct ehlod_plugin *d, enum step st);

/* The default reply for a verdict at a step: TEMPFAIL's, or else
 * REJECT's (an unknown command answered ACCEPT is still unrecognized). */
const struct step_reply *step_default_reply(enum step st, ehlod_verdict v);

struct plugin;

/* What the chain runner needs of one plugin at one step, side by side
 * so that a call costs two loads: the function, and where the plugin's
 * ctx sits in a session's ctx array. */
struct chain_link {
	union step_hook fn;
	size_t ctx_offset;	/* the plugin's index * sizeof(ehlod_ctx) */
};

struct chain_table {
	struct plugin **by_step[STEP_COUNT_];
	struct chain_link *link[STEP_COUNT_];	/* by_step's hooks */
	size_t n[STEP_COUNT_];
};

/* Append plugin p's hook for a step (which its descriptor d must have);
 * its ctx sits at ctx_offset in a session's ctx array. */
void chain_table_add(struct chain_table *t, enum step st, struct plugin *p,
    const struct ehlod_plugin *d, size_t ctx_offset);
void chain_table_free(struct chain_table *t);


#endif
