/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The map of pins in the kernel: checks it at start, writes elements in
 * transactions (libnftnl batches) and waits for their ACKs. Functions return
 * 0 or -errno.
 */
#ifndef NFQH_NFTMAP_H
#define NFQH_NFTMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nfqh.h"

struct nftmap_info {
	uint32_t flags;		/* NFT_SET_* */
	uint32_t key_type;
	uint32_t key_len;
	uint32_t data_type;
	uint32_t data_len;
	uint32_t size;		/* 0: no limit declared */
	uint64_t timeout_ms;	/* 0: none declared */
	uint32_t gc_ms;		/* 0: none declared (the kernel's 1 s) */
	bool keys;		/* the table has the companion set of keys */
};

struct nftmap;

/*
 * An element's key, as nft stores `ct zone . ip saddr . ip daddr': 32-bit
 * words, the zone a host-order u16 in the first (its other bytes zero).
 */
#define NFTMAP_KEY_WORDS 3
void nftmap_key(uint32_t key[NFTMAP_KEY_WORDS], uint16_t zone,
		in_addr_t inner, in_addr_t gateway);
void nftmap_key_parse(const uint32_t key[NFTMAP_KEY_WORDS], uint16_t *zone,
		      in_addr_t *inner, in_addr_t *gateway);

/*
 * Pins one commit takes at most: with the companion set of keys, one message
 * nests all their keys, and a nest's length has 16 bits (1,365 keys).
 */
#define NFTMAP_COMMIT_MAX 1024

/*
 * Opens the map writer; where the table has the companion set of the map's
 * keys (natt-pin-load makes it on kernels that cannot look up a map's keys),
 * every commit fills it too.
 */
int nftmap_open(struct nftmap **m, const char *table, const char *map);
void nftmap_close(struct nftmap *m);

/*
 * For tests: the map writer on a socket already open (a socketpair's end
 * standing in for the kernel, answering as port 0), sequence numbers from
 * seq. nftmap_close closes it.
 */
int nftmap_open_fd(struct nftmap **m, int fd, const char *table,
		   const char *map, uint32_t seq);

/*
 * Reads the map's declaration, and again whether the table has the companion
 * set of keys; -ENOENT if the table or the map is missing.
 */
int nftmap_info(struct nftmap *m, struct nftmap_info *info);

/*
 * Gives the map, and the companion set of keys where the table has it, a
 * garbage-collection interval of gc_ms where they declare none. (The kernel
 * walks such a set whole every second to free expired elements: 5-7 ms of
 * a CPU with 100,000 pins, which a task woken there waits behind. nft 1.0
 * cannot declare it for a map; every load of a declaration without it sets
 * it back.) Returns how many it gave one (0-2), or -errno with *which
 * naming the set it failed on.
 */
int nftmap_gc_default(struct nftmap *m, uint32_t gc_ms, const char **which);

/* NULL if the declaration suits pins, else what is wrong with it. */
const char *nftmap_check(const struct nftmap_info *info);

/*
 * Creates the pins in one transaction, exclusively (an existing element is
 * refused: the daemon never moves or rewrites a pin), with the given timeout.
 * Sets pins[i]->err to the element's errno and *committed to whether the
 * kernel applied the transaction (all or nothing). When the answers are lost
 * (ENOBUFS, timeout) the map is asked which it was.
 */
int nftmap_commit(struct nftmap *m, struct pin *const *pins, size_t n,
		  uint64_t timeout_ms, bool *committed);

/*
 * Builds the transaction nftmap_commit sends into buf (size bytes); the
 * elements get sequence numbers seq + 1 .. seq + n, and with keys (the
 * companion set's name, or NULL) one more message adds their keys there.
 * Returns its length, or 0 when buf is too small. For tests too.
 */
size_t nftmap_build(void *buf, size_t size, const char *table,
		    const char *map, const char *keys, struct pin *const *pins,
		    size_t n, uint64_t timeout_ms, uint32_t seq);

/*
 * The commit's answer collector fed from a buffer, for tests: buf holds len
 * bytes of netlink messages answering a batch whose first message had
 * sequence number seq; ret is the receive's result. Returns, and sets pins
 * and *committed, as nftmap_commit would have.
 */
int nftmap_collect(struct pin *const *pins, size_t n, bool keys, uint32_t seq,
		   const void *buf, size_t len, int ret, bool *committed);

/* Reads the packet count of the named counter object in the map's table. */
int nftmap_counter(struct nftmap *m, const char *name, uint64_t *packets);

/* One element of the map, as nftmap_dump() hands it over. */
struct nftmap_elem {
	uint16_t zone;
	in_addr_t inner;
	in_addr_t gateway;
	in_addr_t pool;
	uint64_t expires_ms;	/* time left */
	uint64_t timeout_ms;
};

/* Calls cb for every element of the map (a netlink dump). */
int nftmap_dump(struct nftmap *m,
		void (*cb)(const struct nftmap_elem *e, void *data), void *data);

/* Looks up e[0..n) by key (zone, inner, gateway), without a transaction; fills pool,
 * expires_ms, timeout_ms; err[i] is 0, -ENOENT (absent) or -errno. 0 or -errno. */
int nftmap_get(struct nftmap *m, struct nftmap_elem *e, size_t n, int *err);

#endif
