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
	PIN_UNKNOWN,	/* not looked up yet */
	PIN_TRY_CREATE,	/* absent from the map: create exclusively */
	PIN_ADDED,
	PIN_PRESENT,	/* live, same address (the kernel refreshes it) */
	PIN_CONFLICT,	/* live pin to another pool address: kept */
	PIN_MAP_FULL,
	PIN_FAILED,
	PIN_REFUSED,	/* absent, and the caps refused a new pin */
	PIN_REPEAT,	/* an earlier pin of the batch has the same key and
			 * address: it shares that one's outcome */
};

/*
 * One map element: conntrack zone . inner host . gateway : pool address.
 * The zone is the entry's zone id (nft's `ct zone', whatever its
 * direction): the same inner address in two zones is two subscribers.
 */
struct pin {
	uint16_t zone;
	in_addr_t inner;
	in_addr_t gateway;
	in_addr_t pool;
	enum pin_state state;
	int err;	/* errno of the last attempt, 0 if none */
};

#endif
