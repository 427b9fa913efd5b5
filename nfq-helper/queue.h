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
	const uint8_t *payload;	/* NULL if the kernel sent none */
	size_t caplen;
	size_t len;		/* the whole packet's length */
	const struct nlattr *ct;	/* NFQA_CT, or NULL */
	uint64_t arrived_us;	/* when we received it: queue_now_us() */
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

/* The clock of queue_pkt.arrived_us: CLOCK_MONOTONIC in microseconds. */
uint64_t queue_now_us(void);

/*
 * Accepts every packet taken so far, with one batch verdict. Returns how
 * many it accepted, or -errno; then they stay held: call it again.
 */
int queue_accept_held(struct queue *q);

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
