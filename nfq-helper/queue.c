// SPDX-License-Identifier: GPL-2.0-or-later
/* NFQUEUE with libnetfilter_queue's nfq_nlmsg_* helpers over libmnl. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "netlink.h"
#include "queue.h"
#include "util.h"

/* a whole packet message: headers, attributes, the copied bytes */
#define QUEUE_MSG_SIZE (QUEUE_COPY_RANGE + NL_MSG_SIZE / 2)
/* packets taken per recvmmsg() */
#define QUEUE_SLOTS 64
/* the kernel's queue can hold this much; the socket must too */
#define QUEUE_RCVBUF (QUEUE_MAXLEN * 2048)
/* one verdict message: header, packet id and verdict, mark */
#define QUEUE_VERDICT_MSG_SIZE 64
/* verdicts per sendmsg at most */
#define QUEUE_VERDICT_BUF (256 * QUEUE_VERDICT_MSG_SIZE)

struct queue {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	uint16_t num;
	bool bound;
	bool serving;	/* non-blocking, packets may be held */
	bool stopped;	/* queue length 0: the kernel queues no more */
	/*
	 * Packets taken, not yet accepted, in queue order. The kernel queues
	 * no more than QUEUE_MAXLEN unanswered: extra ones (a shorter queue
	 * later, a bug) keep their marks, accepted by extra_id.
	 */
	struct queue_held held[QUEUE_MAXLEN];
	uint32_t nheld;
	uint32_t extra;
	uint32_t extra_id;
	uint64_t verdict_msgs;
	unsigned long fail_verdicts;	/* test-only: QUEUE_TEST_VERDICT_FAILS */
	struct mmsghdr mm[QUEUE_SLOTS];
	struct iovec iov[QUEUE_SLOTS];
	char buf[QUEUE_SLOTS][QUEUE_MSG_SIZE];
};

/* Sends one config message with an ACK and returns the kernel's answer. */
static int config_call(struct queue *q, struct nlmsghdr *nlh)
{
	char buf[NL_MSG_SIZE];

	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = q->seq++;
	return nl_request(q->nl, q->portid, nlh, buf, sizeof(buf), NULL, NULL);
}

static int bind_cmd(struct queue *q, uint8_t cmd)
{
	char buf[NL_MSG_SIZE];
	struct nlmsghdr *nlh;

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->num);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, cmd);
	return config_call(q, nlh);
}

static int set_flags(struct queue *q, uint32_t flags)
{
	char buf[NL_MSG_SIZE];
	struct nlmsghdr *nlh;

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->num);
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(flags));
	return config_call(q, nlh);
}

/*
 * The queue's length, without waiting for the answer: once packets may be
 * queued, a receive here would take them for answers and lose them. The
 * kernel applies a config message before sendto() returns; its ACK reaches
 * queue_recv(), which passes over it.
 */
static int set_maxlen(struct queue *q, uint32_t maxlen)
{
	char buf[NL_MSG_SIZE];
	struct nlmsghdr *nlh;

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->num);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, maxlen);
	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = q->seq++;
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	return 0;
}

/*
 * Binds and sets the queue up in one message, which the kernel applies in
 * one call: a queue just bound copies nothing, holds 1024 and is not
 * fail-open, and a packet that met it so between two messages was dropped.
 * Its length is 0 until the set-up is done (queue_open()): packets pass
 * meanwhile, and none is in the socket while we wait for config answers.
 */
static int bind_queue(struct queue *q)
{
	char buf[NL_MSG_SIZE];
	struct nlmsghdr *nlh;
	/* fail-open: a full queue or socket lets packets pass, unpinned */
	uint32_t flags = NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO;

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->num);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, QUEUE_COPY_RANGE);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, 0);
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(flags));
	return config_call(q, nlh);
}

static unsigned long test_knob(const char *name)
{
	const char *v = getenv(name);

	return v ? strtoul(v, NULL, 10) : 0;
}

int queue_open(struct queue **qp, uint16_t num, bool *ct_attached)
{
	struct queue *q;
	int ret, rcvbuf;

	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->num = num;
	q->seq = time(NULL);
	ret = nl_open(NETLINK_NETFILTER, &q->nl, &q->portid);
	if (ret < 0)
		goto err_free;
	ret = bind_queue(q);
	if (ret < 0)
		goto err_close;
	q->bound = true;
	/*
	 * Asked alone: a kernel without GLUE_CT refuses the flag with
	 * EOPNOTSUPP and discards the rest of the message with it.
	 */
	ret = set_flags(q, NFQA_CFG_F_CONNTRACK);
	if (ret < 0 && ret != -EOPNOTSUPP)
		goto err_close;
	*ct_attached = ret == 0;
	/*
	 * No SO_TIMESTAMP: it would make the kernel stamp every packet of the
	 * box (net_enable_timestamp()); our own receive time does instead.
	 */
	rcvbuf = test_knob(QUEUE_TEST_RCVBUF);
	nl_set_buffers(q->nl, rcvbuf ? rcvbuf : QUEUE_RCVBUF);
	q->fail_verdicts = test_knob(QUEUE_TEST_VERDICT_FAILS);
	if (fcntl(mnl_socket_get_fd(q->nl), F_SETFL, O_NONBLOCK) < 0) {
		ret = -errno;
		goto err_close;
	}
	q->serving = true;
	ret = set_maxlen(q, QUEUE_MAXLEN);
	if (ret < 0)
		goto err_close;
	*qp = q;
	return 0;

err_close:
	queue_close(q);
	return ret;
err_free:
	free(q);
	return ret;
}

