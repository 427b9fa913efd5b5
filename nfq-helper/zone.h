/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A subscriber is a conntrack zone and an inner address: its text form, in
 * log lines and listings, and as --explain takes it. Pure.
 */
#ifndef NFQH_ZONE_H
#define NFQH_ZONE_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>

/* Bytes zone_host_str() writes at most, with its NUL. */
#define ZONE_HOST_STRLEN (sizeof("zone 65535 ") + INET_ADDRSTRLEN)

/*
 * "zone 3 100.64.1.10", or "100.64.1.10" in zone 0: a site with one zone
 * reads what it read before. Returns buf (ZONE_HOST_STRLEN bytes).
 */
const char *zone_host_str(uint16_t zone, in_addr_t inner, char *buf);

/*
 * Parses ZONE:INNER, or INNER alone (zone 0). 0, or -EINVAL with what is
 * wrong in err (errlen bytes).
 */
int zone_host_parse(const char *s, uint16_t *zone, in_addr_t *inner,
		    char *err, size_t errlen);

#endif
