// SPDX-License-Identifier: GPL-2.0-or-later
/* The caps on new pins at work: limit.c's decisions and the reads they need. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include "caps.h"
#include "msg.h"
#include "nftmap.h"
#include "stats.h"
#include "util.h"
#include "zone.h"

/* a repeat of a new pin's answer comes within this of the first's write */
#define CAPS_REPEAT_MS 3000

/* at most this many pins read from the kernel in one round */
#define CHECK_MAX 1024
/* rounds of expired estimates read back per second, at most */
#define SWEEP_ROUNDS 16

/*
 * Reads e[0..n)'s keys in the kernel and tells the limiter which are live (with
 * their expiry) and which are gone. 0 or -errno.
 */
static int check_pins(struct caps *c, struct nftmap_elem *e, size_t n,
		      uint64_t now)
{
	int err[CHECK_MAX], ret;
	size_t i;

	ret = nftmap_get(c->map, e, n, err);
	c->stats->pin_checks++;
	for (i = 0; i < n; i++) {
		if (err[i] == 0)
			limit_note(&c->limit, e[i].zone, e[i].inner,
				   e[i].gateway, now + e[i].expires_ms);
		else if (err[i] == -ENOENT)
			limit_forget(&c->limit, e[i].zone, e[i].inner,
				     e[i].gateway);
	}
	if (ret < 0)
		warn_msg(&c->rl_error, MSG_CAPS_READ, c->map_name, n,
			 strerror(-ret));
	return ret;
}

/* A host at its cap: which of its pins, and this one, are live? */
static void check_host(struct caps *c, const struct pin *p, uint64_t now)
{
	struct nftmap_elem e[CHECK_MAX];
	in_addr_t gws[CHECK_MAX];
	size_t i, n;

	n = limit_host_pins(&c->limit, p->zone, p->inner, gws,
			    CHECK_MAX - 1);
	gws[n++] = p->gateway;
	for (i = 0; i < n; i++)
		e[i] = (struct nftmap_elem){ .zone = p->zone,
					     .inner = p->inner,
					     .gateway = gws[i] };
	if (check_pins(c, e, n, now) == 0)
		limit_verified(&c->limit, p->zone, p->inner, now);
}

static void refuse(struct caps *c, const struct pin *p, enum limit_verdict v)
{
	const struct limit_config *cfg = &c->limit.cfg;
	struct pin_text a;
	char why[80];

	if (v == LIMIT_CAPPED) {
		c->stats->pins_capped++;
		snprintf(why, sizeof(why),
			 "holds its cap of %" PRIu32 " pins (--host-pins)",
			 cfg->host_cap);
	} else if (v == LIMIT_HOST_RATE) {
		c->stats->pins_rate_host++;
		snprintf(why, sizeof(why),
			 "makes new pins faster than %" PRIu32
			 "/s (--host-rate)",
			 cfg->host_rate);
	} else {
		c->stats->pins_rate_all++;
		snprintf(why, sizeof(why),
			 "asks while new pins come faster than %" PRIu32
			 "/s in all (--pin-rate)",
			 cfg->rate);
	}
	util_pin_text(&a, p->zone, p->inner, p->gateway, p->pool);
	warn_limited(v == LIMIT_CAPPED ? &c->rl_capped : &c->rl_rate,
		     "pin: inner host %s %s: %s -> %s via %s not pinned", a.inner,
		     why, a.inner, a.gateway, a.pool);
}

static enum limit_verdict admit(struct limit *l, const struct pin *p,
				uint64_t now, bool rates)
{
	return rates ? limit_admit(l, p->zone, p->inner, p->gateway, now) :
		       limit_admit_restore(l, p->zone, p->inner, p->gateway,
					   now);
}

bool caps_admit(struct caps *c, const struct pin *p, bool rates)
{
	enum limit_verdict v;
	uint64_t now;

	if (!c->on)
		return true;
	now = util_now_ms();
	v = admit(&c->limit, p, now, rates);
	if (v == LIMIT_VERIFY) {
		check_host(c, p, now);
		v = admit(&c->limit, p, now, rates);
		if (v == LIMIT_VERIFY) /* the check failed: stay capped */
			v = LIMIT_CAPPED;
	}
	if (v == LIMIT_KNOWN || v == LIMIT_CREATE)
		return true;
	refuse(c, p, v);
	return false;
}

/* Admitted as new and not written yet: the table holds it pending. */
static bool admitted_new(const struct caps *c, const struct pin *p)
{
	return limit_expires_ms(&c->limit, p->zone, p->inner, p->gateway) ==
	       UINT64_MAX;
}

