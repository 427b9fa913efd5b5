// SPDX-License-Identifier: GPL-2.0-or-later
/* Pure IKE header parser: only what decides whether a reply may pin. */
#include <string.h>

#include "ike.h"

static const uint8_t zero_spi[8];

static bool exchange_known(uint8_t version, uint8_t x)
{
	if (version == 1)	/* RFC 2408 4.7, RFC 2409 5.5, 6 */
		return (x >= 1 && x <= 5) || x == 32 || x == 33;
	/* RFC 7296 3.1; 43 IKE_SESSION_RESUME (RFC 5723), 44 IKE_INTERMEDIATE (RFC 9242) */
	return (x >= 34 && x <= 37) || x == 43 || x == 44;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

enum ike_result ike_parse(const uint8_t *buf, size_t caplen, size_t len,
			  bool natt, struct ike_msg *m)
{
	uint8_t major, minor;

	if (caplen > len)
		caplen = len;
	if (natt) {
		if (len == 1 && caplen == 1 && buf[0] == 0xff)
			return IKE_KEEPALIVE;
		if (caplen < IKE_NON_ESP_MARKER_LEN)
			return IKE_TRUNCATED;
		/* RFC 3948 2.2: a zero SPI marks IKE, anything else is ESP */
		if (memcmp(buf, zero_spi, IKE_NON_ESP_MARKER_LEN))
			return IKE_ESP;
		buf += IKE_NON_ESP_MARKER_LEN;
		caplen -= IKE_NON_ESP_MARKER_LEN;
		len -= IKE_NON_ESP_MARKER_LEN;
	}
	if (caplen < IKE_HDR_LEN)
		return IKE_TRUNCATED;

	major = buf[17] >> 4;
	minor = buf[17] & 0x0f;
	if (!((major == 1 && minor == 0) || major == 2))
		return IKE_BAD_VERSION;
	m->version = major;
	m->exchange = buf[18];
	if (!exchange_known(m->version, m->exchange))
		return IKE_BAD_EXCHANGE;
	m->length = get_be32(buf + 24);
	if (m->length != len)
		return IKE_BAD_LENGTH;
	if (!memcmp(buf, zero_spi, 8))
		return IKE_ZERO_INITIATOR_SPI;
	if (!memcmp(buf + 8, zero_spi, 8))
		return IKE_ZERO_RESPONDER_SPI;

	memcpy(m->ispi, buf, 8);
	memcpy(m->rspi, buf + 8, 8);
	m->flags = buf[19];
	m->msgid = get_be32(buf + 20);
	m->natt = natt;
	return IKE_OK;
}

const char *ike_result_str(enum ike_result r)
{
	switch (r) {
	case IKE_OK:
		return "ok";
	case IKE_TRUNCATED:
		return "truncated";
	case IKE_KEEPALIVE:
		return "NAT-T keepalive";
	case IKE_ESP:
		return "ESP";
	case IKE_BAD_VERSION:
		return "unknown version";
	case IKE_BAD_EXCHANGE:
		return "unknown exchange type";
	case IKE_BAD_LENGTH:
		return "length mismatch";
	case IKE_ZERO_INITIATOR_SPI:
		return "zero initiator SPI";
	case IKE_ZERO_RESPONDER_SPI:
		return "zero responder SPI";
	case IKE_RESULTS:
		break;
	}
	return "?";
}

const char *ike_result_label(enum ike_result r)
{
	static const char *const labels[IKE_RESULTS] = {
		[IKE_OK] = "ok",
		[IKE_TRUNCATED] = "truncated",
		[IKE_KEEPALIVE] = "keepalive",
		[IKE_ESP] = "esp",
		[IKE_BAD_VERSION] = "bad_version",
		[IKE_BAD_EXCHANGE] = "bad_exchange",
		[IKE_BAD_LENGTH] = "bad_length",
		[IKE_ZERO_INITIATOR_SPI] = "zero_initiator_spi",
		[IKE_ZERO_RESPONDER_SPI] = "zero_responder_spi",
	};

	return (unsigned)r < IKE_RESULTS ? labels[r] : "unknown";
}

const char *ike_exchange_str(uint8_t version, uint8_t x)
{
	static const char *const v1[] = {
		[1] = "base", [2] = "main", [3] = "auth-only",
		[4] = "aggressive", [5] = "informational",
	};
	static const char *const v2[] = {
		"IKE_SA_INIT", "IKE_AUTH", "CREATE_CHILD_SA", "INFORMATIONAL",
	};

	if (version == 1 && x >= 1 && x <= 5)
		return v1[x];
	if (version == 1 && x == 32)
		return "quick";
	if (version == 1 && x == 33)
		return "new-group";
	if (version == 2 && x >= 34 && x <= 37)
		return v2[x - 34];
	if (version == 2 && x == 43)
		return "IKE_SESSION_RESUME";
	if (version == 2 && x == 44)
		return "IKE_INTERMEDIATE";
	return "unknown";
}
