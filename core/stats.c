/*
 * NAME
 *	stats.c - shared counters and their Prometheus text rendering
 * DESCRIPTION
 *	One anonymous shared mapping holds every counter.  Workers add with
 *	relaxed atomic increments; the master writes the plugin names at
 *	start and reload.  stats_write renders the Prometheus text format,
 *	which the status socket (worker.c) serves and "ehlod -s" prints:
 *	node_exporter's textfile collector or any scraper can take it from
 *	there.
 */
#include <string.h>
#include <sys/mman.h>

#include "loader.h"
#include "log.h"
#include "smtpd.h"
#include "stats.h"

#define STATS_PLUGINS 64
#define STATS_VERDICTS 6	/* CONTINUE .. PENDING */

/* A plugin's own counter (struct ehlod_counter), copied by the master. */
struct plugin_counter {
	char name[48];
	char help[120];
	unsigned long value;
};

struct stats_table {
	unsigned long counters[STAT_COUNT_];
	unsigned nplugins;
	char names[STATS_PLUGINS][32];
	unsigned long verdicts[STATS_PLUGINS + 1][STEP_COUNT_][STATS_VERDICTS];
	struct plugin_counter own[STATS_PLUGINS][EHLOD_COUNTERS_MAX];
};

static struct stats_table *table;

static const struct {
	const char *name, *help, *type, *label;
} counters[STAT_COUNT_] = {
	[STAT_CONNECTIONS] = { "ehlod_connections_total",
	    "Sessions started.", "counter", NULL },
	[STAT_SESSIONS] = { "ehlod_sessions",
	    "Sessions open now.", "gauge", NULL },
	[STAT_COMMANDS] = { "ehlod_commands_total",
	    "Command lines received.", "counter", NULL },
	[STAT_MSG_SENT] = { "ehlod_messages_total",
	    "Messages received whole, by outcome.", "counter",
	    "status=\"sent\"" },
	[STAT_MSG_DISCARDED] = { "ehlod_messages_total", NULL, NULL,
	    "status=\"discarded\"" },
	[STAT_MSG_REJECTED] = { "ehlod_messages_total", NULL, NULL,
	    "status=\"rejected\"" },
	[STAT_MSG_DEFERRED] = { "ehlod_messages_total", NULL, NULL,
	    "status=\"deferred\"" },
	[STAT_LIMIT_MAX_SESSIONS] = { "ehlod_limit_hits_total",
	    "Connections refused by a limit.", "counter",
	    "limit=\"max_sessions\"" },
	[STAT_LIMIT_PER_WORKER] = { "ehlod_limit_hits_total", NULL, NULL,
	    "limit=\"max_sessions_per_worker\"" },
	[STAT_LIMIT_PER_CLIENT] = { "ehlod_limit_hits_total", NULL, NULL,
	    "limit=\"max_sessions_per_client\"" },
	[STAT_LIMIT_CONNECT_RATE] = { "ehlod_limit_hits_total", NULL, NULL,
	    "limit=\"max_connect_rate\"" },
	[STAT_LIMIT_AUTH_FAILURES] = { "ehlod_limit_hits_total", NULL, NULL,
	    "limit=\"max_auth_failure_rate\"" },
	[STAT_TIMEOUTS] = { "ehlod_timeouts_total",
	    "Sessions ended by a timeout or deadline.", "counter", NULL },
	[STAT_ACCEPT_PAUSES] = { "ehlod_accept_pauses_total",
	    "Times accepting paused for want of file descriptors.",
	    "counter", NULL },
	[STAT_RELOADS] = { "ehlod_reloads_total",
	    "Successful configuration reloads.", "counter", NULL },
	[STAT_SPOOL_HELD] = { "ehlod_spool_held_messages_total",
	    "Messages whose reading paused until the spool writer caught "
	    "up (a slow spool disk).", "counter", NULL },
};

static const char *const verdict_names[STATS_VERDICTS] = {
	"continue", "accept", "reject", "tempfail", "discard", "pending"
};

