// SPDX-License-Identifier: GPL-2.0-or-later
/* Rebuild: conntrack dump -> pins; heal: split NAT-T flows deleted. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include <linux/netfilter/nf_conntrack_common.h>

#include "helper.h"
#include "ikeflow.h"
#include "msg.h"
#include "pin.h"
#include "rebuild.h"
#include "util.h"
#include "zone.h"

/* queued packets handled between two slices of the dump, at most */
#define SERVE_MAX 4096

/* A pin an answered flow justifies, and the port of that flow. */
struct cand {
	struct pin pin;
	uint16_t port;
};

struct rebuild {
	struct helper *h;
	struct pinwrite *w;
	struct rebuild_result *r;
	struct cand *cands;
	size_t ncands, cands_cap;
	struct pin *pins;	/* one per subscriber and gateway, sorted */
	size_t npins;
	struct ct_entry *split;	/* unanswered NAT-T flows */
	size_t nsplit, split_cap;
	uint64_t read_start_us;	/* when the current read of the dump began */
	int err;
};

static void *grow(void *p, size_t *cap, size_t n, size_t size)
{
	size_t want = *cap ? *cap * 2 : 1024;

	if (n < *cap)
		return p;
	p = reallocarray(p, want, size);
	if (p)
		*cap = want;
	return p;
}

static void on_entry(const struct ct_entry *e, void *data)
{
	struct rebuild *rb = data;
	struct ikeflow f;
	struct cand *c;
	void *p;

	rb->r->entries++;
	if (!ikeflow_from_ct(e, &f))
		return;
	rb->r->flows++;
	if (ikeflow_justifies_pin(&f)) {
		p = grow(rb->cands, &rb->cands_cap, rb->ncands,
			 sizeof(*rb->cands));
		if (!p)
			goto nomem;
		rb->cands = p;
		c = &rb->cands[rb->ncands++];
		pin_init(&c->pin, f.zone, f.inner, f.gateway, f.pool);
		c->port = f.port;
	} else if (f.port == IKE_NATT_PORT) {
		p = grow(rb->split, &rb->split_cap, rb->nsplit,
			 sizeof(*rb->split));
		if (!p)
			goto nomem;
		rb->split = p;
		rb->split[rb->nsplit++] = *e;
	}
	return;
nomem:
	rb->err = -ENOMEM;
}

/* Handles what the queue holds, if it is bound; never blocks. */
static void serve_queue(struct rebuild *rb)
{
	rb->r->served += helper_serve(rb->h, SERVE_MAX);
}

/* After each read of the table: its time; the queue, while more comes. */
static bool read_done(bool more, void *data)
{
	struct rebuild *rb = data;
	uint64_t t = util_now_us() - rb->read_start_us;

	rb->r->reads++;
	rb->r->reads_over_1ms += t > 1000;
	rb->r->reads_over_5ms += t > 5000;
	if (t > rb->r->slice_max_us)
		rb->r->slice_max_us = t;
	if (!more || rb->err)
		return false;
	serve_queue(rb);
	rb->read_start_us = util_now_us();
	return true;
}

static int dump(struct rebuild *rb, struct ct_sock *cs)
{
	int ret;

	rb->read_start_us = util_now_us();
	ret = ct_dump(cs, on_entry, read_done, rb);
	return rb->err ? rb->err : ret;
}

/* Orders pins by zone, inner host and gateway. */
static int key_cmp(const struct pin *a, uint16_t b_zone, in_addr_t b_inner,
		   in_addr_t b_gw)
{
	in_addr_t a_inner = a->inner, a_gw = a->gateway;

	if (a->zone != b_zone)
		return a->zone < b_zone ? -1 : 1;
	if (a_inner != b_inner)
		return ntohl(a_inner) < ntohl(b_inner) ? -1 : 1;
	if (a_gw != b_gw)
		return ntohl(a_gw) < ntohl(b_gw) ? -1 : 1;
	return 0;
}

/* By subscriber and gateway; the IKE flow (500) first, as live learning. */
static int cand_cmp(const void *a, const void *b)
{
	const struct cand *p = a, *q = b;
	int c = key_cmp(&p->pin, q->pin.zone, q->pin.inner, q->pin.gateway);

	if (c || p->port == q->port)
		return c;
	return p->port < q->port ? -1 : 1;
}

/*
 * One pin per subscriber and gateway: the first flow's, as the live path
 * would have learnt it; a flow via another address would only conflict
 * with it, and a failing transaction is slow: it is counted, not sent.
 */
static int choose_pins(struct rebuild *rb)
{
	const struct pin *p, *first = NULL;
	size_t i;

	if (!rb->ncands)
		return 0;
	qsort(rb->cands, rb->ncands, sizeof(*rb->cands), cand_cmp);
	rb->pins = calloc(rb->ncands, sizeof(*rb->pins));
	if (!rb->pins)
		return -ENOMEM;
	for (i = 0; i < rb->ncands; i++) {
		p = &rb->cands[i].pin;
		if (first &&
		    !key_cmp(first, p->zone, p->inner, p->gateway)) {
			rb->r->elsewhere += p->pool != first->pool;
			continue;
		}
		rb->pins[rb->npins++] = *p;
		first = p;
	}
	return 0;
}

static void tally(struct rebuild_result *r, const struct pin *p)
{
	switch (p->state) {
	case PIN_ADDED:
		r->added++;
		break;
	case PIN_PRESENT:
		r->present++;
		break;
	case PIN_CONFLICT:
		r->conflicts++;
		break;
	case PIN_REFUSED:
		r->capped++;
		break;
	default:
		r->failed++;
		break;
	}
}

