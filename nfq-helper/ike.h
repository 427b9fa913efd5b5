/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Pure IKEv1/IKEv2 header parser (RFC 2408, RFC 7296, RFC 3948); no I/O. */
#ifndef NFQH_IKE_H
#define NFQH_IKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IKE_PORT 500
#define IKE_NATT_PORT 4500
#define IKE_HDR_LEN 28
#define IKE_NON_ESP_MARKER_LEN 4

enum ike_result {
	IKE_OK,
	IKE_TRUNCATED,		/* shorter than a header */
	IKE_KEEPALIVE,		/* NAT-T keepalive, 0xff (RFC 3948 2.3) */
	IKE_ESP,		/* UDP-encapsulated ESP: non-zero SPI */
	IKE_BAD_VERSION,
	IKE_BAD_EXCHANGE,	/* exchange type unknown to the version */
	IKE_BAD_LENGTH,		/* header length disagrees with the datagram */
	IKE_ZERO_INITIATOR_SPI,
	IKE_ZERO_RESPONDER_SPI,	/* no responder yet: not an answer */
	IKE_RESULTS
};

struct ike_msg {
	uint8_t ispi[8];
	uint8_t rspi[8];
	uint8_t version;	/* 1 or 2 */
	uint8_t exchange;
	uint8_t flags;
	uint32_t msgid;
	uint32_t length;
	bool natt;		/* came behind a non-ESP marker */
};

/*
 * Parses the UDP payload of a datagram to or from port 500 (natt false) or
 * 4500 (natt true). caplen bytes are present of the len the datagram carries.
 */
enum ike_result ike_parse(const uint8_t *buf, size_t caplen, size_t len,
			  bool natt, struct ike_msg *m);
const char *ike_result_str(enum ike_result r);
/* The same as a short metric label: "bad_length", "zero_responder_spi". */
const char *ike_result_label(enum ike_result r);
const char *ike_exchange_str(uint8_t version, uint8_t exchange);

#endif
