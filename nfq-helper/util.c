// SPDX-License-Identifier: GPL-2.0-or-later
/* The helpers of util.h, written once. */
#include <time.h>

#include "util.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

uint64_t util_now_ms(void)
{
	return now_ns() / 1000000;
}

uint64_t util_now_us(void)
{
	return now_ns() / 1000;
}

const char *util_addr_str(in_addr_t a, char *buf)
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

void util_pin_text(struct pin_text *t, uint16_t zone, in_addr_t inner,
		   in_addr_t gateway, in_addr_t pool)
{
	zone_host_str(zone, inner, t->inner);
	util_addr_str(gateway, t->gateway);
	util_addr_str(pool, t->pool);
}
