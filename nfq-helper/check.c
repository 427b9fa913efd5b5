// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nfq-helper --check: what this kernel and ruleset give the daemon, one line
 * per item, with the remedy where something is missing.
 */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
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

#include "check.h"
#include "ct.h"
#include "msg.h"
#include "netlink.h"
#include "nftmap.h"
#include "queue.h"
#include "ruleset.h"
#include "status.h"

struct checker {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	int failed;
	bool zone_priority;	/* the loaded rules put the zone there */
	char probe[32];	/* the timeout-update probe's scratch table */
	char rbuf[NL_RECV_SIZE];
};

static void say(struct checker *c, const char *level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(struct checker *c, const char *level, const char *fmt, ...)
{
	va_list ap;

	if (!strcmp(level, "FAIL"))
		c->failed++;
	printf("  %-5s ", level);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void count_elem(const struct nftmap_elem *e, void *data)
{
	(void)e;
	(*(uint64_t *)data)++;
}

/* The map: declared right, how full. False if the daemon could not start. */
static bool check_map(struct checker *c, const struct nfqh_config *cfg)
{
	struct nftmap *m = NULL;
	struct nftmap_info info;
	const char *why = NULL;
	char t[MSG_LEN], name[300];
	uint64_t n = 0;
	int ret;

	snprintf(name, sizeof(name), "ip %s %s", cfg->table, cfg->map);
	ret = nftmap_open(&m, cfg->table, cfg->map);
	if (ret == 0)
		ret = nftmap_info(m, &info);
	if (ret < 0) {
		say(c, "FAIL", "%s", msg_errno(t, sizeof(t), -ret, "map %s", name));
		goto out;
	}
	why = nftmap_check(&info);
	if (why) {
		say(c, "FAIL", "%s", msg_format(t, sizeof(t), MSG_MAP_UNSUITABLE,
						name, why));
		goto out;
	}
	ret = nftmap_dump(m, count_elem, &n);
	say(c, "ok", "map ip %s %s: ct zone . ipv4_addr . ipv4_addr : ipv4_addr, size %" PRIu32
	    ", timeout %" PRIu64 " s, %" PRIu64 " pins%s",
	    cfg->table, cfg->map, info.size, info.timeout_ms / 1000, n,
	    info.size && n * 10 >= (uint64_t)info.size * 9 ?
		    " (90% full or more: raise its size)" : "");
out:
	nftmap_close(m);
	return ret == 0 && !why;
}

static void check_refresh(struct checker *c, const struct nfqh_config *cfg,
			  unsigned rules)
{
	struct nftmap *m = NULL;
	char t[MSG_LEN];
	uint64_t n = 0;
	int ret;

	if (!rules) {
		say(c, "warn", "%s",
		    msg_format(t, sizeof(t), MSG_CHECK_REFRESH_NONE));
		return;
	}
	ret = nftmap_open(&m, cfg->table, cfg->map);
	if (ret == 0)
		ret = nftmap_counter(m, "refreshes", &n);
	nftmap_close(m);
	if (ret < 0)
		say(c, "ok", "refresh rules: %u, in the kernel (counter refreshes: %s)",
		    rules, strerror(-ret));
	else
		say(c, "ok", "refresh rules: %u, in the kernel; %" PRIu64 " answers refreshed so far",
		    rules, n);
}

static void check_learn(struct checker *c, const struct nfqh_config *cfg,
			uint32_t mark)
{
	struct nftmap *m = NULL;
	char t[MSG_LEN];
	uint64_t n = 0;
	int ret;

	if (!mark) {
		say(c, "warn", "%s",
		    msg_format(t, sizeof(t), MSG_CHECK_LEARN_NONE));
		return;
	}
	ret = nftmap_open(&m, cfg->table, cfg->map);
	if (ret == 0)
		ret = nftmap_counter(m, "learn_refused", &n);
	nftmap_close(m);
	if (ret < 0)
		say(c, "ok", "learn rule: mark bit 0x%08" PRIx32 ", the kernel writes new pins (counter learn_refused: %s)",
		    mark, strerror(-ret));
	else if (n)
		say(c, "warn", "%s",
		    msg_format(t, sizeof(t), MSG_CHECK_LEARN_REFUSED, mark, n));
	else
		say(c, "ok", "learn rule: mark bit 0x%08" PRIx32 ", the kernel writes new pins; none refused so far (map full)",
		    mark);
}

struct probe {
	uint32_t rule_seq;
	int err;	/* the rule's answer */
};

static size_t take_probe_answer(const struct nlmsghdr *nlh, void *data)
{
	struct probe *pr = data;

	if (nlh->nlmsg_type != NLMSG_ERROR)
		return 0;
	if (nlh->nlmsg_seq == pr->rule_seq)
		pr->err = nl_error(nlh);
	return 1;
}

#define CHECK_TABLE "natt_pin_check"

/* Appends the scratch table's map m (ipv4_addr : ipv4_addr) to the batch. */
static void put_check_map(char **p, uint32_t seq)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *nlh;

	if (!s)
		return;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, CHECK_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, "m");
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, 7);	/* ipv4_addr */
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, 4);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, 7);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, 4);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_MAP);
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
static int probe_rule(struct checker *c, struct nftnl_rule *r, bool with_map)
{
	char buf[4 * NL_MSG_SIZE], *p = buf;
	struct nftnl_table *t = nftnl_table_alloc();
	struct nftnl_chain *ch = nftnl_chain_alloc();
	struct nlmsghdr *nlh;
	uint32_t seq = c->seq, first;
	struct probe probe = { 0 };
	int ret = -ENOMEM;

	if (!t || !ch || !r)
		goto out;
	nlh = nftnl_batch_begin(p, seq++);
	p += nlh->nlmsg_len;
	first = seq;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, CHECK_TABLE);
	nlh = nftnl_nlmsg_build_hdr(p, NFT_MSG_NEWTABLE, NFPROTO_IPV4,
				    NLM_F_CREATE | NLM_F_ACK, seq++);
	nftnl_table_nlmsg_build_payload(nlh, t);
	p += nlh->nlmsg_len;
	if (with_map)
		put_check_map(&p, seq++);
	nftnl_chain_set_str(ch, NFTNL_CHAIN_TABLE, CHECK_TABLE);
	nftnl_chain_set_str(ch, NFTNL_CHAIN_NAME, "c");
	nlh = nftnl_nlmsg_build_hdr(p, NFT_MSG_NEWCHAIN, NFPROTO_IPV4,
				    NLM_F_CREATE | NLM_F_ACK, seq++);
	nftnl_chain_nlmsg_build_payload(nlh, ch);
	p += nlh->nlmsg_len;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, CHECK_TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, "c");
	nlh = nftnl_nlmsg_build_hdr(p, NFT_MSG_NEWRULE, NFPROTO_IPV4,
				    NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK, seq++);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	p += nlh->nlmsg_len;
	c->seq = seq;
	probe.rule_seq = seq - 1;
	ret = mnl_socket_sendto(c->nl, buf, p - buf) < 0 ? -errno : 0;
	if (ret == 0)	/* every message answers */
		ret = nl_collect(c->nl, c->portid, c->rbuf, sizeof(c->rbuf),
				 seq - first, take_probe_answer, &probe);
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

