// SPDX-License-Identifier: GPL-2.0-or-later
/* A subscriber's conntrack zone and inner address as text. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "util.h"
#include "zone.h"

const char *zone_host_str(uint16_t zone, in_addr_t inner, char *buf)
{
	char a[INET_ADDRSTRLEN];

	util_addr_str(inner, a);
	if (zone)
		snprintf(buf, ZONE_HOST_STRLEN, "zone %u %s", zone, a);
	else
		snprintf(buf, ZONE_HOST_STRLEN, "%s", a);
	return buf;
}

/* A zone id: decimal digits, 0 to 65535; false otherwise. */
static bool parse_zone(const char *s, size_t len, uint16_t *zone)
{
	unsigned long v = 0;
	size_t i;

	if (!len || len > 5)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (v > UINT16_MAX)
		return false;
	*zone = v;
	return true;
}

int zone_host_parse(const char *s, uint16_t *zone, in_addr_t *inner,
		    char *err, size_t errlen)
{
	const char *colon = strchr(s, ':');
	const char *addr = colon ? colon + 1 : s;

	*zone = 0;
	if (colon && !parse_zone(s, colon - s, zone)) {
		snprintf(err, errlen, "invalid zone `%.*s' in `%s' (ZONE:INNER, a conntrack zone 0-65535)",
			 (int)(colon - s), s, s);
		return -EINVAL;
	}
	if (inet_pton(AF_INET, addr, inner) != 1) {
		snprintf(err, errlen, "invalid inner address `%s' (an IPv4 address, or ZONE:INNER as 2:100.64.1.10)",
			 addr);
		return -EINVAL;
	}
	return 0;
}
