/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Watches nf_tables events for the loss of nfq-helper's ruleset (the table,
 * the map, the queue rules: what a firewall reload with `flush ruleset`
 * takes away), says so once, counts it, and has the loader (loader.h) put
 * it back.
 * Functions return 0 or -errno.
 */
#ifndef NFQH_WATCH_H
#define NFQH_WATCH_H

#include <stdint.h>

#include "config.h"
#include "stats.h"

struct watch;

/*
 * Subscribes to the events and reads the ruleset once. restored(arg) is
 * called whenever the ruleset is back, or was re-created, without its pins.
 */
int watch_open(struct watch **w, const struct nfqh_config *cfg,
	       struct nfqh_stats *stats, void (*restored)(void *arg),
	       void *arg);
void watch_close(struct watch *w);

/* One descriptor for poll(): the event socket and a running loader. */
int watch_fd(const struct watch *w);

/* Takes the events, reaps the loader, acts on what changed. */
void watch_handle(struct watch *w);

/*
 * The learn rule's mark bit in the ruleset as last seen whole (ruleset.h);
 * 0 if it had none. A ruleset gone keeps the last one.
 */
uint32_t watch_learn_mark(const struct watch *w);

#endif
