// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ikeload: load for the benchmarks, batched with sendmmsg/recvmmsg.
 *
 *   ikeload gateway
 *     answers every IKE message on UDP 500 of any local address (AnyIP)
 *     from the address it was sent to, with a responder cookie, echoing
 *     the rest (the client's timestamp).
 *   ikeload client -f FIRST -n COUNT -r RATE -g GW [-G GATEWAYS] [-p PORT]
 *     COUNT IKE first messages at RATE per second, message i from address
 *     FIRST + i to GW + i % GATEWAYS (distinct pairs, distinct flows), all
 *     from source port PORT; times each answer. Prints one line:
 *     "sent S answered A rate R rtt_us p50 P p99 Q p999 Z".
 *   ikeload blast -f FIRST -g GW -p DPORT -s SECONDS [-F FLOWS]
 *     UDP datagrams as fast as it can for SECONDS, cycling over FLOWS flows
 *     (source addresses FIRST + k); FLOWS 0: every datagram a new flow.
 *   ikeload sink -p PORT -s SECONDS
 *     counts datagrams to PORT for SECONDS after the first; prints "rate R".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "stats.h"

#define BATCH 64
#define MSG_LEN 64	/* IKE header + timestamp + filler */

struct slot {
	uint8_t buf[2048];
	struct sockaddr_in peer;
	struct iovec iov;
	char cbuf[CMSG_SPACE(sizeof(struct in_pktinfo))];
};

static struct slot slots[BATCH];
static struct mmsghdr mm[BATCH];

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = v;
}

static int udp_any(uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(port) };
	int one = 1, big = 32 << 20, fd;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		perror("bind");
		exit(1);
	}
	return fd;
}

/* Points mm[i] at slot i, for receiving (with) or sending from (src). */
static void prepare(int i, size_t len, bool control)
{
	struct slot *s = &slots[i];

	s->iov.iov_base = s->buf;
	s->iov.iov_len = len;
	memset(&mm[i], 0, sizeof(mm[i]));
	mm[i].msg_hdr.msg_name = &s->peer;
	mm[i].msg_hdr.msg_namelen = sizeof(s->peer);
	mm[i].msg_hdr.msg_iov = &s->iov;
	mm[i].msg_hdr.msg_iovlen = 1;
	if (control) {
		mm[i].msg_hdr.msg_control = s->cbuf;
		mm[i].msg_hdr.msg_controllen = sizeof(s->cbuf);
	}
}

static void set_source(int i, struct in_addr src)
{
	struct cmsghdr *c = CMSG_FIRSTHDR(&mm[i].msg_hdr);
	struct in_pktinfo pi = { .ipi_spec_dst = src };

	memset(slots[i].cbuf, 0, sizeof(slots[i].cbuf));
	c = CMSG_FIRSTHDR(&mm[i].msg_hdr);
	c->cmsg_level = IPPROTO_IP;
	c->cmsg_type = IP_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof(pi));
	memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	mm[i].msg_hdr.msg_controllen = CMSG_SPACE(sizeof(pi));
}

static struct in_addr dest_of(int i)
{
	struct cmsghdr *c;
	struct in_addr a = { 0 };

	for (c = CMSG_FIRSTHDR(&mm[i].msg_hdr); c;
	     c = CMSG_NXTHDR(&mm[i].msg_hdr, c))
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO)
			a = ((struct in_pktinfo *)CMSG_DATA(c))->ipi_addr;
	return a;
}

static int gateway(void)
{
	int fd = udp_any(500), n, i;

	for (;;) {
		for (i = 0; i < BATCH; i++)
			prepare(i, sizeof(slots[i].buf), true);
		n = recvmmsg(fd, mm, BATCH, MSG_WAITFORONE, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("recvmmsg");
			return 1;
		}
		for (i = 0; i < n; i++) {
			struct in_addr self = dest_of(i);
			size_t len = mm[i].msg_len;
			uint8_t *b = slots[i].buf;

			prepare(i, len, true);
			if (len < 28)
				len = 28;	/* garbage in, a header out */
			for (int k = 0; k < 8; k++)
				b[8 + k] = b[k] ^ 0x5a;
			b[19] = 0x20;
			slots[i].iov.iov_len = len;
			set_source(i, self);
		}
		if (n > 0)
			sendmmsg(fd, mm, n, 0);
	}
}

static uint32_t addr_plus(struct in_addr a, uint32_t k)
{
	return htonl(ntohl(a.s_addr) + k);
}