int queue_fd(const struct queue *q)
{
	return mnl_socket_get_fd(q->nl);
}

/*
 * The packet header, found on its own: a malformed attribute elsewhere (or a
 * longer header than ours) fails nfq_nlmsg_parse(), and the packet must
 * still get its verdict.
 */
static const struct nfqnl_msg_packet_hdr *packet_hdr(const struct nlmsghdr *nlh)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == NFQA_PACKET_HDR &&
		    mnl_attr_get_payload_len(a) >=
			    sizeof(struct nfqnl_msg_packet_hdr))
			return mnl_attr_get_payload(a);
	return NULL;
}

/*
 * NFQA_PRIORITY (Linux 5.18 on; only when not 0): the ruleset puts the
 * answer's reply-direction conntrack zone there. Read here, as older
 * libnetfilter_queue parsers skip a type they do not know.
 */
static uint32_t priority_of(const struct nlmsghdr *nlh)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == NFQA_PRIORITY &&
		    mnl_attr_validate(a, MNL_TYPE_U32) == 0)
			return ntohl(mnl_attr_get_u32(a));
	return 0;
}

bool queue_parse(const struct nlmsghdr *nlh, struct queue_pkt *pkt,
		 uint64_t received_us)
{
	struct nlattr *attr[NFQA_MAX + 1] = { 0 };
	const struct nfqnl_msg_packet_hdr *ph;
	bool whole;

	ph = packet_hdr(nlh);
	if (!ph)
		return false;
	whole = nfq_nlmsg_parse(nlh, attr) >= 0;
	pkt->id = ntohl(ph->packet_id);
	pkt->mark = 0;
	pkt->slot = QUEUE_NO_SLOT;
	pkt->payload = NULL;
	pkt->caplen = pkt->len = 0;
	pkt->ct = NULL;
	pkt->priority = 0;
	pkt->arrived_us = received_us;
	if (!whole)
		return true;
	pkt->ct = attr[NFQA_CT];
	/* only a look-up needs it: none where the entry came along */
	if (!pkt->ct)
		pkt->priority = priority_of(nlh);
	/* present when the mark is not 0 */
	if (attr[NFQA_MARK] &&
	    mnl_attr_validate(attr[NFQA_MARK], MNL_TYPE_U32) == 0)
		pkt->mark = ntohl(mnl_attr_get_u32(attr[NFQA_MARK]));
	if (attr[NFQA_PAYLOAD]) {
		pkt->payload = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
		pkt->caplen = pkt->len =
			mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
	}
	/* present when the copy range cut the packet short */
	if (attr[NFQA_CAP_LEN] &&
	    mnl_attr_validate(attr[NFQA_CAP_LEN], MNL_TYPE_U32) == 0)
		pkt->len = ntohl(mnl_attr_get_u32(attr[NFQA_CAP_LEN]));
	return true;
}

/* Keeps the packet for its verdict, in queue order; its slot. */
static void hold(struct queue *q, struct queue_pkt *pkt)
{
	if (q->nheld < QUEUE_MAXLEN && !q->extra) {
		pkt->slot = q->nheld;
		q->held[q->nheld++] = (struct queue_held){ .id = pkt->id,
							   .mark = pkt->mark };
		return;
	}
	q->extra++;
	q->extra_id = pkt->id;
}

int queue_recv(struct queue *q, size_t max,
	       void (*cb)(const struct queue_pkt *pkt, void *data), void *data,
	       bool *overrun)
{
	const struct nlmsghdr *nlh;
	struct queue_pkt pkt;
	size_t taken = 0, want;
	uint64_t now;
	int got, i, n;

	*overrun = false;
	while (taken < max) {
		want = max - taken < QUEUE_SLOTS ? max - taken : QUEUE_SLOTS;
		for (i = 0; i < (int)want; i++) {
			q->iov[i].iov_base = q->buf[i];
			q->iov[i].iov_len = sizeof(q->buf[i]);
			memset(&q->mm[i], 0, sizeof(q->mm[i]));
			q->mm[i].msg_hdr.msg_iov = &q->iov[i];
			q->mm[i].msg_hdr.msg_iovlen = 1;
		}
		/* many packets per system call: they are what costs here */
		got = recvmmsg(mnl_socket_get_fd(q->nl), q->mm, want,
			       MSG_DONTWAIT, NULL);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				*overrun = true;
				continue;
			}
			if (errno == EAGAIN)
				break;
			return taken ? (int)taken : -errno;
		}
		now = util_now_us();
		for (i = 0; i < got; i++) {
			n = q->mm[i].msg_len;
			nlh = (const struct nlmsghdr *)q->buf[i];
			for (; mnl_nlmsg_ok(nlh, n); nlh = mnl_nlmsg_next(nlh, &n)) {
				if (nlh->nlmsg_type !=
					    (NFNL_SUBSYS_QUEUE << 8 | NFQNL_MSG_PACKET) ||
				    !queue_parse(nlh, &pkt, now))
					continue;
				hold(q, &pkt);
				if (cb)
					cb(&pkt, data);
				taken++;
			}
		}
		if (got < (int)want)
			break;	/* drained */
	}
	return taken;
}

