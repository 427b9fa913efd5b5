// SPDX-License-Identifier: GPL-2.0-or-later
/* packet_parse(): the IPv4/UDP walk, valid and broken. */
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "check.h"
#include "packet.h"

/* 203.0.113.2:500 -> 198.51.100.3:41000, 4 payload bytes, as the queue
 * hands a reply over (checksums are not looked at) */
static const uint8_t good[] = {
	0x45, 0x00, 0x00, 0x20, 0x12, 0x34, 0x40, 0x00, 0x3f, 0x11, 0x00, 0x00,
	0xcb, 0x00, 0x71, 0x02, 0xc6, 0x33, 0x64, 0x03,
	0x01, 0xf4, 0xa0, 0x28, 0x00, 0x0c, 0x00, 0x00,
	0xde, 0xad, 0xbe, 0xef,
};

static enum packet_result parse_copy(const uint8_t *buf, size_t len,
				     struct udp_view *v)
{
	return packet_parse(buf, len, len, v);
}

static void test_good(void)
{
	struct udp_view v;
	struct in_addr a;

	CHECK(parse_copy(good, sizeof(good), &v) == PACKET_OK);
	a.s_addr = v.saddr;
	CHECK(!strcmp(inet_ntoa(a), "203.0.113.2"));
	a.s_addr = v.daddr;
	CHECK(!strcmp(inet_ntoa(a), "198.51.100.3"));
	CHECK(v.sport == 500 && v.dport == 41000);
	CHECK(v.len == 4 && v.caplen == 4);
	CHECK(v.payload == good + 28 && v.payload[0] == 0xde);
}

static void test_truncated(void)
{
	struct udp_view v;
	size_t n;

	/* any cut inside the headers is caught, whatever the length says */
	for (n = 0; n < 28; n++)
		CHECK(packet_parse(good, n, sizeof(good), &v) ==
		      PACKET_TRUNCATED);
	/* a capture cut after the headers is fine; lengths come from them */
	CHECK(packet_parse(good, 29, sizeof(good), &v) == PACKET_OK);
	CHECK(v.caplen == 1 && v.len == 4);
	/* more captured than the packet is long: inconsistent */
	CHECK(packet_parse(good, sizeof(good), sizeof(good) - 1, &v) ==
	      PACKET_BAD_IP);
}

static void test_ip_fields(void)
{
	uint8_t p[sizeof(good)];
	struct udp_view v;

	memcpy(p, good, sizeof(p));
	p[0] = 0x65;	/* version 6 */
	CHECK(parse_copy(p, sizeof(p), &v) == PACKET_NOT_IPV4);
	p[0] = 0x44;	/* IHL 4: shorter than the fixed header */
	CHECK(parse_copy(p, sizeof(p), &v) == PACKET_BAD_IP);
	p[0] = 0x4f;	/* IHL 15: options past the end */
	CHECK(parse_copy(p, sizeof(p), &v) == PACKET_BAD_IP);
	memcpy(p, good, sizeof(p));
	p[3] = 0x21;	/* total length says one byte more */
	CHECK(parse_copy(p, sizeof(p), &v) == PACKET_BAD_IP);
	p[3] = 0x1f;
	CHECK(parse_copy(p, sizeof(p), &v) == PACKET_BAD_IP);
	memcpy(p, good, sizeof(p));
	p[6] = 0x20;	/* more fragments */
	CHECK(parse_copy(p, sizeof(p), &v) == PACKET_FRAGMENT);
	p[6] = 0x00;
	p[7] = 0x10;	/* offset 16 */
	CHECK(parse_copy(p, sizeof(p), &v) == PACKET_FRAGMENT);
	p[6] = 0x40;	/* don't fragment alone is fine */
	p[7] = 0x00;
	CHECK(parse_copy(p, sizeof(p), &v) == PACKET_OK);
	p[9] = 6;	/* TCP */
	CHECK(parse_copy(p, sizeof(p), &v) == PACKET_NOT_UDP);
}

static void test_udp_length(void)
{
	uint8_t p[sizeof(good)];
	struct udp_view v;

	memcpy(p, good, sizeof(p));
	p[25] = 0x07;	/* under the UDP header's own size */
	CHECK(parse_copy(p, sizeof(p), &v) == PACKET_BAD_UDP);
	p[25] = 0x0d;	/* longer than the IP packet carries */
	CHECK(parse_copy(p, sizeof(p), &v) == PACKET_BAD_UDP);
	p[25] = 0x0b;	/* shorter: trailing bytes */
	CHECK(parse_copy(p, sizeof(p), &v) == PACKET_BAD_UDP);
}

static void test_ip_options(void)
{
	uint8_t p[sizeof(good) + 4];
	struct udp_view v;

	/* IHL 6 with one 4-byte option (NOP NOP NOP EOL) */
	memcpy(p, good, 20);
	p[0] = 0x46;
	p[3] = 0x24;
	memcpy(p + 20, "\x01\x01\x01\x00", 4);
	memcpy(p + 24, good + 20, sizeof(good) - 20);
	CHECK(parse_copy(p, sizeof(p), &v) == PACKET_OK);
	CHECK(v.sport == 500 && v.len == 4 && v.payload == p + 32);
}

/* Random headers in exact-size buffers: no read past them, and what is
 * accepted is consistent (run under the sanitizers by `make test`). */
static void test_random(void)
{
	uint32_t x = 88172645u;
	unsigned i, k, accepted = 0;

	for (i = 0; i < 200000; i++) {
		size_t pktlen = 20 + (x % 60), caplen;
		uint8_t *b;
		struct udp_view v;

		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		caplen = x % (pktlen + 1);
		b = malloc(caplen ? caplen : 1);
		memcpy(b, good, caplen < sizeof(good) ? caplen : sizeof(good));
		for (k = 0; k < caplen; k++)
			if (k >= sizeof(good) || (x >> (k % 32)) % 7 == 0)
				b[k] = x >> (k % 24);
		if (caplen > 3) {	/* often self-consistent lengths */
			b[2] = pktlen >> 8;
			b[3] = pktlen;
		}
		if (packet_parse(b, caplen, pktlen, &v) == PACKET_OK) {
			accepted++;
			CHECK(v.payload >= b + 28 && v.payload <= b + caplen);
			CHECK(v.caplen <= v.len && v.len + 28 <= pktlen);
		}
		free(b);
	}
	CHECK(accepted > 0);
}

int main(void)
{
	RUN(test_good);
	RUN(test_truncated);
	RUN(test_ip_fields);
	RUN(test_udp_length);
	RUN(test_ip_options);
	RUN(test_random);
	return CHECK_DONE();
}
