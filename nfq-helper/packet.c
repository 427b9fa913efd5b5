// SPDX-License-Identifier: GPL-2.0-or-later
/* Pure IPv4/UDP walk: every read follows a length check. */
#include <string.h>
#include <arpa/inet.h>
#include <netinet/ip.h>
#include <netinet/udp.h>

#include "packet.h"

#define IP_FRAG_MASK (IP_MF | IP_OFFMASK)

enum packet_result packet_parse(const uint8_t *buf, size_t caplen,
				size_t pktlen, struct udp_view *v)
{
	struct iphdr ip;
	struct udphdr udp;
	size_t ihl, udplen;

	if (caplen > pktlen)
		return PACKET_BAD_IP;
	if (caplen < sizeof(ip))
		return PACKET_TRUNCATED;
	memcpy(&ip, buf, sizeof(ip));
	if (ip.version != 4)
		return PACKET_NOT_IPV4;
	ihl = ip.ihl * 4u;
	if (ihl < sizeof(ip) || ntohs(ip.tot_len) != pktlen || ihl > pktlen)
		return PACKET_BAD_IP;
	/* conntrack reassembles before the queue; a fragment is not ours */
	if (ntohs(ip.frag_off) & IP_FRAG_MASK)
		return PACKET_FRAGMENT;
	if (ip.protocol != IPPROTO_UDP)
		return PACKET_NOT_UDP;
	if (caplen < ihl + sizeof(udp))
		return PACKET_TRUNCATED;
	memcpy(&udp, buf + ihl, sizeof(udp));
	udplen = ntohs(udp.len);
	if (udplen < sizeof(udp) || udplen != pktlen - ihl)
		return PACKET_BAD_UDP;

	v->saddr = ip.saddr;
	v->daddr = ip.daddr;
	v->sport = ntohs(udp.source);
	v->dport = ntohs(udp.dest);
	v->payload = buf + ihl + sizeof(udp);
	v->caplen = caplen - ihl - sizeof(udp);
	v->len = udplen - sizeof(udp);
	return PACKET_OK;
}

const char *packet_result_str(enum packet_result r)
{
	switch (r) {
	case PACKET_OK:
		return "ok";
	case PACKET_TRUNCATED:
		return "truncated";
	case PACKET_NOT_IPV4:
		return "not IPv4";
	case PACKET_BAD_IP:
		return "bad IPv4 header";
	case PACKET_FRAGMENT:
		return "fragment";
	case PACKET_NOT_UDP:
		return "not UDP";
	case PACKET_BAD_UDP:
		return "bad UDP length";
	}
	return "?";
}
