// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Kernel probes: what this kernel's nf_tables, nfnetlink_queue and ctnetlink
 * take, asked of them and undone again.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "ct.h"
#include "netlink.h"
#include "probe.h"
#include "queue.h"

/* A probe's own socket, and the scratch table it names. */
struct prober {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	char table[32];	/* the timeout-update probe's scratch table */
	char rbuf[NL_RECV_SIZE];
};

struct rule_answer {
	uint32_t rule_seq;
	int err;	/* the rule's answer */
};

static size_t take_rule_answer(const struct nlmsghdr *nlh, void *data)
{
	struct rule_answer *pr = data;

	if (nlh->nlmsg_type != NLMSG_ERROR)
		return 0;
	if (nlh->nlmsg_seq == pr->rule_seq)
		pr->err = nl_error(nlh);
	return 1;
}

/* where rules are tried: the batch is never committed */
#define RULE_TABLE "natt_pin_check"

/*
 * Appends a scratch table's set, ipv4_addr keys (NFT_SET_MAP in flags: to
 * ipv4_addr), to the batch.
 */
static void put_set(char **p, const char *table, const char *name,
		    uint32_t flags, uint32_t seq)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *nlh;

	if (!s)
		return;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, 7);	/* ipv4_addr */
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, 4);
	if (flags & NFT_SET_MAP) {
		nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, 7);
		nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, 4);
	}
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, flags);
	nftnl_set_set_u32(s, NFTNL_SET_ID, 1);
	nlh = nftnl_nlmsg_build_hdr(*p, NFT_MSG_NEWSET, NFPROTO_IPV4,
				    NLM_F_CREATE | NLM_F_ACK, seq);
	nftnl_set_nlmsg_build_payload(nlh, s);
	*p += nlh->nlmsg_len;
	nftnl_set_free(s);
}

/*
 * Whether the kernel takes rule r, in a scratch table (with map m first when
 * with_map): a batch without its end message is checked by the kernel and
 * then undone, as `nft -c` does. The rule's answer, or -errno. Frees r.
 */
static int probe_rule(struct prober *pb, struct nftnl_rule *r, bool with_map)
{
	char buf[4 * NL_MSG_SIZE], *p = buf;
	struct nftnl_table *t = nftnl_table_alloc();
	struct nftnl_chain *ch = nftnl_chain_alloc();
	struct nlmsghdr *nlh;
	uint32_t seq = pb->seq, first;
	struct rule_answer probe = { 0 };
	int ret = -ENOMEM;

	if (!t || !ch || !r)
		goto out;
	nlh = nftnl_batch_begin(p, seq++);
	p += nlh->nlmsg_len;
	first = seq;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, RULE_TABLE);
	nlh = nftnl_nlmsg_build_hdr(p, NFT_MSG_NEWTABLE, NFPROTO_IPV4,
				    NLM_F_CREATE | NLM_F_ACK, seq++);
	nftnl_table_nlmsg_build_payload(nlh, t);
	p += nlh->nlmsg_len;
	if (with_map)
		put_set(&p, RULE_TABLE, "m", NFT_SET_MAP, seq++);
	nftnl_chain_set_str(ch, NFTNL_CHAIN_TABLE, RULE_TABLE);
	nftnl_chain_set_str(ch, NFTNL_CHAIN_NAME, "c");
	nlh = nftnl_nlmsg_build_hdr(p, NFT_MSG_NEWCHAIN, NFPROTO_IPV4,
				    NLM_F_CREATE | NLM_F_ACK, seq++);
	nftnl_chain_nlmsg_build_payload(nlh, ch);
	p += nlh->nlmsg_len;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, RULE_TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, "c");
	nlh = nftnl_nlmsg_build_hdr(p, NFT_MSG_NEWRULE, NFPROTO_IPV4,
				    NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK, seq++);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	p += nlh->nlmsg_len;
	pb->seq = seq;
	probe.rule_seq = seq - 1;
	ret = mnl_socket_sendto(pb->nl, buf, p - buf) < 0 ? -errno : 0;
	if (ret == 0)	/* every message answers */
		ret = nl_collect(pb->nl, pb->portid, pb->rbuf, sizeof(pb->rbuf),
				 seq - first, take_rule_answer, &probe);
	if (ret == 0)
		ret = probe.err;
out:
	nftnl_rule_free(r);
	nftnl_chain_free(ch);
	nftnl_table_free(t);
	return ret;
}

