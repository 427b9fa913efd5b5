/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nfq-helper --explain INNER [GATEWAY]: one subscriber's IKE and NAT-T
 * flows in conntrack and its pins, and a verdict for the support desk.
 */
#ifndef NFQH_EXPLAIN_H
#define NFQH_EXPLAIN_H

#include "config.h"

/* Exit statuses: pinned and consistent, split, error, not pinned. */
#define EXPLAIN_EXIT_PINNED 0
#define EXPLAIN_EXIT_SPLIT 1
#define EXPLAIN_EXIT_ERROR 2
#define EXPLAIN_EXIT_UNPINNED 3

/* Prints the listing and the verdict; returns one of the exit statuses. */
int explain_run(const struct nfqh_config *cfg);

#endif
