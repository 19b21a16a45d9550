/*
 * NAME
 *	anvil.c - per-client and global limits across worker processes
 * DESCRIPTION
 *	The idea is Postfix's anvil(8), without a server process: one table
 *	in anonymous shared memory, made by the master before it forks, and a
 *	process-shared robust mutex held for a few instructions per
 *	connection.  Each client address has a slot (open addressing, a
 *	short probe): its concurrent sessions, and its connections and AUTH
 *	failures in the current one-minute window.  A slot that is idle and
 *	whose windows are over is free for another address.  When no slot is
 *	free within the probe the client is not limited (fail open, logged
 *	once): a full table must not refuse mail.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "anvil.h"
#include "log.h"

#define ANVIL_SLOTS 8192
#define ANVIL_PROBE 16
#define ANVIL_WINDOW 60		/* seconds per rate window */

struct anvil_client {
	char addr[48];		/* "" when free */
	unsigned sessions;
	time_t conn_window;
	unsigned conns;
	time_t auth_window;
	unsigned auth_failures;
};

struct anvil_table {
	pthread_mutex_t lock;
	unsigned sessions;	/* the whole server's */
	int full_logged;
	struct anvil_client clients[ANVIL_SLOTS];
};

static struct anvil_table *table;

int
anvil_init(void)
{
	pthread_mutexattr_t attr;

	table = mmap(NULL, sizeof(*table), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (table == MAP_FAILED) {
		table = NULL;
		log_msg(LOG_ERR, "cannot share the limits table (%s); "
		    "connection limits are off", strerror(errno));
		return -1;
	}
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	/* A worker killed while holding it must not stop the others. */
	pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&table->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	return 0;
}

static void
lock(void)
{
	if (pthread_mutex_lock(&table->lock) == EOWNERDEAD)
		pthread_mutex_consistent(&table->lock);
}

static void
unlock(void)
{
	pthread_mutex_unlock(&table->lock);
}

static unsigned
hash(const char *s)
{
	unsigned h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static int
idle(const struct anvil_client *a, time_t now)
{
	return a->sessions == 0 && now - a->conn_window >= ANVIL_WINDOW &&
	    now - a->auth_window >= ANVIL_WINDOW;
}

/* The client's slot, claimed if need be; NULL when none is free. */
static struct anvil_client *
slot(const char *addr, time_t now, int claim)
{
	unsigned h = hash(addr);
	struct anvil_client *spare = NULL;

	for (unsigned i = 0; i < ANVIL_PROBE; i++) {
		struct anvil_client *a = &table->clients[(h + i) % ANVIL_SLOTS];
		if (a->addr[0] && strcmp(a->addr, addr) == 0)
			return a;
		if (spare == NULL && (a->addr[0] == '\0' || idle(a, now)))
			spare = a;
	}
	if (!claim || spare == NULL)
		return NULL;
	memset(spare, 0, sizeof(*spare));
	snprintf(spare->addr, sizeof(spare->addr), "%s", addr);
	return spare;
}

/* Counts one event in a one-minute window; returns the count. */
static unsigned
count_in_window(time_t *window, unsigned *count, time_t now)
{
	if (now - *window >= ANVIL_WINDOW) {
		*window = now;
		*count = 0;
	}
	return ++*count;
}

static const char *
judge(const struct config *c, struct anvil_client *a, time_t now,
    const char **limit)
{
	if (c->max_sessions > 0 && table->sessions >= (unsigned)c->max_sessions) {
		*limit = "max_sessions";
		return "Too many connections, try again later";
	}
	if (a == NULL)
		return NULL;
	if (c->max_connect_rate > 0 && count_in_window(&a->conn_window,
	    &a->conns, now) > (unsigned)c->max_connect_rate) {
		*limit = "max_connect_rate";
		return "Error: too many connections from your address";
	}
	if (c->max_sessions_per_client > 0 &&
	    a->sessions >= (unsigned)c->max_sessions_per_client) {
		*limit = "max_sessions_per_client";
		return "Error: too many connections from your address";
	}
	if (c->max_auth_failure_rate > 0 && now - a->auth_window <
	    ANVIL_WINDOW && a->auth_failures >=
	    (unsigned)c->max_auth_failure_rate) {
		*limit = "max_auth_failure_rate";
		return "Error: too many failed logins from your address";
	}
	return NULL;
}

const char *
anvil_connect(const struct config *c, const char *addr, const char **limit)
{
	time_t now = time(NULL);
	struct anvil_client *a;
	const char *why;

	*limit = NULL;
	if (table == NULL)
		return NULL;
	lock();
	a = slot(addr, now, 1);
	if (a == NULL && !table->full_logged) {
		table->full_logged = 1;
		log_msg(LOG_WARNING, "limits table full: clients without a "
		    "slot are not limited");
	}
	why = judge(c, a, now, limit);
	if (why == NULL) {
		table->sessions++;
		if (a)
			a->sessions++;
	}
	unlock();
	return why;
}

void
anvil_disconnect(const char *addr)
{
	struct anvil_client *a;

	if (table == NULL)
		return;
	lock();
	if (table->sessions > 0)
		table->sessions--;
	a = slot(addr, time(NULL), 0);
	if (a && a->sessions > 0)
		a->sessions--;
	unlock();
}

unsigned
anvil_auth_failed(const char *addr)
{
	time_t now = time(NULL);
	struct anvil_client *a;
	unsigned n = 0;

	if (table == NULL)
		return 0;
	lock();
	a = slot(addr, now, 1);
	if (a)
		n = count_in_window(&a->auth_window, &a->auth_failures, now);
	unlock();
	return n;
}

void
anvil_forget_sessions(void)
{
	if (table == NULL)
		return;
	lock();
	table->sessions = 0;
	for (size_t i = 0; i < ANVIL_SLOTS; i++)
		table->clients[i].sessions = 0;
	unlock();
}