/* A rule holding expression e (freed with it); NULL without memory. */
static struct nftnl_rule *rule_of(struct nftnl_expr *e)
{
	struct nftnl_rule *r = e ? nftnl_rule_alloc() : NULL;

	if (r)
		nftnl_rule_add_expr(r, e);
	else
		nftnl_expr_free(e);
	return r;
}

/* `ip saddr @m` of a map m: taken since Linux 6.4, EINVAL before. */
static int map_key_lookup(struct prober *pb)
{
	struct nftnl_expr *load = nftnl_expr_alloc("payload");
	struct nftnl_expr *lookup = nftnl_expr_alloc("lookup");
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (!load || !lookup || !r) {
		nftnl_expr_free(load);
		nftnl_expr_free(lookup);
		nftnl_rule_free(r);
		return -ENOMEM;
	}
	nftnl_expr_set_u32(load, NFTNL_EXPR_PAYLOAD_BASE,
			   NFT_PAYLOAD_NETWORK_HEADER);
	nftnl_expr_set_u32(load, NFTNL_EXPR_PAYLOAD_OFFSET, 12);
	nftnl_expr_set_u32(load, NFTNL_EXPR_PAYLOAD_LEN, 4);
	nftnl_expr_set_u32(load, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	nftnl_rule_add_expr(r, load);
	nftnl_expr_set_str(lookup, NFTNL_EXPR_LOOKUP_SET, "m");
	nftnl_expr_set_u32(lookup, NFTNL_EXPR_LOOKUP_SET_ID, 1);
	nftnl_expr_set_u32(lookup, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_rule_add_expr(r, lookup);
	return probe_rule(pb, r, true);
}

/* a name of its own per process: two probes at once do not meet */
#define PROBE_TABLE_FMT "natt_pin_probe_%ld"

/* Appends one message for the scratch table's set to the batch at *p. */
static void put_probe_elem(char **p, const char *table, uint16_t type,
			   uint16_t flags, uint32_t seq, uint64_t expiration_ms)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();
	uint32_t key = htonl(0x7f000001);
	struct nlmsghdr *nlh;

	if (!s || !e) {
		nftnl_set_free(s);
		nftnl_set_elem_free(e);
		return;
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, "s");
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, &key, sizeof(key));
	if (expiration_ms) {
		nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT, 60000);
		nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_EXPIRATION,
				       expiration_ms);
	}
	nftnl_set_elem_add(s, e);
	nlh = nftnl_nlmsg_build_hdr(*p, type, NFPROTO_IPV4, flags, seq);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	*p += nlh->nlmsg_len;
	nftnl_set_free(s);
}

static void put_probe_table(char **p, const char *table, uint16_t type,
			    uint32_t seq)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	if (!t)
		return;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
	nlh = nftnl_nlmsg_build_hdr(*p, type, NFPROTO_IPV4,
				    NLM_F_CREATE | NLM_F_ACK, seq);
	nftnl_table_nlmsg_build_payload(nlh, t);
	*p += nlh->nlmsg_len;
	nftnl_table_free(t);
}

struct probe_answers {
	uint32_t first, n;
	int err;	/* the first error */
};

static size_t take_any_answer(const struct nlmsghdr *nlh, void *data)
{
	struct probe_answers *a = data;

	if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_seq - a->first >= a->n)
		return 0;
	if (!a->err)
		a->err = nl_error(nlh);
	return 1;
}

/* Sends the batch at buf..end (seq .. seq + n - 1 asking for answers). */
static int probe_send(struct prober *pb, char *buf, char *end, uint32_t seq,
		      uint32_t n)
{
	struct probe_answers a = { .first = seq, .n = n };
	int ret;

	if (mnl_socket_sendto(pb->nl, buf, end - buf) < 0)
		return -errno;
	ret = nl_collect(pb->nl, pb->portid, pb->rbuf, sizeof(pb->rbuf), n,
			 take_any_answer, &a);
	return ret < 0 ? ret : a.err;
}

