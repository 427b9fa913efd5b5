/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nfq-helper --status: the live pins from the kernel, the daemon's counters. */
#ifndef NFQH_STATUS_H
#define NFQH_STATUS_H

#include "config.h"

/* Where the service writes its counters when -M names no file. */
#define STATUS_METRICS_DEFAULT "/run/nfq-helper/metrics.prom"

/* Prints both; returns the exit status. */
int status_run(const struct nfqh_config *cfg);

#endif
