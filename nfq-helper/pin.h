/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Pin policy, pure. The kernel is the only store of pins: a pin is first
 * added exclusively; if one exists it is re-added with the same address,
 * which the kernel accepts only when the address matches (a refresh) and
 * refuses with EEXIST otherwise (a conflict: the live pin is kept).
 */
#ifndef NFQH_PIN_H
#define NFQH_PIN_H

#include <stdbool.h>
#include <stddef.h>

#include "nfqh.h"

/* Rounds of transactions a batch may take: create, refresh, conflict. */
#define PIN_MAX_ROUNDS 4

/* Fresh pin, to be added exclusively. */
void pin_init(struct pin *p, in_addr_t inner, in_addr_t gateway,
	      in_addr_t pool);

/* True while the pin still needs a transaction. */
bool pin_pending(const struct pin *p);

/*
 * Takes the outcome of one transaction: err is the element's own errno (0 if
 * the kernel accepted it), committed whether the whole transaction was.
 */
void pin_settle(struct pin *p, int err, bool committed);

/* Final state for pins still pending after PIN_MAX_ROUNDS. */
void pin_give_up(struct pin *p);

/*
 * Index of an earlier pin in pins[0..n) with the same key and pool address,
 * or n if there is none: repeats in one batch need no element of their own.
 */
size_t pin_find(const struct pin *pins, size_t n, const struct pin *p);

const char *pin_state_str(enum pin_state s);

#endif