static void check_native_queue(struct checker *c)
{
	struct nftnl_expr *e = nftnl_expr_alloc("queue");
	int err;

	if (e) {
		nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_NUM, 0);
		nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_FLAGS,
				   NFT_QUEUE_FLAG_BYPASS);
	}
	err = probe_rule(c, rule_of(e), false);
	if (err == -ENOMEM)
		say(c, "warn", "nft queue expression: could not tell (%s)", strerror(-err));
	else if (err == 0)
		say(c, "ok", "nft queue expression: available (natt-pin.nft loads as it is)");
	else
		say(c, "info", "nft queue expression: not in this kernel (CONFIG_NFT_QUEUE; %s): "
		    "natt-pin-load feeds the queue through iptables-nft instead", strerror(-err));
}

/* `ip saddr @m` of a map m: taken since Linux 6.4, EINVAL before. */
static int probe_map_key_lookup(struct checker *c)
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
	return probe_rule(c, r, true);
}

/* What the kernel takes, and the shape natt-pin-load gave the ruleset. */
static void check_shape(struct checker *c, const struct ruleset_rules *q)
{
	int err = probe_map_key_lookup(c);
	const char *kernel = err == 0 ? "yes" :
			     err == -EINVAL ? "no (before Linux 6.4)" :
					      strerror(-err);

	if (q->keys)
		say(c, "ok", "ruleset shape: keys: pinned subscribers are looked up in set pinned "
		    "(map key look-ups in this kernel: %s)", kernel);
	else if (q->refresh)
		say(c, err == 0 ? "ok" : "FAIL",
		    "ruleset shape: map: pinned subscribers are looked up in the map itself "
		    "(map key look-ups in this kernel: %s)", kernel);
	else
		say(c, "info", "ruleset shape: no refresh rules (map key look-ups in this kernel: %s)",
		    kernel);
}

