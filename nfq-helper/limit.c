// SPDX-License-Identifier: GPL-2.0-or-later
/* Caps on new pins: per-host count, per-host and global rates; pure. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "limit.h"

/* rate and check state for this many hosts; a collision only forgets */
#define LIMIT_HOSTS 16384
#define LIMIT_MIN_BITS 10
/* entries limit_stale() looks at per call */
#define LIMIT_SCAN 65536

/* admitted, not yet written: counted, never checked in the kernel */
#define PENDING UINT32_MAX

/* 20 bytes a pin: the memory target is 32 over the base */
struct limit_entry {
	in_addr_t inner; /* 0: a free entry */
	in_addr_t gateway;
	uint32_t expires_s; /* estimate, on the caller's clock */
	uint32_t next;	    /* in its chain or the free list; 0 ends */
	uint16_t zone;
};

struct limit_host {
	in_addr_t inner;
	uint16_t zone;
	uint32_t verified_s; /* +1; 0: never checked */
	uint64_t tat_us;     /* its bucket: theoretical arrival time */
};

/* A host's chain: zone . inner host hashed. */
static uint32_t slot_of(const struct limit *l, uint16_t zone, in_addr_t inner,
			uint32_t bits)
{
	return ((inner ^ l->seed ^ (uint32_t)zone << 16 ^ zone) * 0x9e3779b1u) >>
	       (32 - bits);
}

int limit_init(struct limit *l, const struct limit_config *c, uint32_t seed)
{
	memset(l, 0, sizeof(*l));
	l->cfg = *c;
	l->seed = seed;
	l->bits = LIMIT_MIN_BITS;
	l->heads = calloc(1u << l->bits, sizeof(*l->heads));
	l->hosts = calloc(LIMIT_HOSTS, sizeof(*l->hosts));
	if (!l->heads || !l->hosts) {
		limit_free(l);
		return -ENOMEM;
	}
	return 0;
}

void limit_free(struct limit *l)
{
	free(l->e);
	free(l->heads);
	free(l->hosts);
	l->e = NULL;
	l->heads = NULL;
	l->hosts = NULL;
}

static struct limit_entry *entry(const struct limit *l, uint32_t i)
{
	return &l->e[i - 1];
}

/* Doubles the chains once there are more entries than chains. */
static int rehash(struct limit *l)
{
	uint32_t bits = l->bits + 1, *heads, i, h;
	struct limit_entry *e;

	heads = calloc(1u << bits, sizeof(*heads));
	if (!heads)
		return -ENOMEM;
	for (i = 1; i <= l->used; i++) {
		e = entry(l, i);
		if (!e->inner)
			continue;
		h = slot_of(l, e->zone, e->inner, bits);
		e->next = heads[h];
		heads[h] = i;
	}
	free(l->heads);
	l->heads = heads;
	l->bits = bits;
	return 0;
}

static uint32_t new_entry(struct limit *l)
{
	struct limit_entry *e;
	uint32_t i, n;

	if (l->free) {
		i = l->free;
		l->free = entry(l, i)->next;
		return i;
	}
	if (l->used == l->nalloc) {
		n = l->nalloc ? l->nalloc * 2 : 1024;
		e = realloc(l->e, (size_t)n * sizeof(*e));
		if (!e)
			return 0;
		l->e = e;
		l->nalloc = n;
	}
	return ++l->used;
}

static bool of_host(const struct limit_entry *e, uint16_t zone,
		    in_addr_t inner)
{
	return e->zone == zone && e->inner == inner;
}

static uint32_t *find(const struct limit *l, uint16_t zone, in_addr_t inner,
		      in_addr_t gateway)
{
	uint32_t *p = &l->heads[slot_of(l, zone, inner, l->bits)];

	for (; *p; p = &entry(l, *p)->next)
		if (of_host(entry(l, *p), zone, inner) &&
		    entry(l, *p)->gateway == gateway)
			return p;
	return NULL;
}

static uint32_t secs(uint64_t ms)
{
	return ms / 1000;
}

int limit_note(struct limit *l, uint16_t zone, in_addr_t inner,
	       in_addr_t gateway, uint64_t expires_ms)
{
	struct limit_entry *e;
	uint32_t *p, i, h;

	if (!inner)
		return -EINVAL;
	p = find(l, zone, inner, gateway);
	if (p) {
		entry(l, *p)->expires_s = secs(expires_ms);
		return 0;
	}
	if (l->count >= 1u << l->bits && rehash(l) < 0)
		return -ENOMEM;
	i = new_entry(l);
	if (!i)
		return -ENOMEM;
	e = entry(l, i);
	h = slot_of(l, zone, inner, l->bits);
	*e = (struct limit_entry){ .zone = zone,
				   .inner = inner,
				   .gateway = gateway,
				   .expires_s = secs(expires_ms),
				   .next = l->heads[h] };
	l->heads[h] = i;
	l->count++;
	return 0;
}

uint64_t limit_expires_ms(const struct limit *l, uint16_t zone,
			  in_addr_t inner, in_addr_t gateway)
{
	uint32_t *p = find(l, zone, inner, gateway);

	if (!p)
		return 0;
	if (entry(l, *p)->expires_s == PENDING)
		return UINT64_MAX;
	return entry(l, *p)->expires_s * 1000ULL;
}

void limit_forget(struct limit *l, uint16_t zone, in_addr_t inner,
		  in_addr_t gateway)
{
	uint32_t *p = find(l, zone, inner, gateway), i;

	if (!p)
		return;
	i = *p;
	*p = entry(l, i)->next;
	*entry(l, i) = (struct limit_entry){ .next = l->free };
	l->free = i;
	l->count--;
}

