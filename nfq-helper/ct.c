// SPDX-License-Identifier: GPL-2.0-or-later
/* Conntrack lookups by reply tuple (ctnetlink) and CTA_* decoding. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include "ct.h"
#include "netlink.h"
#include "nfqh.h"


/*
 * The kernel fills a dump's answer to the size of the reads it sees, up to
 * 32 KiB; it walks the table, a lock per bucket, until the answer is full.
 * Small reads keep each walk short.
 */
#ifndef CT_DUMP_READ
#define CT_DUMP_READ 8192
#endif

struct ct_sock {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	char *req;
	size_t reqsize;
	char rbuf[NL_RECV_SIZE];
};

/* An attribute table and its highest type: each nest has its own. */
struct table {
	const struct nlattr **tb;
	uint16_t max;
};

static int attr_cb(const struct nlattr *attr, void *data)
{
	const struct table *t = data;

	/* unknown types are skipped, known ones are checked by their user */
	if (mnl_attr_type_valid(attr, t->max) < 0)
		return MNL_CB_OK;
	t->tb[mnl_attr_get_type(attr)] = attr;
	return MNL_CB_OK;
}

#define TABLE(tb) (&(struct table){ (tb), ARRAY_SIZE(tb) - 1 })

static int parse_ip(const struct nlattr *nest, struct ct_tuple *t)
{
	const struct nlattr *tb[CTA_IP_MAX + 1] = { 0 };

	if (mnl_attr_parse_nested(nest, attr_cb, TABLE(tb)) < 0)
		return -EBADMSG;
	if (!tb[CTA_IP_V4_SRC] || !tb[CTA_IP_V4_DST] ||
	    mnl_attr_validate(tb[CTA_IP_V4_SRC], MNL_TYPE_U32) < 0 ||
	    mnl_attr_validate(tb[CTA_IP_V4_DST], MNL_TYPE_U32) < 0)
		return -EBADMSG;
	t->src = mnl_attr_get_u32(tb[CTA_IP_V4_SRC]);
	t->dst = mnl_attr_get_u32(tb[CTA_IP_V4_DST]);
	return 0;
}

static int parse_proto(const struct nlattr *nest, struct ct_tuple *t)
{
	const struct nlattr *tb[CTA_PROTO_MAX + 1] = { 0 };

	if (mnl_attr_parse_nested(nest, attr_cb, TABLE(tb)) < 0)
		return -EBADMSG;
	if (!tb[CTA_PROTO_NUM] ||
	    mnl_attr_validate(tb[CTA_PROTO_NUM], MNL_TYPE_U8) < 0)
		return -EBADMSG;
	t->proto = mnl_attr_get_u8(tb[CTA_PROTO_NUM]);
	t->sport = t->dport = 0;
	if (tb[CTA_PROTO_SRC_PORT] &&
	    mnl_attr_validate(tb[CTA_PROTO_SRC_PORT], MNL_TYPE_U16) == 0)
		t->sport = ntohs(mnl_attr_get_u16(tb[CTA_PROTO_SRC_PORT]));
	if (tb[CTA_PROTO_DST_PORT] &&
	    mnl_attr_validate(tb[CTA_PROTO_DST_PORT], MNL_TYPE_U16) == 0)
		t->dport = ntohs(mnl_attr_get_u16(tb[CTA_PROTO_DST_PORT]));
	return 0;
}

/* A zone id attribute (be16); false if a is absent or malformed. */
static bool parse_zone(const struct nlattr *a, uint16_t *zone)
{
	if (!a || mnl_attr_validate(a, MNL_TYPE_U16) < 0)
		return false;
	*zone = ntohs(mnl_attr_get_u16(a));
	return true;
}

/* A tuple; a CTA_TUPLE_ZONE in it makes e's zone one of direction dir. */
static int parse_tuple(const struct nlattr *nest, struct ct_tuple *t,
		       struct ct_entry *e, uint8_t dir)
{
	const struct nlattr *tb[CTA_TUPLE_MAX + 1] = { 0 };

	if (!nest || mnl_attr_parse_nested(nest, attr_cb, TABLE(tb)) < 0)
		return -EBADMSG;
	if (!tb[CTA_TUPLE_IP] || !tb[CTA_TUPLE_PROTO])
		return -EBADMSG;
	if (parse_ip(tb[CTA_TUPLE_IP], t) < 0 ||
	    parse_proto(tb[CTA_TUPLE_PROTO], t) < 0)
		return -EBADMSG;
	if (parse_zone(tb[CTA_TUPLE_ZONE], &e->zone))
		e->zone_dir = dir;
	return 0;
}

