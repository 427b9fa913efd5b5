// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ike_parse() on real IKE traffic (strongSwan through the testbed NAT, see
 * data/capture-ike.sh) and on every field of it broken in turn.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ike.h"
#include "data/ike-vectors.h"

struct expect {
	const char *tcpdump;	/* how tcpdump names the exchange */
	uint8_t version;
	uint8_t exchange;
};

static const struct expect expects[] = {
	{ "ikev2_init", 2, 34 },	{ "ikev2_auth", 2, 35 },
	{ "inf2", 2, 37 },		{ "ident", 1, 2 },
	{ "oakley-quick", 1, 32 },	{ " agg", 1, 4 },
	{ " inf", 1, 5 },
};

static const struct ike_vector *find(const char *desc_part, unsigned skip)
{
	for (size_t i = 0; i < sizeof(ike_vectors) / sizeof(ike_vectors[0]); i++)
		if (strstr(ike_vectors[i].desc, desc_part) && !skip--)
			return &ike_vectors[i];
	return NULL;
}

static enum ike_result parse(const struct ike_vector *v, struct ike_msg *m)
{
	return ike_parse(v->bytes, v->len, v->len, v->sport == 4500, m);
}

/* Every captured message parses, as the version and exchange tcpdump saw. */
static void test_captured(void)
{
	unsigned ok = 0, first = 0, esp = 0, kinds[7] = { 0 };
	size_t i, k;

	CHECK(sizeof(ike_vectors) / sizeof(ike_vectors[0]) >= 20);
	for (i = 0; i < sizeof(ike_vectors) / sizeof(ike_vectors[0]); i++) {
		const struct ike_vector *v = &ike_vectors[i];
		enum ike_result r;
		struct ike_msg m;

		memset(&m, 0, sizeof(m));
		r = parse(v, &m);
		if (strstr(v->desc, "ESP(")) {
			CHECK(r == IKE_ESP);
			esp++;
			continue;
		}
		for (k = 0; k < sizeof(expects) / sizeof(expects[0]); k++)
			if (strstr(v->desc, expects[k].tcpdump))
				break;
		CHECK(k < sizeof(expects) / sizeof(expects[0]));
		if (k == sizeof(expects) / sizeof(expects[0]))
			continue;
		kinds[k]++;
		/* an initiator's first message: no responder SPI yet */
		if (r == IKE_ZERO_RESPONDER_SPI) {
			first++;
			CHECK(strstr(v->desc, "_init[I]") ||
			      strstr(v->desc, " I ident") ||
			      strstr(v->desc, " I agg"));
			continue;
		}
		CHECK(r == IKE_OK);
		if (r != IKE_OK) {
			fprintf(stderr, "  %s: %s\n", v->desc, ike_result_str(r));
			continue;
		}
		ok++;
		CHECK(m.version == expects[k].version);
		CHECK(m.exchange == expects[k].exchange);
		CHECK(m.natt == (v->sport == 4500));
		CHECK(m.length == v->len - (m.natt ? 4 : 0));
	}
	/* IKEv2, IKEv1 main and aggressive: three SAs started */
	CHECK(first == 3);
	CHECK(esp >= 1);
	CHECK(ok + first + esp == sizeof(ike_vectors) / sizeof(ike_vectors[0]));
	for (k = 0; k < sizeof(expects) / sizeof(expects[0]); k++)
		CHECK(kinds[k] > 0);
}

/* The two replies a pin is learnt from, and their fields. */
static void test_reply_fields(void)
{
	const struct ike_vector *v1 = find(" R agg", 0);
	const struct ike_vector *v2 = find("ikev2_init[R]", 0);
	struct ike_msg m;

	CHECK(v1 && v2);
	if (!v1 || !v2)
		return;
	CHECK(parse(v1, &m) == IKE_OK);
	CHECK(m.version == 1 && m.exchange == 4 && !m.natt);
	CHECK(!memcmp(m.ispi, v1->bytes, 8) && !memcmp(m.rspi, v1->bytes + 8, 8));
	CHECK(m.msgid == 0 && m.length == v1->len);
	CHECK(parse(v2, &m) == IKE_OK);
	CHECK(m.version == 2 && m.exchange == 34);
	CHECK(m.flags & 0x20);	/* response */
	CHECK(!strcmp(ike_exchange_str(2, 34), "IKE_SA_INIT"));
	CHECK(!strcmp(ike_exchange_str(1, 4), "aggressive"));
	CHECK(!strcmp(ike_exchange_str(1, 32), "quick"));
	CHECK(!strcmp(ike_exchange_str(1, 99), "unknown"));
}

static void copy(uint8_t *buf, const struct ike_vector *v)
{
	memcpy(buf, v->bytes, v->len);
}

