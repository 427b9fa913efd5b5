// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The bad-input matrix at the netlink level (tests/netns/70-bad-input.sh has
 * the packets): queued-packet messages with attributes missing, cut short,
 * oversized or malformed, and conntrack entries (NFQA_CT, the kernel's own
 * bytes from data/ct-vectors.h) the same way. Each row names what the
 * decoder must do and which counter the helper moves; every row runs.
 */
#include <stddef.h>
#include <string.h>
#include <arpa/inet.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "check.h"
#include "helper.h"
#include "queue.h"
#include "data/ct-vectors.h"

#define ATTRS_OFF (sizeof(struct nlmsghdr) + sizeof(struct nfgenmsg))
#define PKT_ID 42

static const uint8_t *ct_attrs = ct_reply_msg + ATTRS_OFF;
static const size_t ct_len = sizeof(ct_reply_msg) - ATTRS_OFF;

/* An IKEv1 aggressive-mode answer from 203.0.113.2:500 to the pool address
 * of the captured conntrack entry. */
static size_t ike_answer(uint8_t *b)
{
	static const uint8_t ip[] = {
		0x45, 0x00, 0x00, 0x38, 0, 0, 0x40, 0, 0x3f, 0x11, 0, 0,
		0xcb, 0x00, 0x71, 0x02, 198, 51, 100, 1,
		0x01, 0xf4, CT_REPLY_POOL_PORT >> 8, CT_REPLY_POOL_PORT & 0xff,
		0x00, 0x24, 0, 0,
	};

	memcpy(b, ip, sizeof(ip));
	inet_pton(AF_INET, CT_REPLY_POOL, b + 16);
	memset(b + 28, 0x11, 16);
	b[28 + 17] = 0x10;
	b[28 + 18] = 4;
	b[28 + 19] = 0;
	memset(b + 28 + 20, 0, 8);
	b[28 + 27] = 28;
	return 28 + 28;
}

static void put_ct(struct nlmsghdr *nlh, const void *attrs, size_t len)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, NFQA_CT);

	memcpy(mnl_nlmsg_get_payload_tail(nlh), attrs, len);
	nlh->nlmsg_len += MNL_ALIGN(len);
	mnl_attr_nest_end(nlh, nest);
}

/* The whole message, and each way of spoiling it. */
enum spoil {
	WHOLE,
	NO_HDR,
	SHORT_HDR,
	LONG_HDR,
	NO_PAYLOAD,
	PAYLOAD_BEYOND_PACKET,
	CAP_LEN_WRONG_SIZE,
	CAP_LEN_BELOW_PAYLOAD,
	MARK_WRONG_SIZE,
	CT_CUT,
	CT_NO_TUPLES,
	CT_OVERSIZED,
	CT_STATUS_WRONG_SIZE,
	CT_TUPLE_ADDR_WRONG_SIZE,
};

static struct nlmsghdr *build(char *buf, enum spoil how)
{
	struct nfqnl_msg_packet_hdr ph = { .packet_id = htonl(PKT_ID) };
	uint8_t pkt[256], hdr[16] = { 0 }, junk[512], ct[sizeof(ct_reply_msg)];
	struct nlmsghdr *nlh;
	size_t n = ike_answer(pkt);
	uint16_t two = 0;

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_PACKET, 0);
	memcpy(hdr, &ph, sizeof(ph));
	if (how == SHORT_HDR)
		mnl_attr_put(nlh, NFQA_PACKET_HDR, 3, hdr);
	else if (how == LONG_HDR)
		mnl_attr_put(nlh, NFQA_PACKET_HDR, sizeof(hdr), hdr);
	else if (how != NO_HDR)
		mnl_attr_put(nlh, NFQA_PACKET_HDR, sizeof(ph), &ph);
	if (how == MARK_WRONG_SIZE)
		mnl_attr_put(nlh, NFQA_MARK, sizeof(two), &two);
	if (how == CAP_LEN_WRONG_SIZE)
		mnl_attr_put(nlh, NFQA_CAP_LEN, sizeof(two), &two);
	if (how == CAP_LEN_BELOW_PAYLOAD)
		mnl_attr_put_u32(nlh, NFQA_CAP_LEN, htonl(n - 1));
	if (how == PAYLOAD_BEYOND_PACKET) {
		memset(pkt + n, 0, 64);	/* the IP total length says n */
		n += 64;
	}
	if (how != NO_PAYLOAD)
		mnl_attr_put(nlh, NFQA_PAYLOAD, n, pkt);
	memcpy(ct, ct_attrs, ct_len);
	switch (how) {
	case CT_CUT:
		put_ct(nlh, ct, 40);
		break;
	case CT_NO_TUPLES:	/* both tuples renamed to an unknown type */
		ct[2] = 0x7f;
		ct[0x34 + 2] = 0x7f;
		put_ct(nlh, ct, ct_len);
		break;
	case CT_OVERSIZED:	/* 512 bytes of an unknown attribute too */
		memset(junk, 0xee, sizeof(junk));
		put_ct(nlh, ct, ct_len);
		mnl_attr_put(nlh, 0x7ff, sizeof(junk), junk);
		break;
	case CT_TUPLE_ADDR_WRONG_SIZE:
		ct[8] = 0x07;
		put_ct(nlh, ct, ct_len);
		break;
	default:
		put_ct(nlh, ct, ct_len);
		break;
	}
	return nlh;
}

