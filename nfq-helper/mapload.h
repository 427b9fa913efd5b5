/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The pins the map holds, read in a thread of their own while the daemon
 * serves: a dump of a large set costs the kernel time that grows with the
 * square of its size (each part of the dump walks the set from its start;
 * about 80 s for 1M pins on the CI VM), too long to hold the queue for.
 * Functions return 0 or -errno.
 */
#ifndef NFQH_MAPLOAD_H
#define NFQH_MAPLOAD_H

#include "nftmap.h"

struct mapload;

/* Starts reading map TABLE MAP (family ip) with a socket of its own. */
int mapload_start(struct mapload **ml, const char *table, const char *map);

/*
 * Hands the pins read since the last call to cb, expires_ms made absolute
 * (CLOCK_MONOTONIC, ms). Returns 1 while the read goes on, 0 once it has
 * ended (all handed over), -errno if it failed; *total: pins read so far.
 */
int mapload_take(struct mapload *ml,
		 void (*cb)(const struct nftmap_elem *e, void *data),
		 void *data, uint64_t *total);

/* Ends the read (cancels it if it still runs) and frees what it holds. */
void mapload_stop(struct mapload *ml);

#endif