static void check_rules(struct checker *c, const struct nfqh_config *cfg)
{
	struct ruleset_sock rs = { .nl = c->nl, .portid = c->portid,
				   .seq = c->seq };
	struct ruleset_state s;
	struct ruleset_rules *q = &s.rules;
	char t[MSG_LEN];
	int ret;

	ret = ruleset_read(&rs, cfg->table, cfg->map, cfg->queue_num, &s);
	c->seq = rs.seq;
	if (ret < 0) {
		say(c, "FAIL", "%s", msg_errno(t, sizeof(t), -ret,
					       "queue rules: cannot read them"));
		return;
	}
	c->zone_priority = q->zone_priority > 0;
	check_refresh(c, cfg, q->refresh);
	check_shape(c, q);
	check_learn(c, cfg, q->learn_mark);
	if (q->native && q->xt)
		say(c, "FAIL", "%s",
		    msg_format(t, sizeof(t), MSG_CHECK_QUEUE_BOTH, q->native,
			       q->xt, q->num));
	else if (q->native)
		say(c, "ok", "queue rules: %u nft queue rules feed queue %u", q->native, q->num);
	else if (q->xt && q->xt_jumps)
		say(c, "ok", "queue rules: %u iptables-nft NFQUEUE rules (mangle NATT_PIN) feed queue %u",
		    q->xt, q->num);
	else
		say(c, "FAIL", "%s",
		    msg_format(t, sizeof(t), MSG_CHECK_QUEUE_NONE, q->num,
			       q->xt && !q->xt_jumps ? ": no jump from mangle PREROUTING to NATT_PIN" :
			       q->xt_other ? ", NATT_PIN feeds another" : ""));
}

