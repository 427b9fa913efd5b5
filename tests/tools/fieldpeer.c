// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fieldpeer: the field report's VPN client and gateway, emulated with real
 * ISAKMP headers and payload chains (cookies, exchange types, SA, KE, nonce,
 * ID, hash, NAT-T vendor IDs, NAT-D), not real cryptography.
 *
 *   fieldpeer gateway -a ADDRESS [-R MS]
 *     TCP 2012 registration, UDP 2012 notifications, IKEv1 aggressive mode
 *     on 500, the rest on 4500. Answers quick mode only for cookies it knows;
 *     retransmits its second aggressive-mode message twice, MS apart (3000),
 *     while the third does not come. Like the report's gateway it follows no
 *     one: put strict-gateway.nft in front of it to drop 4500 packets from
 *     an address that did not speak 500. Prints a line per event.
 *   fieldpeer client -g GATEWAY -f FIRST_SOURCE [-n ATTEMPTS] [-T MS]
 *     the report's sequence, attempts in parallel, one source address each:
 *     registration over TCP 2012, a UDP 2012 notification, aggressive mode
 *     message 1 on 500, then (NAT-T) message 3 and quick mode on 4500; no
 *     quick-mode answer within MS (3000): two error notifications, failed.
 *     Prints "attempt N SOURCE up|fail ICOOKIE".
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
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "peer.h"

#define REG_PORT 2012
#define MAX_SA 1024
#define EXCH_AGGRESSIVE 4
#define EXCH_INFO 5
#define EXCH_QUICK 32
#define FLAG_ENC 0x01

/* RFC 3947's vendor ID, and draft 02's, as clients of 2008 sent both */
static const uint8_t vid_rfc3947[16] = {
	0x4a, 0x13, 0x1c, 0x81, 0x07, 0x03, 0x58, 0x45,
	0x5c, 0x57, 0x28, 0xf2, 0x0e, 0x95, 0x45, 0x2f,
};
static const uint8_t vid_draft02[16] = {
	0xcd, 0x60, 0x46, 0x43, 0x35, 0xdf, 0x21, 0xf8,
	0x7c, 0xfd, 0xb2, 0xfc, 0x68, 0xb6, 0xa4, 0x48,
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* A stand-in for NAT-D's hash of cookies, address and port (RFC 3947 3.2). */
static void natd(uint8_t out[20], const uint8_t *ic, const uint8_t *rc,
		 struct in_addr a, uint16_t port)
{
	uint64_t h = 1469598103934665603ULL;
	uint8_t in[8 + 8 + 4 + 2];

	memcpy(in, ic, 8);
	memcpy(in + 8, rc, 8);
	memcpy(in + 16, &a, 4);
	memcpy(in + 20, &port, 2);
	for (int i = 0; i < 20; i++) {
		for (size_t k = 0; k < sizeof(in); k++)
			h = (h ^ in[k]) * 1099511628211ULL;
		out[i] = h >> 56;
	}
}

/* Aggressive mode messages 1 and 2: SA, KE, nonce, ID, (hash,) VIDs (NAT-D). */
static size_t aggressive(struct msg *m, const uint8_t *ic, const uint8_t *rc,
			 struct in_addr self, struct in_addr peer, uint16_t pport)
{
	uint8_t body[256];
	uint8_t id[8] = { 1 /* ID_IPV4_ADDR */, 17, 0x01, 0xf4 };

	msg_start(m, ic, rc, EXCH_AGGRESSIVE, 0, 0);
	msg_add(m, PL_SA, body, sa_body(body));
	random_bytes(body, 128);
	msg_add(m, PL_KE, body, 128);
	random_bytes(body, 20);
	msg_add(m, PL_NONCE, body, 20);
	memcpy(id + 4, &self, 4);
	msg_add(m, PL_ID, id, sizeof(id));
	if (rc) {
		random_bytes(body, 20);
		msg_add(m, PL_HASH, body, 20);
	}
	msg_add(m, PL_VID, vid_rfc3947, 16);
	msg_add(m, PL_VID, vid_draft02, 16);
	if (rc) {
		natd(body, ic, rc, peer, pport);
		msg_add(m, PL_NATD, body, 20);
		natd(body, ic, rc, self, htons(500));
		msg_add(m, PL_NATD, body, 20);
	}
	return msg_end(m);
}

/* An encrypted message: the header in clear, random "ciphertext" after. */
static size_t encrypted(struct msg *m, const uint8_t *ic, const uint8_t *rc,
			uint8_t exchange, uint32_t msgid, uint8_t first,
			size_t len)
{
	uint8_t body[512];

	msg_start(m, ic, rc, exchange, FLAG_ENC, msgid);
	random_bytes(body, len);
	msg_add(m, first, body, len);
	return msg_end(m);
}

/* Sends msg behind the non-ESP marker (RFC 3948 2.2). */
static void send_natt(int fd, const struct sockaddr_in *to, struct msg *m)
{
	uint8_t buf[sizeof(m->buf) + 4] = { 0 };

	memcpy(buf + 4, m->buf, m->len);
	sendto(fd, buf, m->len + 4, 0, (const struct sockaddr *)to,
	       sizeof(*to));
}

/* ---- gateway ---- */

struct sa {
	uint8_t ic[8], rc[8];
	struct sockaddr_in peer500;
	struct msg msg2;
	long long retransmit_at;
	int retransmits;
	bool msg3;
};

static struct sa sas[MAX_SA];
static size_t nsas;
static int retransmit_ms = 3000;

static struct sa *find_sa(const uint8_t *ic, const uint8_t *rc)
{
	for (size_t i = 0; i < nsas; i++)
		if (!memcmp(sas[i].ic, ic, 8) &&
		    (!rc || !memcmp(sas[i].rc, rc, 8)))
			return &sas[i];
	return NULL;
}

static void say(const char *what, const struct sockaddr_in *peer,
		const uint8_t *ic, const uint8_t *rc)
{
	char ich[17] = "-", rch[17] = "-";

	if (ic)
		hex(ic, ich);
	if (rc)
		hex(rc, rch);
	printf("%s %s %u %s %s\n", what, inet_ntoa(peer->sin_addr),
	       ntohs(peer->sin_port), ich, rch);
	fflush(stdout);
}

static void on_tcp(int lfd, struct in_addr self)
{
	struct sockaddr_in peer;
	socklen_t pl = sizeof(peer);
	char line[128], reply[64];
	ssize_t n;
	int fd;

	fd = accept(lfd, (struct sockaddr *)&peer, &pl);
	if (fd < 0)
		return;
	n = recv(fd, line, sizeof(line) - 1, 0);
	if (n > 0) {
		/* a virtual address for the tunnel, from the pool's neighbour */
		snprintf(reply, sizeof(reply), "OK 100.100.%u.%u\n",
			 (unsigned)(nsas >> 8) & 0xff, (unsigned)nsas & 0xff);
		send(fd, reply, strlen(reply), MSG_NOSIGNAL);
		say("register", &peer, NULL, NULL);
	}
	close(fd);
	(void)self;
}

static void on_notify(int fd)
{
	struct sockaddr_in peer;
	socklen_t pl = sizeof(peer);
	char buf[128];

	if (recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &pl) <= 0)
		return;
	sendto(fd, "ACK", 3, 0, (struct sockaddr *)&peer, pl);
	say("notify", &peer, NULL, NULL);
}

