/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Conntrack: decoding of ctnetlink attributes (as NFQA_CT carries them, or a
 * ctnetlink reply) and lookups by reply tuple over an own ctnetlink socket.
 * Functions return 0 or -errno.
 */
#ifndef NFQH_CT_H
#define NFQH_CT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

struct ct_tuple {
	in_addr_t src;
	in_addr_t dst;
	uint16_t sport;
	uint16_t dport;
	uint8_t proto;
};

/* The directions a conntrack zone covers (the kernel's NF_CT_ZONE_DIR_*). */
#define CT_ZONE_ORIG 1
#define CT_ZONE_REPLY 2
#define CT_ZONE_BOTH (CT_ZONE_ORIG | CT_ZONE_REPLY)

struct ct_entry {
	struct ct_tuple orig;
	struct ct_tuple reply;
	uint32_t status;	/* IPS_* bits */
	uint32_t id;		/* CTA_ID, 0 if absent */
	uint16_t zone;		/* its zone id, nft's `ct zone'; 0 if none */
	uint8_t zone_dir;	/* CT_ZONE_*: the directions it covers */
};

/* The zone id of e in one direction (nft's `ct original|reply zone'). */
uint16_t ct_zone_in(const struct ct_entry *e, uint8_t dir);

struct ct_query {
	struct ct_tuple reply;	/* in: the tuple of the queued reply packet */
	uint16_t zone;		/* in: its zone id in the reply direction */
	struct ct_entry entry;	/* out, when err is 0 */
	int err;		/* out: 0, or -ENOENT when there is no flow */
};

struct ct_sock;

/*
 * Decodes a run of CTA_* attributes: the payload of NFQA_CT or of a
 * ctnetlink message after its nfgenmsg. -EBADMSG if a tuple is missing.
 * The zone comes in CTA_ZONE when it covers both directions, else in the
 * CTA_TUPLE_ZONE of the one tuple it covers.
 */
int ct_decode(const void *attrs, size_t len, struct ct_entry *e);

int ct_open(struct ct_sock **cs);
/* Looks up n entries by reply tuple in one round trip; fills q[i].err. */
int ct_lookup(struct ct_sock *cs, struct ct_query *q, size_t n);
void ct_close(struct ct_sock *cs);

/*
 * A dump of the IPv4 conntrack table, one socket read at a time (at most
 * NL_RECV_SIZE bytes: a few hundred entries), so that a caller can serve
 * its queue between reads. ct_dump_start() sends the request;
 * ct_dump_step() reads once and hands each entry to cb: 1 while more is to
 * come, 0 when the dump is complete, else -errno (-EINTR: the kernel marked
 * the dump inconsistent; reading on gets the rest).
 */
int ct_dump_start(struct ct_sock *cs);
int ct_dump_step(struct ct_sock *cs,
		 void (*cb)(const struct ct_entry *e, void *data), void *data);

/*
 * The whole dump, step by step: each entry to cb; after each read,
 * read_done (if set) with whether more is to come, which ends the dump
 * early by returning false. 0 when complete or ended so, else -errno.
 */
int ct_dump(struct ct_sock *cs,
	    void (*cb)(const struct ct_entry *e, void *data),
	    bool (*read_done)(bool more, void *data), void *data);

/*
 * Deletes the entry with e's original tuple in e's zone and, if e->id is
 * set, that id only (a newer flow with the same tuple is left alone).
 * -ENOENT if gone.
 */
int ct_delete(struct ct_sock *cs, const struct ct_entry *e);

/* Bytes of one GET request, at most. */
#define CT_REQ_SIZE 128

/*
 * Builds the GET request for one reply tuple in zone (its id in the reply
 * direction) into buf (CT_REQ_SIZE bytes).
 */
struct nlmsghdr *ct_build_get(void *buf, const struct ct_tuple *reply,
			      uint16_t zone, uint32_t seq);

#endif
