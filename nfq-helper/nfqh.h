/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nfq-helper: small types shared by the modules. */
#ifndef NFQH_H
#define NFQH_H

#include <stdint.h>
#include <netinet/in.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Addresses stay in network byte order (in_addr_t) from the packet to the
 * map key, as the kernel stores them; ports are host order.
 */

enum pin_state {
	PIN_TRY_CREATE,	/* not known to exist: add exclusively */
	PIN_TRY_REFRESH,	/* exists: re-add, same address, new expiry */
	PIN_ADDED,
	PIN_REFRESHED,
	PIN_CONFLICT,	/* live pin to another pool address: kept */
	PIN_MAP_FULL,
	PIN_FAILED,
};

/* One map element: inner host . gateway : pool address. */
struct pin {
	in_addr_t inner;
	in_addr_t gateway;
	in_addr_t pool;
	enum pin_state state;
	int err;	/* errno of the last attempt, 0 if none */
};

struct nfqh_stats {
	uint64_t packets;	/* queued packets received */
	uint64_t verdicts;	/* packets accepted */
	uint64_t not_ike;	/* not IPv4/UDP or not an IKE header */
	uint64_t ike_rejected;	/* IKE-like but malformed or unpinnable */
	uint64_t keepalives;
	uint64_t esp;
	uint64_t ike_ok;
	uint64_t ct_miss;	/* no conntrack entry, or not a source-NATed flow */
	uint64_t ct_errors;
	uint64_t pins_added;
	uint64_t pins_refreshed;
	uint64_t pin_conflicts;
	uint64_t map_full;
	uint64_t map_errors;
	uint64_t transactions;
	uint64_t overruns;	/* ENOBUFS on the queue socket */
	uint64_t batches;
	uint64_t batch_max;
};

#endif
