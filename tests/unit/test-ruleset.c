// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The learn rule as the daemon finds it: rules built with libnftnl as nft
 * builds natt-pin.nft's, parsed back by ruleset_learn_rule().
 */
#include <stdbool.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "check.h"
#include "ruleset.h"

#define LEARN 0x00200000
#define MARK 0x00100000

static char buf[8192];

static void add(struct nftnl_rule *r, struct nftnl_expr *e)
{
	nftnl_rule_add_expr(r, e);
}

/* meta mark and bits OP bits (eq), or != 0 (neq) */
static void mark_test(struct nftnl_rule *r, uint32_t bits, bool eq)
{
	struct nftnl_expr *e;
	uint32_t zero = 0, cmp = eq ? bits : 0;

	e = nftnl_expr_alloc("meta");
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_MARK);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	add(r, e);
	e = nftnl_expr_alloc("bitwise");
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, 4);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &bits, 4);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &zero, 4);
	add(r, e);
	e = nftnl_expr_alloc("cmp");
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, eq ? NFT_CMP_EQ : NFT_CMP_NEQ);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, &cmp, 4);
	add(r, e);
}

static void jump(struct nftnl_rule *r, const char *chain)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NFT_JUMP);
	nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
	add(r, e);
}

static void update(struct nftnl_rule *r, const char *set)
{
	struct nftnl_expr *e = nftnl_expr_alloc("dynset");

	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_UPDATE);
	nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, set);
	add(r, e);
}

static struct nftnl_rule *rule(void)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, "natt_pin");
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, "unmark");
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_IPV4);
	return r;
}

/* The rule as the kernel lists it, read back. */
static struct ruleset_learn_rule read_back(struct nftnl_rule *r)
{
	struct ruleset_learn_rule got;
	struct nlmsghdr *nlh;

	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWRULE, NFPROTO_IPV4, 0, 1);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	CHECK(ruleset_learn_rule(nlh, "pins", &got));
	return got;
}

static void test_jump_to_learn(void)
{
	struct nftnl_rule *r = rule();
	struct ruleset_learn_rule got;

	mark_test(r, LEARN, true);
	jump(r, "learn");
	got = read_back(r);
	CHECK(got.tests == LEARN && got.jumps && !got.updates);
}

static void test_learn_rules(void)
{
	struct nftnl_rule *r = rule();
	struct ruleset_learn_rule got;

	/* the map shape, and the keys shape with its second update */
	update(r, "pins");
	got = read_back(r);
	CHECK(!got.tests && got.updates);
	r = rule();
	update(r, "pins");
	update(r, "pinned");
	got = read_back(r);
	CHECK(got.updates);
	/* the rule inline: its own mark test */
	r = rule();
	mark_test(r, LEARN, true);
	update(r, "pins");
	got = read_back(r);
	CHECK(got.tests == LEARN && got.updates && !got.jumps);
}

static void test_not_learn(void)
{
	struct nftnl_rule *r = rule();
	struct ruleset_learn_rule got;

	/* NATT_PIN_MARK's clearing: a mark test, no jump, no update */
	mark_test(r, MARK, true);
	got = read_back(r);
	CHECK(got.tests == MARK && !got.jumps && !got.updates);
	/* `!= 0' tests no bit; a jump elsewhere; an update of another set */
	r = rule();
	mark_test(r, MARK | LEARN, false);
	jump(r, "marked");
	update(r, "flood");
	got = read_back(r);
	CHECK(!got.tests && !got.jumps && !got.updates);
}

int main(void)
{
	RUN(test_jump_to_learn);
	RUN(test_learn_rules);
	RUN(test_not_learn);
	return CHECK_DONE();
}
