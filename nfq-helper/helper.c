// SPDX-License-Identifier: GPL-2.0-or-later
/* The per-wakeup cycle: packets -> conntrack -> pins -> verdicts. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_conntrack_common.h>

#include "helper.h"
#include "mapload.h"
#include "nftmap.h"
#include "packet.h"
#include "pin.h"
#include "queue.h"

struct addrs {
	char inner[INET_ADDRSTRLEN];
	char gateway[INET_ADDRSTRLEN];
	char pool[INET_ADDRSTRLEN];
};

static void format_addrs(const struct pin *p, struct addrs *a)
{
	inet_ntop(AF_INET, &p->inner, a->inner, sizeof(a->inner));
	inet_ntop(AF_INET, &p->gateway, a->gateway, sizeof(a->gateway));
	inet_ntop(AF_INET, &p->pool, a->pool, sizeof(a->pool));
}

int helper_init(struct helper *h, size_t batch_max)
{
	h->batch_max = batch_max;
	h->jobs = calloc(batch_max, sizeof(*h->jobs));
	h->queries = calloc(batch_max, sizeof(*h->queries));
	h->pins = calloc(batch_max, sizeof(*h->pins));
	h->pending = calloc(batch_max, sizeof(*h->pending));
	h->created = calloc(batch_max, sizeof(*h->created));
	if (!h->jobs || !h->queries || !h->pins || !h->pending || !h->created) {
		helper_free(h);
		return -ENOMEM;
	}
	return 0;
}

void helper_free(struct helper *h)
{
	free(h->jobs);
	free(h->queries);
	free(h->pins);
	free(h->pending);
	free(h->created);
	mapload_stop(h->load);
	h->load = NULL;
	limit_free(&h->limit);
	h->created = NULL;
	h->jobs = NULL;
	h->queries = NULL;
	h->pins = NULL;
	h->pending = NULL;
}

void helper_classify(struct helper *h, const uint8_t *payload, size_t caplen,
		     size_t len, const struct nlattr *ct, struct job *job)
{
	enum packet_result pr;
	enum ike_result ir;
	struct udp_view v;

	job->state = JOB_DONE;
	h->stats.packets++;
	pr = payload ? packet_parse(payload, caplen, len, &v) :
		       PACKET_TRUNCATED;
	if (pr != PACKET_OK ||
	    (v.sport != IKE_PORT && v.sport != IKE_NATT_PORT)) {
		h->stats.not_ike++;
		log_debug("packet: skipped: %s", pr != PACKET_OK ?
				  packet_result_str(pr) : "not from port 500 or 4500");
		return;
	}
	ir = ike_parse(v.payload, v.caplen, v.len, v.sport == IKE_NATT_PORT,
		       &job->ike);
	switch (ir) {
	case IKE_OK:
		h->stats.ike_ok++;
		break;
	case IKE_KEEPALIVE:
		h->stats.keepalives++;
		return;
	case IKE_ESP:
		h->stats.esp++;
		return;
	default:
		h->stats.ike_rejected++;
		h->stats.ike_rejected_by[ir]++;
		log_debug("ike: rejected: %s", ike_result_str(ir));
		return;
	}
	job->reply.src = v.saddr;
	job->reply.dst = v.daddr;
	job->reply.sport = v.sport;
	job->reply.dport = v.dport;
	job->reply.proto = IPPROTO_UDP;
	job->state = JOB_LOOKUP;
	if (ct) {
		if (ct_decode(mnl_attr_get_payload(ct),
			      mnl_attr_get_payload_len(ct), &job->ct) < 0) {
			h->stats.ct_errors++;
			job->state = JOB_DONE;
			return;
		}
		job->state = JOB_PIN;
	}
}

static void warn_limited(struct ratelimit *rl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void warn_limited(struct ratelimit *rl, const char *fmt, ...)
{
	unsigned long suppressed;
	char line[512];
	va_list ap;

	if (!ratelimit_pass(rl, &suppressed))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (suppressed)
		log_warnx("%s (%lu more suppressed)", line, suppressed);
	else
		log_warnx("%s", line);
}

static void on_packet(const struct queue_pkt *pkt, void *data)
{
	struct helper *h = data;
	struct job *job;

	/* one netlink read never holds more packets than asked for; were it
	 * to, the extra ones are accepted with the batch, unpinned */
	if (h->njobs == h->batch_max) {
		h->stats.packets++;
		return;
	}
	job = &h->jobs[h->njobs++];

	helper_classify(h, pkt->payload, pkt->caplen, pkt->len, pkt->ct, job);
	job->arrived_us = pkt->arrived_us;
}


