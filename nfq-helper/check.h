/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nfq-helper --check: kernel support, ruleset, map; a report on stdout. */
#ifndef NFQH_CHECK_H
#define NFQH_CHECK_H

#include "config.h"

/* Prints the report; returns the exit status (0 ready, 1 not). */
int check_run(const struct nfqh_config *cfg);

/*
 * Whether a re-add with an expiration extends a live element's expiry
 * (element timeout update, Linux 6.12): tried in a scratch table that is
 * removed again. 1 yes, 0 no, or -errno.
 */
int check_timeout_update(void);

#endif
