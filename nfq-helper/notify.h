/* SPDX-License-Identifier: GPL-2.0-or-later */
/* systemd's readiness protocol, without libsystemd (sd_notify(3)). */
#ifndef NFQH_NOTIFY_H
#define NFQH_NOTIFY_H

#include <stdint.h>

/* Sends state (e.g. "READY=1") to $NOTIFY_SOCKET; 0 if there is none. */
int notify(const char *state);

/*
 * The watchdog interval systemd asks for (WatchdogSec=: $WATCHDOG_USEC, for
 * this process if $WATCHDOG_PID says so), in microseconds; 0: none.
 */
uint64_t notify_watchdog_usec(void);

#endif
