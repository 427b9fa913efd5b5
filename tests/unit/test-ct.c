// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Conntrack decoding on the kernel's own bytes (data/capture-ct.sh): as a
 * ctnetlink answer, and wrapped as NFQA_CT in a queued packet the way a
 * kernel with GLUE_CT sends it; and the GET request against those bytes.
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "check.h"
#include "ct.h"
#include "helper.h"
#include "data/ct-vectors.h"
#include "data/ct-zone-vectors.h"

#define ATTRS_OFF (sizeof(struct nlmsghdr) + sizeof(struct nfgenmsg))

static const uint8_t *attrs = ct_reply_msg + ATTRS_OFF;
static const size_t attrs_len = sizeof(ct_reply_msg) - ATTRS_OFF;

static void check_tuples(const struct ct_entry *e)
{
	CHECK(e->orig.src == inet_addr("100.64.1.7"));
	CHECK(e->orig.dst == inet_addr("203.0.113.2"));
	CHECK(e->orig.dport == 500 && e->orig.proto == IPPROTO_UDP);
	CHECK(e->reply.src == inet_addr("203.0.113.2") && e->reply.sport == 500);
	CHECK(e->reply.dst == inet_addr(CT_REPLY_POOL));
	CHECK(e->reply.dport == CT_REPLY_POOL_PORT);
}

static void check_entry(const struct ct_entry *e)
{
	check_tuples(e);
	CHECK(e->status & IPS_SRC_NAT);
	CHECK(!(e->status & IPS_DST_NAT));
}

static void test_ctnetlink_answer(void)
{
	const struct nlmsghdr *nlh = (const void *)ct_reply_msg;
	struct ct_entry e;

	CHECK(nlh->nlmsg_len == sizeof(ct_reply_msg));
	CHECK(nlh->nlmsg_type ==
	      (NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_NEW));
	CHECK(ct_decode(attrs, attrs_len, &e) == 0);
	check_entry(&e);
}

static void test_broken(void)
{
	uint8_t b[sizeof(ct_reply_msg)];
	struct ct_entry e;
	size_t n;

	/* cut anywhere: never read past the end; refused unless both tuples
	 * (the first two attributes, 0x34 bytes each) came whole, then both
	 * decoded; the status (the third, 8 bytes) counts once it came whole */
	for (n = 0; n < attrs_len; n++) {
		int r;

		memset(&e, 0xff, sizeof(e));
		r = ct_decode(attrs, n, &e);
		if (n < 2 * 0x34) {
			CHECK(r == -EBADMSG);
			continue;
		}
		CHECK(r == 0);
		check_tuples(&e);
		if (n < 2 * 0x34 + 8)
			CHECK(e.status == 0);
		else
			CHECK(e.status & IPS_SRC_NAT);
	}
	/* a tuple without its IP nest */
	memcpy(b, attrs, attrs_len);
	b[6] = 0x09;	/* CTA_TUPLE_ORIG's first nest: CTA_TUPLE_IP -> type 9 */
	CHECK(ct_decode(b, attrs_len, &e) == -EBADMSG);
	/* a nested type beyond what its nest defines (the fuzzer found
	 * this one writing past the nest's table) */
	memcpy(b, attrs, attrs_len);
	b[6] = 0x1f;
	CHECK(ct_decode(b, attrs_len, &e) == -EBADMSG);
	/* an address attribute of the wrong size */
	memcpy(b, attrs, attrs_len);
	b[8] = 0x07;
	CHECK(ct_decode(b, attrs_len, &e) == -EBADMSG);
}

/* A queued packet as a GLUE_CT kernel sends it: NFQA_CT carries the same
 * CTA_* attributes as the ctnetlink answer. */
static void test_nfqa_ct(void)
{
	static const uint8_t pkt[] = {
		0x45, 0x00, 0x00, 0x30, 0, 0, 0x40, 0, 0x3f, 0x11, 0, 0,
		0xcb, 0x00, 0x71, 0x02, 198, 51, 100, 1,
		0x01, 0xf4, CT_REPLY_POOL_PORT >> 8, CT_REPLY_POOL_PORT & 0xff,
		0x00, 0x1c, 0, 0,
	};
	uint8_t ike[20 + 8 + 28];
	char buf[4096];
	struct nlattr *attr[NFQA_MAX + 1] = { 0 };
	struct nfqnl_msg_packet_hdr ph = { .packet_id = htonl(42) };
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	struct helper h = { 0 };
	struct job job;

	/* IKEv1 aggressive reply header, both cookies set */
	memcpy(ike, pkt, sizeof(pkt));
	memset(ike + 28, 0x11, 16);
	ike[28 + 17] = 0x10;
	ike[28 + 18] = 4;
	ike[28 + 19] = 0;
	memset(ike + 28 + 20, 0, 4);
	ike[28 + 27] = 28;
	ike[3] = sizeof(ike);
	ike[25] = 8 + 28;

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_PACKET, 0);
	mnl_attr_put(nlh, NFQA_PACKET_HDR, sizeof(ph), &ph);
	mnl_attr_put(nlh, NFQA_PAYLOAD, sizeof(ike), ike);
	nest = mnl_attr_nest_start(nlh, NFQA_CT);
	memcpy(mnl_nlmsg_get_payload_tail(nlh), attrs, attrs_len);
	nlh->nlmsg_len += MNL_ALIGN(attrs_len);
	mnl_attr_nest_end(nlh, nest);

	CHECK(nfq_nlmsg_parse(nlh, attr) >= 0);
	CHECK(attr[NFQA_CT] != NULL);
	helper_classify(&h, mnl_attr_get_payload(attr[NFQA_PAYLOAD]),
			sizeof(ike), sizeof(ike), attr[NFQA_CT], &job);
	CHECK(job.state == JOB_PIN);	/* no lookup needed */
	check_entry(&job.ct);
	CHECK(job.reply.src == inet_addr("203.0.113.2"));
	CHECK(job.reply.dst == inet_addr(CT_REPLY_POOL));
	CHECK(h.stats.ike_ok == 1);
}

