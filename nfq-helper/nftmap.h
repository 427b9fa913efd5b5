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
};

struct nftmap;

int nftmap_open(struct nftmap **m, const char *table, const char *map);
void nftmap_close(struct nftmap *m);

/* Reads the map's declaration; -ENOENT if the table or the map is missing. */
int nftmap_info(struct nftmap *m, struct nftmap_info *info);

/* NULL if the declaration suits pins, else what is wrong with it. */
const char *nftmap_check(const struct nftmap_info *info);

/*
 * Writes the pins in one transaction: PIN_TRY_CREATE exclusively,
 * PIN_TRY_REFRESH as a re-add, both with the given timeout and a fresh
 * expiry. Sets pins[i]->err to the element's errno and *committed to whether
 * the kernel applied the transaction (all or nothing).
 */
int nftmap_commit(struct nftmap *m, struct pin *const *pins, size_t n,
		  uint64_t timeout_ms, bool *committed);

/*
 * Builds the transaction nftmap_commit sends into buf (size bytes); the
 * elements get sequence numbers seq + 1 .. seq + n. Returns its length, or 0
 * when buf is too small. For tests too.
 */
size_t nftmap_build(void *buf, size_t size, const char *table,
		    const char *map, struct pin *const *pins, size_t n,
		    uint64_t timeout_ms, uint32_t seq);

/* One element of the map, as nftmap_dump() hands it over. */
struct nftmap_elem {
	in_addr_t inner;
	in_addr_t gateway;
	in_addr_t pool;
	uint64_t expires_ms;	/* time left */
	uint64_t timeout_ms;
};

/* Calls cb for every element of the map (a netlink dump). */
int nftmap_dump(struct nftmap *m,
		void (*cb)(const struct nftmap_elem *e, void *data), void *data);

/*
 * Reads the elements whose keys (inner, gateway) e[0..n) hold, without a
 * transaction: one GET each, sent at once. Fills pool and expiry of those
 * found; err[i] is 0, -ENOENT (no such pin) or -errno.
 */
int nftmap_get(struct nftmap *m, struct nftmap_elem *e, size_t n, int *err);

#endif
