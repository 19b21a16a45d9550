/*
 * NAME
 *	plugin_threads.h - worker threads of a plugin, and their way back
 *	to the event loop
 * DESCRIPTION
 *	A plugin whose work may wait (the disk, a password check) runs it in
 *	threads of its own; they must not call the host (plugin.h), so what
 *	they finish goes on a list of the plugin's and a loop_wake tells the
 *	event loop to take it.  plugin_threads.c holds what every such
 *	plugin needs and is compiled into each (maildir, auth).
 *
 *	loop_wake_open() makes the eventfd and watches it from the loop
 *	(for good where the host can, ABI 1.5, else anew after each wake);
 *	at each wake the loop calls take(arg), which takes the plugin's list
 *	under its own lock and hands the items on.  loop_wake_post(), from
 *	any thread, wakes the loop (a plugin posts when its list turns from
 *	empty to not empty).  loop_wake_close() closes the eventfd (the
 *	host cancels an instance's watches before fini).
 *
 *	threads_start() starts up to n threads running run, with every
 *	signal blocked in them (signals are the loop's); it returns how
 *	many started, and leaves the error of the first that did not in
 *	*err.
 *
 *	threads_join_within() joins n threads, waiting for all of them
 *	together at most that many seconds, and returns how many it could
 *	not join: a thread that waits on a peer that never answers (a hung
 *	saslauthd, a file server gone away) must not keep a stopping worker
 *	from ending.  The caller then leaves behind whatever those threads
 *	may still touch (their lock, their list, the eventfd): the process
 *	ends soon after.
 */
#ifndef EHLOD_PLUGINS_PLUGIN_THREADS_H
#define EHLOD_PLUGINS_PLUGIN_THREADS_H

#include <pthread.h>

#include <ehlod/plugin.h>

struct loop_wake {
	int efd;
	const struct ehlod_host *host;
	ehlod_ctx *inst;
	void (*take)(void *arg);
	void *arg;
	const char *what;	/* for the log: "the delivery threads" */
};

int loop_wake_open(struct loop_wake *w, const struct ehlod_host *host,
    ehlod_ctx *inst, void (*take)(void *), void *arg, const char *what);
void loop_wake_post(struct loop_wake *w);
void loop_wake_close(struct loop_wake *w);

unsigned threads_start(pthread_t *threads, unsigned n,
    void *(*run)(void *), int *err);
/* How long a stopping worker waits for its plugins' threads. */
#define THREADS_STOP_WAIT 5
unsigned threads_join_within(pthread_t *threads, unsigned n,
    unsigned seconds);

#endif
