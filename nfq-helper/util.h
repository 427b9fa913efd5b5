/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers every module may use: the monotonic clock, addresses as text. */
#ifndef NFQH_UTIL_H
#define NFQH_UTIL_H

#include <stdint.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "zone.h"

/* Milliseconds and microseconds on CLOCK_MONOTONIC: no jumps with the date. */
uint64_t util_now_ms(void);
uint64_t util_now_us(void);

/* a as a dotted quad in buf (INET_ADDRSTRLEN bytes); returns buf. */
const char *util_addr_str(in_addr_t a, char *buf);

/* A pin's or a flow's addresses as log lines and listings show them. */
struct pin_text {
	char inner[ZONE_HOST_STRLEN];	/* zone . inner host */
	char gateway[INET_ADDRSTRLEN];
	char pool[INET_ADDRSTRLEN];
};

void util_pin_text(struct pin_text *t, uint16_t zone, in_addr_t inner,
		   in_addr_t gateway, in_addr_t pool);

#endif
