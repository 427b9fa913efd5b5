// SPDX-License-Identifier: GPL-2.0-or-later
/* Shared by the test peers: ISAKMP headers and payloads, sockets. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "peer.h"

void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static void header(uint8_t *buf, const uint8_t *ic, const uint8_t *rc,
		   int version, uint8_t exchange, uint8_t flags, uint32_t msgid)
{
	memcpy(buf, ic, 8);
	if (rc)
		memcpy(buf + 8, rc, 8);
	else
		memset(buf + 8, 0, 8);
	buf[16] = PL_NONE;
	buf[17] = version == 2 ? 0x20 : 0x10;
	buf[18] = exchange;
	buf[19] = flags;
	put_be32(buf + 20, msgid);
}

size_t build(uint8_t *buf, const uint8_t *ic, const uint8_t *rc,
	     int version, uint8_t exchange, uint8_t flags, size_t len)
{
	header(buf, ic, rc, version, exchange, flags, 0);
	put_be32(buf + 24, len);
	memset(buf + HDR, 0xa5, len - HDR);
	return len;
}

void msg_start(struct msg *m, const uint8_t *ic, const uint8_t *rc,
	       uint8_t exchange, uint8_t flags, uint32_t msgid)
{
	header(m->buf, ic, rc, 1, exchange, flags, msgid);
	m->len = HDR;
	m->last = 16;
}

void msg_add(struct msg *m, uint8_t type, const void *body, size_t len)
{
	uint8_t *p = m->buf + m->len;

	if (m->len + 4 + len > sizeof(m->buf))
		abort();
	m->buf[m->last] = type;
	p[0] = PL_NONE;
	p[1] = 0;
	put_be16(p + 2, 4 + len);
	memcpy(p + 4, body, len);
	m->last = m->len;
	m->len += 4 + len;
}

size_t msg_end(struct msg *m)
{
	put_be32(m->buf + 24, m->len);
	return m->len;
}

size_t sa_body(uint8_t *out)
{
	static const uint8_t attrs[] = {
		0x80, 0x01, 0x00, 0x07,	/* encryption: AES-CBC */
		0x80, 0x0e, 0x00, 0x80,	/* key length: 128 */
		0x80, 0x02, 0x00, 0x02,	/* hash: SHA */
		0x80, 0x03, 0x00, 0x01,	/* authentication: pre-shared key */
		0x80, 0x04, 0x00, 0x02,	/* group: MODP 1024 */
		0x80, 0x0b, 0x00, 0x01,	/* life type: seconds */
		0x80, 0x0c, 0x70, 0x80,	/* life: 28800 */
	};
	uint8_t *p = out;

	put_be32(p, 1);		/* DOI: IPsec */
	put_be32(p + 4, 1);	/* situation: identity only */
	p += 8;
	/* proposal 1, ISAKMP, no SPI, one transform */
	p[0] = 0, p[1] = 0, put_be16(p + 2, 8 + 8 + sizeof(attrs));
	p[4] = 1, p[5] = 1, p[6] = 0, p[7] = 1;
	p += 8;
	/* transform 1, KEY_IKE */
	p[0] = 0, p[1] = 0, put_be16(p + 2, 8 + sizeof(attrs));
	p[4] = 1, p[5] = 1, p[6] = 0, p[7] = 0;
	memcpy(p + 8, attrs, sizeof(attrs));
	p += 8 + sizeof(attrs);
	return p - out;
}

void hex(const uint8_t *p, char *out)
{
	for (int i = 0; i < 8; i++)
		sprintf(out + 2 * i, "%02X", p[i]);
}

int udp_socket(struct in_addr addr, uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr = addr,
				   .sin_port = htons(port) };
	int one = 1, fd;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("socket");
		exit(1);
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		fprintf(stderr, "bind %s:%u: %s\n", inet_ntoa(addr), port,
			strerror(errno));
		exit(1);
	}
	return fd;
}

void random_bytes(uint8_t *p, size_t n)
{
	if (getrandom(p, n, 0) != (ssize_t)n)
		abort();
}
