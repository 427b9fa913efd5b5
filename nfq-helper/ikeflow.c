// SPDX-License-Identifier: GPL-2.0-or-later
/* IKE and NAT-T flows in conntrack: which justify a pin, which are split. */
#include <linux/netfilter/nf_conntrack_common.h>

#include "ike.h"
#include "ikeflow.h"

bool ikeflow_src_nated(const struct ct_entry *e)
{
	return (e->status & IPS_SRC_NAT) && e->orig.src != e->reply.dst;
}

bool ikeflow_from_ct(const struct ct_entry *e, struct ikeflow *f)
{
	if (e->orig.proto != IPPROTO_UDP ||
	    (e->orig.dport != IKE_PORT && e->orig.dport != IKE_NATT_PORT))
		return false;
	if (!ikeflow_src_nated(e))
		return false;
	f->zone = e->zone;
	f->inner = e->orig.src;
	f->gateway = e->reply.src;
	f->pool = e->reply.dst;
	f->port = e->orig.dport;
	f->answered = e->status & IPS_SEEN_REPLY;
	return true;
}

bool ikeflow_justifies_pin(const struct ikeflow *f)
{
	return f->answered;
}

bool ikeflow_split(const struct ikeflow *f, in_addr_t pool)
{
	return f->port == IKE_NATT_PORT && !f->answered && f->pool != pool;
}

/* The address an answered flow left from, 500 before 4500; false if none. */
static bool answered_pool(const struct ikeflow *f, size_t n, in_addr_t *pool)
{
	size_t i;
	int port;

	for (port = 0; port < 2; port++)
		for (i = 0; i < n; i++)
			if (f[i].answered &&
			    f[i].port == (port ? IKE_NATT_PORT : IKE_PORT)) {
				*pool = f[i].pool;
				return true;
			}
	return false;
}

enum ikeflow_verdict ikeflow_verdict(const struct ikeflow *f, size_t n,
				     const in_addr_t *pin, in_addr_t *pool)
{
	size_t i;

	*pool = 0;
	if (pin)
		*pool = *pin;
	else if (!answered_pool(f, n, pool))
		return n ? IKEFLOW_UNANSWERED : IKEFLOW_NO_FLOWS;
	for (i = 0; i < n; i++)
		if (ikeflow_split(&f[i], *pool))
			return IKEFLOW_SPLIT;
	return pin ? IKEFLOW_CONSISTENT : IKEFLOW_UNPINNED;
}

const char *ikeflow_verdict_str(enum ikeflow_verdict v)
{
	switch (v) {
	case IKEFLOW_CONSISTENT:
		return "pinned and consistent";
	case IKEFLOW_SPLIT:
		return "split: the NAT-T flow (4500) left from another address than IKE and gets no answer";
	case IKEFLOW_NO_FLOWS:
		return "not pinned: no IKE or NAT-T flow in conntrack (nothing tried lately, or the flows expired)";
	case IKEFLOW_UNANSWERED:
		return "not pinned: the gateway never answered on UDP 500 (it is unreachable or refuses the subscriber)";
	case IKEFLOW_UNPINNED:
		return "not pinned, though the gateway answered: is nfq-helper running, and the ruleset loaded? (nfq-helper --check)";
	}
	return "?";
}
