// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ikepeer: a minimal IKE test peer speaking real ISAKMP headers.
 *
 *   ikepeer gateway [-sxe] [-H N] [-a ADDRESS]
 *     answers on UDP 500 and 4500 (of ADDRESS, default every local one,
 *     answering from the address asked) and prints one line per message:
 *     "rx PORT SRC_ADDR SRC_PORT ICOOKIE RCOOKIE EXCHANGE GATEWAY_ADDR".
 *     -s strict, like the field report's gateway: a 4500 message from an
 *     address that did not speak 500 for the same cookies gets no answer.
 *     -x hostile: answers with broken IKE only (garbage, truncated, zero
 *     SPIs, bad length, version, exchange). -e: after each 4500 answer, an
 *     ESP packet and a NAT-T keepalive too. -H N: answers on 500 wait, N
 *     at a time, until N initiators have spoken (simultaneous starts).
 *     -F: flood, a server that cooperates with a subscriber: instead of
 *     the first answer on 500, copies of it with a zero responder SPI
 *     (never a pin, so no refresh absorbs them and each would be queued)
 *     go to that flow again and again until SIGTERM, which prints
 *     "flooded N".
 *   ikepeer forge -g TARGET -f SOURCE -p PORT [-n N]
 *     N well-formed IKE answers (random cookies) from SOURCE:500 to
 *     TARGET:PORT: replies for flows that do not exist.
 *   ikepeer client -g GATEWAY -f FIRST_SOURCE [-n ATTEMPTS] [-2] [-t MS]
 *                  [-r TRIES] [-k DPDS -i MS] [-G GATEWAYS] [-w MS]
 *     per attempt, from the next source address: IKEv1 aggressive mode
 *     message 1 on 500, then message 3 on 4500 behind the non-ESP marker
 *     once the answer came (RFC 3947 float). -2: IKEv2 IKE_SA_INIT, then
 *     IKE_AUTH on 4500. Each message is sent up to TRIES times (3), MS
 *     apart (1000). -k: then DPDS informational exchanges on 4500, one
 *     every -i MS. -G: attempt i goes to GATEWAY + i % GATEWAYS. -w: waits
 *     MS between the answer on 500 and the float to 4500. -1: every
 *     attempt from FIRST_SOURCE (one subscriber, many gateways).
 *     Prints "attempt N SOURCE ok|fail ICOOKIE retransmits R".
 *   ikepeer udp -g GATEWAY -f SOURCE -p PORT [-n FLOWS]
 *     one datagram per flow, each from a new source port: plain traffic.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "peer.h"

#define MAX_SA 65536
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct sa {
	uint8_t icookie[8];
	struct in_addr from;
};

static struct sa sas[MAX_SA];
static size_t nsas;

static struct sa *find_sa(const uint8_t *ic)
{
	for (size_t i = 0; i < nsas; i++)
		if (!memcmp(sas[i].icookie, ic, 8))
			return &sas[i];
	return NULL;
}

struct gw_opts {
	bool strict;	/* -s */
	bool hostile;	/* -x */
	bool extras;	/* -e */
	int hold;	/* -H: first answers held until this many SAs wait */
	bool flood;	/* -F */
};

static struct gw_opts opt;

struct held {
	int fd;
	struct sockaddr_in to;
	struct in_addr self;
	uint8_t buf[128];
	size_t len;
};

static struct held held[64];
static int nheld;

/* -F: the answer sent again and again, once there is one */
static struct held flood;
static unsigned long flooded;
static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	stop = 1;
}

/*
 * Receives with the local address the datagram went to, and answers from
 * that address: one socket serves every gateway address of an AnyIP range.
 */
static ssize_t recv_to(int fd, uint8_t *buf, size_t size,
		       struct sockaddr_in *from, struct in_addr *self)
{
	char cbuf[CMSG_SPACE(sizeof(struct in_pktinfo))];
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	struct msghdr mh = { .msg_name = from, .msg_namelen = sizeof(*from),
			     .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	ssize_t n;

	n = recvmsg(fd, &mh, 0);
	self->s_addr = INADDR_ANY;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO)
			*self = ((struct in_pktinfo *)CMSG_DATA(c))->ipi_addr;
	return n;
}