int
stats_init(void)
{
	table = mmap(NULL, sizeof(*table), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (table == MAP_FAILED) {
		table = NULL;
		log_msg(LOG_ERR, "cannot share the counters; the status "
		    "socket will show none");
		return -1;
	}
	return 0;
}

void
stats_set_plugins(const struct plugin_set *set)
{
	if (table == NULL)
		return;
	memset(table->verdicts, 0, sizeof(table->verdicts));
	memset(table->own, 0, sizeof(table->own));
	table->nplugins = set->n < STATS_PLUGINS ? set->n : STATS_PLUGINS;
	for (unsigned i = 0; i < table->nplugins; i++) {
		const struct ehlod_counter *k = set->v[i].d.counters;

		snprintf(table->names[i], sizeof(table->names[i]), "%s",
		    set->v[i].name);
		for (unsigned j = 0; k != NULL && k[j].name != NULL &&
		    j < EHLOD_COUNTERS_MAX; j++) {
			struct plugin_counter *pc = &table->own[i][j];

			snprintf(pc->name, sizeof(pc->name), "ehlod_%s",
			    k[j].name);
			snprintf(pc->help, sizeof(pc->help), "%s",
			    k[j].help ? k[j].help : "");
		}
	}
}

void
stats_plugin_count(size_t plugin, unsigned counter, unsigned long n)
{
	if (table == NULL || plugin >= table->nplugins ||
	    counter >= EHLOD_COUNTERS_MAX ||
	    table->own[plugin][counter].name[0] == '\0')
		return;
	__atomic_add_fetch(&table->own[plugin][counter].value, n,
	    __ATOMIC_RELAXED);
}

void
stats_add(enum stat_counter which, long delta)
{
	if (table && which < STAT_COUNT_)
		__atomic_add_fetch(&table->counters[which],
		    (unsigned long)delta, __ATOMIC_RELAXED);
}

void
stats_verdict(int plugin, int step, int verdict)
{
	int row = plugin < 0 ? STATS_PLUGINS : plugin;

	if (table == NULL || row > STATS_PLUGINS || step < 0 ||
	    step >= STEP_COUNT_ || verdict < 0 || verdict >= STATS_VERDICTS)
		return;
	__atomic_add_fetch(&table->verdicts[row][step][verdict], 1,
	    __ATOMIC_RELAXED);
}

enum stat_counter
stats_limit_counter(const char *option)
{
	for (int i = STAT_LIMIT_MAX_SESSIONS; i <= STAT_LIMIT_AUTH_FAILURES;
	    i++)
		if (strstr(counters[i].label, option) &&
		    strlen(counters[i].label) == strlen(option) + 8)
			return (enum stat_counter)i;
	return STAT_COUNT_;
}

static void
write_verdicts(FILE *out)
{
	fprintf(out, "# HELP ehlod_verdicts_total Final verdicts of hook "
	    "chains, by the plugin that decided (core: none did).\n"
	    "# TYPE ehlod_verdicts_total counter\n");
	for (unsigned row = 0; row <= STATS_PLUGINS; row++) {
		if (row < STATS_PLUGINS && row >= table->nplugins)
			continue;
		for (int st = 0; st < STEP_COUNT_; st++)
			for (int v = 0; v < STATS_VERDICTS; v++) {
				unsigned long n = __atomic_load_n(
				    &table->verdicts[row][st][v],
				    __ATOMIC_RELAXED);
				if (n == 0)
					continue;
				fprintf(out, "ehlod_verdicts_total{plugin=\"%s\","
				    "step=\"%s\",verdict=\"%s\"} %lu\n",
				    row == STATS_PLUGINS ? "core" :
				    table->names[row], step_table[st].label,
				    verdict_names[v], n);
			}
	}
}

/* Whether an earlier slot already printed the metric of own[row][k]:
 * Prometheus wants every sample of a metric in one group. */
static int
printed_before(unsigned row, unsigned k)
{
	const char *name = table->own[row][k].name;

	for (unsigned r = 0; r <= row; r++)
		for (unsigned j = 0; j < (r == row ? k : EHLOD_COUNTERS_MAX); j++)
			if (strcmp(table->own[r][j].name, name) == 0)
				return 1;
	return 0;
}

static void
write_plugin_counters(FILE *out)
{
	for (unsigned row = 0; row < table->nplugins; row++)
		for (unsigned k = 0; k < EHLOD_COUNTERS_MAX; k++) {
			const struct plugin_counter *pc = &table->own[row][k];

			if (pc->name[0] == '\0' || printed_before(row, k))
				continue;
			fprintf(out, "# HELP %s %s\n# TYPE %s counter\n",
			    pc->name, pc->help, pc->name);
			for (unsigned r = row; r < table->nplugins; r++)
				for (unsigned j = 0; j < EHLOD_COUNTERS_MAX; j++)
					if (strcmp(table->own[r][j].name,
					    pc->name) == 0)
						fprintf(out, "%s{plugin=\"%s\"} "
						    "%lu\n", pc->name,
						    table->names[r],
						    __atomic_load_n(
						    &table->own[r][j].value,
						    __ATOMIC_RELAXED));
		}
}

void
stats_write(FILE *out)
{
	if (table == NULL)
		return;
	for (int i = 0; i < STAT_COUNT_; i++) {
		unsigned long n = __atomic_load_n(&table->counters[i],
		    __ATOMIC_RELAXED);
		if (counters[i].help)
			fprintf(out, "# HELP %s %s\n# TYPE %s %s\n",
			    counters[i].name, counters[i].help,
			    counters[i].name, counters[i].type);
		fprintf(out, "%s%s%s%s %lu\n", counters[i].name,
		    counters[i].label ? "{" : "",
		    counters[i].label ? counters[i].label : "",
		    counters[i].label ? "}" : "", n);
	}
	write_verdicts(out);
	write_plugin_counters(out);
}
