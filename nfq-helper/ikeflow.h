/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A subscriber's IKE (UDP 500) and NAT-T (UDP 4500) flows as conntrack holds
 * them, and what they say about its pin: the rules rebuild, heal and
 * --explain share. Pure.
 */
#ifndef NFQH_IKEFLOW_H
#define NFQH_IKEFLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ct.h"

struct ikeflow {
	uint16_t zone;		/* the subscriber: its conntrack zone */
	in_addr_t inner;	/* and inner address */
	in_addr_t gateway;	/* where the reply comes from */
	in_addr_t pool;		/* the address the flow left from */
	uint16_t port;		/* 500 or 4500 */
	bool answered;		/* the gateway replied (IPS_SEEN_REPLY) */
};

/*
 * True if this box source-NATed e, a flow an inner host started: not one
 * of the box's own, whose original source is its own reply address.
 */
bool ikeflow_src_nated(const struct ct_entry *e);

/*
 * True if e is a UDP 500 or 4500 flow that an inner host started and that
 * this box source-NATed (the live path's rule); then fills f.
 */
bool ikeflow_from_ct(const struct ct_entry *e, struct ikeflow *f);

/*
 * True if the flow justifies a pin: the gateway answered it. On 500 that
 * is the IKE answer the live path learns from. A 4500 flow always begins
 * with an IKE message (the float, RFC 3947 4), and a gateway answers only
 * an address it holds IKE state for: an answered 4500 flow carried IKE.
 */
bool ikeflow_justifies_pin(const struct ikeflow *f);

/*
 * True if f is a NAT-T flow that left from another address than pool and
 * never got an answer: the field report's split subscriber.
 */
bool ikeflow_split(const struct ikeflow *f, in_addr_t pool);

enum ikeflow_verdict {
	IKEFLOW_CONSISTENT,	/* pinned; no flow split from the pin */
	IKEFLOW_SPLIT,		/* a NAT-T flow left from another address */
	IKEFLOW_NO_FLOWS,	/* not pinned: no IKE flow in conntrack */
	IKEFLOW_UNANSWERED,	/* not pinned: the gateway never answered */
	IKEFLOW_UNPINNED,	/* not pinned, though the gateway answered */
};

/*
 * The verdict on one subscriber and gateway from its flows f[0..n) and its
 * pin's pool address (NULL if it has none); *pool gets the address the
 * verdict refers to (the pin's, or that of the answered flow).
 */
enum ikeflow_verdict ikeflow_verdict(const struct ikeflow *f, size_t n,
				     const in_addr_t *pin, in_addr_t *pool);

const char *ikeflow_verdict_str(enum ikeflow_verdict v);

#endif
