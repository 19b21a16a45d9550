/*
 * fuzz_config - libFuzzer target: the configuration file reader
 * DESCRIPTION
 *	The input is a configuration file's text.  It is written to a
 *	temporary file and read the way ehlod reads its file: the first pass
 *	(core options, plugin names), then the strict second pass with a
 *	plugin option table shaped like the real plugins' (strings, lists,
 *	numbers, booleans), as the loader would build it.  Kept to the two
 *	entry points of core/config.h so it survives changes to the loader.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <confuse.h>

#include "../core/config.h"
#include "../core/log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[] = "/tmp/ehlod-fuzz-config-XXXXXX";
static int fd = -1;

static cfg_opt_t plugin_opts[] = {
	CFG_STR("path", NULL, CFGF_NONE),
	CFG_STR("socket", "unix:/run/x", CFGF_NONE),
	CFG_STR_LIST("zones", "{}", CFGF_NONE),
	CFG_INT("timeout", 10, CFGF_NONE),
	CFG_BOOL("require", cfg_false, CFGF_NONE),
	CFG_FLOAT("ratio", 0.5, CFGF_NONE),
	CFG_END()
};

static void
remove_file(void)
{
	unlink(path);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fd = mkstemp(path);
	if (fd < 0)
		abort();
	atexit(remove_file);
	log_open("fuzz_config", 0, 0);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c;
	cfg_t *tree = NULL;

	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	if (config_read(path, &c) == 0) {
		for (size_t i = 0; i < c.nplugins; i++)
			if (c.plugins[i].name == NULL || c.plugins[i].path == NULL)
				abort();
		config_is_local_domain(&c, "example.org");
		if (config_read_plugins(&c, plugin_opts, &tree) == 0)
			cfg_free(tree);
	}
	config_free(&c);
	return 0;
}
