/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The caps on new pins at work in the daemon: limit.c's decisions with the
 * kernel reads they need (a host at its cap, expired estimates), their
 * counters and log lines. The caps keep their own table: whoever is about to
 * create a pin calls caps_admit(), caps_new_pin() on the learn path, and
 * caps_settle() once the kernel has answered, with the batch's pins; the
 * main loop calls caps_tick() at least once a second. A zeroed struct caps
 * is off: every pin is admitted.
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

struct nfqh_stats;
struct nftmap;
struct pin;

struct caps {
	struct limit limit;
	bool on;
	struct nftmap *map;	/* where the kernel's pins are read */
	const char *map_name;	/* "ip TABLE MAP", for messages */
	struct nfqh_stats *stats;
	uint64_t next_tick_ms;
	char summary_eg[128]; /* a pin the summary line names */
	struct ratelimit rl_capped, rl_rate, rl_error;
};

/*
 * Starts the caps with an empty table, reading pins in map (map_name in
 * messages) and counting into stats. The pins it learns are those the
 * rebuild from conntrack restores or finds (every live tunnel's) and those
 * the daemon makes; not a dump of the map, which costs the kernel time
 * quadratic in its size (87 s of CPU for 1M pins). 0 or -errno.
 */
int caps_start(struct caps *c, const struct limit_config *cfg,
	       struct nftmap *map, const char *map_name,
	       struct nfqh_stats *stats);
void caps_free(struct caps *c);

/*
 * Pin p is about to be written: true if it may be (a pin the caps know is a
 * refresh; a new one needs room under its host's cap and tokens, unless
 * !rates: a restore from conntrack); false if refused, counted and warned
 * about (the answer then passes unpinned).
 */
bool caps_admit(struct caps *c, const struct pin *p, bool rates);

/*
 * After caps_admit() said true for p: true if it is new, false if it
 * repeats one made a moment ago (an answer queued before that one's pin was
 * written), judged against a new pin's timeout_ms. A pin the caps knew from
 * longer ago was lost by the kernel (expired, flushed): new again.
 */
bool caps_new_pin(const struct caps *c, const struct pin *p,
		  uint64_t timeout_ms);

/*
 * The look-up found pins[0..n) in state PIN_PRESENT live: they join the
 * table (expiring timeout_ms from now) before any new one is admitted.
 */
void caps_note_present(struct caps *c, const struct pin *pins, size_t n,
		       uint64_t timeout_ms);

/*
 * The kernel has answered for pins[0..n), written with timeout_ms: the caps'
 * table follows (a pin admitted as new and not written leaves it again).
 */
void caps_settle(struct caps *c, const struct pin *pins, size_t n,
		 uint64_t timeout_ms);

/* True when a new pin gets its own log line; false if it is summarised. */
bool caps_log_pin(struct caps *c, const struct pin *p);

/* Work due by the clock: the summary line, the map's pins, expired ones. */
void caps_tick(struct caps *c);

/* The pending summary line, now (SIGUSR1, exit). */
void caps_summary(struct caps *c);

#endif
