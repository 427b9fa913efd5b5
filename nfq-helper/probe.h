/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Kernel probes, for --check's report and the daemon's start. Each asks the
 * kernel on a socket of its own and leaves nothing behind: a rule is tried
 * in a batch without its end message, which the kernel checks and undoes
 * (as `nft -c` does); an element in a scratch table removed again; a queue
 * bound and unbound again.
 */
#ifndef NFQH_PROBE_H
#define NFQH_PROBE_H

#include <stdint.h>

/* nft's queue expression (CONFIG_NFT_QUEUE): 0, or the kernel's -errno. */
int probe_queue_expr(void);

/* A look-up of a map's keys, `ip saddr @m`: 0, -EINVAL before Linux 6.4. */
int probe_map_key_lookup(void);

/*
 * Whether a re-add with an expiration extends a live element's expiry
 * (element timeout update, Linux 6.12): 1 yes, 0 no, or -errno.
 */
int probe_timeout_update(void);

/*
 * Whether the kernel attaches conntrack entries to queued packets
 * (CONFIG_NETFILTER_NETLINK_GLUE_CT), asked by binding queue num, which
 * should be free: 1 yes, 0 no, or -errno.
 */
int probe_ct_attached(uint16_t num);

/* Whether ctnetlink answers a lookup (nf_conntrack_netlink): 0 or -errno. */
int probe_ctnetlink(void);

#endif