bool caps_new_pin(const struct caps *c, const struct pin *p,
		  uint64_t timeout_ms)
{
	uint64_t expires;

	if (!c->on)
		return true;
	expires = limit_expires_ms(&c->limit, p->zone, p->inner, p->gateway);
	if (expires == UINT64_MAX)	/* pending: admitted as new just now */
		return true;
	/* noted at its write with the map's timeout, to the second */
	return expires < UINT64_MAX - CAPS_REPEAT_MS &&
	       expires + CAPS_REPEAT_MS < util_now_ms() + timeout_ms;
}

void caps_note_present(struct caps *c, const struct pin *pins, size_t n,
		       uint64_t timeout_ms)
{
	uint64_t expires = util_now_ms() + timeout_ms;
	size_t i;

	if (!c->on)
		return;
	for (i = 0; i < n; i++)
		if (pins[i].state == PIN_PRESENT)
			limit_note(&c->limit, pins[i].zone, pins[i].inner,
				   pins[i].gateway, expires);
}

void caps_settle(struct caps *c, const struct pin *pins, size_t n,
		 uint64_t timeout_ms)
{
	uint64_t now = util_now_ms();
	size_t i;

	if (!c->on)
		return;
	for (i = 0; i < n; i++) {
		const struct pin *p = &pins[i];

		switch (p->state) {
		case PIN_ADDED:
		case PIN_PRESENT:	/* the kernel refreshed it just now */
			limit_note(&c->limit, p->zone, p->inner, p->gateway,
				   now + timeout_ms);
			break;
		case PIN_CONFLICT: /* live, expiry unknown: check soon */
			limit_note(&c->limit, p->zone, p->inner, p->gateway,
				   now);
			break;
		default:
			if (admitted_new(c, p))
				limit_forget(&c->limit, p->zone, p->inner,
					     p->gateway);
			break;
		}
	}
	c->stats->pin_table = limit_count(&c->limit);
}

int caps_start(struct caps *c, const struct limit_config *cfg,
	       struct nftmap *map, const char *map_name,
	       struct nfqh_stats *stats)
{
	struct timespec ts;
	int ret;

	clock_gettime(CLOCK_REALTIME, &ts);
	ret = limit_init(&c->limit, cfg, ts.tv_nsec ^ ts.tv_sec);
	if (ret < 0)
		return ret;
	c->map = map;
	c->map_name = map_name;
	c->stats = stats;
	c->on = true;
	return 0;
}

/* Once new pins come faster than LIMIT_LOG_LINES a window: one line. */
static void log_summary(struct caps *c, uint64_t now, bool force)
{
	uint64_t n = limit_log_due(&c->limit, now, force);

	if (!n)
		return;
	log_info("pin: %" PRIu64 " new pins in the last %d s, %" PRIu64
		 " not logged one by one, e.g. %s",
		 n, LIMIT_LOG_WINDOW_S, n - LIMIT_LOG_LINES, c->summary_eg);
	c->summary_eg[0] = 0;
}

void caps_summary(struct caps *c)
{
	if (c->on)
		log_summary(c, util_now_ms(), true);
}

void caps_tick(struct caps *c)
{
	struct nftmap_elem e[CHECK_MAX];
	struct limit_key k[CHECK_MAX];
	uint64_t now = util_now_ms();
	size_t i, n, round;

	if (!c->on || now < c->next_tick_ms)
		return;
	c->next_tick_ms = now + 1000;
	log_summary(c, now, false);
	/* pins past their estimate: expired, or refreshed by the kernel; up
	 * to SWEEP_ROUNDS full rounds a second keep up with the global rate */
	for (round = 0; round < SWEEP_ROUNDS; round++) {
		n = limit_stale(&c->limit, now, k, CHECK_MAX);
		for (i = 0; i < n; i++)
			e[i] = (struct nftmap_elem){ .zone = k[i].zone,
						     .inner = k[i].inner,
						     .gateway = k[i].gateway };
		if (n)
			check_pins(c, e, n, now);
		if (n < CHECK_MAX)
			break;
	}
	c->stats->pin_table = limit_count(&c->limit);
	log_flush();
}

bool caps_log_pin(struct caps *c, const struct pin *p)
{
	struct pin_text a;

	if (!c->on || limit_log_pin(&c->limit, util_now_ms()))
		return true;
	if (!c->summary_eg[0]) {
		util_pin_text(&a, p->zone, p->inner, p->gateway, p->pool);
		snprintf(c->summary_eg, sizeof(c->summary_eg),
			 "%s -> %s via %s", a.inner, a.gateway, a.pool);
	}
	return false;
}

void caps_free(struct caps *c)
{
	limit_free(&c->limit);
	c->on = false;
}
