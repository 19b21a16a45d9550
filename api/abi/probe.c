/*
 * NAME
 *	probe.c - every type of the plugin ABI, for abidiff
 * DESCRIPTION
 *	Built with debug information by .ci/abi into a small shared object
 *	whose one function takes every ABI structure, so that abidw records
 *	their layout.  api/abi/ehlod-plugin-1.0.abi is that record for
 *	ABI 1.0; abidiff against it fails on an incompatible change.
 */
#include <ehlod/plugin.h>

__attribute__((visibility("default"))) void
ehlod_abi_probe(const struct ehlod_plugin *d, const struct ehlod_host *h,
    const struct ehlod_option *o, const struct ehlod_list *l,
    const struct ehlod_report *r, const struct ehlod_verb *v,
    const struct ehlod_param *p, enum ehlod_item item, enum ehlod_flag flag,
    enum ehlod_outcome outcome, enum ehlod_state state)
{
	(void)d; (void)h; (void)o; (void)l; (void)r; (void)v; (void)p;
	(void)item; (void)flag; (void)outcome; (void)state;
}
