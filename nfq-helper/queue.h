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

struct queue_pkt {
	uint32_t id;
	const uint8_t *payload;	/* NULL if the kernel sent none */
	size_t caplen;
	size_t len;		/* the whole packet's length */
	const struct nlattr *ct;	/* NFQA_CT, or NULL */
	uint64_t arrived_us;	/* when it came in (CLOCK_REALTIME), else received */
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

/* The clock of queue_pkt.arrived_us: CLOCK_REALTIME in microseconds. */
uint64_t queue_now_us(void);

/* Accepts every packet taken so far, with one batch verdict. */
int queue_accept_held(struct queue *q);

/* Unbinds and closes; packets still held are accepted first. */
void queue_close(struct queue *q);

#endif
