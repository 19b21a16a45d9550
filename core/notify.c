/*
 * NAME
 *	notify.c - tell the service manager how the server is doing
 * DESCRIPTION
 *	Under systemd with Type=notify (etc/ehlod.service) the master says
 *	READY=1 once its workers are started, RELOADING=1 and READY=1 around
 *	a SIGHUP reload, and STOPPING=1 when it drains.  Without a service
 *	manager ($NOTIFY_SOCKET unset) sd_notify does nothing.
 */
#include <systemd/sd-daemon.h>

#include "notify.h"

void
notify_ready(const char *status)
{
	sd_notifyf(0, "READY=1\nSTATUS=%s", status);
}

void
notify_reloading(void)
{
	sd_notify(0, "RELOADING=1\nSTATUS=reloading");
}

void
notify_stopping(void)
{
	sd_notify(0, "STOPPING=1\nSTATUS=stopping");
}