static int client(int argc, char **argv)
{
	struct in_addr first = { 0 }, gw = { 0 };
	unsigned long count = 0, rate = 1000, gateways = 1, sent = 0, got = 0;
	uint16_t port = 40000;
	static struct nfqh_stats rtt;
	uint64_t start, deadline, t;
	int c, fd, n, i;

	while ((c = getopt(argc, argv, "f:n:r:g:G:p:")) != -1) {
		switch (c) {
		case 'f': inet_pton(AF_INET, optarg, &first); break;
		case 'n': count = strtoul(optarg, NULL, 10); break;
		case 'r': rate = strtoul(optarg, NULL, 10); break;
		case 'g': inet_pton(AF_INET, optarg, &gw); break;
		case 'G': gateways = strtoul(optarg, NULL, 10); break;
		case 'p': port = atoi(optarg); break;
		default: return 2;
		}
	}
	if (!first.s_addr || !gw.s_addr || !count || !rate || !gateways) {
		fprintf(stderr, "usage: ikeload client -f FIRST -n COUNT -r RATE -g GW [-G N] [-p PORT]\n");
		return 2;
	}
	fd = udp_any(port);
	start = now_ns();
	deadline = 0;
	while (got < count) {
		t = now_ns();
		/* send what is due by now, a batch at most */
		unsigned long due = (t - start) * rate / 1000000000ULL + 1;

		for (n = 0; sent < count && sent < due && n < BATCH; n++, sent++) {
			uint8_t *b = slots[n].buf;
			uint64_t ts = now_ns();

			prepare(n, MSG_LEN, true);
			put_be32(b, 0x1ce00000 | (uint32_t)(sent >> 32));
			put_be32(b + 4, (uint32_t)sent | 1);
			memset(b + 8, 0, 8);
			b[16] = 0, b[17] = 0x10, b[18] = 4, b[19] = 0;
			put_be32(b + 20, 0);
			put_be32(b + 24, MSG_LEN);
			memcpy(b + 28, &ts, sizeof(ts));
			memset(b + 36, 0xa5, MSG_LEN - 36);
			slots[n].peer = (struct sockaddr_in){
				.sin_family = AF_INET, .sin_port = htons(500),
				.sin_addr.s_addr = addr_plus(gw, sent % gateways) };
			set_source(n, (struct in_addr){ addr_plus(first, sent) });
		}
		if (n)
			sendmmsg(fd, mm, n, 0);
		if (sent == count && !deadline)
			deadline = now_ns() + 2000000000ULL;	/* stragglers */
		if (deadline && now_ns() > deadline)
			break;
		for (i = 0; i < BATCH; i++)
			prepare(i, sizeof(slots[i].buf), false);
		n = recvmmsg(fd, mm, BATCH, MSG_DONTWAIT, NULL);
		for (i = 0; i < n; i++) {
			uint64_t ts;

			if (mm[i].msg_len < 36)
				continue;
			memcpy(&ts, slots[i].buf + 28, sizeof(ts));
			stats_latency(&rtt, (now_ns() - ts) / 1000);
			got++;
		}
		if (n > 0)
			continue;
		/* nothing to read: sleep until the next send is due or an
		 * answer comes, so that the load does not eat a core itself */
		{
			struct pollfd p = { .fd = fd, .events = POLLIN };
			uint64_t next = sent < count ?
				start + (sent * 1000000000ULL) / rate : now_ns() + 10000000;
			int64_t wait = (int64_t)(next - now_ns());
			struct timespec ts = { .tv_sec = 0, .tv_nsec = wait > 0 ? wait : 0 };

			if (wait > 0)
				ppoll(&p, 1, &ts, NULL);
		}
	}
	t = now_ns() - start;
	printf("sent %lu answered %lu rate %.0f rtt_us p50 %" PRIu64 " p99 %" PRIu64
	       " p999 %" PRIu64 "\n", sent, got, sent * 1e9 / (t ? t : 1),
	       stats_percentile(&rtt, 0.5), stats_percentile(&rtt, 0.99),
	       stats_percentile(&rtt, 0.999));
	return 0;
}

static int blast(int argc, char **argv)
{
	struct in_addr first = { 0 }, gw = { 0 };
	unsigned long flows = 1, k = 0, sent = 0;
	double seconds = 2;
	uint16_t dport = 53;
	uint64_t end;
	int c, fd, n;

	while ((c = getopt(argc, argv, "f:g:p:s:F:")) != -1) {
		switch (c) {
		case 'f': inet_pton(AF_INET, optarg, &first); break;
		case 'g': inet_pton(AF_INET, optarg, &gw); break;
		case 'p': dport = atoi(optarg); break;
		case 's': seconds = atof(optarg); break;
		case 'F': flows = strtoul(optarg, NULL, 10); break;
		default: return 2;
		}
	}
	if (!first.s_addr || !gw.s_addr) {
		fprintf(stderr, "usage: ikeload blast -f FIRST -g GW -p DPORT -s SECONDS [-F FLOWS]\n");
		return 2;
	}
	fd = udp_any(0);
	end = now_ns() + (uint64_t)(seconds * 1e9);
	while (now_ns() < end) {
		for (n = 0; n < BATCH; n++, k++) {
			prepare(n, 32, true);
			memset(slots[n].buf, 0x42, 32);
			slots[n].peer = (struct sockaddr_in){
				.sin_family = AF_INET, .sin_port = htons(dport),
				.sin_addr = gw };
			set_source(n, (struct in_addr){
				addr_plus(first, flows ? k % flows : k % (1 << 20)) });
		}
		n = sendmmsg(fd, mm, BATCH, 0);
		if (n > 0)
			sent += n;
	}
	printf("sent %lu rate %.0f\n", sent, sent / seconds);
	return 0;
}

static int sink(int argc, char **argv)
{
	unsigned long got = 0;
	double seconds = 2;
	uint16_t port = 53;
	uint64_t start = 0, end = 0;
	int c, fd, n;

	while ((c = getopt(argc, argv, "p:s:")) != -1) {
		switch (c) {
		case 'p': port = atoi(optarg); break;
		case 's': seconds = atof(optarg); break;
		default: return 2;
		}
	}
	fd = udp_any(port);
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, start ? 1000 : -1) <= 0)
			break;
		for (int i = 0; i < BATCH; i++)
			prepare(i, sizeof(slots[i].buf), false);
		n = recvmmsg(fd, mm, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			continue;
		if (!start) {
			start = now_ns();
			end = start + (uint64_t)(seconds * 1e9);
		}
		if (now_ns() > end)
			break;
		got += n;
	}
	printf("rate %.0f\n", got / seconds);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "gateway"))
		return gateway();
	if (argc >= 2 && !strcmp(argv[1], "client"))
		return client(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "blast"))
		return blast(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "sink"))
		return sink(argc - 1, argv + 1);
	fprintf(stderr, "usage: ikeload gateway | client ... | blast ... | sink ...\n");
	return 2;
}