/* In the writer's batches, the queue served between them. */
static void commit(struct rebuild *rb)
{
	size_t i, k, n;

	for (i = 0; i < rb->npins; i += n) {
		n = pinwrite_restore(rb->w, rb->pins + i, rb->npins - i,
				     util_now_ms());
		for (k = 0; k < n; k++)
			tally(rb->r, &rb->pins[i + k]);
		serve_queue(rb);
	}
}

/* The pool address the map now holds for e's subscriber and gateway. */
static bool pinned_pool(const struct rebuild *rb, const struct ct_entry *e,
			in_addr_t *pool)
{
	size_t lo = 0, hi = rb->npins, mid;
	const struct pin *p;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		p = &rb->pins[mid];
		c = key_cmp(p, e->zone, e->orig.src, e->reply.src);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < rb->npins; lo++) {
		p = &rb->pins[lo];
		if (key_cmp(p, e->zone, e->orig.src, e->reply.src))
			break;
		/* a conflict kept a live pin we have not read: no verdict */
		if (p->state == PIN_ADDED || p->state == PIN_PRESENT) {
			*pool = p->pool;
			return true;
		}
	}
	return false;
}

/* Deletes e unless it was answered since the dump. */
static int heal_one(struct ct_sock *cs, const struct ct_entry *e)
{
	struct ct_query q = { .reply = e->reply,
			      .zone = ct_zone_in(e, CT_ZONE_REPLY) };
	int ret;

	ret = ct_lookup(cs, &q, 1);
	if (ret < 0 || q.err < 0)
		return ret < 0 ? ret : q.err;
	if ((q.entry.status & IPS_SEEN_REPLY) || (e->id && q.entry.id != e->id))
		return -EALREADY;
	return ct_delete(cs, e);
}

static void heal(struct rebuild *rb, struct ct_sock *cs)
{
	char pin[INET_ADDRSTRLEN], m[MSG_LEN];
	struct pin_text a;
	const struct ct_entry *e;
	struct ikeflow f;
	in_addr_t pool;
	size_t i;
	int ret;

	for (i = 0; i < rb->nsplit; i++) {
		e = &rb->split[i];
		if (!ikeflow_from_ct(e, &f) || !pinned_pool(rb, e, &pool) ||
		    !ikeflow_split(&f, pool))
			continue;
		rb->r->splits++;
		util_pin_text(&a, f.zone, f.inner, f.gateway, f.pool);
		util_addr_str(pool, pin);
		ret = heal_one(cs, e);
		if (ret == 0) {
			rb->r->heals++;
			log_info("heal: %s -> %s: deleted the NAT-T flow from port %u that left via %s and was never answered; its next packet leaves via the pin, %s",
				 a.inner, a.gateway, e->orig.sport, a.pool, pin);
		} else if (ret != -EALREADY && ret != -ENOENT) {
			log_warnx("%s", msg_format(m, sizeof(m),
						   MSG_HEAL_DELETE, a.inner,
						   a.gateway, a.pool,
						   strerror(-ret)));
		}
		if (i % 64 == 63)
			serve_queue(rb);
	}
}

int rebuild_run(struct helper *h, struct pinwrite *w,
		struct rebuild_result *r)
{
	struct rebuild rb = { .h = h, .w = w, .r = r };
	struct ct_sock *cs;
	uint64_t start = util_now_us();
	char m[MSG_LEN];
	int ret;

	memset(r, 0, sizeof(*r));
	ret = ct_open(&cs);
	if (ret < 0) {
		log_warnx("%s", msg_format(m, sizeof(m), MSG_REBUILD_SOCKET,
					   strerror(-ret)));
		return ret;
	}
	ret = dump(&rb, cs);
	if (ret < 0)
		log_warnx("%s", msg_format(m, sizeof(m), MSG_REBUILD_DUMP,
					   strerror(-ret), r->entries));
	if (choose_pins(&rb) < 0) {
		log_warnx("%s", msg_format(m, sizeof(m), MSG_REBUILD_NO_MEMORY,
					   rb.ncands));
		ret = -ENOMEM;
	}
	r->pins = rb.npins;
	commit(&rb);
	heal(&rb, cs);
	ct_close(cs);
	free(rb.cands);
	free(rb.pins);
	free(rb.split);
	r->elapsed_us = util_now_us() - start;
	h->stats.pins_rebuilt += r->added;
	h->stats.heals += r->heals;
	log_info("rebuild: %" PRIu64 " conntrack entries, %" PRIu64 " IKE/NAT-T flows: %" PRIu64 " pins (%" PRIu64 " added, %" PRIu64 " already there, %" PRIu64 " kept a live pin to another address, %" PRIu64 " over their host's cap, %" PRIu64 " failed; %" PRIu64 " answered flows via another address than the first); %" PRIu64 " split, %" PRIu64 " healed; %" PRIu64 " ms, %" PRIu64 " reads of the table (%" PRIu64 " over 1 ms, %" PRIu64 " over 5 ms, the longest %" PRIu64 " us), %" PRIu64 " packets served meanwhile",
		 r->entries, r->flows, r->pins, r->added, r->present,
		 r->conflicts, r->capped, r->failed, r->elsewhere, r->splits, r->heals,
		 r->elapsed_us / 1000, r->reads, r->reads_over_1ms,
		 r->reads_over_5ms, r->slice_max_us, r->served);
	log_flush();
	return ret < 0 ? ret : 0;
}
