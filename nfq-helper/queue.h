/* SPDX-License-Identifier: GPL-2.0-or-later */
/* NFQUEUE: bind, parameters, receive, verdicts. Returns 0 or -errno. */
#ifndef NFQH_QUEUE_H
#define NFQH_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libmnl/libmnl.h>

/* Bytes of each packet copied to us: IPv4 with options, UDP, marker, IKE. */
#define QUEUE_COPY_RANGE 128
/* Packets the kernel holds for us; beyond that they pass unpinned. */
#define QUEUE_MAXLEN 4096

/*
 * Test-only knobs, read from the environment by queue_open(); never set them
 * in production: NFQH_TEST_RCVBUF (bytes) shrinks the queue socket's receive
 * buffer so that a burst overruns it (ENOBUFS); NFQH_TEST_VERDICT_FAILS (N)
 * makes the first N verdict sends fail with ENOBUFS, as if the kernel had
 * refused them.
 */
#define QUEUE_TEST_RCVBUF "NFQH_TEST_RCVBUF"
#define QUEUE_TEST_VERDICT_FAILS "NFQH_TEST_VERDICT_FAILS"

struct queue_pkt {
	uint32_t id;
	uint32_t mark;		/* its packet mark (NFQA_MARK; 0 if absent) */
	uint32_t slot;		/* for queue_set_mark(); QUEUE_NO_SLOT: none */
	const uint8_t *payload;	/* NULL if the kernel sent none */
	size_t caplen;
	size_t len;		/* the whole packet's length */
	const struct nlattr *ct;	/* NFQA_CT, or NULL */
	uint32_t priority;	/* NFQA_PRIORITY, 0 if absent */
	uint64_t arrived_us;	/* when we received it: util_now_us() */
};

#define QUEUE_NO_SLOT UINT32_MAX

/* A packet taken and not yet accepted, and the mark its verdict gives it. */
struct queue_held {
	uint32_t id;
	uint32_t mark;
	bool set;	/* the verdict sets mark; else the packet keeps its own */
};

struct queue;

/*
 * Binds queue num. *ct_attached tells whether the kernel attaches conntrack
 * entries to queued packets (CONFIG_NETFILTER_NETLINK_GLUE_CT).
 * -EBUSY: another process holds the queue; -EPERM: no CAP_NET_ADMIN.
 */
int queue_open(struct queue **q, uint16_t num, bool *ct_attached);
int queue_fd(const struct queue *q);

/*
 * Takes up to max queued packets without waiting and hands each to cb.
 * Returns how many it took; *overrun is set when the kernel reported lost
 * messages (ENOBUFS) on the way.
 */
int queue_recv(struct queue *q, size_t max,
	       void (*cb)(const struct queue_pkt *pkt, void *data), void *data,
	       bool *overrun);

/*
 * Decodes one NFQNL_MSG_PACKET; false without a usable packet header (no id
 * to give a verdict for). With malformed attributes after the header, the
 * packet comes without payload and conntrack entry. For tests too.
 */
bool queue_parse(const struct nlmsghdr *nlh, struct queue_pkt *pkt,
		 uint64_t received_us);

/*
 * The verdict of the packet in slot (queue_pkt.slot) sets its mark to mark:
 * NFQA_MARK replaces the packet's mark, so pass the bits it keeps too.
 */
void queue_set_mark(struct queue *q, uint32_t slot, uint32_t mark);

/*
 * Accepts every packet taken so far: one batch verdict per run of packets
 * whose verdict gives the same mark (or keeps theirs), all in one sendmsg.
 * Returns how many it accepted, or -errno; then those not accepted stay
 * held: call it again.
 */
int queue_accept_held(struct queue *q);

/*
 * Builds the verdicts for h[0..n) into buf (size bytes), as many as fit:
 * sets *done to the packets they accept and returns the bytes, and *msgs
 * to how many messages. For tests too.
 */
size_t queue_build_verdicts(void *buf, size_t size, uint16_t num,
			    const struct queue_held *h, size_t n, size_t *done,
			    size_t *msgs);

/* Verdict messages sent so far. */
uint64_t queue_verdict_messages(const struct queue *q);

/* True while packets taken are waiting for their verdict. */
bool queue_holding(const struct queue *q);

/*
 * Stops the kernel from queueing more packets: from now on it lets them
 * pass itself (a queue length of 0 with fail-open). What it queued before
 * stays to be taken and accepted.
 */
int queue_stop_intake(struct queue *q);

/* Stops intake, accepts what is still held, unbinds and closes. */
void queue_close(struct queue *q);

#endif