uint16_t ct_zone_in(const struct ct_entry *e, uint8_t dir)
{
	return e->zone_dir & dir ? e->zone : 0;
}

int ct_decode(const void *attrs, size_t len, struct ct_entry *e)
{
	const struct nlattr *tb[CTA_MAX + 1] = { 0 };

	if (mnl_attr_parse_payload(attrs, len, attr_cb, TABLE(tb)) < 0)
		return -EBADMSG;
	e->zone = 0;
	e->zone_dir = CT_ZONE_BOTH;
	if (parse_tuple(tb[CTA_TUPLE_ORIG], &e->orig, e, CT_ZONE_ORIG) < 0 ||
	    parse_tuple(tb[CTA_TUPLE_REPLY], &e->reply, e, CT_ZONE_REPLY) < 0)
		return -EBADMSG;
	if (parse_zone(tb[CTA_ZONE], &e->zone))
		e->zone_dir = CT_ZONE_BOTH;
	e->status = 0;
	if (tb[CTA_STATUS] &&
	    mnl_attr_validate(tb[CTA_STATUS], MNL_TYPE_U32) == 0)
		e->status = ntohl(mnl_attr_get_u32(tb[CTA_STATUS]));
	e->id = 0;
	if (tb[CTA_ID] && mnl_attr_validate(tb[CTA_ID], MNL_TYPE_U32) == 0)
		e->id = ntohl(mnl_attr_get_u32(tb[CTA_ID]));
	return 0;
}

static struct nlmsghdr *put_header(void *buf, uint8_t type, uint16_t flags,
				   uint32_t seq)
{
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;

	memset(buf, 0, CT_REQ_SIZE);	/* libmnl leaves attribute padding */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	return nlh;
}

static void put_tuple(struct nlmsghdr *nlh, uint16_t type,
		      const struct ct_tuple *t)
{
	struct nlattr *tuple, *nest;

	tuple = mnl_attr_nest_start(nlh, type);
	nest = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	mnl_attr_put_u32(nlh, CTA_IP_V4_SRC, t->src);
	mnl_attr_put_u32(nlh, CTA_IP_V4_DST, t->dst);
	mnl_attr_nest_end(nlh, nest);
	nest = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, t->proto);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(t->sport));
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(t->dport));
	mnl_attr_nest_end(nlh, nest);
	mnl_attr_nest_end(nlh, tuple);
}

/*
 * The kernel finds an entry by tuple in one zone only, CTA_ZONE's (0 without
 * it), comparing ids in the tuple's direction. Zone 0 is sent as nothing: a
 * kernel without CONFIG_NF_CONNTRACK_ZONES refuses any CTA_ZONE.
 */
static void put_zone(struct nlmsghdr *nlh, uint16_t zone)
{
	if (zone)
		mnl_attr_put_u16(nlh, CTA_ZONE, htons(zone));
}

struct nlmsghdr *ct_build_get(void *buf, const struct ct_tuple *reply,
			      uint16_t zone, uint32_t seq)
{
	struct nlmsghdr *nlh;

	/* no ACK: the answer is either the entry or an error */
	nlh = put_header(buf, IPCTNL_MSG_CT_GET, 0, seq);
	put_tuple(nlh, CTA_TUPLE_REPLY, reply);
	put_zone(nlh, zone);
	return nlh;
}

int ct_open(struct ct_sock **csp)
{
	struct ct_sock *cs;
	int ret;

	cs = calloc(1, sizeof(*cs));
	if (!cs)
		return -ENOMEM;
	ret = nl_open(NETLINK_NETFILTER, &cs->nl, &cs->portid);
	if (ret < 0) {
		free(cs);
		return ret;
	}
	cs->seq = time(NULL);
	*csp = cs;
	return 0;
}

struct collect {
	struct ct_query *q;
	size_t n;
	uint32_t first;	/* sequence number of q[0]'s request */
};

/* Files one answer under the query its sequence number names. */
static size_t take_reply(const struct nlmsghdr *nlh, void *data)
{
	struct collect *c = data;
	uint32_t i = nlh->nlmsg_seq - c->first;
	size_t off = MNL_ALIGN(sizeof(struct nfgenmsg));
	struct ct_query *q;

	if (i >= c->n || c->q[i].err != -EINPROGRESS)
		return 0;
	q = &c->q[i];
	if (nlh->nlmsg_type == NLMSG_ERROR) {
		q->err = nl_error(nlh);
		if (!q->err)	/* an ACK where an entry belongs */
			q->err = -EBADMSG;
	} else if (nlh->nlmsg_len < mnl_nlmsg_size(off)) {
		q->err = -EBADMSG;
	} else {
		q->err = ct_decode((const char *)mnl_nlmsg_get_payload(nlh) + off,
				   nlh->nlmsg_len - mnl_nlmsg_size(off),
				   &q->entry);
	}
	return 1;
}