static void check_queue(struct checker *c, const struct nfqh_config *cfg)
{
	struct queue *q;
	bool ct_attached;
	uint16_t probe = cfg->queue_num == 65535 ? 65534 : 65535;
	char t[MSG_LEN];
	int ret;

	ret = queue_open(&q, cfg->queue_num, &ct_attached);
	if (ret == 0) {
		queue_close(q);
		say(c, "ok", "queue %u: free", cfg->queue_num);
	} else if (ret == -EPERM) {
		say(c, "info", "queue %u: bound by another process (a running nfq-helper?)",
		    cfg->queue_num);
	} else {
		say(c, "FAIL", "%s", msg_format(t, sizeof(t), MSG_CHECK_QUEUE_OPEN,
						cfg->queue_num, strerror(-ret)));
		return;
	}
	/* conntrack attachment is a kernel feature: ask on a spare queue */
	ret = queue_open(&q, probe, &ct_attached);
	if (ret < 0) {
		say(c, "warn", "conntrack in queued packets: could not tell (queue %u: %s)",
		    probe, strerror(-ret));
		return;
	}
	queue_close(q);
	if (ct_attached)
		say(c, "ok", "conntrack in queued packets: yes (no lookups needed)");
	else if (c->zone_priority)
		say(c, "info", "conntrack in queued packets: no (CONFIG_NETFILTER_NETLINK_GLUE_CT): "
		    "one ctnetlink lookup per IKE answer instead, in the conntrack zone the ruleset puts in the answer's priority (NFQA_PRIORITY, Linux 5.18 on; before it, zone 0 only)");
	else
		say(c, "warn", "conntrack in queued packets: no (CONFIG_NETFILTER_NETLINK_GLUE_CT): "
		    "one ctnetlink lookup per IKE answer instead, and the rules put no zone in the answer's priority (this nft refuses `meta priority set ct reply zone'?): "
		    "only answers in conntrack zone 0 in the reply direction are found (docs/zones.md)");
}

static void check_ctnetlink(struct checker *c)
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
	if (ret == 0 && (q.err == 0 || q.err == -ENOENT))
		say(c, "ok", "ctnetlink: answers lookups");
	else
		say(c, "FAIL", "ctnetlink: %s (needs nf_conntrack_netlink)",
		    strerror(ret ? -ret : -q.err));
	ct_close(cs);
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

static void put_probe_set(char **p, const char *table, uint32_t seq)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *nlh;

	if (!s)
		return;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, "s");
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, 7);	/* ipv4_addr */
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, 4);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_TIMEOUT);
	nftnl_set_set_u32(s, NFTNL_SET_ID, 1);
	nlh = nftnl_nlmsg_build_hdr(*p, NFT_MSG_NEWSET, NFPROTO_IPV4,
				    NLM_F_CREATE | NLM_F_ACK, seq);
	nftnl_set_nlmsg_build_payload(nlh, s);
	*p += nlh->nlmsg_len;
	nftnl_set_free(s);
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
static int probe_send(struct checker *c, char *buf, char *end, uint32_t seq,
		      uint32_t n)
{
	struct probe_answers a = { .first = seq, .n = n };
	int ret;

	if (mnl_socket_sendto(c->nl, buf, end - buf) < 0)
		return -errno;
	ret = nl_collect(c->nl, c->portid, c->rbuf, sizeof(c->rbuf), n,
			 take_any_answer, &a);
	return ret < 0 ? ret : a.err;
}

static int probe_batch(struct checker *c, int step)
{
	char buf[4 * NL_MSG_SIZE], *p = buf;
	struct nlmsghdr *nlh;
	uint32_t first;

	nlh = nftnl_batch_begin(p, c->seq++);
	p += nlh->nlmsg_len;
	first = c->seq;
	switch (step) {
	case 0:	/* table, set with timeouts, element expiring in 1 s */
		put_probe_table(&p, c->probe, NFT_MSG_NEWTABLE, c->seq++);
		put_probe_set(&p, c->probe, c->seq++);
		put_probe_elem(&p, c->probe, NFT_MSG_NEWSETELEM,
			       NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, c->seq++,
			       1000);
		break;
	case 1:	/* the same element again, expiring in 60 s */
		put_probe_elem(&p, c->probe, NFT_MSG_NEWSETELEM,
			       NLM_F_CREATE | NLM_F_ACK, c->seq++, 60000);
		break;
	default:
		put_probe_table(&p, c->probe, NFT_MSG_DELTABLE, c->seq++);
		break;
	}
	nlh = nftnl_batch_end(p, c->seq++);
	p += nlh->nlmsg_len;
	return probe_send(c, buf, p, first, c->seq - 1 - first);
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
static int probe_expiry(struct checker *c, uint64_t *ms)
{
	char buf[NL_MSG_SIZE];
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *nlh;
	int ret;

	if (!s)
		return -ENOMEM;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, c->probe);
	nftnl_set_set_str(s, NFTNL_SET_NAME, "s");
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_IPV4,
				    NLM_F_DUMP | NLM_F_ACK, c->seq++);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	ret = nl_request(c->nl, c->portid, nlh, c->rbuf, sizeof(c->rbuf),
			 probe_elems_cb, ms);
	return ret;
}

