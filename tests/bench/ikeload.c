// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ikeload: load for the benchmarks, batched with sendmmsg/recvmmsg.
 *
 *   ikeload gateway [-T]
 *     answers every IKE message on UDP 500, and on 4500 behind the non-ESP
 *     marker, of any local address (AnyIP) from the address it was sent to,
 *     with a responder cookie, echoing the rest (the client's timestamp) and
 *     adding the sender's address as it arrived (after the NAT) and its own
 *     times (the kernel's receipt with -T, its read, its send); twice when
 *     the request asks for a retransmission. Prints "ready" once bound.
 *   ikeload client -f FIRST -n COUNT -r RATE -g GW [-G GATEWAYS] [-p PORT]
 *     COUNT IKE first messages at RATE per second, message i from address
 *     FIRST + i to GW + i % GATEWAYS (distinct pairs, distinct flows), all
 *     from source port PORT; times each answer. Prints one line:
 *     "sent S answered A rate R rtt_us p50 P p99 Q p999 Z".
 *   ikeload steady [-f FIRST -g GW [-G N] -r RATE] [-s SECONDS] [-n COUNT]
 *                  [-x V2,MM,AM] [-R PERCENT] [-S SOCKETS] [-1] [-T]
 *                  [-P POP -A POPFIRST -a POPGW [-b M] [-i INTERVAL] [-o OFF]
 *                  [-E POOL]]
 *     for SECONDS: POP live tunnels (POPFIRST + k to POPGW + k % M, as
 *     mapfill -G M pins them) each send a DPD
 *     (IKEv2 INFORMATIONAL on 4500) every INTERVAL s, spread evenly, from
 *     tunnel OFF on; new tunnels start at RATE per second (COUNT at most),
 *     tunnel e from FIRST + e to GW + e % N (-1: all from FIRST to GW, each
 *     a new flow: SOCKETS source ports), each a whole exchange in the mix
 *     V2,MM,AM: IKEv2 (SA_INIT on 500, AUTH on 4500), IKEv1 main (three on
 *     500, quick mode on 4500), aggressive (one on 500, quick mode on 4500);
 *     PERCENT of the requests ask for their answer twice. Prints one line of
 *     "name value" pairs: exchanges done, lost, split (the 4500 answer went
 *     to another address than the 500 answer), DPD answered, lost, split
 *     (not from POOL), and round trips (n, p50, p99, p999 in us) of the new
 *     (first answer of an exchange), refresh (every later one, DPD
 *     included), dpd, r500, r4500 and all answers. -T (with a gateway -T):
 *     each round trip split at the kernel's receipt of the request at the
 *     gateway, the gateway's read and send, and the kernel's receipt of the
 *     answer here (see split()): p50 and p99 of each segment, for the new
 *     and for all answers.
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
#define MSG_LEN 64	/* IKE header + our payload + filler */
#define IKE_HDR 28
/* our payload behind the IKE header: the client's send time, the exchange
 * (or DPD) number, its step, flags; the sender as the gateway saw it */
#define PAY_TS 28
#define PAY_ID 36
#define PAY_STEP 40
#define PAY_FLAGS 41
#define PAY_SEEN 44
#define PAY_END 50
/* the gateway's times, ns after the client's (PAY_TS) as uint32, 0 if
 * unknown: the kernel's receipt of the request, the read, the send */
#define PAY_GW 52
#define PAY_GW_END (PAY_GW + 12)
_Static_assert(PAY_GW_END <= MSG_LEN, "the gateway's times fit the message");
#define FLAG_TWICE 1	/* gateway: send the answer twice */
#define FLAG_DPD 2

struct slot {
	uint8_t buf[2048];
	struct sockaddr_in peer;
	struct iovec iov;
	char cbuf[CMSG_SPACE(sizeof(struct in_pktinfo)) +
		  CMSG_SPACE(sizeof(struct timespec))];
};

static struct slot slots[BATCH];
static struct mmsghdr mm[BATCH];

static uint64_t ts_ns(const struct timespec *ts)
{
	return ts->tv_sec * 1000000000ULL + ts->tv_nsec;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts_ns(&ts);
}

/*
 * CLOCK_REALTIME less CLOCK_MONOTONIC, now. The kernel stamps datagrams
 * (SO_TIMESTAMPNS) by the former, our times are the latter; the two move
 * together but for steps of the wall clock, so this is read once a batch.
 * Every namespace of the host shares both clocks.
 */
static int64_t real_offset(void)
{
	struct timespec a, r, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (int64_t)(ts_ns(&r) - (ts_ns(&a) + ts_ns(&b)) / 2);
}

/* The kernel's receipt of a datagram (SO_TIMESTAMPNS) on CLOCK_MONOTONIC,
 * 0 if it carries none. */
static uint64_t rx_time(struct msghdr *h, int64_t real_off)
{
	struct cmsghdr *c;
	struct timespec ts;

	for (c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c))
		if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SCM_TIMESTAMPNS) {
			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			return ts_ns(&ts) - real_off;
		}
	return 0;
}

