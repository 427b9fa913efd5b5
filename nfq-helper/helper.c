// SPDX-License-Identifier: GPL-2.0-or-later
/* The per-wakeup cycle: packets -> conntrack -> caps -> verdicts -> pins. */
#include <errno.h>
#include <stdio.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>

#include <libmnl/libmnl.h>

#include "caps.h"
#include "helper.h"
#include "ikeflow.h"
#include "msg.h"
#include "nftmap.h"
#include "packet.h"
#include "pin.h"
#include "queue.h"
#include "util.h"
#include "zone.h"

/* helper_tick() reads the kernel's refusals this often */
#define HELPER_TICK_MS 1000
/*
 * Above this many answers a second, a wakeup per answer costs more than the
 * answers (a context switch and five system calls each; on the CI VM 24 us
 * of the helper's CPU an answer, 10 us in batches): each wakeup waits
 * HELPER_COALESCE_US for more. Below it, nothing waits.
 */
#define HELPER_BUSY_PPS 10000
#define HELPER_COALESCE_US 100
#define HELPER_PAUSE_US 10000

int helper_init(struct helper *h, size_t batch_max)
{
	h->batch_max = batch_max;
	h->jobs = calloc(batch_max, sizeof(*h->jobs));
	h->queries = calloc(batch_max, sizeof(*h->queries));
	h->pins = calloc(batch_max, sizeof(*h->pins));
	if (!h->jobs || !h->queries || !h->pins ||
	    pinwrite_init(&h->writer, batch_max, &h->map, &h->caps,
			  &h->stats) < 0) {
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
	pinwrite_free(&h->writer);
	caps_free(&h->caps);
	h->jobs = NULL;
	h->queries = NULL;
	h->pins = NULL;
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
		h->stats.ct_attached++;
		if (ct_decode(mnl_attr_get_payload(ct),
			      mnl_attr_get_payload_len(ct), &job->ct) < 0) {
			h->stats.ct_errors++;
			job->state = JOB_DONE;
			return;
		}
		job->state = JOB_PIN;
	}
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
	/* a wakeup that waited for more: its answers were there, or came */
	job->arrived_us = h->woke_us && h->woke_us < pkt->arrived_us ?
				  h->woke_us : pkt->arrived_us;
	job->slot = pkt->slot;
	job->mark = pkt->mark;
	job->reply_zone = pkt->priority <= UINT16_MAX ? pkt->priority : 0;
}


static void lookup_entries(struct helper *h)
{
	size_t i, n = 0;
	int ret;

	for (i = 0; i < h->njobs; i++)
		if (h->jobs[i].state == JOB_LOOKUP) {
			h->queries[n].reply = h->jobs[i].reply;
			h->queries[n++].zone = h->jobs[i].reply_zone;
		}
	if (!n)
		return;
	h->stats.ct_lookups += n;
	ret = ct_lookup(h->ct, h->queries, n);
	if (ret < 0)
		warn_msg(&h->rl_error, MSG_CT_LOOKUP, n, strerror(-ret));
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

	return ikeflow_src_nated(e) && e->reply.src == job->reply.src &&
	       e->reply.dst == job->reply.dst;
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
		pin_init(&p, job->ct.zone, job->ct.orig.src, job->reply.src,
			 job->reply.dst);
		job->pin = pin_find(h->pins, h->npins, &p);
		job->pin_owner = job->pin == h->npins;
		if (job->pin_owner)
			h->pins[h->npins++] = p;
	}
}

void helper_read_kernel_counters(struct helper *h)
{
	struct nftmap *m = h->map.nft;
	uint64_t n;

	if (m && nftmap_counter(m, "refreshes", &n) == 0)
		h->stats.kernel_refreshes = n;
	if (m && nftmap_counter(m, "flood_passed", &n) == 0)
		h->stats.flood_passed = n;
	if (m && nftmap_counter(m, "learn_refused", &n) == 0)
		h->stats.learn_refused = n;
}

