// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * craftpeer: a gateway that answers each IKE flow with the broken answer
 * its client names, built byte by byte (raw IPv4), for the bad-input matrix.
 *
 *   craftpeer gateway
 *     answers on UDP 500 and 4500 of every local address. The client's
 *     message is an IKE header (behind the non-ESP marker on 4500) followed
 *     by the case's name; the answer is that case's packet, sent from the
 *     address and port asked to the client's (NATed) address and port.
 *     Prints "rx PORT SRC_ADDR SRC_PORT CASE" per message.
 *   craftpeer client -g GATEWAY -f SOURCE -c CASE [-p PORT] [-t MS]
 *     sends one message naming CASE from SOURCE (a new port) to GATEWAY:PORT
 *     (500), waits MS (2000) for any answer. Prints "CASE arrived BYTES" and
 *     exits 0, or "CASE lost" and exits 1.
 *   craftpeer list
 *     the cases, one a line.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "peer.h"

enum frag { FRAG_NONE, FRAG_BOTH, FRAG_FIRST, FRAG_LATER };

/* One answer: IP options, UDP payload, and how to spoil the headers. */
struct answer {
	uint8_t opt[40];
	size_t optlen;
	uint8_t pl[1500];
	size_t len;
	int udp_len_delta;	/* the UDP length field, off by this */
	size_t trailing;	/* zero bytes after the UDP length's end */
	bool bad_csum;
	enum frag frag;
};

struct ccase {
	const char *name;
	bool natt;	/* the answer is for a flow on 4500 */
	void (*build)(struct answer *a, const uint8_t *ic, const uint8_t *rc);
	long marker;	/* on 4500: the 4 bytes put in front; -1: none */
};

static void ok(struct answer *a, const uint8_t *ic, const uint8_t *rc)
{
	a->len = build(a->pl, ic, rc, 1, 4, 0, 60);
}

static void v2_ok(struct answer *a, const uint8_t *ic, const uint8_t *rc)
{
	a->len = build(a->pl, ic, rc, 2, 34, 0x20, 60);
}

static void large(struct answer *a, const uint8_t *ic, const uint8_t *rc)
{
	a->len = build(a->pl, ic, rc, 1, 4, 0, 1200);
}

static void ip_options(struct answer *a, const uint8_t *ic, const uint8_t *rc)
{
	ok(a, ic, rc);
	memset(a->opt, 1, 7);	/* NOP x 7, EOL */
	a->optlen = 8;
}

static void bad_ip_options(struct answer *a, const uint8_t *ic,
			   const uint8_t *rc)
{
	ok(a, ic, rc);
	a->opt[0] = 0x44;	/* timestamp, its length 2: below its minimum, 4 */
	a->opt[1] = 2;
	a->optlen = 8;
}

static void fragments(struct answer *a, const uint8_t *ic, const uint8_t *rc)
{
	large(a, ic, rc);
	a->frag = FRAG_BOTH;
}

static void first_fragment(struct answer *a, const uint8_t *ic,
			   const uint8_t *rc)
{
	large(a, ic, rc);
	a->frag = FRAG_FIRST;
}

static void later_fragment(struct answer *a, const uint8_t *ic,
			   const uint8_t *rc)
{
	large(a, ic, rc);
	a->frag = FRAG_LATER;
}

static void udp_trailing(struct answer *a, const uint8_t *ic,
			 const uint8_t *rc)
{
	ok(a, ic, rc);
	a->trailing = 8;
}

static void udp_len_over(struct answer *a, const uint8_t *ic,
			 const uint8_t *rc)
{
	ok(a, ic, rc);
	a->udp_len_delta = 8;
}

static void bad_checksum(struct answer *a, const uint8_t *ic,
			 const uint8_t *rc)
{
	ok(a, ic, rc);
	a->bad_csum = true;
}

static void garbage(struct answer *a, const uint8_t *ic, const uint8_t *rc)
{
	memset(a->pl, 0x41, 64);
	a->len = 64;
}

static void truncated(struct answer *a, const uint8_t *ic, const uint8_t *rc)
{
	ok(a, ic, rc);
	a->len = 20;
}

static void length_longer(struct answer *a, const uint8_t *ic,
			  const uint8_t *rc)
{
	ok(a, ic, rc);
	put_be32(a->pl + 24, 90);
}

static void length_shorter(struct answer *a, const uint8_t *ic,
			   const uint8_t *rc)
{
	ok(a, ic, rc);
	put_be32(a->pl + 24, 40);
}

static void bad_version(struct answer *a, const uint8_t *ic, const uint8_t *rc)
{
	ok(a, ic, rc);
	a->pl[17] = 0x30;
}

static void v1_minor(struct answer *a, const uint8_t *ic, const uint8_t *rc)
{
	ok(a, ic, rc);
	a->pl[17] = 0x11;
}

