/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nfq-helper --check: kernel support, ruleset, map; a report on stdout. */
#ifndef NFQH_CHECK_H
#define NFQH_CHECK_H

#include "config.h"

/* Prints the report; returns the exit status (0 ready, 1 not). */
int check_run(const struct nfqh_config *cfg);

#endif