void helper_set_learn(struct helper *h, uint32_t mark)
{
	char m[MSG_LEN];
	uint64_t n;

	if (h->learn_known && mark == h->learn_mark)
		return;
	h->learn_known = true;
	h->learn_mark = mark;
	h->stats.learn_mark = mark;
	if (!mark) {
		log_warnx("%s", msg_format(m, sizeof(m), MSG_NO_LEARN_RULE,
					   h->map.name));
		return;
	}
	log_info("pins: written by the kernel, for answers accepted with mark bit 0x%08" PRIx32
		 " (natt-pin.nft's chain learn)", mark);
	h->refusing = false;
	if (nftmap_counter(h->map.nft, "learn_refused", &n) == 0)
		h->refused_seen = n;
}

void helper_tick(struct helper *h)
{
	uint64_t now = util_now_ms(), n;

	if (!h->learn_mark || now < h->next_tick_ms)
		return;
	h->next_tick_ms = now + HELPER_TICK_MS;
	if (nftmap_counter(h->map.nft, "learn_refused", &n) < 0)
		return;
	h->stats.learn_refused = n;
	/* a table made anew starts the counter again */
	h->refusing = n > h->refused_seen;
	if (h->refusing)
		warn_msg(&h->rl_full, MSG_LEARN_REFUSED, n - h->refused_seen,
			 h->map.name, h->map.size);
	h->refused_seen = n;
}

/* The pin of this answer is to be written by the kernel. */
static bool learns(const struct helper *h, const struct job *job)
{
	enum pin_state s;

	if (job->state != JOB_PIN || !job->pin_owner)
		return false;
	s = h->pins[job->pin].state;
	return s == PIN_ADDED || s == PIN_PRESENT;
}

/*
 * The learn rule writes the pin when the verdict's mark has the learn bit;
 * the mark replaces the packet's, which keeps its other bits.
 */
static void set_verdict_mark(struct helper *h, const struct job *job)
{
	uint32_t mark = job->mark & ~h->learn_mark;

	if (learns(h, job)) {
		mark |= h->learn_mark;
		h->stats.learns++;
	}
	if (mark != job->mark)
		queue_set_mark(h->queue, job->slot, mark);
}

/*
 * The live path with a learn rule: every answer queued had no pin when the
 * ruleset looked (else it was refreshed there), so nothing is looked up and
 * nothing written here: the caps decide, the verdict carries the decision.
 * A pin made meanwhile keeps its address (the kernel's update keeps an
 * element's data); one the caps know already is refreshed, not new.
 */
static void learn_pins(struct helper *h)
{
	size_t i;

	pin_mark_repeats(h->pins, h->npins);
	for (i = 0; i < h->npins; i++) {
		struct pin *p = &h->pins[i];

		if (p->state != PIN_UNKNOWN)
			continue;
		if (!caps_admit(&h->caps, p, true))
			p->state = PIN_REFUSED;
		else
			p->state = caps_new_pin(&h->caps, p, h->map.timeout_ms) ?
					   PIN_ADDED : PIN_PRESENT;
	}
	pin_share_outcomes(h->pins, h->npins);
	for (i = 0; i < h->njobs; i++)
		set_verdict_mark(h, &h->jobs[i]);
}

/* The map may be full: refusals seen, or the caps know nearly size pins. */
static bool may_be_full(const struct helper *h)
{
	uint64_t near = h->map.size - h->map.size / 8;

	return h->refusing ||
	       (h->map.size && h->stats.pin_table + h->npins >= near);
}

static void report_pin(struct helper *h, const struct job *job)
{
	const struct pin *p = &h->pins[job->pin];
	struct pin_text a;

	util_pin_text(&a, p->zone, p->inner, p->gateway, p->pool);
	switch (p->state) {
	case PIN_ADDED:
		h->stats.pins_added++;
		if (!caps_log_pin(&h->caps, p))
			break;
		log_info("pin: %s -> %s via %s (IKEv%u %s)", a.inner,
			 a.gateway, a.pool, job->ike.version,
			 ike_exchange_str(job->ike.version, job->ike.exchange));
		break;
	case PIN_PRESENT:
		/* a repeat of an answer whose pin was just made (queued before
		 * it was written), or one the look-up of a transaction found */
		h->stats.pins_present++;
		log_debug("pin: %s -> %s via %s already pinned", a.inner,
			  a.gateway, a.pool);
		break;
	case PIN_REFUSED:	/* counted and warned about by the caps */
		break;
	case PIN_CONFLICT:
		h->stats.pin_conflicts++;
		warn_msg(&h->rl_conflict, MSG_PIN_CONFLICT, a.inner, a.gateway,
			 a.pool);
		break;
	case PIN_MAP_FULL:
		h->stats.map_full++;
		warn_msg(&h->rl_full, MSG_PIN_MAP_FULL, a.inner, a.gateway,
			 a.pool, h->map.name, h->map.size);
		break;
	default:
		h->stats.map_errors++;
		warn_msg(&h->rl_error,
			 p->err == ENOENT ? MSG_PIN_MAP_GONE : MSG_PIN_MAP_ERROR,
			 a.inner, a.gateway, a.pool, h->map.name,
			 strerror(p->err));
		break;
	}
}

