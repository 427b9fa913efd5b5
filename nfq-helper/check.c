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

#include <libmnl/libmnl.h>

#include "check.h"
#include "msg.h"
#include "netlink.h"
#include "nftmap.h"
#include "probe.h"
#include "queue.h"
#include "ruleset.h"
#include "status.h"

struct checker {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	int failed;
	bool zone_priority;	/* the loaded rules put the zone there */
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
	char t[MSG_LEN], name[600];
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
	if (info.gc_ms)
		say(c, "ok", "map gc interval: %" PRIu32 " s", info.gc_ms / 1000);
	else
		say(c, "info", "map gc interval: none declared, the kernel walks every pin each second (a running daemon gives it --gc-interval)");
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

static void check_native_queue(struct checker *c)
{
	int err = probe_queue_expr();

	if (err == -ENOMEM)
		say(c, "warn", "nft queue expression: could not tell (%s)", strerror(-err));
	else if (err == 0)
		say(c, "ok", "nft queue expression: available (natt-pin.nft loads as it is)");
	else
		say(c, "info", "nft queue expression: not in this kernel (CONFIG_NFT_QUEUE; %s): "
		    "natt-pin-load feeds the queue through iptables-nft instead", strerror(-err));
}

/* What the kernel takes, and the shape natt-pin-load gave the ruleset. */
static void check_shape(struct checker *c, const struct ruleset_rules *q)
{
	int err = probe_map_key_lookup();
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
	uint16_t spare = cfg->queue_num == 65535 ? 65534 : 65535;
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
	ret = probe_ct_attached(spare);
	if (ret < 0) {
		say(c, "warn", "conntrack in queued packets: could not tell (queue %u: %s)",
		    spare, strerror(-ret));
		return;
	}
	if (ret)
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
	int ret = probe_ctnetlink();

	if (ret == 0)
		say(c, "ok", "ctnetlink: answers lookups");
	else
		say(c, "FAIL", "ctnetlink: %s (needs nf_conntrack_netlink)",
		    strerror(-ret));
}

static void check_timeout_update_line(struct checker *c)
{
	int ret = probe_timeout_update();

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