/* The GET asks by the reply tuple exactly as the kernel itself writes it. */
static void test_get_request(void)
{
	char buf[CT_REQ_SIZE];

	memset(buf, 0x5a, sizeof(buf));	/* padding must not leak this */
	struct ct_tuple t = {
		.src = inet_addr("203.0.113.2"), .dst = inet_addr(CT_REPLY_POOL),
		.sport = 500, .dport = CT_REPLY_POOL_PORT, .proto = IPPROTO_UDP,
	};
	const struct nlmsghdr *nlh;
	const struct nlattr *req, *a, *kernel = NULL;
	int rem = attrs_len;

	nlh = ct_build_get(buf, &t, 0, 9);

	CHECK(nlh->nlmsg_type ==
	      (NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_GET));
	CHECK(nlh->nlmsg_seq == 9 && (nlh->nlmsg_flags & NLM_F_REQUEST));
	req = (const void *)((const char *)nlh + ATTRS_OFF);
	CHECK(mnl_attr_get_type(req) == CTA_TUPLE_REPLY);

	for (a = (const void *)attrs; mnl_attr_ok(a, rem);
	     rem -= MNL_ALIGN(a->nla_len), a = mnl_attr_next(a)) {
		if (mnl_attr_get_type(a) == CTA_TUPLE_REPLY)
			kernel = a;
	}
	CHECK(kernel != NULL);
	if (!kernel)
		return;
	CHECK(mnl_attr_get_payload_len(req) == mnl_attr_get_payload_len(kernel));
	CHECK(!memcmp(mnl_attr_get_payload(req), mnl_attr_get_payload(kernel),
		      mnl_attr_get_payload_len(kernel)));
}

static void decode_msg(const uint8_t *msg, size_t len, struct ct_entry *e)
{
	const struct nlmsghdr *nlh = (const void *)msg;

	CHECK(nlh->nlmsg_len == len);
	CHECK(ct_decode(msg + ATTRS_OFF, len - ATTRS_OFF, e) == 0);
	CHECK(e->orig.src == inet_addr("100.64.1.7") && e->orig.sport == 41000);
	CHECK(e->reply.dst == inet_addr("198.51.100.1"));
	CHECK(e->status & IPS_SEEN_REPLY);
}

/* The kernel's bytes: CTA_ZONE for a zone of both directions, zone 0 when
 * absent; CTA_TUPLE_ZONE inside the one tuple a directional zone covers. */
static void test_zone(void)
{
	struct ct_entry e;

	CHECK(ct_decode(attrs, attrs_len, &e) == 0);
	CHECK(e.zone == 0 && e.zone_dir == CT_ZONE_BOTH);
	CHECK(ct_zone_in(&e, CT_ZONE_ORIG) == 0);

	decode_msg(ct_zone3_msg, sizeof(ct_zone3_msg), &e);
	CHECK(e.zone == 3 && e.zone_dir == CT_ZONE_BOTH);
	CHECK(e.reply.dport == 41274);
	CHECK(ct_zone_in(&e, CT_ZONE_ORIG) == 3);
	CHECK(ct_zone_in(&e, CT_ZONE_REPLY) == 3);

	decode_msg(ct_origzone5_msg, sizeof(ct_origzone5_msg), &e);
	CHECK(e.zone == 5 && e.zone_dir == CT_ZONE_ORIG);
	CHECK(e.reply.dport == 41275);
	CHECK(ct_zone_in(&e, CT_ZONE_ORIG) == 5);
	CHECK(ct_zone_in(&e, CT_ZONE_REPLY) == 0);
}

/* A GET in a zone carries CTA_ZONE (be16) after the tuple; zone 0 none. */
static void test_get_zone(void)
{
	struct ct_tuple t = { .src = inet_addr("203.0.113.2"),
			      .dst = inet_addr("198.51.100.1"),
			      .sport = 500, .dport = 41274,
			      .proto = IPPROTO_UDP };
	const struct nlattr *a, *zone = NULL;
	const struct nlmsghdr *nlh;
	char buf[CT_REQ_SIZE];
	unsigned n = 0;

	nlh = ct_build_get(buf, &t, 0x0102, 5);
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		n++;
		if (mnl_attr_get_type(a) == CTA_ZONE)
			zone = a;
	}
	CHECK(n == 2 && zone != NULL);
	if (zone) {
		CHECK(mnl_attr_get_payload_len(zone) == 2);
		CHECK(!memcmp(mnl_attr_get_payload(zone), "\x01\x02", 2));
	}
	nlh = ct_build_get(buf, &t, 0, 6);
	n = 0;
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		n++;
		CHECK(mnl_attr_get_type(a) != CTA_ZONE);
	}
	CHECK(n == 1);
}

int main(void)
{
	RUN(test_zone);
	RUN(test_get_zone);
	RUN(test_ctnetlink_answer);
	RUN(test_broken);
	RUN(test_nfqa_ct);
	RUN(test_get_request);
	return CHECK_DONE();
}
