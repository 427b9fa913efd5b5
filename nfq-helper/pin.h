/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Pin policy, pure. The kernel is the only store of pins, and refreshes
 * live ones itself (natt-pin.nft). The daemon looks a pin up first (no
 * transaction) and only creates what is absent, exclusively, so that it
 * sends no transaction the kernel can be expected to refuse: a live pin is
 * never moved, an answer via another pool address is a conflict.
 */
#ifndef NFQH_PIN_H
#define NFQH_PIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nfqh.h"

/* Rounds of look-up and create a batch may take. */
#define PIN_MAX_ROUNDS 4

/* While the map is full, creates wait this long, doubling, then one probes. */
#define PIN_BACKOFF_MIN_MS 1000
#define PIN_BACKOFF_MAX_MS 30000

/* Fresh pin, not looked up yet. */
void pin_init(struct pin *p, uint16_t zone, in_addr_t inner,
	      in_addr_t gateway, in_addr_t pool);

/* True while the pin still needs a look-up or a transaction. */
bool pin_pending(const struct pin *p);

/*
 * Takes a look-up's answer: err 0 with the live pin's pool, -ENOENT if the
 * map has none for the key, or another -errno.
 */
void pin_found(struct pin *p, int err, in_addr_t pool);

/*
 * Takes the outcome of one create transaction: err is the element's own
 * errno (0 if the kernel accepted it), committed whether the whole
 * transaction was.
 */
void pin_settle(struct pin *p, int err, bool committed);

/* Final state for pins still pending after PIN_MAX_ROUNDS. */
void pin_give_up(struct pin *p);

/*
 * Index of an earlier pin in pins[0..n) with the same key and pool address,
 * or n if there is none: repeats in one batch need no element of their own.
 */
size_t pin_find(const struct pin *pins, size_t n, const struct pin *p);

/*
 * Resolves repeats of a key within pins[0..n), in userspace: the first
 * wins; a later one with the same address becomes PIN_REPEAT, one with
 * another address PIN_CONFLICT. Neither costs a kernel write.
 */
void pin_mark_repeats(struct pin *pins, size_t n);

/* Gives each PIN_REPEAT in pins[0..n) the outcome of the pin it repeats. */
void pin_share_outcomes(struct pin *pins, size_t n);

const char *pin_state_str(enum pin_state s);

/* Creates held back while the map is full. Zeroed: none held. */
struct pin_backoff {
	uint64_t until_ms;	/* no creates before this */
	uint64_t delay_ms;	/* the current back-off, 0 when none */
};

/* True while creates wait (now_ms on a monotonic clock). */
bool pin_backoff_holds(const struct pin_backoff *b, uint64_t now_ms);

/* True when the next create is a probe after a back-off. */
bool pin_backoff_probing(const struct pin_backoff *b);

/* The map refused a create as full: wait, twice as long as last time. */
void pin_backoff_full(struct pin_backoff *b, uint64_t now_ms);

/* A create went through: no more waiting. */
void pin_backoff_clear(struct pin_backoff *b);

#endif
