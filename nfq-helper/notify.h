/* SPDX-License-Identifier: GPL-2.0-or-later */
/* systemd's readiness protocol, without libsystemd (sd_notify(3)). */
#ifndef NFQH_NOTIFY_H
#define NFQH_NOTIFY_H

/* Sends state (e.g. "READY=1") to $NOTIFY_SOCKET; 0 if there is none. */
int notify(const char *state);

#endif