static void send_from(int fd, const void *buf, size_t len,
		      const struct sockaddr_in *to, struct in_addr self)
{
	char cbuf[CMSG_SPACE(sizeof(struct in_pktinfo))] = { 0 };
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr mh = { .msg_name = (void *)to, .msg_namelen = sizeof(*to),
			     .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

	c->cmsg_level = IPPROTO_IP;
	c->cmsg_type = IP_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
	((struct in_pktinfo *)CMSG_DATA(c))->ipi_spec_dst = self;
	sendmsg(fd, &mh, 0);
}

/* -x: every broken answer a pin must not be learnt from, none valid. */
static void answer_hostile(int fd, const uint8_t *ic, const uint8_t *rc,
			   const struct sockaddr_in *to, struct in_addr self)
{
	uint8_t b[128];
	size_t n;

	random_bytes(b, 64);			/* not IKE at all */
	send_from(fd, b, 64, to, self);
	n = build(b, ic, rc, 1, 4, 0, 60);	/* truncated header */
	send_from(fd, b, 20, to, self);
	build(b, ic, NULL, 1, 4, 0, 60);	/* zero responder SPI */
	send_from(fd, b, n, to, self);
	build(b, ic, rc, 1, 4, 0, 60);		/* length says more */
	b[27] = 90;
	send_from(fd, b, n, to, self);
	build(b, ic, rc, 3, 4, 0, 60);		/* version 3 */
	b[17] = 0x30;
	send_from(fd, b, n, to, self);
	build(b, ic, rc, 1, 99, 0, 60);		/* unknown exchange */
	send_from(fd, b, n, to, self);
	memset(b, 0, 8);			/* zero initiator SPI */
	b[18] = 4;
	send_from(fd, b, n, to, self);
}

static void release_held(void)
{
	for (int i = 0; i < nheld; i++)
		send_from(held[i].fd, held[i].buf, held[i].len, &held[i].to,
			  held[i].self);
	nheld = 0;
}

/* One line a received IKE message: port, peer, cookies, exchange, to. */
static void log_rx(bool natt, const uint8_t *ike, const struct sockaddr_in *from,
		   struct in_addr self)
{
	char ich[17], rch[17];

	hex(ike, ich);
	hex(ike + 8, rch);
	/* inet_ntoa's buffer is static: one call per printf */
	printf("rx %d %s %u %s %s %u ", natt ? 4500 : 500,
	       inet_ntoa(from->sin_addr), ntohs(from->sin_port), ich, rch,
	       ike[18]);
	printf("%s\n", inet_ntoa(self));
	fflush(stdout);
}

/* The answer out[0..n): held (-H), kept for the flood (-F), or sent. */
static void answer(int fd, bool natt, const uint8_t *out, size_t n,
		   const struct sockaddr_in *from, struct in_addr self)
{
	static const uint8_t esp[12] = { 0xc0, 0xff, 0xee, 0x01, 0, 0, 0, 1 };

	if (!natt && opt.hold && nheld < (int)ARRAY_LEN(held)) {
		/* the first answers wait until -H initiators have spoken */
		held[nheld] = (struct held){ .fd = fd, .to = *from, .self = self,
					     .len = n };
		memcpy(held[nheld].buf, out, n);
		if (++nheld >= opt.hold)
			release_held();
		return;
	}
	if (!natt && opt.flood) {
		if (!flood.len) {
			flood = (struct held){ .fd = fd, .to = *from,
					       .self = self, .len = n };
			memcpy(flood.buf, out, n);
			memset(flood.buf + 8, 0, 8);
		}
		return;
	}
	send_from(fd, out, n, from, self);
	if (natt && opt.extras) {
		/* what must never reach the helper: ESP and a keepalive */
		send_from(fd, esp, sizeof(esp), from, self);
		send_from(fd, "\xff", 1, from, self);
	}
}

static void gateway_rx(int fd, bool natt)
{
	uint8_t buf[2048], out[128], rc[8];
	struct sockaddr_in from;
	struct in_addr self;
	size_t off = natt ? 4 : 0, n;
	ssize_t got;
	struct sa *sa;
	int version;

	got = recv_to(fd, buf, sizeof(buf), &from, &self);
	if (got < (ssize_t)(off + HDR))
		return;	/* keepalives, ESP, garbage: not IKE */
	if (natt && memcmp(buf, "\0\0\0\0", 4))
		return;
	log_rx(natt, buf + off, &from, self);

	sa = find_sa(buf + off);
	if (!natt && !sa && nsas < MAX_SA) {
		sa = &sas[nsas++];
		memcpy(sa->icookie, buf + off, 8);
		sa->from = from.sin_addr;
	}
	if (natt && opt.strict && (!sa || sa->from.s_addr != from.sin_addr.s_addr))
		return;	/* no IKE state for this address: dropped */
	/* responder cookie: derived from the initiator's, stable */
	for (int i = 0; i < 8; i++)
		rc[i] = buf[off + i] ^ 0x5a;
	if (opt.hostile) {
		answer_hostile(fd, buf + off, rc, &from, self);
		return;
	}
	version = buf[off + 17] >> 4;
	memset(out, 0, off);
	n = off + build(out + off, buf + off, rc, version, buf[off + 18],
			version == 2 ? 0x20 : 0, 60);
	answer(fd, natt, out, n, &from, self);
}

static int gateway(int argc, char **argv)
{
	struct in_addr addr = { .s_addr = INADDR_ANY };
	struct pollfd pfd[2];
	int c, one = 1;

	while ((c = getopt(argc, argv, "sxeFH:a:")) != -1) {
		switch (c) {
		case 'F':
			opt.flood = true;
			signal(SIGTERM, on_term);
			break;
		case 's':
			opt.strict = true;
			break;
		case 'x':
			opt.hostile = true;
			break;
		case 'e':
			opt.extras = true;
			break;
		case 'H':
			opt.hold = atoi(optarg);
			break;
		case 'a':
			if (inet_pton(AF_INET, optarg, &addr) == 1)
				break;
			/* fall through */
		default:
			return 2;
		}
	}
	pfd[0].fd = udp_socket(addr, 500);
	pfd[1].fd = udp_socket(addr, 4500);
	for (int i = 0; i < 2; i++) {
		setsockopt(pfd[i].fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
		pfd[i].events = POLLIN;
	}

	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		if (poll(pfd, 2, flood.len ? 0 : -1) < 0 && errno != EINTR)
			return 1;
		if (pfd[0].revents & POLLIN)
			gateway_rx(pfd[0].fd, false);
		if (pfd[1].revents & POLLIN)
			gateway_rx(pfd[1].fd, true);
		for (int i = 0; flood.len && i < 64; i++, flooded++)
			send_from(flood.fd, flood.buf, flood.len, &flood.to,
				  flood.self);
	}
	printf("flooded %lu\n", flooded);
	return 0;
}

static int tries = 3, wait_ms = 1000, retransmits;
static int dpd_count, dpd_interval_ms = 1000, float_wait_ms;

/* Sends and waits for an answer carrying our cookie. */
static bool exchange(int fd, const struct sockaddr_in *to, const uint8_t *msg,
		     size_t len, size_t off, const uint8_t *ic, uint8_t *rc)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint8_t buf[2048];
	ssize_t got;

	for (int t = 0; t < tries; t++) {
		retransmits += t > 0;
		sendto(fd, msg, len, 0, (const struct sockaddr *)to,
		       sizeof(*to));
		while (poll(&pfd, 1, wait_ms) > 0) {
			got = recv(fd, buf, sizeof(buf), 0);
			if (got >= (ssize_t)(off + HDR) &&
			    !memcmp(buf + off, ic, 8)) {
				if (rc)
					memcpy(rc, buf + off + 8, 8);
				return true;
			}
		}
	}
	return false;
}

