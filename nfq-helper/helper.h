/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One wakeup of the daemon: take the queued packets, find each IKE reply's
 * inner host, let the caps decide on its pin, and accept every packet
 * taken; the verdict of an answer whose pin the kernel is to write carries
 * the ruleset's learn bit (natt-pin.nft's chain learn writes it before the
 * answer goes on). Without a learn rule (an older ruleset) the pin writer
 * (pinwrite.h) writes them in transactions before the verdict.
 */
#ifndef NFQH_HELPER_H
#define NFQH_HELPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "caps.h"
#include "ct.h"
#include "ike.h"
#include "log.h"
#include "nfqh.h"
#include "pin.h"
#include "pinwrite.h"
#include "stats.h"

struct nlattr;
struct queue;

enum job_state {
	JOB_DONE,	/* nothing to pin: accept only */
	JOB_LOOKUP,	/* needs its conntrack entry */
	JOB_PIN,	/* entry known */
};

struct job {
	enum job_state state;
	struct ike_msg ike;
	struct ct_tuple reply;	/* the packet: gateway -> pool address */
	struct ct_entry ct;
	size_t pin;		/* index into the batch's pins */
	bool pin_owner;		/* the first job of its pin */
	uint64_t arrived_us;	/* its receipt by us: util_now_us() */
	uint32_t slot;		/* the queue's, for its verdict's mark */
	uint32_t mark;		/* its packet mark */
	uint16_t reply_zone;	/* its zone id in the reply direction, as
				 * the ruleset gives it (NFQA_PRIORITY): for
				 * the look-up where no entry comes with it */
};

struct helper {
	struct queue *queue;
	struct ct_sock *ct;	/* NULL when the queue attaches entries */
	size_t batch_max;
	struct nfqh_stats stats;

	struct job *jobs;
	size_t njobs;
	struct ct_query *queries;
	struct pin *pins;	/* the batch's, one per key and address */
	size_t npins;

	uint64_t woke_us;	/* helper_coalesce(): this wakeup, or 0 */
	uint64_t last_woke_us;
	uint64_t rate;		/* answers a second queued, an average */
	size_t last_batch;	/* answers the last wakeup took */

	uint32_t learn_mark;	/* the ruleset's learn bit; 0: transactions */
	bool learn_known;	/* learn_mark was set once */
	bool refusing;		/* the kernel refused learns in the last tick */
	uint64_t refused_seen;	/* counter learn_refused at the last tick */
	uint64_t next_tick_ms;

	struct ratelimit rl_overrun, rl_conflict, rl_full, rl_error;

	struct pin_map map;	/* where the pins go */
	struct caps caps;	/* caps on new pins */
	struct pinwrite writer;	/* pins in transactions: no learn rule */
};

/*
 * Room for batch_max packets a wakeup; the writer and the caps go to h->map,
 * which the caller fills in. 0 or -ENOMEM.
 */
int helper_init(struct helper *h, size_t batch_max);
void helper_free(struct helper *h);

/*
 * The queue is readable: under load (answers faster than HELPER_BUSY_PPS),
 * waits HELPER_COALESCE_US for more before the next helper_run() reads
 * them, so that one wakeup serves many; their hold then counts from now.
 */
void helper_coalesce(struct helper *h);

/* Handles what the queue holds now, at most batch_max packets; how many. */
int helper_run(struct helper *h);

/* Decides what one queued packet needs; pure but for debug logging. */
void helper_classify(struct helper *h, const uint8_t *payload, size_t caplen,
		     size_t len, const struct nlattr *ct, struct job *job);

/*
 * Handles what the queue holds now, without waiting, until max packets
 * have been handled or it is empty; how many (0 when no queue is bound).
 */
int helper_serve(struct helper *h, int max);

/* Reads the ruleset's counters (refreshes, flood_passed, learn_refused). */
void helper_read_kernel_counters(struct helper *h);

/*
 * The learn rule's mark bit as the ruleset now has it (ruleset.h), 0 for
 * none: new pins are then written in transactions.
 */
void helper_set_learn(struct helper *h, uint32_t mark);

/* Work due by the clock (at least once a second): refused learns. */
void helper_tick(struct helper *h);

#endif