/* Asks the kernel to stamp each datagram fd receives. This stamps every
 * packet the host receives while one such socket is open (the switch,
 * net_enable_timestamp(), is global): only for the measurement. */
static void stamp_on(int fd)
{
	int one = 1;

	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) < 0) {
		perror("SO_TIMESTAMPNS");
		exit(1);
	}
}

/* t as ns after the client's time ts, as PAY_GW holds it: 0 stays unknown */
static void put_after(uint8_t *p, uint64_t t, uint64_t ts)
{
	uint32_t d = 0;

	if (t)
		d = t <= ts ? 1 : t - ts > UINT32_MAX ? UINT32_MAX : t - ts;
	memcpy(p, &d, sizeof(d));
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

/*
 * Answers the request in slot i from the address it was sent to: a responder
 * SPI if it had none, the response flag for IKEv2, and the sender's address
 * as the gateway saw it (so that the client can tell a split subscriber).
 * off: the IKE header's offset (4 behind the non-ESP marker). Returns how
 * many copies to send: 0 (not IKE), 1, or 2 (the client asked for a
 * retransmission).
 */
static int answer(int i, size_t off, uint64_t read, int64_t real_off)
{
	struct in_addr self = dest_of(i);
	uint64_t rx = rx_time(&mm[i].msg_hdr, real_off), ts;
	size_t len = mm[i].msg_len;
	uint8_t *b = slots[i].buf;
	struct sockaddr_in from = slots[i].peer;
	static const uint8_t zero[8];

	if (off && (len < off || memcmp(b, zero, off)))
		return 0;	/* keepalive or ESP */
	prepare(i, len, true);
	if (len < off + IKE_HDR)
		len = off + IKE_HDR;	/* garbage in, a header out */
	b += off;
	if (!memcmp(b + 8, zero, 8))
		for (int k = 0; k < 8; k++)
			b[8 + k] = b[k] ^ 0x5a;
	if (b[17] >> 4 == 2)
		b[19] = 0x20;
	if (len >= off + PAY_END) {
		memcpy(b + PAY_SEEN, &from.sin_addr, 4);
		memcpy(b + PAY_SEEN + 4, &from.sin_port, 2);
	}
	if (len >= off + PAY_GW_END) {
		memcpy(&ts, b + PAY_TS, sizeof(ts));
		put_after(b + PAY_GW, rx, ts);
		put_after(b + PAY_GW + 4, read, ts);
	}
	slots[i].iov.iov_len = len;
	set_source(i, self);
	return len >= off + PAY_END && (b[PAY_FLAGS] & FLAG_TWICE) ? 2 : 1;
}

/*
 * Serves fd (IKE header at off) once: what is queued, a batch at most. The
 * read's and the send's times are the batch's (the send's: sendmmsg called).
 */
static void serve(int fd, size_t off)
{
	struct mmsghdr out[2 * BATCH];
	uint64_t read, send, ts;
	int64_t real_off;
	int n, i, k = 0;

	for (i = 0; i < BATCH; i++)
		prepare(i, sizeof(slots[i].buf), true);
	n = recvmmsg(fd, mm, BATCH, MSG_DONTWAIT, NULL);
	read = now_ns();
	real_off = real_offset();
	for (i = 0; i < n; i++) {
		int copies = answer(i, off, read, real_off);

		while (copies--)
			out[k++] = mm[i];
	}
	if (!k)
		return;
	send = now_ns();
	for (i = 0; i < k; i++) {
		uint8_t *b = (uint8_t *)out[i].msg_hdr.msg_iov->iov_base + off;

		if (out[i].msg_hdr.msg_iov->iov_len < off + PAY_GW_END)
			continue;
		memcpy(&ts, b + PAY_TS, sizeof(ts));
		put_after(b + PAY_GW + 8, send, ts);
	}
	sendmmsg(fd, out, k, 0);
}

static int gateway(int argc, char **argv)
{
	struct pollfd p[2] = { { .fd = udp_any(500), .events = POLLIN },
			       { .fd = udp_any(4500), .events = POLLIN } };
	int c;

	while ((c = getopt(argc, argv, "T")) != -1) {
		switch (c) {
		case 'T':
			stamp_on(p[0].fd);
			stamp_on(p[1].fd);
			break;
		default:
			fprintf(stderr, "usage: ikeload gateway [-T]\n");
			return 2;
		}
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("poll");
			return 1;
		}
		if (p[0].revents & POLLIN)
			serve(p[0].fd, 0);
		if (p[1].revents & POLLIN)
			serve(p[1].fd, 4);
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
			memcpy(b + PAY_TS, &ts, sizeof(ts));
			memset(b + PAY_ID, 0, MSG_LEN - PAY_ID);
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
			memcpy(&ts, slots[i].buf + PAY_TS, sizeof(ts));
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

/*
 * steady: a population of live tunnels sending DPD, and new tunnels that run
 * whole exchanges, each answer timed by its class.
 */
enum shape { V2, MM, AM, SHAPES };

/* per step of each exchange shape: on 4500 or not, the exchange type */
static const struct {
	uint8_t version, steps;
	uint8_t natt[4], type[4];
} shapes[SHAPES] = {
	[V2] = { 0x20, 2, { 0, 1 }, { 34, 35 } },	/* IKE_SA_INIT, IKE_AUTH */
	[MM] = { 0x10, 4, { 0, 0, 0, 1 }, { 2, 2, 2, 32 } },	/* main, quick */
	[AM] = { 0x10, 2, { 0, 1 }, { 4, 32 } },	/* aggressive, quick */
};

struct outbox {
	int fd, n;
	struct mmsghdr mm[BATCH];
	struct {
		uint8_t buf[MSG_LEN + 4];
		struct sockaddr_in peer;
		struct iovec iov;
		char cbuf[CMSG_SPACE(sizeof(struct in_pktinfo))];
	} s[BATCH];
};

struct exchange {
	uint8_t shape, step;
	bool done;
	uint32_t seen500;
};

enum { H_NEW, H_REFRESH, H_DPD, H_500, H_4500, H_ALL, HISTS };
static const char *const hist_name[HISTS] = { "new", "refresh", "dpd",
					      "r500", "r4500", "all" };

#define MAX_SOCKETS 256

/* a round trip's segments, between the six times split() takes */
enum { SEG_OUT, SEG_GW_WAKE, SEG_GW_WORK, SEG_RETURN, SEG_WAKE, SEGS };
static const char *const seg_name[SEGS] = { "out", "gw_wake", "gw_work",
					    "return", "wake" };
enum { SPLIT_NEW, SPLIT_ALL, SPLITS };
static const char *const split_name[SPLITS] = { "new", "all" };

struct steady {
	struct in_addr first, gw, pop_first, pop_gw, pool;
	unsigned long gateways, count, pop, pop_gws, offset, twice_pct, dpd_count;
	double rate, interval;
	unsigned mix[SHAPES], mix_sum, nsock;
	bool one, stamp;
	struct outbox *ob[2][MAX_SOCKETS], *dpd;	/* [natt][socket] */
	struct exchange *ex;
	uint8_t *dpd_got;
	unsigned long started, done, split, dups, stray;
	unsigned long dpd_sent, dpd_answered, dpd_split;
	uint32_t rnd;
	uint64_t first_start, last_start, last_answer;
	struct nfqh_stats h[HISTS];
	struct nfqh_stats seg[SPLITS][SEGS];
	unsigned long unstamped;	/* -T: answers without all six times */
};

static struct steady st;

static struct outbox *outbox_open(uint16_t port)
{
	struct outbox *o = calloc(1, sizeof(*o));

	if (!o) {
		perror("calloc");
		exit(1);
	}
	o->fd = udp_any(port);
	if (st.stamp)
		stamp_on(o->fd);
	return o;
}

static void outbox_flush(struct outbox *o)
{
	int done = 0, n;

	while (done < o->n) {
		n = sendmmsg(o->fd, o->mm + done, o->n - done, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("sendmmsg");
			break;
		}
		done += n;
	}
	o->n = 0;
}

static uint32_t rnd(void)
{
	st.rnd ^= st.rnd << 13;
	st.rnd ^= st.rnd >> 17;
	st.rnd ^= st.rnd << 5;
	return st.rnd;
}

/*
 * Queues one request: IKE header (with the responder SPI the gateway derives
 * when known), our payload; behind the non-ESP marker on 4500.
 */
static void request(struct outbox *o, bool natt, uint32_t spi_hi, uint32_t id,
		    uint8_t version, uint8_t type, uint8_t step, uint8_t flags,
		    struct in_addr src, struct in_addr dst, bool rspi)
{
	size_t off = natt ? 4 : 0;
	uint64_t ts = now_ns();
	uint8_t *b, *h;
	int i;

	if (o->n == BATCH)
		outbox_flush(o);
	i = o->n++;
	b = o->s[i].buf;
	h = b + off;
	memset(b, 0, off + MSG_LEN);
	put_be32(h, spi_hi);
	put_be32(h + 4, id);
	if (rspi)
		for (int k = 0; k < 8; k++)
			h[8 + k] = h[k] ^ 0x5a;
	h[17] = version;
	h[18] = type;
	h[19] = version == 0x20 ? 0x08 : 0;	/* IKEv2: initiator */
	put_be32(h + 20, step);
	put_be32(h + 24, MSG_LEN);
	memcpy(h + PAY_TS, &ts, sizeof(ts));
	memcpy(h + PAY_ID, &id, sizeof(id));
	h[PAY_STEP] = step;
	h[PAY_FLAGS] = flags | (rnd() % 100 < st.twice_pct ? FLAG_TWICE : 0);

	o->s[i].iov = (struct iovec){ b, off + MSG_LEN };
	o->s[i].peer = (struct sockaddr_in){ .sin_family = AF_INET,
					     .sin_port = htons(natt ? 4500 : 500),
					     .sin_addr = dst };
	memset(&o->mm[i], 0, sizeof(o->mm[i]));
	o->mm[i].msg_hdr = (struct msghdr){
		.msg_name = &o->s[i].peer, .msg_namelen = sizeof(o->s[i].peer),
		.msg_iov = &o->s[i].iov, .msg_iovlen = 1,
		.msg_control = o->s[i].cbuf,
		.msg_controllen = sizeof(o->s[i].cbuf) };
	memset(o->s[i].cbuf, 0, sizeof(o->s[i].cbuf));
	{
		struct cmsghdr *c = CMSG_FIRSTHDR(&o->mm[i].msg_hdr);
		struct in_pktinfo pi = { .ipi_spec_dst = src };

		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	}
}

/* Sends exchange e's current step. */
static void exchange_step(uint32_t e)
{
	struct exchange *x = &st.ex[e];
	bool natt = shapes[x->shape].natt[x->step];
	struct in_addr src = st.first, dst = st.gw;

	if (!st.one) {
		src.s_addr = addr_plus(st.first, e);
		dst.s_addr = addr_plus(st.gw, e % st.gateways);
	}
	request(st.ob[natt][e % st.nsock], natt, 0x1ce00000, e,
		shapes[x->shape].version, shapes[x->shape].type[x->step],
		x->step, 0, src, dst, x->step > 0);
}

static void exchange_start(void)
{
	uint32_t e = st.started++;
	unsigned w = e % st.mix_sum, s = 0;

	while (w >= st.mix[s])
		w -= st.mix[s++];
	st.ex[e].shape = s;
	exchange_step(e);
	st.last_start = now_ns();
	if (!e)
		st.first_start = st.last_start;
}

/* DPD j: an IKEv2 INFORMATIONAL of live tunnel offset + j, on 4500 */
static void dpd_send(void)
{
	uint32_t j = st.dpd_sent++;
	uint32_t k = (st.offset + j) % st.pop;
	struct in_addr src = { addr_plus(st.pop_first, k) },
		       dst = { addr_plus(st.pop_gw, k % st.pop_gws) };

	request(st.dpd, true, 0xd9d00000, j, 0x20, 37, 0, FLAG_DPD, src, dst,
		true);
}

static void timed(uint64_t us, int cls, bool natt)
{
	stats_latency(&st.h[cls], us);
	stats_latency(&st.h[natt ? H_4500 : H_500], us);
	stats_latency(&st.h[H_ALL], us);
}

/*
 * -T: the round trip from ts (the request written, before its sendmmsg) to
 * t (the answer read) cut at the kernel's receipt of the request at the
 * gateway, the gateway's read and send (PAY_GW) and the kernel's receipt of
 * the answer here (rx): out (the NAT forwarding the request), the gateway's
 * wake-up, its work, the return (the NAT, its queue and the helper for a
 * queued answer), the wake-up here. All on CLOCK_MONOTONIC: they add up to
 * the round trip.
 */
static void split(const uint8_t *h, uint64_t ts, uint64_t t, uint64_t rx,
		  bool new)
{
	uint32_t gw[3];
	uint64_t at[SEGS + 1];

	memcpy(gw, h + PAY_GW, sizeof(gw));
	if (!rx || !gw[0] || !gw[1] || !gw[2]) {
		st.unstamped++;
		return;
	}
	at[0] = ts, at[1] = ts + gw[0], at[2] = ts + gw[1], at[3] = ts + gw[2];
	at[4] = rx, at[5] = t;
	for (int s = 0; s < SEGS; s++) {
		uint64_t us = at[s + 1] > at[s] ? (at[s + 1] - at[s]) / 1000 : 0;

		stats_latency(&st.seg[SPLIT_ALL][s], us);
		if (new)
			stats_latency(&st.seg[SPLIT_NEW][s], us);
	}
}

/* One answer: timed by its class; the next step sent; splits counted.
 * t: read, rx: the kernel's receipt (-T, else 0). */
static void take(const uint8_t *b, size_t len, bool natt, uint64_t t,
		 uint64_t rx)
{
	const uint8_t *h = b + (natt ? 4 : 0);
	uint32_t id, seen;
	uint64_t ts, us;
	struct exchange *x;

	if (len < (natt ? 4u : 0u) + PAY_END) {
		st.stray++;
		return;
	}
	memcpy(&ts, h + PAY_TS, sizeof(ts));
	memcpy(&id, h + PAY_ID, sizeof(id));
	memcpy(&seen, h + PAY_SEEN, sizeof(seen));
	us = (t - ts) / 1000;
	st.last_answer = t;
	if (h[PAY_FLAGS] & FLAG_DPD) {
		if (id >= st.dpd_sent || st.dpd_got[id]) {
			st.dups++;
			return;
		}
		st.dpd_got[id] = 1;
		st.dpd_answered++;
		timed(us, H_REFRESH, true);
		if (st.stamp)
			split(h, ts, t, rx, false);
		stats_latency(&st.h[H_DPD], us);
		if (st.pool.s_addr && seen != st.pool.s_addr)
			st.dpd_split++;
		return;
	}
	if (id >= st.started) {
		st.stray++;
		return;
	}
	x = &st.ex[id];
	if (x->done || h[PAY_STEP] != x->step) {
		st.dups++;	/* the second copy of a retransmitted answer */
		return;
	}
	timed(us, x->step ? H_REFRESH : H_NEW, natt);
	if (st.stamp)
		split(h, ts, t, rx, !x->step);
	if (!x->step)
		x->seen500 = seen;
	else if (natt && seen != x->seen500)
		st.split++;	/* its 4500 flow left from another address */
	if (++x->step < shapes[x->shape].steps) {
		exchange_step(id);
		return;
	}
	x->done = true;
	st.done++;
}

static void drain(int fd, bool natt)
{
	int64_t real_off = 0;
	int n, i;

	do {
		for (i = 0; i < BATCH; i++)
			prepare(i, sizeof(slots[i].buf), st.stamp);
		n = recvmmsg(fd, mm, BATCH, MSG_DONTWAIT, NULL);
		if (st.stamp && n > 0)
			real_off = real_offset();
		for (i = 0; i < n; i++)
			take(slots[i].buf, mm[i].msg_len, natt, now_ns(),
			     st.stamp ? rx_time(&mm[i].msg_hdr, real_off) : 0);
	} while (n == BATCH);
}

static uint64_t hist_n(const struct nfqh_stats *s)
{
	uint64_t n = 0;

	for (size_t i = 0; i < LAT_BUCKETS; i++)
		n += s->latency[i];
	return n;
}

/* rate: the exchanges' own, which may end before the DPD's */
static void steady_report(void)
{
	double span = (st.last_start - st.first_start) / 1e9;

	printf("exchanges %lu done %lu lost %lu split %lu rate %.0f dpd %lu "
	       "dpd_answered %lu dpd_lost %lu dpd_split %lu dups %lu stray %lu",
	       st.started, st.done, st.started - st.done, st.split,
	       st.started > 1 && span > 0 ? (st.started - 1) / span : 0,
	       st.dpd_sent,
	       st.dpd_answered, st.dpd_sent - st.dpd_answered, st.dpd_split,
	       st.dups, st.stray);
	for (int i = 0; i < HISTS; i++)
		printf(" %s_n %" PRIu64 " %s_p50 %" PRIu64 " %s_p99 %" PRIu64
		       " %s_p999 %" PRIu64, hist_name[i], hist_n(&st.h[i]),
		       hist_name[i], stats_percentile(&st.h[i], 0.5),
		       hist_name[i], stats_percentile(&st.h[i], 0.99),
		       hist_name[i], stats_percentile(&st.h[i], 0.999));
	for (int c = 0; st.stamp && c < SPLITS; c++) {
		printf(" split_%s_n %" PRIu64, split_name[c],
		       hist_n(&st.seg[c][0]));
		for (int s = 0; s < SEGS; s++)
			printf(" split_%s_%s_p50 %" PRIu64
			       " split_%s_%s_p99 %" PRIu64,
			       split_name[c], seg_name[s],
			       stats_percentile(&st.seg[c][s], 0.5),
			       split_name[c], seg_name[s],
			       stats_percentile(&st.seg[c][s], 0.99));
	}
	if (st.stamp)
		printf(" unstamped %lu", st.unstamped);
	printf("\n");
}

static int steady_usage(void)
{
	fprintf(stderr,
		"usage: ikeload steady [-f FIRST -g GW [-G N] -r RATE] [-s SECONDS] [-n COUNT]\n"
		"       [-x V2,MM,AM] [-R PERCENT] [-S SOCKETS] [-1] [-T]\n"
		"       [-P POPULATION -A POPFIRST -a POPGW [-b GATEWAYS] [-i INTERVAL] [-o OFFSET]\n"
		"       [-E POOL]]\n");
	return 2;
}

static int steady_args(int argc, char **argv, double *seconds)
{
	int c;

	st.gateways = 1, st.pop_gws = 1, st.interval = 30, st.twice_pct = 10;
	st.nsock = 1;
	st.mix[V2] = st.mix[MM] = st.mix[AM] = 1;
	st.count = ~0UL;
	while ((c = getopt(argc, argv, "f:g:G:r:s:n:x:R:S:1TP:A:a:b:i:o:E:")) != -1) {
		switch (c) {
		case 'f': inet_pton(AF_INET, optarg, &st.first); break;
		case 'g': inet_pton(AF_INET, optarg, &st.gw); break;
		case 'G': st.gateways = strtoul(optarg, NULL, 10); break;
		case 'r': st.rate = atof(optarg); break;
		case 's': *seconds = atof(optarg); break;
		case 'n': st.count = strtoul(optarg, NULL, 10); break;
		case 'x':
			if (sscanf(optarg, "%u,%u,%u", &st.mix[V2], &st.mix[MM],
				   &st.mix[AM]) != 3)
				return steady_usage();
			break;
		case 'R': st.twice_pct = strtoul(optarg, NULL, 10); break;
		case 'S': st.nsock = strtoul(optarg, NULL, 10); break;
		case '1': st.one = true; break;
		case 'T': st.stamp = true; break;
		case 'P': st.pop = strtoul(optarg, NULL, 10); break;
		case 'A': inet_pton(AF_INET, optarg, &st.pop_first); break;
		case 'a': inet_pton(AF_INET, optarg, &st.pop_gw); break;
		case 'b': st.pop_gws = strtoul(optarg, NULL, 10); break;
		case 'i': st.interval = atof(optarg); break;
		case 'o': st.offset = strtoul(optarg, NULL, 10); break;
		case 'E': inet_pton(AF_INET, optarg, &st.pool); break;
		default: return steady_usage();
		}
	}
	st.mix_sum = st.mix[V2] + st.mix[MM] + st.mix[AM];
	if (*seconds <= 0 || st.interval <= 0 || !st.mix_sum ||
	    !st.gateways || !st.pop_gws || !st.nsock || st.nsock > MAX_SOCKETS ||
	    (st.rate > 0 && (!st.first.s_addr || !st.gw.s_addr)) ||
	    (st.pop && (!st.pop_first.s_addr || !st.pop_gw.s_addr)))
		return steady_usage();
	if (st.count == ~0UL)
		st.count = st.rate * *seconds;
	if (st.rate <= 0)
		st.count = 0;
	st.dpd_count = st.pop * *seconds / st.interval;
	return 0;
}

static int steady(int argc, char **argv)
{
	double seconds = 10, dpd_rate;
	struct pollfd p[2 * MAX_SOCKETS + 1];
	uint64_t start, t, sched_end = 0, next;
	unsigned nfd = 0, i, k;
	int ret = steady_args(argc, argv, &seconds);

	if (ret)
		return ret;
	st.rnd = 0x9e3779b9;
	st.ex = calloc(st.count + 1, sizeof(*st.ex));
	st.dpd_got = calloc(st.dpd_count + 1, 1);
	if (!st.ex || !st.dpd_got) {
		perror("calloc");
		return 1;
	}
	for (k = 0; k < 2; k++)
		for (i = 0; i < st.nsock; i++) {
			st.ob[k][i] = outbox_open((k ? 42000 : 41000) + i);
			p[nfd++] = (struct pollfd){ st.ob[k][i]->fd, POLLIN, 0 };
		}
	st.dpd = outbox_open(4500);
	p[nfd++] = (struct pollfd){ st.dpd->fd, POLLIN, 0 };
	dpd_rate = st.dpd_count / seconds;
	start = now_ns();
	for (;;) {
		double el;

		t = now_ns();
		el = (t - start) / 1e9;
		for (k = 0; st.started < st.count && k < 4 * BATCH &&
			    st.started < el * st.rate + 1; k++)
			exchange_start();
		for (k = 0; st.dpd_sent < st.dpd_count && k < 4 * BATCH &&
			    st.dpd_sent < el * dpd_rate + 1; k++)
			dpd_send();
		for (k = 0; k < 2; k++)
			for (i = 0; i < st.nsock; i++)
				outbox_flush(st.ob[k][i]);
		outbox_flush(st.dpd);
		if (!sched_end && st.started == st.count &&
		    st.dpd_sent == st.dpd_count)
			sched_end = now_ns();
		/* the end: all answered, or a second without an answer */
		if (sched_end && ((st.done == st.count &&
				   st.dpd_answered == st.dpd_count) ||
				  now_ns() > (st.last_answer > sched_end ?
					      st.last_answer : sched_end) +
						     1000000000ULL))
			break;
		next = sched_end ? now_ns() + 100000000ULL : t + 1000000ULL;
		if (!sched_end) {
			uint64_t a = st.started < st.count && st.rate > 0 ?
				start + st.started * 1e9 / st.rate : next;
			uint64_t d = st.dpd_sent < st.dpd_count ?
				start + st.dpd_sent * 1e9 / dpd_rate : next;

			next = a < d ? a : d;
		}
		{
			int64_t wait = (int64_t)(next - now_ns());
			struct timespec ts = { 0, 0 };

			if (wait > 0)
				ts = (struct timespec){ wait / 1000000000,
							wait % 1000000000 };

			if (ppoll(p, nfd, &ts, NULL) <= 0)
				continue;
		}
		for (k = 0; k < nfd; k++)
			if (p[k].revents & POLLIN)
				drain(p[k].fd, k >= st.nsock);
	}
	steady_report();
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
		return gateway(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "client"))
		return client(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "steady"))
		return steady(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "blast"))
		return blast(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "sink"))
		return sink(argc - 1, argv + 1);
	fprintf(stderr, "usage: ikeload gateway [-T] | client ... | steady ... | blast ... | sink ...\n");
	return 2;
}
