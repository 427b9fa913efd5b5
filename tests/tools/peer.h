/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by the test peers: ISAKMP headers and payloads, sockets. */
#ifndef NFQH_PEER_H
#define NFQH_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#define HDR 28

/* ISAKMP payload types (RFC 2408 3.1, RFC 3947) */
enum {
	PL_NONE = 0, PL_SA = 1, PL_KE = 4, PL_ID = 5, PL_HASH = 8,
	PL_NONCE = 10, PL_N = 11, PL_VID = 13, PL_NATD = 20,
};

/* A message under construction: header, then payloads appended. */
struct msg {
	uint8_t buf[2048];
	size_t len;
	size_t last;	/* offset of the last payload's next-payload byte */
};

void put_be16(uint8_t *p, uint16_t v);
void put_be32(uint8_t *p, uint32_t v);

/* An ISAKMP header plus len - HDR bytes of filler (len >= HDR). */
size_t build(uint8_t *buf, const uint8_t *ic, const uint8_t *rc,
	     int version, uint8_t exchange, uint8_t flags, size_t len);

/* Starts an IKEv1 message; payloads follow with msg_add(). */
void msg_start(struct msg *m, const uint8_t *ic, const uint8_t *rc,
	       uint8_t exchange, uint8_t flags, uint32_t msgid);
void msg_add(struct msg *m, uint8_t type, const void *body, size_t len);
/* Fixes the length field; returns the message length. */
size_t msg_end(struct msg *m);

/* An IKEv1 SA payload body: one ISAKMP proposal, AES-128/SHA1/PSK/MODP1024. */
size_t sa_body(uint8_t *out);

void hex(const uint8_t *p, char *out);	/* 8 bytes -> 16 digits */
int udp_socket(struct in_addr addr, uint16_t port);
void random_bytes(uint8_t *p, size_t n);

#endif
