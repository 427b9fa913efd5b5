// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The queue's verdicts, built and parsed back: one batch verdict per run of
 * packets whose verdict gives the same mark (or keeps theirs), in queue
 * order; and the packet's own mark read from NFQA_MARK.
 */
#include <stdbool.h>
#include <string.h>
#include <arpa/inet.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "check.h"
#include "queue.h"

#define LEARN 0x00200000

struct verdict {
	uint32_t id;
	bool has_mark;
	uint32_t mark;
};

/* Parses the messages in buf; how many. */
static size_t parse(const void *buf, size_t len, struct verdict *v, size_t max)
{
	const struct nlmsghdr *nlh = buf;
	int left = len;
	size_t n = 0;

	for (; mnl_nlmsg_ok(nlh, left) && n < max;
	     nlh = mnl_nlmsg_next(nlh, &left), n++) {
		struct nlattr *tb[NFQA_MAX + 1] = { 0 };
		const struct nlattr *a;
		const struct nfqnl_msg_verdict_hdr *vh;

		CHECK(nlh->nlmsg_type ==
		      (NFNL_SUBSYS_QUEUE << 8 | NFQNL_MSG_VERDICT_BATCH));
		mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
			if (mnl_attr_get_type(a) <= NFQA_MAX)
				tb[mnl_attr_get_type(a)] = (struct nlattr *)a;
		CHECK(tb[NFQA_VERDICT_HDR] != NULL);
		if (!tb[NFQA_VERDICT_HDR])
			continue;
		vh = mnl_attr_get_payload(tb[NFQA_VERDICT_HDR]);
		CHECK(ntohl(vh->verdict) == NF_ACCEPT);
		v[n].id = ntohl(vh->id);
		v[n].has_mark = tb[NFQA_MARK] != NULL;
		v[n].mark = v[n].has_mark ? ntohl(mnl_attr_get_u32(tb[NFQA_MARK])) : 0;
	}
	return n;
}

static void test_runs(void)
{
	/* kept, kept, learn, learn, kept (its own mark), learn over mark 7 */
	const struct queue_held h[] = {
		{ 10, 0, false }, { 11, 0, false }, { 12, LEARN, true },
		{ 13, LEARN, true }, { 14, 7, false }, { 15, 7 | LEARN, true },
	};
	char buf[1024];
	struct verdict v[8];
	size_t len, done, msgs, n;

	len = queue_build_verdicts(buf, sizeof(buf), 3, h, 6, &done, &msgs);
	CHECK(done == 6 && msgs == 4);
	n = parse(buf, len, v, 8);
	CHECK(n == 4);
	CHECK(v[0].id == 11 && !v[0].has_mark);
	CHECK(v[1].id == 13 && v[1].has_mark && v[1].mark == LEARN);
	CHECK(v[2].id == 14 && !v[2].has_mark);
	CHECK(v[3].id == 15 && v[3].has_mark && v[3].mark == (7 | LEARN));
}

static void test_one_run(void)
{
	const struct queue_held kept[] = { { 1, 0, false }, { 2, 5, false } };
	const struct queue_held learn[] = { { 1, LEARN, true },
					    { 2, LEARN, true } };
	char buf[1024];
	struct verdict v[4];
	size_t len, done, msgs;

	/* packets that keep their marks, whatever they are: one message */
	len = queue_build_verdicts(buf, sizeof(buf), 0, kept, 2, &done, &msgs);
	CHECK(done == 2 && msgs == 1 && parse(buf, len, v, 4) == 1);
	CHECK(v[0].id == 2 && !v[0].has_mark);
	/* a batch of new pins: one message too */
	len = queue_build_verdicts(buf, sizeof(buf), 0, learn, 2, &done, &msgs);
	CHECK(done == 2 && msgs == 1 && parse(buf, len, v, 4) == 1);
	CHECK(v[0].id == 2 && v[0].mark == LEARN);
}

static void test_buffer_full(void)
{
	const struct queue_held h[] = { { 1, LEARN, true }, { 2, 0, false },
					{ 3, LEARN, true } };
	char buf[100];	/* room for one message */
	size_t done, msgs;

	queue_build_verdicts(buf, sizeof(buf), 0, h, 3, &done, &msgs);
	/* the rest goes in the next send */
	CHECK(done == 1 && msgs == 1);
	CHECK(queue_build_verdicts(buf, 10, 0, h, 3, &done, &msgs) == 0);
	CHECK(done == 0 && msgs == 0);
}

/* A queued packet carrying a mark: it comes as NFQA_MARK. */
static void test_packet_mark(void)
{
	char buf[512];
	struct nfqnl_msg_packet_hdr ph = { .packet_id = htonl(42) };
	struct queue_pkt pkt;
	struct nlmsghdr *nlh;

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_PACKET, 0);
	mnl_attr_put(nlh, NFQA_PACKET_HDR, sizeof(ph), &ph);
	mnl_attr_put_u32(nlh, NFQA_MARK, htonl(0x00100007));
	CHECK(queue_parse(nlh, &pkt, 1));
	CHECK(pkt.id == 42 && pkt.mark == 0x00100007);
	CHECK(pkt.slot == QUEUE_NO_SLOT);

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_PACKET, 0);
	mnl_attr_put(nlh, NFQA_PACKET_HDR, sizeof(ph), &ph);
	CHECK(queue_parse(nlh, &pkt, 1));
	CHECK(pkt.mark == 0);	/* a mark of 0 is not sent */
}

/*
 * The answer's zone in its priority (natt-pin.nft's queue rules): NFQA_PRIORITY,
 * a be32 the kernel sends when not 0, after the mark.
 */
static void test_packet_priority(void)
{
	char buf[512];
	struct nfqnl_msg_packet_hdr ph = { .packet_id = htonl(43) };
	struct queue_pkt pkt;
	struct nlmsghdr *nlh;
	uint16_t two = 7;

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_PACKET, 0);
	mnl_attr_put(nlh, NFQA_PACKET_HDR, sizeof(ph), &ph);
	mnl_attr_put_u32(nlh, NFQA_MARK, htonl(0x00100000));
	mnl_attr_put_u32(nlh, NFQA_PRIORITY, htonl(3));
	CHECK(queue_parse(nlh, &pkt, 1));
	CHECK(pkt.id == 43 && pkt.priority == 3 && pkt.mark == 0x00100000);

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_PACKET, 0);
	mnl_attr_put(nlh, NFQA_PACKET_HDR, sizeof(ph), &ph);
	CHECK(queue_parse(nlh, &pkt, 1));
	CHECK(pkt.priority == 0);	/* absent: zone 0 */

	/* of the wrong size: ignored, zone 0 */
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_PACKET, 0);
	mnl_attr_put(nlh, NFQA_PACKET_HDR, sizeof(ph), &ph);
	mnl_attr_put(nlh, NFQA_PRIORITY, sizeof(two), &two);
	CHECK(queue_parse(nlh, &pkt, 1));
	CHECK(pkt.priority == 0);
}

int main(void)
{
	RUN(test_runs);
	RUN(test_one_run);
	RUN(test_buffer_full);
	RUN(test_packet_mark);
	RUN(test_packet_priority);
	return CHECK_DONE();
}
