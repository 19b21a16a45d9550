/*
 * NAME
 *	notify.h - readiness and state for the service manager (sd_notify)
 */
#ifndef EHLOD_NOTIFY_H
#define EHLOD_NOTIFY_H

void notify_ready(const char *status);
void notify_reloading(void);
void notify_stopping(void);

#endif
