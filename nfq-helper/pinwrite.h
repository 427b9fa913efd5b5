/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The pin writer: pins written to the map in transactions, the single place
 * that does (a ruleset without the learn rule, the rebuild from conntrack),
 * and read back where the kernel was told to write them. Repeats of a key
 * are resolved here, then one look-up round trip, one exclusive create of
 * what is absent (none while the map is full), until each pin is added,
 * present, or given up (conflict, map full, error); PIN_MAX_ROUNDS at most.
 * Counts transactions and failed ones; the caps decide on every create.
 */
#ifndef NFQH_PINWRITE_H
#define NFQH_PINWRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nfqh.h"
#include "pin.h"

struct caps;
struct nfqh_stats;
struct nftmap;
struct nftmap_elem;

/* The map pins go to: main.c opens it and reads its declaration again. */
struct pin_map {
	struct nftmap *nft;
	const char *name;	/* "ip TABLE MAP", for messages */
	uint32_t size;		/* declared elements, 0 for no limit */
	uint64_t timeout_ms;	/* a new pin's */
};

struct pinwrite {
	const struct pin_map *map;
	struct caps *caps;		/* NULL: none */
	struct nfqh_stats *stats;
	size_t max;			/* pins one call takes */
	struct pin **pending;		/* max each: the round's pins */
	struct nftmap_elem *found;	/* their look-ups */
	int *found_err;
	struct pin_backoff backoff;	/* creates held while map is full */
};

/* Room for max pins a call, writing to map; 0 or -ENOMEM. */
int pinwrite_init(struct pinwrite *w, size_t max, const struct pin_map *map,
		  struct caps *caps, struct nfqh_stats *stats);
void pinwrite_free(struct pinwrite *w);

/*
 * Writes pins[0..n) (n at most w->max) for the answers of one batch: the
 * caps' rates apply to the creates. The caller settles the caps once the
 * answers have gone on. now_ms (monotonic) times the back-off while the map
 * is full.
 */
void pinwrite_commit(struct pinwrite *w, struct pin *pins, size_t n,
		     uint64_t now_ms);

/*
 * Writes the first w->max of pins[0..n) restored from conntrack: of the
 * caps only the per-host cap applies (a rebuild restores every live tunnel
 * at once), and they are settled at once. How many pins it took.
 */
size_t pinwrite_restore(struct pinwrite *w, struct pin *pins, size_t n,
			uint64_t now_ms);

/*
 * Reads back pins[0..n) the kernel was told to write (PIN_ADDED,
 * PIN_PRESENT), without a transaction: one absent becomes PIN_MAP_FULL (the
 * kernel refused it), one with another address PIN_CONFLICT.
 */
void pinwrite_verify(struct pinwrite *w, struct pin *pins, size_t n);

#endif
