/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The caps on new pins at work in the daemon: limit.c's decisions with the
 * kernel reads they need (a host at its cap, expired estimates), their
 * counters and log lines. helper.c calls caps_admit() where a pin is about to be created, caps_settle() once
 * the kernel has answered, caps_log_pin() for each new pin's line; the main
 * loop calls caps_tick() at least once a second.
 */
#ifndef NFQH_CAPS_H
#define NFQH_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "limit.h"
#include "log.h"

/* caps_tick() is due at least this often */
#define CAPS_TICK_MS 1000

struct helper;
struct pin;

struct caps {
	struct limit limit;
	bool on;
	bool *created;	      /* per pin of the batch: admitted as new */
	uint64_t next_tick_ms;
	char summary_eg[128]; /* a pin the summary line names */
	struct ratelimit rl_capped, rl_rate, rl_error;
};

/*
 * Starts the caps with an empty table. The pins it learns are those the
 * rebuild from conntrack restores or finds (every live tunnel's) and those
 * the daemon makes; not a dump of the map, which costs the kernel time
 * quadratic in its size (87 s of CPU for 1M pins). 0 or -errno.
 */
int caps_start(struct helper *h, const struct limit_config *c);
void caps_free(struct caps *c);

/*
 * Pin i of the batch, p, is about to be written: true if it may be (a pin
 * the caps know is a refresh; a new one needs room under its host's cap and
 * tokens, unless !rates: a restore from conntrack); false if refused,
 * counted and warned about (the answer then passes unpinned).
 */
bool caps_admit(struct helper *h, size_t i, const struct pin *p, bool rates);

/*
 * After caps_admit() said true for pin i, p: true if it is new, false if it
 * repeats one made a moment ago (an answer queued before that one's pin was
 * written). A pin the caps knew from longer ago was lost by the kernel
 * (expired, flushed): new again.
 */
bool caps_new_pin(const struct helper *h, size_t i, const struct pin *p);

/* Pins the look-up found live join the table before any new one is admitted. */
void caps_note_present(struct helper *h);

/* The kernel has answered for the batch's pins: the caps' table follows. */
void caps_settle(struct helper *h);

/* True when a new pin gets its own log line; false if it is summarised. */
bool caps_log_pin(struct helper *h, const struct pin *p);

/* Work due by the clock: the summary line, the map's pins, expired ones. */
void caps_tick(struct helper *h);

/* The pending summary line, now (SIGUSR1, exit). */
void caps_summary(struct helper *h);

#endif