void queue_set_mark(struct queue *q, uint32_t slot, uint32_t mark)
{
	if (slot >= q->nheld)
		return;
	q->held[slot].mark = mark;
	q->held[slot].set = true;
}

static bool same_verdict(const struct queue_held *a, const struct queue_held *b)
{
	return a->set == b->set && (!a->set || a->mark == b->mark);
}

/*
 * A batch verdict accepts every packet of the queue up to its id (ids rise
 * in queue order) and gives each the same mark, if it carries one; so one
 * message per run of equal verdicts, in order.
 */
size_t queue_build_verdicts(void *buf, size_t size, uint16_t num,
			    const struct queue_held *h, size_t n, size_t *done,
			    size_t *msgs)
{
	struct nlmsghdr *nlh;
	char *p = buf;
	size_t i;

	*done = *msgs = 0;
	for (i = 0; i < n; i++) {
		if (i + 1 < n && same_verdict(&h[i], &h[i + 1]))
			continue;
		if ((size_t)(p - (char *)buf) + QUEUE_VERDICT_MSG_SIZE > size)
			break;
		nlh = nfq_nlmsg_put(p, NFQNL_MSG_VERDICT_BATCH, num);
		nfq_nlmsg_verdict_put(nlh, h[i].id, NF_ACCEPT);
		if (h[i].set)
			nfq_nlmsg_verdict_put_mark(nlh, h[i].mark);
		p += nlh->nlmsg_len;
		*done = i + 1;
		(*msgs)++;
	}
	return p - (char *)buf;
}

/* The packets taken beyond the table: accepted as they are. */
static int accept_extra(struct queue *q)
{
	char buf[QUEUE_VERDICT_MSG_SIZE];
	struct queue_held last = { .id = q->extra_id };
	size_t done, msgs, len;
	int n = q->extra;

	if (!n)
		return 0;
	len = queue_build_verdicts(buf, sizeof(buf), q->num, &last, 1, &done,
				   &msgs);
	if (mnl_socket_sendto(q->nl, buf, len) < 0)
		return -errno;
	q->verdict_msgs++;
	q->extra = 0;
	return n;
}

int queue_accept_held(struct queue *q)
{
	char buf[QUEUE_VERDICT_BUF];
	size_t from = 0, done, msgs, len;
	int n, ret = 0;

	if (!q->nheld && !q->extra)
		return 0;
	if (q->fail_verdicts) {
		q->fail_verdicts--;
		return -ENOBUFS;
	}
	while (from < q->nheld) {
		len = queue_build_verdicts(buf, sizeof(buf), q->num,
					   q->held + from, q->nheld - from,
					   &done, &msgs);
		if (mnl_socket_sendto(q->nl, buf, len) < 0) {
			ret = -errno;
			break;
		}
		q->verdict_msgs += msgs;
		from += done;
	}
	/* what went stays gone: a retry sends the rest */
	memmove(q->held, q->held + from, (q->nheld - from) * sizeof(*q->held));
	q->nheld -= from;
	n = from;
	if (ret == 0 && !q->nheld) {
		ret = accept_extra(q);
		n += ret > 0 ? ret : 0;
	}
	return ret < 0 && !n ? ret : n;
}

bool queue_holding(const struct queue *q)
{
	return q->nheld > 0 || q->extra > 0;
}

uint64_t queue_verdict_messages(const struct queue *q)
{
	return q->verdict_msgs;
}

int queue_stop_intake(struct queue *q)
{
	int ret;

	/*
	 * The kernel checks the length under the queue's lock before it
	 * queues a packet, and with fail-open accepts what does not fit: once
	 * this is sent, every packet queued is already in our socket.
	 */
	if (q->stopped)
		return 0;
	ret = set_maxlen(q, 0);
	q->stopped = ret == 0;
	return ret;
}

void queue_close(struct queue *q)
{
	bool overrun;
	int fd, tries;

	if (!q)
		return;
	if (q->serving) {
		/* unbinding drops what the kernel still holds: take it first;
		 * the unbind's answer is then the only message to come */
		queue_stop_intake(q);
		while (queue_recv(q, QUEUE_MAXLEN, NULL, NULL, &overrun) > 0)
			;
		for (tries = 0; tries < 3 && queue_accept_held(q) < 0; tries++)
			;
		fd = mnl_socket_get_fd(q->nl);
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	}
	if (q->bound)
		bind_cmd(q, NFQNL_CFG_CMD_UNBIND);
	mnl_socket_close(q->nl);
	free(q);
}