static void on_500(int fd, struct in_addr self)
{
	uint8_t buf[2048];
	struct sockaddr_in peer;
	socklen_t pl = sizeof(peer);
	ssize_t n;
	struct sa *sa;

	n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &pl);
	if (n < HDR || buf[18] != EXCH_AGGRESSIVE)
		return;
	sa = find_sa(buf, NULL);
	if (!sa) {
		if (nsas == MAX_SA)
			return;
		sa = &sas[nsas++];
		memcpy(sa->ic, buf, 8);
		random_bytes(sa->rc, 8);
		sa->peer500 = peer;
		aggressive(&sa->msg2, sa->ic, sa->rc, self, peer.sin_addr,
			   peer.sin_port);
	}
	say("rx500-agg1", &peer, sa->ic, NULL);
	sendto(fd, sa->msg2.buf, sa->msg2.len, 0, (struct sockaddr *)&peer, pl);
	sa->retransmit_at = now_ms() + retransmit_ms;
}

static void on_4500(int fd)
{
	uint8_t buf[2048];
	struct sockaddr_in peer;
	socklen_t pl = sizeof(peer);
	struct msg reply;
	ssize_t n;
	struct sa *sa;
	uint32_t msgid;

	n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &pl);
	if (n < 4 + HDR || memcmp(buf, "\0\0\0\0", 4))
		return;	/* keepalive or ESP */
	sa = find_sa(buf + 4, buf + 12);
	if (!sa) {
		say("rx4500-unknown", &peer, buf + 4, buf + 12);
		return;
	}
	msgid = (uint32_t)buf[24] << 24 | buf[25] << 16 | buf[26] << 8 | buf[27];
	switch (buf[4 + 18]) {
	case EXCH_AGGRESSIVE:
		sa->msg3 = true;
		say("rx4500-agg3", &peer, sa->ic, sa->rc);
		break;
	case EXCH_QUICK:
		/* quick mode 1 is long (SA, nonce, IDs); 3 is a hash alone */
		if (n - 4 > 100) {
			say("rx4500-qm1", &peer, sa->ic, sa->rc);
			encrypted(&reply, sa->ic, sa->rc, EXCH_QUICK, msgid,
				  PL_HASH, 172);
			send_natt(fd, &peer, &reply);
		} else {
			say("up", &peer, sa->ic, sa->rc);
		}
		break;
	case EXCH_INFO:
		say("rx4500-error-notify", &peer, sa->ic, sa->rc);
		break;
	}
}