/* The hold ends here: each packet's time from its receipt to its verdict. */
static void accept_all(struct helper *h)
{
	uint64_t now;
	size_t i;
	int ret;

	ret = queue_accept_held(h->queue);
	now = util_now_us();
	h->stats.verdict_msgs = queue_verdict_messages(h->queue);
	if (ret < 0) {
		/* held until the main loop's retry gets through */
		h->stats.verdict_errors++;
		warn_msg(&h->rl_error, MSG_VERDICT, strerror(-ret));
		return;
	}
	h->stats.verdicts += ret;
	for (i = 0; i < h->njobs; i++)
		stats_latency(&h->stats, now > h->jobs[i].arrived_us ?
						 now - h->jobs[i].arrived_us : 0);
}

void helper_coalesce(struct helper *h)
{
	struct timespec wait = { 0, HELPER_COALESCE_US * 1000 };
	uint64_t now = util_now_us(), gap = now - h->last_woke_us;

	/* answers a second: those of the last wakeup over the time since;
	 * a pause of HELPER_PAUSE_US ends a busy spell at once */
	if (h->last_woke_us && gap)
		h->rate = gap > HELPER_PAUSE_US ? h->last_batch * 1000000 / gap :
			  (3 * h->rate + h->last_batch * 1000000 / gap) / 4;
	h->last_woke_us = now;
	if (h->rate < HELPER_BUSY_PPS)
		return;
	h->woke_us = now;
	nanosleep(&wait, NULL);
}

int helper_run(struct helper *h)
{
	bool overrun, learning;
	size_t i;
	int n;

	h->njobs = 0;
	n = queue_recv(h->queue, h->batch_max, on_packet, h, &overrun);
	h->woke_us = 0;
	h->last_batch = n > 0 ? n : 0;
	if (overrun) {
		h->stats.overruns++;
		warn_msg(&h->rl_overrun, MSG_QUEUE_OVERRUN);
	}
	if (n < 0) {
		warn_msg(&h->rl_error, MSG_QUEUE_RECEIVE, strerror(-n));
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
	/* with the ruleset gone, a transaction says why no pin is made */
	learning = h->learn_mark && h->stats.ruleset_ok;
	if (learning)
		learn_pins(h);
	else
		pinwrite_commit(&h->writer, h->pins, h->npins, util_now_ms());
	accept_all(h);

	/* the rest waits for nothing: the answers have gone on. When the map
	 * may be full, the kernel may have refused what it was told to write:
	 * the pins are read back, so that counts, log lines and caps tell the
	 * truth */
	if (learning && may_be_full(h) && !queue_holding(h->queue))
		pinwrite_verify(&h->writer, h->pins, h->npins);
	caps_settle(&h->caps, h->pins, h->npins, h->map.timeout_ms);
	for (i = 0; i < h->njobs; i++)
		if (h->jobs[i].state == JOB_PIN && h->jobs[i].pin_owner)
			report_pin(h, &h->jobs[i]);
	log_flush();
	return n;
}

int helper_serve(struct helper *h, int max)
{
	struct pollfd pfd = { .events = POLLIN };
	int n, served = 0;

	if (!h->queue)
		return 0;
	pfd.fd = queue_fd(h->queue);
	while (served < max && poll(&pfd, 1, 0) > 0) {
		n = helper_run(h);
		if (n <= 0)
			break;
		served += n;
	}
	return served;
}