int ct_lookup(struct ct_sock *cs, struct ct_query *q, size_t n)
{
	struct collect c = { .q = q, .n = n, .first = cs->seq };
	const struct nlmsghdr *nlh;
	size_t i, len = 0;
	int ret;

	if (!n)
		return 0;
	ret = nl_reserve(&cs->req, &cs->reqsize, n * CT_REQ_SIZE);
	if (ret < 0)
		return ret;
	for (i = 0; i < n; i++) {
		nlh = ct_build_get(cs->req + len, &q[i].reply, q[i].zone,
				   cs->seq++);
		len += nlh->nlmsg_len;
		q[i].err = -EINPROGRESS;
	}
	if (mnl_socket_sendto(cs->nl, cs->req, len) < 0)
		return -errno;
	ret = nl_collect(cs->nl, cs->portid, cs->rbuf, sizeof(cs->rbuf), n,
			 take_reply, &c);
	for (i = 0; i < n; i++)
		if (q[i].err == -EINPROGRESS)
			q[i].err = ret < 0 ? ret : -EBADMSG;
	return ret;
}

int ct_dump_start(struct ct_sock *cs)
{
	char buf[CT_REQ_SIZE];
	struct nlmsghdr *nlh;

	/* no kernel-side filter: the kernel would walk the whole table in a
	 * single read to fill one answer, and hold us there; unfiltered, a
	 * read returns after a few hundred entries */
	nlh = put_header(buf, IPCTNL_MSG_CT_GET, NLM_F_DUMP, ++cs->seq);
	if (mnl_socket_sendto(cs->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	return 0;
}

struct dump_cb {
	void (*cb)(const struct ct_entry *e, void *data);
	void *data;
};

static int dump_entry(const struct nlmsghdr *nlh, void *data)
{
	size_t off = MNL_ALIGN(sizeof(struct nfgenmsg));
	struct dump_cb *d = data;
	struct ct_entry e;

	if (nlh->nlmsg_len < mnl_nlmsg_size(off))
		return MNL_CB_OK;
	if (ct_decode((const char *)mnl_nlmsg_get_payload(nlh) + off,
		      nlh->nlmsg_len - mnl_nlmsg_size(off), &e) == 0)
		d->cb(&e, d->data);
	return MNL_CB_OK;
}

int ct_dump_step(struct ct_sock *cs,
		 void (*cb)(const struct ct_entry *e, void *data), void *data)
{
	struct dump_cb d = { .cb = cb, .data = data };
	ssize_t n;
	int ret;

	n = mnl_socket_recvfrom(cs->nl, cs->rbuf, CT_DUMP_READ);
	if (n < 0)
		return -errno;
	/* libmnl turns NLM_F_DUMP_INTR into EINTR: the rest still comes */
	ret = mnl_cb_run(cs->rbuf, n, cs->seq, cs->portid, dump_entry, &d);
	if (ret < 0)
		return -errno;
	return ret == MNL_CB_STOP ? 0 : 1;
}

int ct_dump(struct ct_sock *cs,
	    void (*cb)(const struct ct_entry *e, void *data),
	    bool (*read_done)(bool more, void *data), void *data)
{
	int ret;

	ret = ct_dump_start(cs);
	while (ret >= 0) {
		ret = ct_dump_step(cs, cb, data);
		if (ret == -EINTR)	/* the rest of the dump still comes */
			ret = 1;
		if (read_done && !read_done(ret > 0, data))
			return ret < 0 ? ret : 0;
		if (ret <= 0)
			break;
	}
	return ret;
}

int ct_delete(struct ct_sock *cs, const struct ct_entry *e)
{
	char buf[CT_REQ_SIZE];
	struct nlmsghdr *nlh;

	nlh = put_header(buf, IPCTNL_MSG_CT_DELETE, NLM_F_ACK, ++cs->seq);
	put_tuple(nlh, CTA_TUPLE_ORIG, &e->orig);
	put_zone(nlh, ct_zone_in(e, CT_ZONE_ORIG));
	if (e->id)
		mnl_attr_put_u32(nlh, CTA_ID, htonl(e->id));
	return nl_request(cs->nl, cs->portid, nlh, cs->rbuf, sizeof(cs->rbuf),
			  NULL, NULL);
}

void ct_close(struct ct_sock *cs)
{
	if (!cs)
		return;
	mnl_socket_close(cs->nl);
	free(cs->req);
	free(cs);
}
