/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Pure IPv4/UDP walk over a queued packet; no I/O. */
#ifndef NFQH_PACKET_H
#define NFQH_PACKET_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

enum packet_result {
	PACKET_OK,
	PACKET_TRUNCATED,	/* fewer bytes than the headers need */
	PACKET_NOT_IPV4,
	PACKET_BAD_IP,		/* header or total length inconsistent */
	PACKET_FRAGMENT,
	PACKET_NOT_UDP,
	PACKET_BAD_UDP,		/* UDP length disagrees with IP */
};

struct udp_view {
	in_addr_t saddr;
	in_addr_t daddr;
	uint16_t sport;
	uint16_t dport;
	const uint8_t *payload;
	size_t caplen;	/* payload bytes present in the buffer */
	size_t len;	/* payload bytes the datagram carries */
};

/*
 * Walks the IPv4 and UDP headers of buf. caplen bytes are present, pktlen is
 * the length of the whole packet (larger when the queue copied only a prefix).
 */
enum packet_result packet_parse(const uint8_t *buf, size_t caplen,
				size_t pktlen, struct udp_view *v);
const char *packet_result_str(enum packet_result r);

#endif