static int probe_batch(struct prober *pb, int step)
{
	char buf[4 * NL_MSG_SIZE], *p = buf;
	struct nlmsghdr *nlh;
	uint32_t first;

	nlh = nftnl_batch_begin(p, pb->seq++);
	p += nlh->nlmsg_len;
	first = pb->seq;
	switch (step) {
	case 0:	/* table, set with timeouts, element expiring in 1 s */
		put_probe_table(&p, pb->table, NFT_MSG_NEWTABLE, pb->seq++);
		put_set(&p, pb->table, "s", NFT_SET_TIMEOUT, pb->seq++);
		put_probe_elem(&p, pb->table, NFT_MSG_NEWSETELEM,
			       NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, pb->seq++,
			       1000);
		break;
	case 1:	/* the same element again, expiring in 60 s */
		put_probe_elem(&p, pb->table, NFT_MSG_NEWSETELEM,
			       NLM_F_CREATE | NLM_F_ACK, pb->seq++, 60000);
		break;
	default:
		put_probe_table(&p, pb->table, NFT_MSG_DELTABLE, pb->seq++);
		break;
	}
	nlh = nftnl_batch_end(p, pb->seq++);
	p += nlh->nlmsg_len;
	return probe_send(pb, buf, p, first, pb->seq - 1 - first);
}

static int probe_elems_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *e;

	if (s && nftnl_set_elems_nlmsg_parse(nlh, s) == 0) {
		it = nftnl_set_elems_iter_create(s);
		while (it && (e = nftnl_set_elems_iter_next(it)))
			if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_EXPIRATION))
				*(uint64_t *)data = nftnl_set_elem_get_u64(
					e, NFTNL_SET_ELEM_EXPIRATION);
		nftnl_set_elems_iter_destroy(it);
	}
	nftnl_set_free(s);
	return MNL_CB_OK;
}

/* The probe element's time left, by a dump of the scratch set. */
static int probe_expiry(struct prober *pb, uint64_t *ms)
{
	char buf[NL_MSG_SIZE];
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *nlh;
	int ret;

	if (!s)
		return -ENOMEM;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, pb->table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, "s");
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_IPV4,
				    NLM_F_DUMP | NLM_F_ACK, pb->seq++);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	ret = nl_request(pb->nl, pb->portid, nlh, pb->rbuf, sizeof(pb->rbuf),
			 probe_elems_cb, ms);
	return ret;
}

/* Adds an element expiring in 1 s, then again expiring in 60 s. */
static int timeout_update(struct prober *pb)
{
	uint64_t left = 0;
	int ret;

	snprintf(pb->table, sizeof(pb->table), PROBE_TABLE_FMT, (long)getpid());
	ret = probe_batch(pb, 0);
	if (ret == 0)
		ret = probe_batch(pb, 1);
	if (ret == 0)
		ret = probe_expiry(pb, &left);
	probe_batch(pb, 2);	/* the table goes, whatever happened */
	if (ret < 0)
		return ret;
	/* without the update the element keeps its first second */
	return left > 30000;
}

/* Runs try on a socket of its own. */
static int with_prober(int (*try)(struct prober *pb))
{
	struct prober pb = { .seq = time(NULL) };
	int ret;

	ret = nl_open(NETLINK_NETFILTER, &pb.nl, &pb.portid);
	if (ret < 0)
		return ret;
	ret = try(&pb);
	mnl_socket_close(pb.nl);
	return ret;
}

static int queue_expr(struct prober *pb)
{
	struct nftnl_expr *e = nftnl_expr_alloc("queue");

	if (e) {
		nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_NUM, 0);
		nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_FLAGS,
				   NFT_QUEUE_FLAG_BYPASS);
	}
	return probe_rule(pb, rule_of(e), false);
}

int probe_queue_expr(void)
{
	return with_prober(queue_expr);
}

int probe_map_key_lookup(void)
{
	return with_prober(map_key_lookup);
}

int probe_timeout_update(void)
{
	return with_prober(timeout_update);
}

int probe_ct_attached(uint16_t num)
{
	struct queue *q;
	bool ct_attached;
	int ret;

	ret = queue_open(&q, num, &ct_attached);
	if (ret < 0)
		return ret;
	queue_close(q);
	return ct_attached;
}

int probe_ctnetlink(void)
{
	struct ct_sock *cs = NULL;
	struct ct_query q = { .reply = { .src = htonl(0x7f000001),
					 .dst = htonl(0x7f000001),
					 .sport = 9, .dport = 9,
					 .proto = IPPROTO_UDP } };
	int ret;

	ret = ct_open(&cs);
	if (ret == 0)
		ret = ct_lookup(cs, &q, 1);
	ct_close(cs);
	if (ret < 0)
		return ret;
	/* an answer, found or not, is all that is asked */
	return q.err == -ENOENT ? 0 : q.err;
}
