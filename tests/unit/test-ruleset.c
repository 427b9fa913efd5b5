// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The learn rule as the daemon finds it: rules built with libnftnl as nft
 * builds natt-pin.nft's, parsed back by ruleset_parse_rule(), and the mark
 * bit and refresh rules found among them.
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

static struct nftnl_rule *rule(const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, "natt_pin");
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_IPV4);
	return r;
}

/* The rule as the kernel lists it, read back into rules[*n]. */
static void read_back(struct nftnl_rule *r, struct ruleset_rule *rules,
		      size_t *n)
{
	struct nlmsghdr *nlh;

	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWRULE, NFPROTO_IPV4, 0, 1);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	CHECK(ruleset_parse_rule(nlh, "pins", &rules[*n]));
	(*n)++;
}

/* natt-pin.nft's rules, as far as they go towards pins */
static size_t shipped(struct ruleset_rule *rules, bool keys_shape)
{
	struct nftnl_rule *r;
	size_t n = 0;
	const char *ike[] = { "ike500", "ike4500" };
	int i;

	for (i = 0; i < 2; i++) {
		r = rule(ike[i]);	/* ... @pins jump refresh */
		jump(r, "refresh");
		read_back(r, rules, &n);
		r = rule(ike[i]);	/* the flood limit */
		update(r, "flood");
		read_back(r, rules, &n);
	}
	r = rule("refresh");
	update(r, "pins");
	read_back(r, rules, &n);
	r = rule("unmark");	/* meta mark and (MARK | LEARN) != 0 */
	mark_test(r, MARK | LEARN, false);
	jump(r, "marked");
	read_back(r, rules, &n);
	r = rule("marked");	/* clears MARK */
	mark_test(r, MARK, true);
	read_back(r, rules, &n);
	r = rule("marked");
	mark_test(r, LEARN, true);
	jump(r, "learn");
	read_back(r, rules, &n);
	r = rule("learn");
	update(r, "pins");
	if (keys_shape)
		update(r, "pinned");
	read_back(r, rules, &n);
	r = rule("learn");	/* counter learn_refused */
	read_back(r, rules, &n);
	return n;
}

static void test_shipped(void)
{
	struct ruleset_rule rules[16];
	size_t n;

	n = shipped(rules, false);
	CHECK(!strcmp(rules[0].chain, "ike500") &&
	      !strcmp(rules[0].jump, "refresh"));
	CHECK(rules[6].tests == MARK && !rules[6].jump[0]);
	CHECK(ruleset_learn_mark_of(rules, n) == LEARN);
	CHECK(ruleset_refresh_rules(rules, n) == 2);
	n = shipped(rules, true);
	CHECK(ruleset_learn_mark_of(rules, n) == LEARN);
}

static void test_inline(void)
{
	struct ruleset_rule rules[2];
	struct nftnl_rule *r = rule("unmark");
	size_t n = 0;

	mark_test(r, LEARN, true);
	update(r, "pins");
	read_back(r, rules, &n);
	CHECK(ruleset_learn_mark_of(rules, n) == LEARN);
}

static void test_none(void)
{
	struct ruleset_rule rules[16];
	struct nftnl_rule *r;
	size_t n = 0;

	/* an older ruleset: unmark clears MARK, no learn chain */
	r = rule("unmark");
	mark_test(r, MARK, true);
	read_back(r, rules, &n);
	r = rule("refresh");
	update(r, "pins");
	read_back(r, rules, &n);
	CHECK(ruleset_learn_mark_of(rules, n) == 0);
	/* a mark test jumping to a chain that updates another set */
	r = rule("unmark");
	mark_test(r, LEARN, true);
	jump(r, "other");
	read_back(r, rules, &n);
	r = rule("other");
	update(r, "flood");
	read_back(r, rules, &n);
	CHECK(ruleset_learn_mark_of(rules, n) == 0);
	CHECK(ruleset_refresh_rules(rules, n) == 0);
}

int main(void)
{
	RUN(test_shipped);
	RUN(test_inline);
	RUN(test_none);
	return CHECK_DONE();
}
