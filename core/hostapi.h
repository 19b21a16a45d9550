/*
 * NAME
 *	hostapi.h - the host function table ehlod hands to its plugins
 * DESCRIPTION
 *	ehlod-milter starts its own table as a copy of this one.
 */
#ifndef EHLOD_CORE_HOSTAPI_H
#define EHLOD_CORE_HOSTAPI_H

#include <ehlod/plugin.h>

const struct ehlod_host *host_table(void);

/* Set by "ehlod -t": plugins see it through the table's checking(). */
void hostapi_set_checking(int on);

#endif
