/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Caps on new pins, pure: no I/O, `now' passed in (milliseconds, monotonic).
 * One subscriber must not fill the map: at most host_cap live pins per host
 * (a conntrack zone . inner address: the same address in two zones is two
 * subscribers), and new pins at most at a rate per host and for all of them
 * (token buckets, kept as GCRA: one timestamp each). Refreshes of live pins
 * are never limited.
 *
 * The kernel holds the truth (pins expire there, and may be refreshed there
 * without the daemon), so the limiter keeps only what it can rebuild: the
 * pins it knows of (zone, inner, gateway, an estimate of the expiry), 20 bytes
 * each, filled at start from a dump of the map. When a host reaches its cap
 * and its entries may be stale, limit_admit() says LIMIT_VERIFY: the caller
 * asks the kernel which of the host's pins are live (limit_host_pins(),
 * limit_note(), limit_forget(), limit_verified()) and asks again. Entries
 * past their estimate are handed out by limit_stale() for the same check,
 * so the table shrinks as pins expire.
 */
#ifndef NFQH_LIMIT_H
#define NFQH_LIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nfqh.h"

/* a host at its cap is checked in the kernel at most this often */
#define LIMIT_VERIFY_S 10
/* new-pin info lines per window; beyond, one summary per window */
#define LIMIT_LOG_LINES 10
#define LIMIT_LOG_WINDOW_S 10

struct limit_config {
	uint32_t host_cap;  /* live pins per inner host; 0: no cap */
	uint32_t host_rate; /* new pins per second per inner host; 0: none */
	uint32_t host_burst;
	uint32_t rate; /* new pins per second in all; 0: none */
	uint32_t burst;
};

enum limit_verdict {
	LIMIT_KNOWN,	 /* a pin the table holds: a refresh, no limit */
	LIMIT_CREATE,	 /* a new pin, admitted and entered */
	LIMIT_VERIFY,	 /* the host is at its cap, maybe stale: check */
	LIMIT_CAPPED,	 /* the host holds host_cap live pins */
	LIMIT_HOST_RATE, /* the host makes new pins too fast */
	LIMIT_RATE,	 /* all hosts together make new pins too fast */
};

struct limit_key {
	uint16_t zone;
	in_addr_t inner;
	in_addr_t gateway;
};

struct limit_entry;
struct limit_host;

struct limit {
	struct limit_config cfg;
	uint32_t seed;
	struct limit_entry *e; /* entries, 1-based in chains */
	uint32_t nalloc, used, count, free;
	uint32_t *heads; /* chains by inner host */
	uint32_t bits;
	struct limit_host *hosts; /* rate and check state, by hash */
	uint64_t tat_us;	  /* the global bucket */
	uint32_t cursor;	  /* limit_stale()'s scan */
	uint64_t log_start_ms, log_pins, log_lines;
};

int limit_init(struct limit *l, const struct limit_config *c, uint32_t seed);
void limit_free(struct limit *l);

/*
 * Decides on a pin about to be written. LIMIT_CREATE takes the tokens and
 * enters the pin with an expiry estimate of now (limit_note() sets it once
 * written; limit_forget() if the kernel refused it).
 */
enum limit_verdict limit_admit(struct limit *l, uint16_t zone,
			       in_addr_t inner, in_addr_t gateway,
			       uint64_t now_ms);

/*
 * The same for a pin restored from conntrack (a rebuild): the cap holds, the
 * rates do not (a restart restores every live tunnel at once).
 */
enum limit_verdict limit_admit_restore(struct limit *l, uint16_t zone,
				       in_addr_t inner, in_addr_t gateway,
				       uint64_t now_ms);

/* A pin known to be in the map, expiring at expires_ms (estimate). */
int limit_note(struct limit *l, uint16_t zone, in_addr_t inner,
	       in_addr_t gateway, uint64_t expires_ms);
/* A pin known not to be in the map. */
void limit_forget(struct limit *l, uint16_t zone, in_addr_t inner,
		  in_addr_t gateway);
/* The host's pins were checked in the kernel at now_ms. */
void limit_verified(struct limit *l, uint16_t zone, in_addr_t inner,
		    uint64_t now_ms);

/* The gateways of the host's entries, max at most; how many. */
size_t limit_host_pins(const struct limit *l, uint16_t zone, in_addr_t inner,
		       in_addr_t *gateways, size_t max);

/* Up to max entries whose estimate has passed, for a check; how many. */
size_t limit_stale(struct limit *l, uint64_t now_ms, struct limit_key *out,
		   size_t max);

/* The expiry estimate of a pin the table holds, 0 if none; pending: max. */
uint64_t limit_expires_ms(const struct limit *l, uint16_t zone,
			  in_addr_t inner, in_addr_t gateway);

/* Pins the table holds. */
static inline uint32_t limit_count(const struct limit *l)
{
	return l->count;
}

/* True when this new pin gets its own log line, false if it is summarised. */
bool limit_log_pin(struct limit *l, uint64_t now_ms);
/*
 * Once a window with pins left unlogged has ended (or at once, with force):
 * how many new pins it had, for one summary line; else 0.
 */
uint64_t limit_log_due(struct limit *l, uint64_t now_ms, bool force);

const char *limit_verdict_str(enum limit_verdict v);

#endif