static void bad_exchange_v1(struct answer *a, const uint8_t *ic,
			    const uint8_t *rc)
{
	a->len = build(a->pl, ic, rc, 1, 99, 0, 60);
}

static void bad_exchange_v2(struct answer *a, const uint8_t *ic,
			    const uint8_t *rc)
{
	a->len = build(a->pl, ic, rc, 2, 33, 0x20, 60);
}

static void zero_responder_spi(struct answer *a, const uint8_t *ic,
			       const uint8_t *rc)
{
	a->len = build(a->pl, ic, NULL, 1, 4, 0, 60);
}

static void zero_initiator_spi(struct answer *a, const uint8_t *ic,
			       const uint8_t *rc)
{
	static const uint8_t zero[8];

	a->len = build(a->pl, zero, rc, 1, 4, 0, 60);
}

static void keepalive(struct answer *a, const uint8_t *ic, const uint8_t *rc)
{
	a->pl[0] = 0xff;
	a->len = 1;
}

/* on 4500: the non-ESP marker, then what follows */
static void marker(struct answer *a, uint32_t spi)
{
	memmove(a->pl + 4, a->pl, a->len);
	put_be32(a->pl, spi);
	a->len += 4;
}

static const struct ccase cases[] = {
	{ "ok", false, ok, -1 },
	{ "v2_ok", false, v2_ok, -1 },
	{ "large", false, large, -1 },
	{ "ip_options", false, ip_options, -1 },
	{ "bad_ip_options", false, bad_ip_options, -1 },
	{ "fragments", false, fragments, -1 },
	{ "first_fragment", false, first_fragment, -1 },
	{ "later_fragment", false, later_fragment, -1 },
	{ "udp_trailing", false, udp_trailing, -1 },
	{ "udp_len_over", false, udp_len_over, -1 },
	{ "bad_checksum", false, bad_checksum, -1 },
	{ "garbage", false, garbage, -1 },
	{ "truncated", false, truncated, -1 },
	{ "length_longer", false, length_longer, -1 },
	{ "length_shorter", false, length_shorter, -1 },
	{ "bad_version", false, bad_version, -1 },
	{ "v1_minor", false, v1_minor, -1 },
	{ "bad_exchange_v1", false, bad_exchange_v1, -1 },
	{ "bad_exchange_v2", false, bad_exchange_v2, -1 },
	{ "zero_responder_spi", false, zero_responder_spi, -1 },
	{ "zero_initiator_spi", false, zero_initiator_spi, -1 },
	{ "keepalive", false, keepalive, -1 },
	{ "natt_ok", true, ok, 0 },
	{ "natt_esp", true, ok, 1 },
	{ "natt_keepalive", true, keepalive, -1 },
	{ "natt_truncated", true, truncated, 0 },
	{ "natt_garbage", true, garbage, 0 },
	{ "natt_zero_responder_spi", true, zero_responder_spi, 0 },
};

static const struct ccase *find_case(const char *name)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (!strcmp(cases[i].name, name))
			return &cases[i];
	return NULL;
}

static uint16_t csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (; n > 1; p += 2, n -= 2)
		s += p[0] << 8 | p[1];
	if (n)
		s += p[0] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return ~s;
}

/* One IPv4 packet: header and options, then len bytes from data. */
static void send_ip(int raw, struct in_addr src, struct in_addr dst,
		    const struct answer *a, uint16_t frag_off, uint16_t id,
		    const uint8_t *data, size_t len)
{
	uint8_t pkt[1600];
	size_t ihl = 20 + a->optlen;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr = dst };

	memset(pkt, 0, ihl);
	pkt[0] = 0x40 | ihl / 4;
	put_be16(pkt + 2, ihl + len);
	put_be16(pkt + 4, id);
	put_be16(pkt + 6, frag_off);
	pkt[8] = 64;
	pkt[9] = IPPROTO_UDP;
	memcpy(pkt + 12, &src, 4);
	memcpy(pkt + 16, &dst, 4);
	memcpy(pkt + 20, a->opt, a->optlen);
	put_be16(pkt + 10, csum(pkt, ihl));
	memcpy(pkt + ihl, data, len);
	sendto(raw, pkt, ihl + len, 0, (struct sockaddr *)&to, sizeof(to));
}

static void answer(int raw, const struct sockaddr_in *self,
		   const struct sockaddr_in *to, const struct answer *a)
{
	uint8_t udp[1600];
	size_t n = 8 + a->len + a->trailing, first = 8 + 504;
	uint16_t id = (uint16_t)random();

	memcpy(udp, &self->sin_port, 2);
	memcpy(udp + 2, &to->sin_port, 2);
	put_be16(udp + 4, 8 + a->len + a->udp_len_delta);
	put_be16(udp + 6, a->bad_csum ? 0x1234 : 0);	/* 0: none (RFC 768) */
	memcpy(udp + 8, a->pl, a->len);
	memset(udp + 8 + a->len, 0, a->trailing);
	if (a->frag == FRAG_NONE) {
		send_ip(raw, self->sin_addr, to->sin_addr, a, 0, id, udp, n);
		return;
	}
	if (a->frag != FRAG_LATER)
		send_ip(raw, self->sin_addr, to->sin_addr, a, IP_MF, id, udp,
			first);
	if (a->frag != FRAG_FIRST)
		send_ip(raw, self->sin_addr, to->sin_addr, a, first / 8, id,
			udp + first, n - first);
}