int check_timeout_update(void)
{
	struct checker c = { .seq = time(NULL) };
	uint64_t left = 0;
	int ret;

	snprintf(c.probe, sizeof(c.probe), PROBE_TABLE_FMT, (long)getpid());
	ret = nl_open(NETLINK_NETFILTER, &c.nl, &c.portid);
	if (ret < 0)
		return ret;
	ret = probe_batch(&c, 0);
	if (ret == 0)
		ret = probe_batch(&c, 1);
	if (ret == 0)
		ret = probe_expiry(&c, &left);
	probe_batch(&c, 2);	/* the table goes, whatever happened */
	mnl_socket_close(c.nl);
	if (ret < 0)
		return ret;
	/* without the update the element keeps its first second */
	return left > 30000;
}

static void check_timeout_update_line(struct checker *c)
{
	int ret = check_timeout_update();

	if (ret < 0)
		say(c, "warn", "element timeout update: could not tell (%s)", strerror(-ret));
	else if (ret)
		say(c, "ok", "element timeout update: yes (Linux 6.12 or later)");
	else
		say(c, "info", "element timeout update: no (before Linux 6.12): not needed, "
		    "the refresh rules of natt-pin.nft refresh pins on every kernel");
}

static bool metric(const char *line, const char *name, double *v)
{
	size_t n = strlen(name);

	return !strncmp(line, name, n) && line[n] == ' ' &&
	       sscanf(line + n, "%lf", v) == 1;
}

/* What the running daemon counted: ruleset losses (a `flush ruleset`). */
static void check_losses(struct checker *c, const struct nfqh_config *cfg)
{
	const char *path = cfg->metrics ? cfg->metrics : STATUS_METRICS_DEFAULT;
	double lost = -1, gap = 0, ok = 1;
	char line[256], t[MSG_LEN];
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		metric(line, "nfq_helper_ruleset_losses_total", &lost);
		metric(line, "nfq_helper_ruleset_last_gap_seconds", &gap);
		metric(line, "nfq_helper_ruleset_ok", &ok);
	}
	fclose(f);
	if (lost < 0)
		return;
	if (lost == 0)
		say(c, "ok", "ruleset losses: none while nfq-helper ran (%s)", path);
	else
		say(c, ok ? "warn" : "FAIL", "%s",
		    msg_format(t, sizeof(t), MSG_CHECK_LOSSES, lost,
			       ok ? "restored" : "not restored", path));
	if (lost > 0 && ok)
		say(c, "info", "ruleset losses: the last one switched the fix off for %.3f s", gap);
}

int check_run(const struct nfqh_config *cfg)
{
	struct checker c = { .seq = time(NULL) };
	char t[MSG_LEN];
	int ret;

	printf("nfq-helper --check: table ip %s, map %s, queue %u\n", cfg->table,
	       cfg->map, cfg->queue_num);
	ret = nl_open(NETLINK_NETFILTER, &c.nl, &c.portid);
	if (ret < 0) {
		say(&c, "FAIL", "%s", msg_errno(t, sizeof(t), -ret, "netlink"));
		return 1;
	}
	if (check_map(&c, cfg)) {
		check_rules(&c, cfg);
		check_native_queue(&c);
		check_timeout_update_line(&c);
		check_queue(&c, cfg);
		check_ctnetlink(&c);
	}
	check_losses(&c, cfg);
	mnl_socket_close(c.nl);
	printf("%s\n", c.failed ? "not ready: see FAIL above" :
				  "ready: nfq-helper can serve");
	return c.failed ? 1 : 0;
}