static bool attempt(struct in_addr src, struct in_addr gw, int version,
		    uint8_t *ic)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr = gw };
	uint8_t msg[256], rc[8];
	size_t n;
	bool ok;
	int fd;

	random_bytes(ic, 8);
	ic[0] |= 1;	/* never zero */
	fd = udp_socket(src, 0);
	to.sin_port = htons(500);
	n = build(msg, ic, NULL, version, version == 2 ? 34 : 4,
		  version == 2 ? 0x08 : 0, 120);
	ok = exchange(fd, &to, msg, n, 0, ic, rc);
	close(fd);
	if (!ok)
		return false;

	/* -w: a slow client, or one that gets the answer late */
	if (float_wait_ms)
		poll(NULL, 0, float_wait_ms);
	/* NAT detected: float to 4500, a new flow (RFC 3947 4) */
	fd = udp_socket(src, 0);
	to.sin_port = htons(4500);
	memset(msg, 0, 4);
	n = build(msg + 4, ic, rc, version, version == 2 ? 35 : 4,
		  version == 2 ? 0x08 : 0x01, 92);
	ok = exchange(fd, &to, msg, 4 + n, 4, ic, NULL);
	/* -k: dead peer detection on the NAT-T flow, as a live tunnel does */
	for (int k = 0; ok && k < dpd_count; k++) {
		poll(NULL, 0, dpd_interval_ms);
		n = build(msg + 4, ic, rc, version, version == 2 ? 37 : 5,
			  version == 2 ? 0x08 : 0x01, 76);
		ok = exchange(fd, &to, msg, 4 + n, 4, ic, NULL);
	}
	close(fd);
	return ok;
}

