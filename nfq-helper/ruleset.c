// SPDX-License-Identifier: GPL-2.0-or-later
/* Reads the table, the map and the queue rules of nfq-helper's ruleset. */
#include <errno.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "netlink.h"
#include "ruleset.h"

/* struct xt_NFQ_info_v1..v3 begin with the queue number */
static int expr_cb(struct nftnl_expr *e, void *data)
{
	struct ruleset_rules *r = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	const char *chain;
	const uint16_t *info;
	uint32_t len;

	if (!strcmp(name, "dynset") &&
	    nftnl_expr_get_u32(e, NFTNL_EXPR_DYNSET_OP) == NFT_DYNSET_OP_UPDATE)
		r->refresh++;
	if (!strcmp(name, "queue") &&
	    nftnl_expr_get_u16(e, NFTNL_EXPR_QUEUE_NUM) == r->num)
		r->native++;
	if (!strcmp(name, "target") &&
	    !strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_TG_NAME), "NFQUEUE")) {
		info = nftnl_expr_get(e, NFTNL_EXPR_TG_INFO, &len);
		if (info && len >= 2 && *info == r->num)
			r->xt++;
		else
			r->xt_other++;
	}
	if (!strcmp(name, "immediate") &&
	    nftnl_expr_is_set(e, NFTNL_EXPR_IMM_CHAIN)) {
		chain = nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN);
		if (chain && !strcmp(chain, RULESET_XT_CHAIN))
			r->xt_jumps++;
	}
	return 0;
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (r && nftnl_rule_nlmsg_parse(nlh, r) == 0)
		nftnl_expr_foreach(r, expr_cb, data);
	nftnl_rule_free(r);
	return MNL_CB_OK;
}

/* One rule's expressions, in order. */
struct rule_walk {
	const char *map;
	uint32_t mark_reg;	/* the register the mark was loaded into, or 0 */
	uint32_t mask;		/* meta mark and mask, in mark_reg */
	struct ruleset_learn_rule *r;
};

/* What the chains read so far hold. */
struct learn_scan {
	const char *map;
	const char *chain;	/* the chain read */
	uint32_t jump_mark;	/* unmark: the mark test in front of a jump */
	uint32_t inline_mark;	/* unmark: a mark test in front of an update */
	bool learn_updates;	/* learn: an update of the map */
};

static uint32_t data_u32(const struct nftnl_expr *e, uint16_t attr)
{
	const void *d;
	uint32_t len, v = 0;

	d = nftnl_expr_get(e, attr, &len);
	if (d && len == sizeof(v))
		memcpy(&v, d, sizeof(v));
	return v;
}

static int learn_expr_cb(struct nftnl_expr *e, void *data)
{
	struct rule_walk *l = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	const char *chain;

	if (!strcmp(name, "meta") &&
	    nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY) == NFT_META_MARK &&
	    nftnl_expr_is_set(e, NFTNL_EXPR_META_DREG)) {
		l->mark_reg = nftnl_expr_get_u32(e, NFTNL_EXPR_META_DREG);
		l->mask = 0;
	} else if (!strcmp(name, "bitwise") && l->mark_reg &&
		   nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_SREG) == l->mark_reg &&
		   nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_DREG) == l->mark_reg &&
		   data_u32(e, NFTNL_EXPR_BITWISE_XOR) == 0) {
		l->mask = data_u32(e, NFTNL_EXPR_BITWISE_MASK);
	} else if (!strcmp(name, "cmp") && l->mask &&
		   nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_SREG) == l->mark_reg &&
		   nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP) == NFT_CMP_EQ &&
		   data_u32(e, NFTNL_EXPR_CMP_DATA) == l->mask) {
		l->r->tests = l->mask;
	} else if (!strcmp(name, "dynset") &&
		   nftnl_expr_get_u32(e, NFTNL_EXPR_DYNSET_OP) == NFT_DYNSET_OP_UPDATE &&
		   !strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_DYNSET_SET_NAME), l->map)) {
		l->r->updates = true;
	} else if (!strcmp(name, "immediate") &&
		   nftnl_expr_is_set(e, NFTNL_EXPR_IMM_CHAIN)) {
		chain = nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN);
		l->r->jumps = chain && !strcmp(chain, RULESET_LEARN_CHAIN);
	}
	return 0;
}

bool ruleset_learn_rule(const struct nlmsghdr *nlh, const char *map,
			struct ruleset_learn_rule *r)
{
	struct nftnl_rule *rule = nftnl_rule_alloc();
	struct rule_walk w = { .map = map, .r = r };
	bool ok;

	*r = (struct ruleset_learn_rule){ 0 };
	ok = rule && nftnl_rule_nlmsg_parse(nlh, rule) == 0;
	if (ok)
		nftnl_expr_foreach(rule, learn_expr_cb, &w);
	nftnl_rule_free(rule);
	return ok;
}

static int learn_rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct learn_scan *l = data;
	struct ruleset_learn_rule r;

	if (!ruleset_learn_rule(nlh, l->map, &r))
		return MNL_CB_OK;
	if (!strcmp(l->chain, RULESET_LEARN_CHAIN)) {
		l->learn_updates |= r.updates;
	} else if (r.tests) {
		if (r.jumps && !l->jump_mark)
			l->jump_mark = r.tests;
		if (r.updates && !l->inline_mark)
			l->inline_mark = r.tests;
	}
	return MNL_CB_OK;
}