static void lookup_entries(struct helper *h)
{
	size_t i, n = 0;
	int ret;

	for (i = 0; i < h->njobs; i++)
		if (h->jobs[i].state == JOB_LOOKUP)
			h->queries[n++].reply = h->jobs[i].reply;
	if (!n)
		return;
	ret = ct_lookup(h->ct, h->queries, n);
	if (ret < 0)
		warn_limited(&h->rl_error, "ct: lookup of %zu entries: %s", n,
			     strerror(-ret));
	for (i = 0, n = 0; i < h->njobs; i++) {
		struct job *job = &h->jobs[i];

		if (job->state != JOB_LOOKUP)
			continue;
		if (h->queries[n].err == 0) {
			job->ct = h->queries[n].entry;
			job->state = JOB_PIN;
		} else {
			job->state = JOB_DONE;
			if (h->queries[n].err == -ENOENT)
				h->stats.ct_miss++;
			else
				h->stats.ct_errors++;
		}
		n++;
	}
}

/*
 * A pin is learnt only from the reply of a flow that an inner host started
 * and that this box source-NATed to the address the reply is going to.
 */
static bool answers_inner_flow(const struct job *job)
{
	const struct ct_entry *e = &job->ct;

	return (e->status & IPS_SRC_NAT) && e->reply.src == job->reply.src &&
	       e->reply.dst == job->reply.dst && e->orig.src != e->reply.dst;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* at most this many pins read from the kernel in one round */
#define CHECK_MAX 1024
/* rounds of expired estimates read back per second, at most */
#define SWEEP_ROUNDS 16

/*
 * Reads keys[0..n) in the kernel and tells the limiter which are live (with
 * their expiry) and which are gone. 0 or -errno.
 */
static int check_pins(struct helper *h, struct nftmap_elem *e, size_t n,
		      uint64_t now)
{
	int err[CHECK_MAX], ret;
	size_t i;

	ret = nftmap_get(h->map, e, n, err);
	h->stats.pin_checks++;
	for (i = 0; i < n; i++) {
		if (err[i] == 0)
			limit_note(&h->limit, e[i].inner, e[i].gateway,
				   now + e[i].expires_ms);
		else if (err[i] == -ENOENT)
			limit_forget(&h->limit, e[i].inner, e[i].gateway);
	}
	if (ret < 0)
		warn_limited(&h->rl_error, "map %s: reading %zu pins: %s",
			     h->map_name, n, strerror(-ret));
	return ret;
}

/* A host at its cap: which of its pins, and this one, are live? */
static void check_host(struct helper *h, const struct pin *p, uint64_t now)
{
	struct nftmap_elem e[CHECK_MAX];
	in_addr_t gws[CHECK_MAX];
	size_t i, n;

	n = limit_host_pins(&h->limit, p->inner, gws, CHECK_MAX - 1);
	gws[n++] = p->gateway;
	for (i = 0; i < n; i++)
		e[i] = (struct nftmap_elem){ .inner = p->inner,
					     .gateway = gws[i] };
	if (check_pins(h, e, n, now) == 0)
		limit_verified(&h->limit, p->inner, now);
}

static void refuse(struct helper *h, const struct pin *p, enum limit_verdict v)
{
	const struct limit_config *c = &h->limit.cfg;
	struct addrs a;
	char why[80];

	if (v == LIMIT_CAPPED) {
		h->stats.pins_capped++;
		snprintf(why, sizeof(why), "holds its cap of %" PRIu32
			 " pins (--host-pins)", c->host_cap);
	} else if (v == LIMIT_HOST_RATE) {
		h->stats.pins_rate_host++;
		snprintf(why, sizeof(why), "makes new pins faster than %" PRIu32
			 "/s (--host-rate)", c->host_rate);
	} else {
		h->stats.pins_rate_all++;
		snprintf(why, sizeof(why), "asks while new pins come faster than %"
			 PRIu32 "/s in all (--pin-rate)", c->rate);
	}
	format_addrs(p, &a);
	warn_limited(v == LIMIT_CAPPED ? &h->rl_capped : &h->rl_rate,
		     "pin: inner host %s %s: %s -> %s via %s not pinned",
		     a.inner, why, a.inner, a.gateway, a.pool);
}

/*
 * The caps, where pins are about to be written: a pin the limiter knows is
 * a refresh and passes; a new one needs room under its host's cap and
 * tokens. False if refused (the answer then passes unpinned).
 */
static bool admit(struct helper *h, const struct pin *p, bool *created)
{
	enum limit_verdict v;
	uint64_t now;

	*created = false;
	if (!h->limits_on)
		return true;
	now = now_ms();
	v = limit_admit(&h->limit, p->inner, p->gateway, now);
	if (v == LIMIT_VERIFY) {
		check_host(h, p, now);
		v = limit_admit(&h->limit, p->inner, p->gateway, now);
		if (v == LIMIT_VERIFY)	/* the check failed: stay capped */
			v = LIMIT_CAPPED;
	}
	if (v == LIMIT_KNOWN || v == LIMIT_CREATE) {
		*created = v == LIMIT_CREATE;
		return true;
	}
	refuse(h, p, v);
	return false;
}

static void collect_pins(struct helper *h)
{
	struct pin p;
	size_t i;

	h->npins = 0;
	for (i = 0; i < h->njobs; i++) {
		struct job *job = &h->jobs[i];

		if (job->state != JOB_PIN)
			continue;
		if (!answers_inner_flow(job)) {
			h->stats.ct_miss++;
			job->state = JOB_DONE;
			continue;
		}
		pin_init(&p, job->ct.orig.src, job->reply.src, job->reply.dst);
		job->pin = pin_find(h->pins, h->npins, &p);
		job->pin_owner = job->pin == h->npins;
		if (!job->pin_owner)
			continue;
		if (!admit(h, &p, &h->created[h->npins])) {
			job->state = JOB_DONE;
			continue;
		}
		h->pins[h->npins++] = p;
	}
}

/* What the kernel made of the pins: the limiter's table follows it. */
static void settle_limits(struct helper *h)
{
	uint64_t now = now_ms();
	size_t i;

	if (!h->limits_on)
		return;
	for (i = 0; i < h->npins; i++) {
		const struct pin *p = &h->pins[i];

		switch (p->state) {
		case PIN_ADDED:
		case PIN_REFRESHED:
			limit_note(&h->limit, p->inner, p->gateway,
				   now + h->timeout_ms);
			break;
		case PIN_CONFLICT:	/* live, expiry unknown: check soon */
			limit_note(&h->limit, p->inner, p->gateway, now);
			break;
		default:
			if (h->created[i])
				limit_forget(&h->limit, p->inner, p->gateway);
			break;
		}
	}
	h->stats.pin_table = limit_count(&h->limit);
}

static void note_loaded(const struct nftmap_elem *e, void *data)
{
	struct helper *h = data;

	limit_note(&h->limit, e->inner, e->gateway, e->expires_ms);
}

int helper_limits(struct helper *h, const struct limit_config *c,
		  const char *table, const char *map)
{
	struct timespec ts;
	int ret;

	clock_gettime(CLOCK_REALTIME, &ts);
	ret = limit_init(&h->limit, c, ts.tv_nsec ^ ts.tv_sec);
	if (ret < 0)
		return ret;
	h->limits_on = true;
	h->load_start_ms = now_ms();
	return mapload_start(&h->load, table, map);
}

/* The pins read from the map so far join the limiter's table. */
static void take_loaded(struct helper *h, uint64_t now)
{
	uint64_t total;
	int ret;

	ret = mapload_take(h->load, note_loaded, h, &total);
	if (ret > 0)
		return;
	if (ret < 0)
		log_warnx("caps: map %s: reading its pins: %s (the caps count the %" PRIu64 " read and those made from now on)",
			  h->map_name, strerror(-ret), total);
	else
		log_info("caps: %" PRIu64 " pins read from map %s in %.1f s",
			 total, h->map_name, (now - h->load_start_ms) / 1e3);
	mapload_stop(h->load);
	h->load = NULL;
}

/* Once new pins come faster than LIMIT_LOG_LINES a window: one line. */
static void log_summary(struct helper *h, uint64_t now, bool force)
{
	uint64_t n = limit_log_due(&h->limit, now, force);

	if (!n)
		return;
	log_info("pin: %" PRIu64 " new pins in the last %d s, %" PRIu64
		 " not logged one by one, e.g. %s", n, LIMIT_LOG_WINDOW_S,
		 n - LIMIT_LOG_LINES, h->summary_eg);
	h->summary_eg[0] = 0;
}

void helper_summary(struct helper *h)
{
	if (h->limits_on)
		log_summary(h, now_ms(), true);
}

void helper_tick(struct helper *h)
{
	struct nftmap_elem e[CHECK_MAX];
	struct limit_key k[CHECK_MAX];
	uint64_t now = now_ms();
	size_t i, n, round;

	if (!h->limits_on || now < h->next_tick_ms)
		return;
	h->next_tick_ms = now + 1000;
	log_summary(h, now, false);
	if (h->load)
		take_loaded(h, now);
	/* pins past their estimate: expired, or refreshed by the kernel; up
	 * to SWEEP_ROUNDS full rounds a second keep up with the global rate */
	for (round = 0; round < SWEEP_ROUNDS; round++) {
		n = limit_stale(&h->limit, now, k, CHECK_MAX);
		for (i = 0; i < n; i++)
			e[i] = (struct nftmap_elem){ .inner = k[i].inner,
						     .gateway = k[i].gateway };
		if (n)
			check_pins(h, e, n, now);
		if (n < CHECK_MAX)
			break;
	}
	h->stats.pin_table = limit_count(&h->limit);
	log_flush();
}

void helper_commit_pins(struct helper *h)
{
	size_t i, n, round;
	bool committed;
	int ret;

	for (round = 0; round < PIN_MAX_ROUNDS; round++) {
		for (i = 0, n = 0; i < h->npins; i++)
			if (pin_pending(&h->pins[i]))
				h->pending[n++] = &h->pins[i];
		if (!n)
			return;
		ret = nftmap_commit(h->map, h->pending, n, h->timeout_ms,
				    &committed);
		h->stats.transactions++;
		if (ret < 0)
			log_debug("map: transaction of %zu: %s", n, strerror(-ret));
		for (i = 0; i < n; i++)
			pin_settle(h->pending[i], h->pending[i]->err, committed);
	}
	for (i = 0; i < h->npins; i++)
		pin_give_up(&h->pins[i]);
}

static void report_pin(struct helper *h, const struct job *job)
{
	const struct pin *p = &h->pins[job->pin];
	struct addrs a;

	format_addrs(p, &a);
	switch (p->state) {
	case PIN_ADDED:
		h->stats.pins_added++;
		if (h->limits_on && !limit_log_pin(&h->limit, now_ms())) {
			if (!h->summary_eg[0])
				snprintf(h->summary_eg, sizeof(h->summary_eg),
					 "%s -> %s via %s", a.inner, a.gateway,
					 a.pool);
			break;
		}
		log_info("pin: %s -> %s via %s (IKEv%u %s)", a.inner,
			 a.gateway, a.pool, job->ike.version,
			 ike_exchange_str(job->ike.version, job->ike.exchange));
		break;
	case PIN_REFRESHED:
		h->stats.pins_refreshed++;
		log_debug("pin: %s -> %s via %s refreshed", a.inner, a.gateway,
			  a.pool);
		break;
	case PIN_CONFLICT:
		h->stats.pin_conflicts++;
		warn_limited(&h->rl_conflict,
			     "pin: %s -> %s: kept the live pin to another pool address, this reply came via %s (two IKE clients behind one inner address?)",
			     a.inner, a.gateway, a.pool);
		break;
	case PIN_MAP_FULL:
		h->stats.map_full++;
		warn_limited(&h->rl_full,
			     "pin: %s -> %s via %s not stored: map %s is full (%" PRIu32 " elements): raise its size in natt-pin.nft",
			     a.inner, a.gateway, a.pool, h->map_name, h->map_size);
		break;
	default:
		h->stats.map_errors++;
		warn_limited(&h->rl_error,
			     "pin: %s -> %s via %s not stored: map %s: %s%s",
			     a.inner, a.gateway, a.pool, h->map_name,
			     strerror(p->err),
			     p->err == ENOENT ? " (the ruleset was removed? load it again: natt-pin-load)" : "");
		break;
	}
}

int helper_run(struct helper *h)
{
	uint64_t now;
	bool overrun;
	size_t i;
	int n, ret;

	h->njobs = 0;
	n = queue_recv(h->queue, h->batch_max, on_packet, h, &overrun);
	if (overrun) {
		h->stats.overruns++;
		warn_limited(&h->rl_overrun,
			     "queue: messages lost (ENOBUFS): the kernel let those packets pass unpinned");
	}
	if (n < 0) {
		warn_limited(&h->rl_error, "queue: receive: %s", strerror(-n));
		return 0;
	}
	if (!n)
		return 0;
	h->stats.batches++;
	if ((uint64_t)n > h->stats.batch_max)
		h->stats.batch_max = n;

	if (h->ct)
		lookup_entries(h);
	collect_pins(h);
	helper_commit_pins(h);
	settle_limits(h);
	if (h->limits_on)
		log_summary(h, now_ms(), false);
	for (i = 0; i < h->njobs; i++)
		if (h->jobs[i].state == JOB_PIN && h->jobs[i].pin_owner)
			report_pin(h, &h->jobs[i]);

	ret = queue_accept_held(h->queue);
	if (ret < 0) {
		warn_limited(&h->rl_error, "queue: verdict: %s", strerror(-ret));
		return n;
	}
	h->stats.verdicts += n;
	log_flush();
	now = queue_now_us();
	for (i = 0; i < h->njobs; i++)
		stats_latency(&h->stats, now > h->jobs[i].arrived_us ?
						 now - h->jobs[i].arrived_us : 0);
	return n;
}
