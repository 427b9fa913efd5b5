/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Least privilege once the sockets are open. Returns 0 or -errno. */
#ifndef NFQH_PRIV_H
#define NFQH_PRIV_H

#include <stdbool.h>

/*
 * Keeps CAP_NET_ADMIN alone (effective, permitted, inheritable and ambient:
 * the ruleset loader the daemon runs to restore a flushed ruleset needs it
 * too, also as a non-root user), drops every other capability from the
 * bounding set when allowed to (CAP_SETPCAP; else *bounding is false and the
 * set stays as given, systemd's CapabilityBoundingSet= for instance), and
 * sets no_new_privs. Netlink requests (the map, conntrack, the queue) need
 * nothing more. Calls capset() only when something is to change, so a
 * service already confined to CAP_NET_ADMIN needs no capset in its system
 * call filter. -EPERM when CAP_NET_ADMIN is not held at all.
 */
int priv_drop(bool *bounding);

/*
 * Makes CAP_NET_ADMIN inheritable and ambient, so that a program the daemon
 * runs (the ruleset loader: nft, iptables) keeps it across exec. -EPERM
 * when it is not effective here.
 */
int priv_pass_net_admin(void);

#endif
