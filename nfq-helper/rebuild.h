/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Pins rebuilt from conntrack (at start, on SIGHUP, on taking over as HA
 * master), and split subscribers healed. Returns 0 or -errno.
 */
#ifndef NFQH_REBUILD_H
#define NFQH_REBUILD_H

#include <stdint.h>

#include "pinwrite.h"

struct helper;

struct rebuild_result {
	uint64_t entries;	/* conntrack entries read */
	uint64_t flows;		/* source-NATed IKE and NAT-T flows among them */
	uint64_t pins;		/* distinct pins those flows justify */
	uint64_t added;		/* pins written */
	uint64_t present;	/* already in the map with the same address */
	uint64_t conflicts;	/* a live pin to another address was kept */
	uint64_t elsewhere;	/* answered flows via another address than
				 * the subscriber's IKE flow: no pin of theirs */
	uint64_t capped;	/* over their inner host's cap (--host-pins) */
	uint64_t failed;	/* map full, or errors */
	uint64_t splits;	/* NAT-T flows split from their pin */
	uint64_t heals;		/* of those, conntrack entries deleted */
	uint64_t served;	/* queued packets handled meanwhile */
	uint64_t reads;		/* socket reads of the dump */
	uint64_t reads_over_1ms, reads_over_5ms;
	uint64_t slice_max_us;	/* the longest read of the dump */
	uint64_t elapsed_us;
};

/*
 * Dumps the conntrack table and restores every pin that a live,
 * source-NATed IKE flow justifies (ikeflow.h), through the pin writer w
 * in its batches: the live path's rules, so a live pin is never moved. Then heals: a NAT-T flow that left from another address than the
 * pin now in the map and was never answered loses its conntrack entry, so
 * its next packet is NATed through the pin; an answered flow is never
 * touched. The table is read a slice (one socket read) at a time; h
 * serves the queue between slices (helper_serve()), so a table of millions
 * of entries never holds a packet for long. Logs one summary line and a
 * line per heal; fills *r. It runs helper_run() between batches, and the
 * live path shares w, so never call it from inside helper_run().
 */
int rebuild_run(struct helper *h, struct pinwrite *w,
		struct rebuild_result *r);

#endif