static struct limit_host *host(struct limit *l, uint16_t zone,
			       in_addr_t inner)
{
	struct limit_host *s =
		&l->hosts[slot_of(l, zone, inner, 32) % LIMIT_HOSTS];

	if (s->inner != inner || s->zone != zone)
		*s = (struct limit_host){ .inner = inner, .zone = zone };
	return s;
}

void limit_verified(struct limit *l, uint16_t zone, in_addr_t inner,
		    uint64_t now_ms)
{
	host(l, zone, inner)->verified_s = secs(now_ms) + 1;
}

size_t limit_host_pins(const struct limit *l, uint16_t zone, in_addr_t inner,
		       in_addr_t *gateways, size_t max)
{
	uint32_t i = l->heads[slot_of(l, zone, inner, l->bits)];
	size_t n = 0;

	for (; i && n < max; i = entry(l, i)->next)
		if (of_host(entry(l, i), zone, inner) &&
		    entry(l, i)->expires_s != PENDING)
			gateways[n++] = entry(l, i)->gateway;
	return n;
}

/*
 * GCRA: a bucket of `burst' tokens refilled at `rate' a second is one
 * timestamp, the theoretical arrival time of the next conforming event.
 */
static bool conforms(uint64_t tat_us, uint32_t rate, uint32_t burst,
		     uint64_t now_us)
{
	uint64_t tau;

	if (!rate)
		return true;
	tau = 1000000 / rate * (burst ? burst - 1 : 0);
	return tat_us <= now_us + tau;
}

static void take(uint64_t *tat_us, uint32_t rate, uint64_t now_us)
{
	if (!rate)
		return;
	if (*tat_us < now_us)
		*tat_us = now_us;
	*tat_us += 1000000 / rate;
}

static enum limit_verdict admit(struct limit *l, uint16_t zone,
				in_addr_t inner, in_addr_t gateway,
				uint64_t now_ms, bool rates)
{
	uint32_t i = l->heads[slot_of(l, zone, inner, l->bits)], n = 0;
	uint32_t now_s = secs(now_ms), oldest = UINT32_MAX;
	uint64_t now_us = now_ms * 1000;
	struct limit_host *s;

	for (; i; i = entry(l, i)->next) {
		const struct limit_entry *e = entry(l, i);

		if (!of_host(e, zone, inner))
			continue;
		if (e->gateway == gateway)
			return LIMIT_KNOWN;
		n++;
		if (e->expires_s < oldest)
			oldest = e->expires_s;
	}
	s = host(l, zone, inner);
	if (l->cfg.host_cap && n >= l->cfg.host_cap) {
		if (oldest <= now_s || !s->verified_s ||
		    now_s >= s->verified_s - 1 + LIMIT_VERIFY_S)
			return LIMIT_VERIFY;
		return LIMIT_CAPPED;
	}
	if (rates &&
	    !conforms(s->tat_us, l->cfg.host_rate, l->cfg.host_burst, now_us))
		return LIMIT_HOST_RATE;
	if (rates && !conforms(l->tat_us, l->cfg.rate, l->cfg.burst, now_us))
		return LIMIT_RATE;
	if (limit_note(l, zone, inner, gateway, 0) < 0)
		return LIMIT_RATE; /* no memory: refuse, as a rate would */
	entry(l, *find(l, zone, inner, gateway))->expires_s = PENDING;
	if (rates) {
		take(&s->tat_us, l->cfg.host_rate, now_us);
		take(&l->tat_us, l->cfg.rate, now_us);
	}
	return LIMIT_CREATE;
}

enum limit_verdict limit_admit(struct limit *l, uint16_t zone,
			       in_addr_t inner, in_addr_t gateway,
			       uint64_t now_ms)
{
	return admit(l, zone, inner, gateway, now_ms, true);
}

enum limit_verdict limit_admit_restore(struct limit *l, uint16_t zone,
				       in_addr_t inner, in_addr_t gateway,
				       uint64_t now_ms)
{
	return admit(l, zone, inner, gateway, now_ms, false);
}

size_t limit_stale(struct limit *l, uint64_t now_ms, struct limit_key *out,
		   size_t max)
{
	uint32_t now_s = secs(now_ms), looked;
	struct limit_entry *e;
	size_t n = 0;

	for (looked = 0; looked < LIMIT_SCAN && looked < l->used && n < max;
	     looked++) {
		if (l->cursor >= l->used)
			l->cursor = 0;
		e = &l->e[l->cursor++];
		if (e->inner && e->expires_s <= now_s)
			out[n++] = (struct limit_key){ e->zone, e->inner,
						       e->gateway };
	}
	return n;
}

bool limit_log_pin(struct limit *l, uint64_t now_ms)
{
	if (!l->log_pins)
		l->log_start_ms = now_ms;
	l->log_pins++;
	if (l->log_lines >= LIMIT_LOG_LINES)
		return false;
	l->log_lines++;
	return true;
}

uint64_t limit_log_due(struct limit *l, uint64_t now_ms, bool force)
{
	uint64_t pins = l->log_pins;

	if (!pins ||
	    (!force && now_ms < l->log_start_ms + LIMIT_LOG_WINDOW_S * 1000))
		return 0;
	l->log_pins = 0;
	l->log_lines = 0;
	return pins > LIMIT_LOG_LINES ? pins : 0;
}

const char *limit_verdict_str(enum limit_verdict v)
{
	switch (v) {
	case LIMIT_KNOWN:
		return "known";
	case LIMIT_CREATE:
		return "create";
	case LIMIT_VERIFY:
		return "verify";
	case LIMIT_CAPPED:
		return "capped";
	case LIMIT_HOST_RATE:
		return "host rate";
	case LIMIT_RATE:
		return "rate";
	}
	return "?";
}