static int client(int argc, char **argv)
{
	struct in_addr gw = { 0 }, src = { 0 };
	int n = 1, version = 1, c, failed = 0, gateways = 1;
	bool one = false;
	uint8_t ic[8];
	char ich[17];

	while ((c = getopt(argc, argv, "g:f:n:2t:r:k:i:G:w:1")) != -1) {
		switch (c) {
		case 'w':
			float_wait_ms = atoi(optarg);
			break;
		case '1':
			one = true;
			break;
		case 'k':
			dpd_count = atoi(optarg);
			break;
		case 'i':
			dpd_interval_ms = atoi(optarg);
			break;
		case 'G':
			gateways = atoi(optarg);
			break;
		case 't':
			wait_ms = atoi(optarg);
			break;
		case 'r':
			tries = atoi(optarg);
			break;
		case 'g':
			inet_pton(AF_INET, optarg, &gw);
			break;
		case 'f':
			inet_pton(AF_INET, optarg, &src);
			break;
		case 'n':
			n = atoi(optarg);
			break;
		case '2':
			version = 2;
			break;
		default:
			return 2;
		}
	}
	if (!gw.s_addr || !src.s_addr) {
		fprintf(stderr, "usage: ikepeer client -g GW -f SRC [-n N] [-2]\n");
		return 2;
	}
	for (int i = 0; i < n; i++) {
		struct in_addr g = { htonl(ntohl(gw.s_addr) + i % gateways) };
		int before = retransmits;
		bool ok = attempt(src, g, version, ic);

		hex(ic, ich);
		printf("attempt %d %s %s %s retransmits %d\n", i + 1,
		       inet_ntoa(src), ok ? "ok" : "fail", ich,
		       retransmits - before);
		fflush(stdout);
		failed += !ok;
		if (!one)
			src.s_addr = htonl(ntohl(src.s_addr) + 1);
	}
	return failed ? 1 : 0;
}

static int plain_udp(int argc, char **argv)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct in_addr src = { 0 };
	int n = 1, c, fd;

	while ((c = getopt(argc, argv, "g:f:p:n:")) != -1) {
		switch (c) {
		case 'g':
			inet_pton(AF_INET, optarg, &to.sin_addr);
			break;
		case 'f':
			inet_pton(AF_INET, optarg, &src);
			break;
		case 'p':
			to.sin_port = htons(atoi(optarg));
			break;
		case 'n':
			n = atoi(optarg);
			break;
		default:
			return 2;
		}
	}
	if (!to.sin_addr.s_addr || !src.s_addr || !to.sin_port) {
		fprintf(stderr, "usage: ikepeer udp -g GW -f SRC -p PORT [-n N]\n");
		return 2;
	}
	for (int i = 0; i < n; i++) {
		fd = udp_socket(src, 0);
		if (sendto(fd, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
			perror("sendto");
			return 1;
		}
		close(fd);
	}
	return 0;
}

static int forge(int argc, char **argv)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct in_addr src = { 0 };
	uint8_t msg[64], ic[8], rc[8];
	int n = 1, c, fd;

	while ((c = getopt(argc, argv, "g:f:p:n:")) != -1) {
		if (c == 'g')
			inet_pton(AF_INET, optarg, &to.sin_addr);
		else if (c == 'f')
			inet_pton(AF_INET, optarg, &src);
		else if (c == 'p')
			to.sin_port = htons(atoi(optarg));
		else if (c == 'n')
			n = atoi(optarg);
		else
			return 2;
	}
	if (!to.sin_addr.s_addr || !src.s_addr || !to.sin_port) {
		fprintf(stderr, "usage: ikepeer forge -g TARGET -f SRC -p PORT [-n N]\n");
		return 2;
	}
	fd = udp_socket(src, 500);
	for (int i = 0; i < n; i++) {
		random_bytes(ic, 8);
		random_bytes(rc, 8);
		ic[0] |= 1, rc[0] |= 1;
		build(msg, ic, rc, 1, 4, 0, 60);
		sendto(fd, msg, 60, 0, (struct sockaddr *)&to, sizeof(to));
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "gateway"))
		return gateway(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "client"))
		return client(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "udp"))
		return plain_udp(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "forge"))
		return forge(argc - 1, argv + 1);
	fprintf(stderr, "usage: ikepeer gateway [-s] [-a ADDR] | client -g GW -f SRC [-n N] [-2] | udp -g GW -f SRC -p PORT [-n N]\n");
	return 2;
}
