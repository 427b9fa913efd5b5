// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Which conntrack entries justify a pin, which NAT-T flows are split, and
 * every verdict of --explain.
 */
#include <arpa/inet.h>

#include <linux/netfilter/nf_conntrack_common.h>

#include "check.h"
#include "ikeflow.h"

#define INNER "100.64.1.7"
#define GW "203.0.113.2"
#define POOL_A "198.51.100.1"
#define POOL_B "198.51.100.2"

/* A UDP flow INNER:sport -> GW:port, source-NATed to pool. */
static struct ct_entry entry(uint16_t port, const char *pool, uint32_t status)
{
	struct ct_entry e = {
		.orig = { inet_addr(INNER), inet_addr(GW), 40000, port,
			  IPPROTO_UDP },
		.reply = { inet_addr(GW), inet_addr(pool), port, 1024,
			   IPPROTO_UDP },
		.status = status | IPS_SRC_NAT | IPS_CONFIRMED,
	};
	return e;
}

static struct ikeflow flow(uint16_t port, const char *pool, bool answered)
{
	struct ct_entry e = entry(port, pool, answered ? IPS_SEEN_REPLY : 0);
	struct ikeflow f = { 0 };

	CHECK(ikeflow_from_ct(&e, &f));
	return f;
}

static void test_from_ct(void)
{
	struct ct_entry e = entry(500, POOL_A, IPS_SEEN_REPLY);
	struct ikeflow f;

	CHECK(ikeflow_from_ct(&e, &f));
	CHECK(f.inner == inet_addr(INNER) && f.gateway == inet_addr(GW));
	CHECK(f.pool == inet_addr(POOL_A) && f.port == 500 && f.answered);
	CHECK(ikeflow_justifies_pin(&f));

	e = entry(4500, POOL_A, 0);
	CHECK(ikeflow_from_ct(&e, &f) && f.port == 4500 && !f.answered);
	CHECK(!ikeflow_justifies_pin(&f));

	e = entry(500, POOL_A, IPS_SEEN_REPLY);
	CHECK(ikeflow_src_nated(&e));
	e.status &= ~IPS_SRC_NAT;	/* not NATed by this box */
	CHECK(!ikeflow_src_nated(&e) && !ikeflow_from_ct(&e, &f));
	e = entry(500, POOL_A, IPS_SEEN_REPLY);
	e.reply.dst = e.orig.src;	/* the box's own flow */
	CHECK(!ikeflow_src_nated(&e) && !ikeflow_from_ct(&e, &f));
	e = entry(53, POOL_A, IPS_SEEN_REPLY);
	CHECK(!ikeflow_from_ct(&e, &f));
	e = entry(500, POOL_A, IPS_SEEN_REPLY);
	e.orig.proto = IPPROTO_TCP;
	CHECK(!ikeflow_from_ct(&e, &f));
}

static void test_split(void)
{
	struct ikeflow f = flow(4500, POOL_B, false);

	CHECK(ikeflow_split(&f, inet_addr(POOL_A)));
	CHECK(!ikeflow_split(&f, inet_addr(POOL_B)));
	f = flow(4500, POOL_B, true);	/* answered: never touched */
	CHECK(!ikeflow_split(&f, inet_addr(POOL_A)));
	f = flow(500, POOL_B, false);	/* an IKE flow is not split */
	CHECK(!ikeflow_split(&f, inet_addr(POOL_A)));
}

static void test_verdicts(void)
{
	in_addr_t pin = inet_addr(POOL_A), pool;
	struct ikeflow f[3];

	/* pinned, both flows via the pin's address */
	f[0] = flow(500, POOL_A, true);
	f[1] = flow(4500, POOL_A, true);
	CHECK(ikeflow_verdict(f, 2, &pin, &pool) == IKEFLOW_CONSISTENT);
	CHECK(pool == pin);
	/* pinned, no flow left */
	CHECK(ikeflow_verdict(f, 0, &pin, &pool) == IKEFLOW_CONSISTENT);
	/* pinned, an old answered NAT-T flow elsewhere still works */
	f[1] = flow(4500, POOL_B, true);
	CHECK(ikeflow_verdict(f, 2, &pin, &pool) == IKEFLOW_CONSISTENT);

	/* split: with the pin, and without one (the field report) */
	f[1] = flow(4500, POOL_B, false);
	CHECK(ikeflow_verdict(f, 2, &pin, &pool) == IKEFLOW_SPLIT);
	CHECK(ikeflow_verdict(f, 2, NULL, &pool) == IKEFLOW_SPLIT);
	CHECK(pool == inet_addr(POOL_A));
	/* the answered IKE flow decides, whatever the order */
	f[2] = f[0];
	f[0] = f[1];
	CHECK(ikeflow_verdict(f, 3, NULL, &pool) == IKEFLOW_SPLIT);
	CHECK(pool == inet_addr(POOL_A));

	/* not pinned: nothing, no answer, answered but no pin */
	CHECK(ikeflow_verdict(f, 0, NULL, &pool) == IKEFLOW_NO_FLOWS);
	f[0] = flow(500, POOL_A, false);
	CHECK(ikeflow_verdict(f, 1, NULL, &pool) == IKEFLOW_UNANSWERED);
	f[0] = flow(500, POOL_A, true);
	f[1] = flow(4500, POOL_A, false);
	CHECK(ikeflow_verdict(f, 2, NULL, &pool) == IKEFLOW_UNPINNED);
	CHECK(ikeflow_verdict_str(IKEFLOW_SPLIT)[0] == 's');
}

int main(void)
{
	RUN(test_from_ct);
	RUN(test_split);
	RUN(test_verdicts);
	return CHECK_DONE();
}
