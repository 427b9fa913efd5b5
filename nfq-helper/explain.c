// SPDX-License-Identifier: GPL-2.0-or-later
/* --explain: a subscriber's flows, pins and verdict, per gateway. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "explain.h"
#include "ikeflow.h"
#include "msg.h"
#include "nftmap.h"
#include "util.h"
#include "zone.h"

#define MAX_ITEMS 4096	/* flows or pins of one subscriber, at most */

struct seen {
	uint16_t zone;
	in_addr_t inner, gateway;
	struct ikeflow flows[MAX_ITEMS];
	uint16_t sports[MAX_ITEMS];
	size_t nflows;
	struct nftmap_elem pins[MAX_ITEMS];
	size_t npins;
	in_addr_t gateways[MAX_ITEMS];
	size_t ngateways;
};

static bool wanted(const struct seen *s, uint16_t zone, in_addr_t inner,
		   in_addr_t gw)
{
	return zone == s->zone && inner == s->inner &&
	       (!s->gateway || gw == s->gateway);
}

static void add_gateway(struct seen *s, in_addr_t gw)
{
	size_t i;

	for (i = 0; i < s->ngateways; i++)
		if (s->gateways[i] == gw)
			return;
	if (s->ngateways < MAX_ITEMS)
		s->gateways[s->ngateways++] = gw;
}

static void on_entry(const struct ct_entry *e, void *data)
{
	struct seen *s = data;
	struct ikeflow f;

	if (!ikeflow_from_ct(e, &f) || !wanted(s, f.zone, f.inner, f.gateway) ||
	    s->nflows == MAX_ITEMS)
		return;
	s->sports[s->nflows] = e->orig.sport;
	s->flows[s->nflows++] = f;
	add_gateway(s, f.gateway);
}

static void on_pin(const struct nftmap_elem *e, void *data)
{
	struct seen *s = data;

	if (!wanted(s, e->zone, e->inner, e->gateway) ||
	    s->npins == MAX_ITEMS)
		return;
	s->pins[s->npins++] = *e;
	add_gateway(s, e->gateway);
}

static int read_flows(struct seen *s)
{
	struct ct_sock *cs;
	int ret;

	ret = ct_open(&cs);
	if (ret < 0)
		return ret;
	ret = ct_dump(cs, on_entry, NULL, s);
	ct_close(cs);
	return ret;
}

static int read_pins(struct seen *s, const struct nfqh_config *cfg)
{
	struct nftmap *m;
	int ret;

	ret = nftmap_open(&m, cfg->table, cfg->map);
	if (ret < 0)
		return ret;
	ret = nftmap_dump(m, on_pin, s);
	nftmap_close(m);
	return ret;
}

/* Lists one gateway's flows and pin; returns its verdict. */
static enum ikeflow_verdict explain_gateway(const struct seen *s, in_addr_t gw,
					    in_addr_t *pool)
{
	char a[4][INET_ADDRSTRLEN];
	struct ikeflow f[MAX_ITEMS];
	const in_addr_t *pin = NULL;
	size_t i, n = 0;

	printf("gateway %s\n", util_addr_str(gw, a[0]));
	for (i = 0; i < s->nflows; i++) {
		if (s->flows[i].gateway != gw)
			continue;
		f[n++] = s->flows[i];
		printf("  flow  udp %-4u from %s:%u via %-15s %s\n",
		       s->flows[i].port, util_addr_str(s->inner, a[1]), s->sports[i],
		       util_addr_str(s->flows[i].pool, a[2]),
		       s->flows[i].answered ? "answered" : "no answer");
	}
	for (i = 0; i < s->npins; i++) {
		if (s->pins[i].gateway != gw)
			continue;
		pin = &s->pins[i].pool;
		printf("  pin   via %-15s %" PRIu64 " s left\n",
		       util_addr_str(*pin, a[3]), s->pins[i].expires_ms / 1000);
	}
	if (!n)
		printf("  no IKE or NAT-T flow in conntrack\n");
	if (!pin)
		printf("  no pin\n");
	return ikeflow_verdict(f, n, pin, pool);
}

/* Worse verdicts first: what the final line reports. */
static int severity(enum ikeflow_verdict v)
{
	switch (v) {
	case IKEFLOW_SPLIT:
		return 4;
	case IKEFLOW_UNPINNED:
		return 3;
	case IKEFLOW_UNANSWERED:
		return 2;
	case IKEFLOW_NO_FLOWS:
		return 1;
	default:
		return 0;
	}
}

static int exit_status(enum ikeflow_verdict v)
{
	switch (v) {
	case IKEFLOW_CONSISTENT:
		return EXPLAIN_EXIT_PINNED;
	case IKEFLOW_SPLIT:
		return EXPLAIN_EXIT_SPLIT;
	default:
		return EXPLAIN_EXIT_UNPINNED;
	}
}

int explain_run(const struct nfqh_config *cfg)
{
	char a[3][ZONE_HOST_STRLEN];
	enum ikeflow_verdict v, worst = IKEFLOW_NO_FLOWS;
	in_addr_t pool, worst_pool = 0, worst_gw = cfg->explain_gateway;
	char m[MSG_LEN];
	struct seen *s;
	size_t i;
	int ret;

	s = calloc(1, sizeof(*s));
	if (!s) {
		fprintf(stderr, "nfq-helper: %s\n",
			msg_errno(m, sizeof(m), ENOMEM, "--explain"));
		return EXPLAIN_EXIT_ERROR;
	}
	s->zone = cfg->explain_zone;
	s->inner = cfg->explain_inner;
	s->gateway = cfg->explain_gateway;
	if (s->gateway)
		add_gateway(s, s->gateway);
	ret = read_flows(s);
	if (ret < 0) {
		fprintf(stderr, "nfq-helper: %s\n",
			msg_errno(m, sizeof(m), -ret, "conntrack"));
		free(s);
		return EXPLAIN_EXIT_ERROR;
	}
	ret = read_pins(s, cfg);
	if (ret < 0) {
		fprintf(stderr, "nfq-helper: %s\n",
			msg_errno(m, sizeof(m), -ret, "map ip %s %s",
				  cfg->table, cfg->map));
		free(s);
		return EXPLAIN_EXIT_ERROR;
	}
	printf("subscriber %s\n", zone_host_str(s->zone, s->inner, a[0]));
	for (i = 0; i < s->ngateways; i++) {
		v = explain_gateway(s, s->gateways[i], &pool);
		printf("  %s\n", ikeflow_verdict_str(v));
		if (i == 0 || severity(v) > severity(worst)) {
			worst = v;
			worst_gw = s->gateways[i];
			worst_pool = pool;
		}
	}
	if (worst_gw)
		printf("%s -> %s: ", a[0], util_addr_str(worst_gw, a[1]));
	else
		printf("%s: ", a[0]);
	printf("%s", ikeflow_verdict_str(worst));
	if (worst_pool)
		printf(" (%s %s)", worst == IKEFLOW_CONSISTENT ? "pinned to" :
			      worst == IKEFLOW_SPLIT ? "should leave via" :
			      "IKE answered via",
		       util_addr_str(worst_pool, a[2]));
	printf("\n");
	free(s);
	return exit_status(worst);
}
