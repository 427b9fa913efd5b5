// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ikepeer: a minimal IKE test peer speaking real ISAKMP headers.
 *
 *   ikepeer gateway [-s] [-a ADDRESS]
 *     answers on UDP 500 and 4500 (of ADDRESS, default all) and prints one
 *     line per message it gets:
 *     "rx PORT SRC_ADDR SRC_PORT ICOOKIE RCOOKIE EXCHANGE". With -s (strict,
 *     like the field report's gateway) a 4500 message from an address that
 *     did not speak 500 for the same cookies gets no answer.
 *   ikepeer client -g GATEWAY -f FIRST_SOURCE [-n ATTEMPTS] [-2] [-t MS] [-r TRIES]
 *     per attempt, from the next source address: IKEv1 aggressive mode
 *     message 1 on 500, then message 3 on 4500 behind the non-ESP marker
 *     once the answer came (RFC 3947 float). -2: IKEv2 IKE_SA_INIT, then
 *     IKE_AUTH on 4500. Each message is sent up to TRIES times (3), MS
 *     apart (1000). Prints "attempt N SOURCE ok|fail ICOOKIE".
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
#include <sys/socket.h>
#include <unistd.h>

#include "peer.h"

#define MAX_SA 4096

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

static void gateway_rx(int fd, bool natt, bool strict)
{
	uint8_t buf[2048], out[2048], rc[8];
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	char ich[17], rch[17];
	size_t off = natt ? 4 : 0, n;
	ssize_t got;
	struct sa *sa;
	int version;

	got = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
	if (got < (ssize_t)(off + HDR))
		return;	/* keepalives, ESP, garbage: not IKE */
	if (natt && memcmp(buf, "\0\0\0\0", 4))
		return;
	hex(buf + off, ich);
	hex(buf + off + 8, rch);
	printf("rx %d %s %u %s %s %u\n", natt ? 4500 : 500,
	       inet_ntoa(from.sin_addr), ntohs(from.sin_port), ich, rch,
	       buf[off + 18]);
	fflush(stdout);

	sa = find_sa(buf + off);
	if (!natt && !sa && nsas < MAX_SA) {
		sa = &sas[nsas++];
		memcpy(sa->icookie, buf + off, 8);
		sa->from = from.sin_addr;
	}
	if (natt && strict && (!sa || sa->from.s_addr != from.sin_addr.s_addr))
		return;	/* no IKE state for this address: dropped */
	/* responder cookie: derived from the initiator's, stable */
	for (int i = 0; i < 8; i++)
		rc[i] = buf[off + i] ^ 0x5a;
	version = buf[off + 17] >> 4;
	memset(out, 0, off);
	n = build(out + off, buf + off, rc, version, buf[off + 18],
		  version == 2 ? 0x20 : 0, 60);
	sendto(fd, out, off + n, 0, (struct sockaddr *)&from, fl);
}

static int gateway(int argc, char **argv)
{
	struct in_addr addr = { .s_addr = INADDR_ANY };
	bool strict = false;
	struct pollfd pfd[2];
	int c;

	while ((c = getopt(argc, argv, "sa:")) != -1) {
		if (c == 's')
			strict = true;
		else if (c == 'a' && inet_pton(AF_INET, optarg, &addr) == 1)
			continue;
		else
			return 2;
	}
	pfd[0].fd = udp_socket(addr, 500);
	pfd[1].fd = udp_socket(addr, 4500);
	pfd[0].events = pfd[1].events = POLLIN;

	printf("ready\n");
	fflush(stdout);
	for (;;) {
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			return 1;
		if (pfd[0].revents & POLLIN)
			gateway_rx(pfd[0].fd, false, strict);
		if (pfd[1].revents & POLLIN)
			gateway_rx(pfd[1].fd, true, strict);
	}
}

static int tries = 3, wait_ms = 1000;

/* Sends and waits for an answer carrying our cookie. */
static bool exchange(int fd, const struct sockaddr_in *to, const uint8_t *msg,
		     size_t len, size_t off, const uint8_t *ic, uint8_t *rc)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint8_t buf[2048];
	ssize_t got;

	for (int t = 0; t < tries; t++) {
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

	/* NAT detected: float to 4500, a new flow (RFC 3947 4) */
	fd = udp_socket(src, 0);
	to.sin_port = htons(4500);
	memset(msg, 0, 4);
	n = build(msg + 4, ic, rc, version, version == 2 ? 35 : 4,
		  version == 2 ? 0x08 : 0x01, 92);
	ok = exchange(fd, &to, msg, 4 + n, 4, ic, NULL);
	close(fd);
	return ok;
}

static int client(int argc, char **argv)
{
	struct in_addr gw = { 0 }, src = { 0 };
	int n = 1, version = 1, c, failed = 0;
	uint8_t ic[8];
	char ich[17];

	while ((c = getopt(argc, argv, "g:f:n:2t:r:")) != -1) {
		switch (c) {
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
		bool ok = attempt(src, gw, version, ic);

		hex(ic, ich);
		printf("attempt %d %s %s %s\n", i + 1, inet_ntoa(src),
		       ok ? "ok" : "fail", ich);
		fflush(stdout);
		failed += !ok;
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

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "gateway"))
		return gateway(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "client"))
		return client(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "udp"))
		return plain_udp(argc - 1, argv + 1);
	fprintf(stderr, "usage: ikepeer gateway [-s] [-a ADDR] | client -g GW -f SRC [-n N] [-2] | udp -g GW -f SRC -p PORT [-n N]\n");
	return 2;
}
