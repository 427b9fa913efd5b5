// SPDX-License-Identifier: GPL-2.0-or-later
/* Reads the table, the map and the queue rules of nfq-helper's ruleset. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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
/* A string attribute the kernel may leave out compared, NULL as no match. */
static bool str_is(const char *s, const char *want)
{
	return s && !strcmp(s, want);
}

static int expr_cb(struct nftnl_expr *e, void *data)
{
	struct ruleset_rules *r = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	const char *chain;
	const uint16_t *info;
	uint32_t len;

	if (!strcmp(name, "lookup") &&
	    str_is(nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET), RULESET_KEYS_SET))
		r->keys++;
	if (!strcmp(name, "queue") &&
	    nftnl_expr_get_u16(e, NFTNL_EXPR_QUEUE_NUM) == r->num)
		r->native++;
	if (!strcmp(name, "meta") &&
	    nftnl_expr_is_set(e, NFTNL_EXPR_META_SREG) &&
	    nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY) == NFT_META_PRIORITY)
		r->zone_priority++;
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
	struct ruleset_rule *r;
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

static void copy_name(char *dst, const char *src)
{
	snprintf(dst, NFT_CHAIN_MAXNAMELEN, "%s", src ? src : "");
}

static int walk_expr_cb(struct nftnl_expr *e, void *data)
{
	struct rule_walk *w = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

	if (!strcmp(name, "meta") &&
	    nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY) == NFT_META_MARK &&
	    nftnl_expr_is_set(e, NFTNL_EXPR_META_DREG)) {
		w->mark_reg = nftnl_expr_get_u32(e, NFTNL_EXPR_META_DREG);
		w->mask = 0;
	} else if (!strcmp(name, "bitwise") && w->mark_reg &&
		   nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_SREG) == w->mark_reg &&
		   nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_DREG) == w->mark_reg &&
		   data_u32(e, NFTNL_EXPR_BITWISE_XOR) == 0) {
		w->mask = data_u32(e, NFTNL_EXPR_BITWISE_MASK);
	} else if (!strcmp(name, "cmp") && w->mask &&
		   nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_SREG) == w->mark_reg &&
		   nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP) == NFT_CMP_EQ &&
		   data_u32(e, NFTNL_EXPR_CMP_DATA) == w->mask) {
		w->r->tests = w->mask;
	} else if (!strcmp(name, "dynset") &&
		   nftnl_expr_get_u32(e, NFTNL_EXPR_DYNSET_OP) == NFT_DYNSET_OP_UPDATE &&
		   str_is(nftnl_expr_get_str(e, NFTNL_EXPR_DYNSET_SET_NAME), w->map)) {
		w->r->updates = true;
	} else if (!strcmp(name, "immediate") &&
		   nftnl_expr_is_set(e, NFTNL_EXPR_IMM_CHAIN)) {
		copy_name(w->r->jump, nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN));
	}
	return 0;
}

bool ruleset_parse_rule(const struct nlmsghdr *nlh, const char *map,
			struct ruleset_rule *r)
{
	struct nftnl_rule *rule = nftnl_rule_alloc();
	struct rule_walk w = { .map = map, .r = r };
	bool ok;

	memset(r, 0, sizeof(*r));
	ok = rule && nftnl_rule_nlmsg_parse(nlh, rule) == 0;
	if (ok) {
		if (nftnl_rule_is_set(rule, NFTNL_RULE_CHAIN))
			copy_name(r->chain,
				  nftnl_rule_get_str(rule, NFTNL_RULE_CHAIN));
		nftnl_expr_foreach(rule, walk_expr_cb, &w);
	}
	nftnl_rule_free(rule);
	return ok;
}

/* Some rule of chain updates the map. */
static bool chain_updates(const struct ruleset_rule *rules, size_t n,
			  const char *chain)
{
	size_t i;

	for (i = 0; chain[0] && i < n; i++)
		if (rules[i].updates && !strcmp(rules[i].chain, chain))
			return true;
	return false;
}

/* The rule updates the map itself, or jumps to a chain that does. */
static bool writes(const struct ruleset_rule *rules, size_t n,
		   const struct ruleset_rule *r)
{
	return r->updates || chain_updates(rules, n, r->jump);
}

uint32_t ruleset_learn_mark_of(const struct ruleset_rule *rules, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (rules[i].tests && writes(rules, n, &rules[i]))
			return rules[i].tests;
	return 0;
}

unsigned ruleset_refresh_rules(const struct ruleset_rule *rules, size_t n)
{
	unsigned count = 0;
	size_t i;

	for (i = 0; i < n; i++)
		count += !rules[i].tests && !rules[i].updates &&
			 chain_updates(rules, n, rules[i].jump);
	return count;
}

/* The table's rules, read in one dump. */
struct table_read {
	struct ruleset_rules *counts;
	const char *map;
	struct ruleset_rule *rules;
	size_t n, alloc;
	int err;
};

static int table_rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct table_read *t = data;
	struct ruleset_rule *more;

	rule_cb(nlh, t->counts);
	if (t->n == t->alloc) {
		more = realloc(t->rules, (t->alloc + 16) * sizeof(*more));
		if (!more) {
			t->err = -ENOMEM;
			return MNL_CB_OK;
		}
		t->rules = more;
		t->alloc += 16;
	}
	if (ruleset_parse_rule(nlh, t->map, &t->rules[t->n]))
		t->n++;
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
	if (chain)
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

/* Every rule of the table: queue rules, refresh rules, the learn rule. */
static int read_table_rules(struct ruleset_sock *rs, const char *table,
			    const char *map, struct ruleset_rules *r)
{
	struct table_read t = { .counts = r, .map = map };
	int ret;

	ret = absent_ok(dump_chain(rs, table, NULL, table_rule_cb, &t));
	if (ret == 0)
		ret = t.err;
	r->refresh = ruleset_refresh_rules(t.rules, t.n);
	r->learn_mark = ruleset_learn_mark_of(t.rules, t.n);
	free(t.rules);
	return ret;
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
		ret = read_table_rules(rs, table, map, &s->rules);
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