static int dump_chain(struct ruleset_sock *rs, const char *table,
		      const char *chain, mnl_cb_t cb, void *data)
{
	char buf[NL_MSG_SIZE];
	struct nftnl_rule *rule;
	struct nlmsghdr *nlh;

	rule = nftnl_rule_alloc();
	if (!rule)
		return -ENOMEM;
	nftnl_rule_set_str(rule, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(rule, NFTNL_RULE_CHAIN, chain);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_IPV4,
				    NLM_F_DUMP | NLM_F_ACK, rs->seq++);
	nftnl_rule_nlmsg_build_payload(nlh, rule);
	nftnl_rule_free(rule);
	return nl_request(rs->nl, rs->portid, nlh, rs->rbuf, sizeof(rs->rbuf),
			  cb, data);
}

int ruleset_count_chain(struct ruleset_sock *rs, const char *table,
			const char *chain, struct ruleset_rules *r)
{
	return dump_chain(rs, table, chain, rule_cb, r);
}

static int absent_ok(int ret)
{
	return ret == -ENOENT ? 0 : ret;
}

int ruleset_learn_mark(struct ruleset_sock *rs, const char *table,
		       const char *map, uint32_t *mark)
{
	struct learn_scan l = { .map = map, .chain = RULESET_UNMARK_CHAIN };
	int ret;

	*mark = 0;
	ret = absent_ok(dump_chain(rs, table, l.chain, learn_rule_cb, &l));
	if (ret == 0 && l.jump_mark) {
		l.chain = RULESET_LEARN_CHAIN;
		ret = absent_ok(dump_chain(rs, table, l.chain, learn_rule_cb, &l));
	}
	if (ret < 0)
		return ret;
	*mark = l.jump_mark && l.learn_updates ? l.jump_mark : l.inline_mark;
	return 0;
}

static int table_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_table *t = nftnl_table_alloc();
	uint64_t *handle = data;

	if (t && nftnl_table_nlmsg_parse(nlh, t) == 0 &&
	    nftnl_table_is_set(t, NFTNL_TABLE_HANDLE))
		*handle = nftnl_table_get_u64(t, NFTNL_TABLE_HANDLE);
	nftnl_table_free(t);
	return MNL_CB_OK;
}

static int set_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_set *s = nftnl_set_alloc();
	uint64_t *handle = data;

	if (s && nftnl_set_nlmsg_parse(nlh, s) == 0 &&
	    nftnl_set_is_set(s, NFTNL_SET_HANDLE))
		*handle = nftnl_set_get_u64(s, NFTNL_SET_HANDLE);
	nftnl_set_free(s);
	return MNL_CB_OK;
}

/* 1 found, 0 absent, or -errno */
static int get_handle(struct ruleset_sock *rs, const char *table,
		      const char *map, uint64_t *handle)
{
	char buf[NL_MSG_SIZE];
	struct nftnl_table *t = NULL;
	struct nftnl_set *s = NULL;
	struct nlmsghdr *nlh;
	int ret;

	nlh = nftnl_nlmsg_build_hdr(buf,
				    map ? NFT_MSG_GETSET : NFT_MSG_GETTABLE,
				    NFPROTO_IPV4, NLM_F_ACK, rs->seq++);
	if (map) {
		s = nftnl_set_alloc();
		if (!s)
			return -ENOMEM;
		nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
		nftnl_set_set_str(s, NFTNL_SET_NAME, map);
		nftnl_set_nlmsg_build_payload(nlh, s);
		nftnl_set_free(s);
	} else {
		t = nftnl_table_alloc();
		if (!t)
			return -ENOMEM;
		nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
		nftnl_table_nlmsg_build_payload(nlh, t);
		nftnl_table_free(t);
	}
	ret = nl_request(rs->nl, rs->portid, nlh, rs->rbuf, sizeof(rs->rbuf),
			 map ? set_cb : table_cb, handle);
	if (ret == -ENOENT)
		return 0;
	return ret < 0 ? ret : 1;
}

int ruleset_read(struct ruleset_sock *rs, const char *table, const char *map,
		 uint16_t queue_num, struct ruleset_state *s)
{
	int ret;

	memset(s, 0, sizeof(*s));
	s->rules.num = queue_num;
	ret = get_handle(rs, table, NULL, &s->table_handle);
	if (ret < 0)
		return ret;
	s->table = ret;
	if (s->table) {
		ret = get_handle(rs, table, map, &s->map_handle);
		if (ret < 0)
			return ret;
		s->map = ret;
		ret = absent_ok(ruleset_count_chain(rs, table, "ike_replies",
						    &s->rules));
		if (ret == 0)
			ret = absent_ok(ruleset_count_chain(rs, table, "refresh",
							    &s->rules));
		if (ret == 0)
			ret = ruleset_learn_mark(rs, table, map,
						 &s->rules.learn_mark);
		if (ret < 0)
			return ret;
	}
	ret = absent_ok(ruleset_count_chain(rs, "mangle", RULESET_XT_CHAIN,
					    &s->rules));
	if (ret == 0 && s->rules.xt)
		ret = absent_ok(ruleset_count_chain(rs, "mangle", "PREROUTING",
						    &s->rules));
	return ret;
}

bool ruleset_feeds_queue(const struct ruleset_rules *r)
{
	return r->native || (r->xt && r->xt_jumps);
}

const char *ruleset_missing(const struct ruleset_state *s)
{
	if (!s->table)
		return "table";
	if (!s->map)
		return "map";
	if (ruleset_feeds_queue(&s->rules))
		return NULL;
	if (s->rules.xt)
		return "jump from ip mangle PREROUTING to " RULESET_XT_CHAIN;
	return "queue rules";
}