static void retransmit(int fd)
{
	long long now = now_ms();

	for (size_t i = 0; i < nsas; i++) {
		struct sa *sa = &sas[i];

		if (sa->msg3 || sa->retransmits >= 2 || !sa->retransmit_at ||
		    now < sa->retransmit_at)
			continue;
		sendto(fd, sa->msg2.buf, sa->msg2.len, 0,
		       (struct sockaddr *)&sa->peer500, sizeof(sa->peer500));
		sa->retransmits++;
		sa->retransmit_at = now + retransmit_ms;
		say("tx500-agg2-retransmit", &sa->peer500, sa->ic, sa->rc);
	}
}

static int next_timeout(void)
{
	long long now = now_ms(), next = -1;

	for (size_t i = 0; i < nsas; i++) {
		struct sa *sa = &sas[i];

		if (sa->msg3 || sa->retransmits >= 2 || !sa->retransmit_at)
			continue;
		if (next < 0 || sa->retransmit_at < next)
			next = sa->retransmit_at;
	}
	return next < 0 ? -1 : next <= now ? 0 : (int)(next - now);
}

static int gateway(int argc, char **argv)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(REG_PORT) };
	struct in_addr self = { 0 };
	struct pollfd pfd[4];
	int c, one = 1;

	while ((c = getopt(argc, argv, "a:R:")) != -1) {
		if (c == 'a' && inet_pton(AF_INET, optarg, &self) == 1)
			continue;
		if (c == 'R') {
			retransmit_ms = atoi(optarg);
			continue;
		}
		return 2;
	}
	if (!self.s_addr) {
		fprintf(stderr, "usage: fieldpeer gateway -a ADDRESS [-R MS]\n");
		return 2;
	}
	sin.sin_addr = self;
	pfd[0].fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(pfd[0].fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(pfd[0].fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(pfd[0].fd, 256) < 0) {
		perror("tcp 2012");
		return 1;
	}
	pfd[1].fd = udp_socket(self, REG_PORT);
	pfd[2].fd = udp_socket(self, 500);
	pfd[3].fd = udp_socket(self, 4500);
	for (int i = 0; i < 4; i++)
		pfd[i].events = POLLIN;
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		if (poll(pfd, 4, next_timeout()) < 0 && errno != EINTR)
			return 1;
		if (pfd[0].revents & POLLIN)
			on_tcp(pfd[0].fd, self);
		if (pfd[1].revents & POLLIN)
			on_notify(pfd[1].fd);
		if (pfd[2].revents & POLLIN)
			on_500(pfd[2].fd, self);
		if (pfd[3].revents & POLLIN)
			on_4500(pfd[3].fd);
		retransmit(pfd[2].fd);
	}
}

/* ---- client ---- */

static int error_timeout_ms = 3000;

/* Waits up to ms for a datagram carrying cookie ic (after off bytes). */
static ssize_t await(int fd, uint8_t *buf, size_t size, size_t off,
		     const uint8_t *ic, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	long long end = now_ms() + ms;
	ssize_t n;

	while (now_ms() < end && poll(&pfd, 1, end - now_ms()) > 0) {
		n = recv(fd, buf, size, 0);
		if (n >= (ssize_t)(off + HDR) && !memcmp(buf + off, ic, 8))
			return n;
	}
	return -1;
}