struct row {
	const char *name;
	enum spoil how;
	bool parsed;		/* queue_parse() gives a packet to accept */
	size_t counter;		/* offsetof(struct nfqh_stats, ...) that moves */
	const char *counter_name;
	enum job_state state;	/* what helper_classify() decides */
};

#define C(field) offsetof(struct nfqh_stats, field), #field

static const struct row rows[] = {
	{ "whole message", WHOLE, true, C(ike_ok), JOB_PIN },
	{ "no packet header", NO_HDR, false, 0, NULL, JOB_DONE },
	{ "packet header of 3 bytes", SHORT_HDR, false, 0, NULL, JOB_DONE },
	{ "packet header of 16 bytes", LONG_HDR, true, C(not_ike), JOB_DONE },
	{ "no payload", NO_PAYLOAD, true, C(not_ike), JOB_DONE },
	{ "payload beyond the IP length", PAYLOAD_BEYOND_PACKET, true, C(not_ike), JOB_DONE },
	{ "NFQA_CAP_LEN of 2 bytes", CAP_LEN_WRONG_SIZE, true, C(not_ike), JOB_DONE },
	{ "NFQA_CAP_LEN below the payload", CAP_LEN_BELOW_PAYLOAD, true, C(not_ike), JOB_DONE },
	{ "NFQA_MARK of 2 bytes", MARK_WRONG_SIZE, true, C(not_ike), JOB_DONE },
	{ "NFQA_CT cut short", CT_CUT, true, C(ct_errors), JOB_DONE },
	{ "NFQA_CT without tuples", CT_NO_TUPLES, true, C(ct_errors), JOB_DONE },
	{ "NFQA_CT with 512 unknown bytes", CT_OVERSIZED, true, C(ike_ok), JOB_PIN },
	{ "NFQA_CT address of 3 bytes", CT_TUPLE_ADDR_WRONG_SIZE, true, C(ct_errors), JOB_DONE },
};

static uint64_t stat_at(const struct nfqh_stats *s, size_t off)
{
	return *(const uint64_t *)((const char *)s + off);
}

static void test_matrix(void)
{
	static char buf[8192];
	struct queue_pkt pkt;
	struct helper h;
	struct job job;
	bool parsed;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];

		memset(&h, 0, sizeof(h));
		memset(&pkt, 0, sizeof(pkt));
		parsed = queue_parse(build(buf, r->how), &pkt, 1);
		if (parsed != r->parsed || (parsed && pkt.id != PKT_ID)) {
			fprintf(stderr, "row '%s': parsed %d, id %u\n", r->name,
				parsed, pkt.id);
			CHECK(!"queue_parse");
			continue;
		}
		if (!parsed) {
			printf("  %-32s no packet header: no id to accept\n",
			       r->name);
			continue;
		}
		helper_classify(&h, pkt.payload, pkt.caplen, pkt.len, pkt.ct,
				&job);
		if (job.state != r->state || stat_at(&h.stats, r->counter) != 1 ||
		    h.stats.packets != 1) {
			fprintf(stderr, "row '%s': state %d, counter %llu\n",
				r->name, job.state,
				(unsigned long long)stat_at(&h.stats, r->counter));
			CHECK(!"helper_classify");
		}
		printf("  %-32s accepted; %s +1%s\n", r->name, r->counter_name,
		       job.state == JOB_PIN ? "; may pin" : "; not pinned");
	}
}

int main(void)
{
	RUN(test_matrix);
	return CHECK_DONE();
}