static int gateway_rx(int fd, int raw, uint16_t port)
{
	char cbuf[CMSG_SPACE(sizeof(struct in_pktinfo))], name[64];
	uint8_t buf[2048], rc[8];
	struct sockaddr_in from, self = { .sin_family = AF_INET };
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof(from),
			     .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	size_t off = port == 4500 ? 4 : 0, n;
	const struct ccase *c;
	struct answer a;
	struct cmsghdr *cm;
	ssize_t got;

	got = recvmsg(fd, &mh, 0);
	if (got < (ssize_t)(off + HDR) || got - off - HDR >= sizeof(name))
		return 0;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO)
			self.sin_addr = ((struct in_pktinfo *)CMSG_DATA(cm))->ipi_addr;
	self.sin_port = htons(port);
	n = got - off - HDR;
	memcpy(name, buf + off + HDR, n);
	name[n] = 0;
	printf("rx %u %s %u %s\n", port, inet_ntoa(from.sin_addr),
	       ntohs(from.sin_port), name);
	fflush(stdout);
	c = find_case(name);
	if (!c)
		return 0;
	for (int i = 0; i < 8; i++)
		rc[i] = buf[off + i] ^ 0x5a;
	memset(&a, 0, sizeof(a));
	c->build(&a, buf + off, rc);
	if (c->marker >= 0)
		marker(&a, c->marker);
	answer(raw, &self, &from, &a);
	return 0;
}

static int gateway(void)
{
	struct in_addr any = { INADDR_ANY };
	struct pollfd pfd[2];
	int one = 1, raw;

	raw = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (raw < 0) {
		perror("raw socket");
		return 1;
	}
	pfd[0].fd = udp_socket(any, 500);
	pfd[1].fd = udp_socket(any, 4500);
	for (int i = 0; i < 2; i++) {
		pfd[i].events = POLLIN;
		setsockopt(pfd[i].fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		if (poll(pfd, 2, -1) < 0)
			return 1;
		for (int i = 0; i < 2; i++)
			if (pfd[i].revents & POLLIN)
				gateway_rx(pfd[i].fd, raw, i ? 4500 : 500);
	}
}

static int client(int argc, char **argv)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(500) };
	struct in_addr src = { 0 };
	const char *name = NULL;
	uint8_t msg[256], ic[8], buf[2048];
	struct pollfd pfd = { .events = POLLIN };
	int c, wait_ms = 2000;
	size_t off = 0, n;
	ssize_t got;

	while ((c = getopt(argc, argv, "g:f:c:p:t:")) != -1) {
		switch (c) {
		case 'g':
			inet_pton(AF_INET, optarg, &to.sin_addr);
			break;
		case 'f':
			inet_pton(AF_INET, optarg, &src);
			break;
		case 'c':
			name = optarg;
			break;
		case 'p':
			to.sin_port = htons(atoi(optarg));
			break;
		case 't':
			wait_ms = atoi(optarg);
			break;
		default:
			return 2;
		}
	}
	if (!to.sin_addr.s_addr || !src.s_addr || !name || !find_case(name)) {
		fprintf(stderr, "usage: craftpeer client -g GW -f SRC -c CASE [-p PORT] [-t MS]\n");
		return 2;
	}
	random_bytes(ic, 8);
	ic[0] |= 1;
	if (ntohs(to.sin_port) == 4500) {
		memset(msg, 0, 4);
		off = 4;
	}
	n = off + build(msg + off, ic, NULL, 1, 4, 0, HDR);
	memcpy(msg + n, name, strlen(name));
	n += strlen(name);
	put_be32(msg + off + 24, n - off);
	pfd.fd = udp_socket(src, 0);
	sendto(pfd.fd, msg, n, 0, (struct sockaddr *)&to, sizeof(to));
	if (poll(&pfd, 1, wait_ms) > 0) {
		got = recv(pfd.fd, buf, sizeof(buf), 0);
		printf("%s arrived %zd\n", name, got);
		return 0;
	}
	printf("%s lost\n", name);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "gateway"))
		return gateway();
	if (argc >= 2 && !strcmp(argv[1], "client"))
		return client(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "list")) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			printf("%s%s\n", cases[i].name, cases[i].natt ? " 4500" : "");
		return 0;
	}
	fprintf(stderr, "usage: craftpeer gateway | client -g GW -f SRC -c CASE [-p PORT] [-t MS] | list\n");
	return 2;
}