static bool registration(struct in_addr src, const struct sockaddr_in *gw)
{
	struct sockaddr_in to = *gw, me = { .sin_family = AF_INET,
					    .sin_addr = src };
	char buf[64];
	int fd, ok = 0;

	to.sin_port = htons(REG_PORT);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (bind(fd, (struct sockaddr *)&me, sizeof(me)) == 0 &&
	    connect(fd, (struct sockaddr *)&to, sizeof(to)) == 0 &&
	    send(fd, "REGISTER user\n", 14, MSG_NOSIGNAL) == 14)
		ok = recv(fd, buf, sizeof(buf), 0) > 2 && !memcmp(buf, "OK", 2);
	close(fd);
	if (!ok)
		return false;
	/* and the UDP 2012 notification the report shows next */
	fd = udp_socket(src, 0);
	for (int t = 0; t < 3 && ok != 2; t++) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		sendto(fd, "NOTIFY hello", 12, 0, (struct sockaddr *)&to,
		       sizeof(to));
		if (poll(&pfd, 1, 1000) > 0 && recv(fd, buf, sizeof(buf), 0) == 3)
			ok = 2;
	}
	close(fd);
	return ok == 2;
}

static bool attempt(struct in_addr src, struct in_addr gwaddr, uint8_t *ic)
{
	struct sockaddr_in gw = { .sin_family = AF_INET, .sin_addr = gwaddr };
	uint8_t buf[2048], rc[8];
	struct msg m;
	int fd500, fd4500;
	bool up = false;
	ssize_t n = -1;

	random_bytes(ic, 8);
	ic[0] |= 1;
	if (!registration(src, &gw))
		return false;

	fd500 = udp_socket(src, 500);
	fd4500 = udp_socket(src, 4500);
	gw.sin_port = htons(500);
	aggressive(&m, ic, NULL, src, gwaddr, htons(500));
	for (int t = 0; t < 3 && n < 0; t++) {
		sendto(fd500, m.buf, m.len, 0, (struct sockaddr *)&gw, sizeof(gw));
		n = await(fd500, buf, sizeof(buf), 0, ic, 1000);
	}
	if (n < 0)
		goto out;
	memcpy(rc, buf + 8, 8);

	/* NAT-D showed a NAT: float to 4500 (RFC 3947 4) */
	gw.sin_port = htons(4500);
	encrypted(&m, ic, rc, EXCH_AGGRESSIVE, 0, PL_HASH, 60);
	send_natt(fd4500, &gw, &m);
	encrypted(&m, ic, rc, EXCH_QUICK, 0x5eed0001, PL_HASH, 172);
	send_natt(fd4500, &gw, &m);
	if (await(fd4500, buf, sizeof(buf), 4, ic, error_timeout_ms) > 0) {
		encrypted(&m, ic, rc, EXCH_QUICK, 0x5eed0001, PL_HASH, 20);
		send_natt(fd4500, &gw, &m);
		up = true;
	} else {
		/* the report's packets 20 and 21 */
		encrypted(&m, ic, rc, EXCH_INFO, 0x5eed0002, PL_HASH, 60);
		send_natt(fd4500, &gw, &m);
		send_natt(fd4500, &gw, &m);
	}
out:
	close(fd500);
	close(fd4500);
	return up;
}

static int client(int argc, char **argv)
{
	struct in_addr gw = { 0 }, src = { 0 };
	int n = 1, c, failed = 0, status;
	uint8_t ic[8];
	char ich[17];

	while ((c = getopt(argc, argv, "g:f:n:T:")) != -1) {
		switch (c) {
		case 'g':
			inet_pton(AF_INET, optarg, &gw);
			break;
		case 'f':
			inet_pton(AF_INET, optarg, &src);
			break;
		case 'n':
			n = atoi(optarg);
			break;
		case 'T':
			error_timeout_ms = atoi(optarg);
			break;
		default:
			return 2;
		}
	}
	if (!gw.s_addr || !src.s_addr) {
		fprintf(stderr, "usage: fieldpeer client -g GW -f SRC [-n N] [-T MS]\n");
		return 2;
	}
	for (int i = 0; i < n; i++) {
		struct in_addr a = { .s_addr = htonl(ntohl(src.s_addr) + i) };

		if (fork() == 0) {
			bool up = attempt(a, gw, ic);

			hex(ic, ich);
			printf("attempt %d %s %s %s\n", i + 1, inet_ntoa(a),
			       up ? "up" : "fail", ich);
			fflush(stdout);
			_exit(up ? 0 : 1);
		}
	}
	while (wait(&status) > 0)
		failed += !WIFEXITED(status) || WEXITSTATUS(status);
	return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "gateway"))
		return gateway(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "client"))
		return client(argc - 1, argv + 1);
	fprintf(stderr, "usage: fieldpeer gateway -a ADDR [-R MS] | client -g GW -f SRC [-n N] [-T MS]\n");
	return 2;
}
