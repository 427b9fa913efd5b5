/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Counters and the verdict latency histogram; their log and Prometheus forms. */
#ifndef NFQH_STATS_H
#define NFQH_STATS_H

#include <stdint.h>
#include <stdio.h>

#include "ike.h"

/* latency buckets: 1 us wide to 1 ms, then 100 us wide to 100 ms, then one */
#define LAT_FINE 1000
#define LAT_COARSE 990
#define LAT_BUCKETS (LAT_FINE + LAT_COARSE + 1)

struct nfqh_stats {
	uint64_t packets;	/* queued packets received */
	uint64_t verdicts;	/* packets accepted */
	uint64_t not_ike;	/* not IPv4/UDP from 500 or 4500 */
	uint64_t ike_rejected;	/* IKE-like but malformed or unpinnable */
	uint64_t ike_rejected_by[IKE_RESULTS];	/* the same, by ike_parse() result */
	uint64_t keepalives;
	uint64_t esp;
	uint64_t ike_ok;
	uint64_t ct_miss;	/* no conntrack entry, or not a source-NATed flow */
	uint64_t ct_errors;
	uint64_t ct_attached;	/* entries the kernel queued with the packet */
	uint64_t ct_lookups;	/* entries asked of ctnetlink instead */
	uint64_t pins_added;	/* new pins, written by the kernel or by us */
	uint64_t pins_present;	/* answers for a live pin, same address */
	uint64_t pin_conflicts;
	uint64_t map_full;
	uint64_t map_errors;
	uint64_t pins_rebuilt;	/* written by rebuilds from conntrack */
	uint64_t heals;		/* split NAT-T flows deleted by rebuilds */
	uint64_t pins_capped;	/* new pins refused: the inner host's cap */
	uint64_t pins_rate_host;	/* refused: the host's new-pin rate */
	uint64_t pins_rate_all;	/* refused: the global new-pin rate */
	uint64_t pin_checks;	/* kernel reads of pins (GETSETELEM rounds) */
	uint64_t pin_table;	/* gauge: pins the limiter knows of */
	uint64_t learns;	/* answers accepted for the kernel to pin */
	uint64_t learn_refused;	/* natt-pin.nft's counter learn_refused */
	uint64_t learn_mark;	/* gauge: the learn rule's bit, 0 if none */
	uint64_t transactions;	/* rebuilds, heals, rulesets without learn */
	uint64_t transactions_failed;	/* aborted by the kernel */
	uint64_t kernel_refreshes;	/* natt-pin.nft's counter refreshes */
	uint64_t flood_passed;	/* its counter flood_passed: over the limit */
	uint64_t overruns;	/* ENOBUFS on the queue socket */
	uint64_t verdict_errors;	/* verdicts refused, sent again */
	uint64_t verdict_msgs;	/* verdict messages (a batch verdict each) */
	uint64_t batches;
	uint64_t batch_max;
	uint64_t latency[LAT_BUCKETS];	/* verdict latency, see LAT_* */
	uint64_t latency_sum_us;
	/* the ruleset under the daemon (watch.c) */
	uint64_t ruleset_ok;		/* 1 while table, map and queue rules exist */
	uint64_t ruleset_losses;	/* times it stopped being so */
	uint64_t ruleset_recreated;	/* table or map re-created: pins lost */
	uint64_t restores;		/* loader runs that brought it back */
	uint64_t restores_failed;
	uint64_t ruleset_off_ms;	/* the fix was off this long in all */
	uint64_t ruleset_last_gap_ms;
	uint64_t event_overruns;	/* ENOBUFS on the event socket */
};

/* Counts one verdict that came us microseconds after the packet arrived. */
void stats_latency(struct nfqh_stats *s, uint64_t us);

/* The latency below which a fraction q (0..1) of verdicts came, in us. */
uint64_t stats_percentile(const struct nfqh_stats *s, double q);

/* Three info lines: packets, pins, batches and latency. */
void stats_log(const struct nfqh_stats *s);

/* Prometheus text exposition (version 0.0.4). */
void stats_prometheus(const struct nfqh_stats *s, FILE *f);

/* Writes stats_prometheus() to path through a temporary file and a rename. */
int stats_write(const struct nfqh_stats *s, const char *path);

#endif
