/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the kernel holds of nfq-helper's ruleset: the table and its map (with
 * their handles, which change when they are re-created) and the rules that
 * feed the queue, nft's own or iptables-nft's. Functions return 0 or -errno.
 */
#ifndef NFQH_RULESET_H
#define NFQH_RULESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>

/* The companion set of the map's keys, where natt-pin-load makes one. */
#define RULESET_KEYS_SET "pinned"
/* The fallback's chain in table ip mangle, as natt-pin-load names it. */
#define RULESET_XT_CHAIN "NATT_PIN"

struct ruleset_rules {
	uint16_t num;		/* the queue asked about */
	unsigned native;	/* nft queue rules feeding it (ike_replies) */
	unsigned xt;		/* NFQUEUE rules feeding it (mangle NATT_PIN) */
	unsigned xt_other;	/* NFQUEUE rules there feeding another queue */
	unsigned xt_jumps;	/* jumps from mangle PREROUTING to NATT_PIN */
	unsigned refresh;	/* rules that send a pinned answer to its refresh */
	unsigned keys;		/* look-ups in the companion set of keys */
	unsigned zone_priority;	/* rules setting the skb priority (the
				 * answer's zone, for the look-up) */
	uint32_t learn_mark;	/* the learn rule's mark bit, 0 if none */
};

struct ruleset_state {
	bool table, map;
	uint64_t table_handle, map_handle;
	struct ruleset_rules rules;
};

struct ruleset_sock {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	char rbuf[65536];	/* NL_RECV_SIZE */
};

/* Counts the rules of one chain that feed queue r->num into *r. */
int ruleset_count_chain(struct ruleset_sock *rs, const char *table,
			const char *chain, struct ruleset_rules *r);

/* A rule of the table, as far as the pins go. */
struct ruleset_rule {
	char chain[NFT_CHAIN_MAXNAMELEN];	/* the rule's */
	char jump[NFT_CHAIN_MAXNAMELEN];	/* where it jumps or goes, or "" */
	uint32_t tests;	/* it asks `meta mark and BITS == BITS': BITS */
	bool updates;	/* it updates the map */
};

/* Reads one rule message (NFT_MSG_NEWRULE); false if unparsable. */
bool ruleset_parse_rule(const struct nlmsghdr *nlh, const char *map,
			struct ruleset_rule *r);

/*
 * The learn rule's mark bit among rules[0..n), 0 if none: a rule that tests
 * `meta mark and BIT == BIT' and updates the map or jumps to a chain that
 * does (natt-pin.nft: chain marked, jumping to chain learn).
 */
uint32_t ruleset_learn_mark_of(const struct ruleset_rule *rules, size_t n);

/* The rules that jump, untested by a mark, to a chain updating the map. */
unsigned ruleset_refresh_rules(const struct ruleset_rule *rules, size_t n);

/* Reads the whole state; a missing table, map or chain is no error. */
int ruleset_read(struct ruleset_sock *rs, const char *table, const char *map,
		 uint16_t queue_num, struct ruleset_state *s);

/* True when a rule feeds the queue: nft's, or iptables-nft's with its jump. */
bool ruleset_feeds_queue(const struct ruleset_rules *r);

/* What is missing, e.g. "table ip natt_pin", or NULL when nothing is. */
const char *ruleset_missing(const struct ruleset_state *s);

#endif