/* Each header field broken in turn, on a real reply on 500. */
static void test_corrupt_500(void)
{
	const struct ike_vector *v = find(" R agg", 0);
	uint8_t b[2048];
	struct ike_msg m;
	size_t n;

	CHECK(v);
	if (!v)
		return;
	for (n = 0; n < IKE_HDR_LEN; n++)
		CHECK(ike_parse(v->bytes, n, v->len, false, &m) == IKE_TRUNCATED);
	/* the queue copied only a prefix: the header decides */
	CHECK(ike_parse(v->bytes, IKE_HDR_LEN, v->len, false, &m) == IKE_OK);
	CHECK(ike_parse(v->bytes, v->len, v->len + 1, false, &m) == IKE_BAD_LENGTH);
	CHECK(ike_parse(v->bytes, v->len - 1, v->len - 1, false, &m) ==
	      IKE_BAD_LENGTH);

	copy(b, v);
	b[17] = 0x11;	/* IKEv1 minor 1 */
	CHECK(ike_parse(b, v->len, v->len, false, &m) == IKE_BAD_VERSION);
	b[17] = 0x30;
	CHECK(ike_parse(b, v->len, v->len, false, &m) == IKE_BAD_VERSION);
	b[17] = 0x00;
	CHECK(ike_parse(b, v->len, v->len, false, &m) == IKE_BAD_VERSION);
	b[17] = 0x21;	/* IKEv2 ignores the minor version (RFC 7296 2.5) */
	b[18] = 34;
	CHECK(ike_parse(b, v->len, v->len, false, &m) == IKE_OK);

	copy(b, v);
	for (n = 0; n < 256; n++) {
		bool known = (n >= 1 && n <= 5) || n == 32 || n == 33;

		b[18] = n;
		CHECK((ike_parse(b, v->len, v->len, false, &m) == IKE_OK) == known);
	}
	copy(b, v);
	b[17] = 0x20;
	for (n = 0; n < 256; n++) {
		bool known = (n >= 34 && n <= 37) || n == 43 || n == 44;

		b[18] = n;
		CHECK((ike_parse(b, v->len, v->len, false, &m) == IKE_OK) == known);
	}

	copy(b, v);
	b[27] ^= 1;	/* length field off by one either way */
	CHECK(ike_parse(b, v->len, v->len, false, &m) == IKE_BAD_LENGTH);
	copy(b, v);
	memset(b + 24, 0xff, 4);
	CHECK(ike_parse(b, v->len, v->len, false, &m) == IKE_BAD_LENGTH);
	copy(b, v);
	memset(b, 0, 8);
	CHECK(ike_parse(b, v->len, v->len, false, &m) == IKE_ZERO_INITIATOR_SPI);
	copy(b, v);
	memset(b + 8, 0, 8);
	CHECK(ike_parse(b, v->len, v->len, false, &m) == IKE_ZERO_RESPONDER_SPI);
}

/* Port 4500: marker, keepalive, ESP, and a broken header behind a marker. */
static void test_natt(void)
{
	const struct ike_vector *v = find("R oakley-quick[E]", 0);
	const struct ike_vector *esp = find("ESP(", 0);
	const uint8_t keepalive[] = { 0xff };
	uint8_t b[2048];
	struct ike_msg m;
	size_t n;

	CHECK(v && esp);
	if (!v || !esp)
		return;
	CHECK(ike_parse(keepalive, 1, 1, true, &m) == IKE_KEEPALIVE);
	CHECK(ike_parse(keepalive, 1, 1, false, &m) == IKE_TRUNCATED);
	for (n = 0; n < 4; n++)
		CHECK(ike_parse(v->bytes, n, n, true, &m) == IKE_TRUNCATED);
	for (n = 4; n < 4 + IKE_HDR_LEN; n++)
		CHECK(ike_parse(v->bytes, n, v->len, true, &m) == IKE_TRUNCATED);
	CHECK(ike_parse(esp->bytes, esp->len, esp->len, true, &m) == IKE_ESP);
	copy(b, v);
	b[3] = 1;	/* a non-zero SPI: ESP, however IKE-like the rest */
	CHECK(ike_parse(b, v->len, v->len, true, &m) == IKE_ESP);
	/* the same bytes without the marker's offset: not a valid header */
	CHECK(ike_parse(v->bytes, v->len, v->len, false, &m) != IKE_OK);
	/* the header's length excludes the marker */
	CHECK(ike_parse(v->bytes, v->len, v->len, true, &m) == IKE_OK);
	CHECK(m.length == v->len - 4 && m.exchange == 32 && m.natt);
}

static uint32_t rnd_state = 2463534242u;

static uint32_t rnd(void)	/* xorshift32: the same run every time */
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

/*
 * Real messages with random bytes changed and random cuts, each in a buffer
 * of exactly the bytes given, so that the sanitizer run catches any read
 * past them; whatever is accepted must hold the header's promises.
 */
static void test_mutations(void)
{
	const size_t nv = sizeof(ike_vectors) / sizeof(ike_vectors[0]);
	unsigned accepted = 0, i, k;

	for (i = 0; i < 200000; i++) {
		const struct ike_vector *v = &ike_vectors[rnd() % nv];
		size_t caplen = rnd() % (v->len + 1);
		bool natt = rnd() % 4 ? v->sport == 4500 : rnd() % 2;
		uint8_t *b = malloc(caplen ? caplen : 1);
		struct ike_msg m;

		memcpy(b, v->bytes, caplen);
		for (k = rnd() % 4; k > 0 && caplen; k--)
			b[rnd() % caplen] = rnd();
		if (ike_parse(b, caplen, v->len, natt, &m) == IKE_OK) {
			accepted++;
			CHECK(m.length == v->len - (natt ? 4 : 0));
			CHECK(m.version == 1 || m.version == 2);
			CHECK(memcmp(m.rspi, "\0\0\0\0\0\0\0\0", 8) &&
			      memcmp(m.ispi, "\0\0\0\0\0\0\0\0", 8));
			CHECK(caplen >= IKE_HDR_LEN + (natt ? 4 : 0));
		}
		free(b);
	}
	CHECK(accepted > 0);
}

int main(void)
{
	RUN(test_captured);
	RUN(test_reply_fields);
	RUN(test_corrupt_500);
	RUN(test_natt);
	RUN(test_mutations);
	return CHECK_DONE();
}
