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
#include "helper.h"
#include "msg.h"
#include "nftmap.h"
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
static int check_pins(struct helper *h, struct nftmap_elem *e, size_t n,
		      uint64_t now)
{
	int err[CHECK_MAX], ret;
	char m[MSG_LEN];
	size_t i;

	ret = nftmap_get(h->map, e, n, err);
	h->stats.pin_checks++;
	for (i = 0; i < n; i++) {
		if (err[i] == 0)
			limit_note(&h->caps.limit, e[i].zone, e[i].inner,
				   e[i].gateway, now + e[i].expires_ms);
		else if (err[i] == -ENOENT)
			limit_forget(&h->caps.limit, e[i].zone, e[i].inner,
				     e[i].gateway);
	}
	if (ret < 0)
		warn_limited(&h->caps.rl_error, "%s",
			     msg_format(m, sizeof(m), MSG_CAPS_READ, h->map_name,
					n, strerror(-ret)));
	return ret;
}

/* A host at its cap: which of its pins, and this one, are live? */
static void check_host(struct helper *h, const struct pin *p, uint64_t now)
{
	struct nftmap_elem e[CHECK_MAX];
	in_addr_t gws[CHECK_MAX];
	size_t i, n;

	n = limit_host_pins(&h->caps.limit, p->zone, p->inner, gws,
			    CHECK_MAX - 1);
	gws[n++] = p->gateway;
	for (i = 0; i < n; i++)
		e[i] = (struct nftmap_elem){ .zone = p->zone,
					     .inner = p->inner,
					     .gateway = gws[i] };
	if (check_pins(h, e, n, now) == 0)
		limit_verified(&h->caps.limit, p->zone, p->inner, now);
}

static void refuse(struct helper *h, const struct pin *p, enum limit_verdict v)
{
	const struct limit_config *c = &h->caps.limit.cfg;
	struct pin_text a;
	char why[80];

	if (v == LIMIT_CAPPED) {
		h->stats.pins_capped++;
		snprintf(why, sizeof(why),
			 "holds its cap of %" PRIu32 " pins (--host-pins)",
			 c->host_cap);
	} else if (v == LIMIT_HOST_RATE) {
		h->stats.pins_rate_host++;
		snprintf(why, sizeof(why),
			 "makes new pins faster than %" PRIu32
			 "/s (--host-rate)",
			 c->host_rate);
	} else {
		h->stats.pins_rate_all++;
		snprintf(why, sizeof(why),
			 "asks while new pins come faster than %" PRIu32
			 "/s in all (--pin-rate)",
			 c->rate);
	}
	util_pin_text(&a, p->zone, p->inner, p->gateway, p->pool);
	warn_limited(v == LIMIT_CAPPED ? &h->caps.rl_capped : &h->caps.rl_rate,
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

bool caps_admit(struct helper *h, size_t i, const struct pin *p, bool rates)
{
	enum limit_verdict v;
	uint64_t now;

	if (!h->caps.on)
		return true;
	h->caps.created[i] = false;
	now = util_now_ms();
	v = admit(&h->caps.limit, p, now, rates);
	if (v == LIMIT_VERIFY) {
		check_host(h, p, now);
		v = admit(&h->caps.limit, p, now, rates);
		if (v == LIMIT_VERIFY) /* the check failed: stay capped */
			v = LIMIT_CAPPED;
	}
	if (v == LIMIT_KNOWN || v == LIMIT_CREATE) {
		h->caps.created[i] = v == LIMIT_CREATE;
		return true;
	}
	refuse(h, p, v);
	return false;
}

bool caps_new_pin(const struct helper *h, size_t i, const struct pin *p)
{
	uint64_t expires;

	if (!h->caps.on || h->caps.created[i])
		return true;
	expires = limit_expires_ms(&h->caps.limit, p->zone, p->inner,
				   p->gateway);
	/* noted at its write with the map's timeout, to the second */
	return expires < UINT64_MAX - CAPS_REPEAT_MS &&
	       expires + CAPS_REPEAT_MS < util_now_ms() + h->timeout_ms;
}

void caps_note_present(struct helper *h)
{
	uint64_t expires = util_now_ms() + h->timeout_ms;
	size_t i;

	if (!h->caps.on)
		return;
	for (i = 0; i < h->npins; i++)
		if (h->pins[i].state == PIN_PRESENT)
			limit_note(&h->caps.limit, h->pins[i].zone,
				   h->pins[i].inner, h->pins[i].gateway,
				   expires);
}

void caps_settle(struct helper *h)
{
	uint64_t now = util_now_ms();
	size_t i;

	if (!h->caps.on)
		return;
	for (i = 0; i < h->npins; i++) {
		const struct pin *p = &h->pins[i];

		switch (p->state) {
		case PIN_ADDED:
		case PIN_PRESENT:	/* the kernel refreshed it just now */
			limit_note(&h->caps.limit, p->zone, p->inner,
				   p->gateway, now + h->timeout_ms);
			break;
		case PIN_CONFLICT: /* live, expiry unknown: check soon */
			limit_note(&h->caps.limit, p->zone, p->inner,
				   p->gateway, now);
			break;
		default:
			if (h->caps.created[i])
				limit_forget(&h->caps.limit, p->zone,
					     p->inner, p->gateway);
			break;
		}
	}
	h->stats.pin_table = limit_count(&h->caps.limit);
}

int caps_start(struct helper *h, const struct limit_config *c)
{
	struct timespec ts;
	int ret;

	h->caps.created = calloc(h->batch_max, sizeof(*h->caps.created));
	if (!h->caps.created)
		return -ENOMEM;
	clock_gettime(CLOCK_REALTIME, &ts);
	ret = limit_init(&h->caps.limit, c, ts.tv_nsec ^ ts.tv_sec);
	if (ret < 0)
		return ret;
	h->caps.on = true;
	return 0;
}

/* Once new pins come faster than LIMIT_LOG_LINES a window: one line. */
static void log_summary(struct helper *h, uint64_t now, bool force)
{
	uint64_t n = limit_log_due(&h->caps.limit, now, force);

	if (!n)
		return;
	log_info("pin: %" PRIu64 " new pins in the last %d s, %" PRIu64
		 " not logged one by one, e.g. %s",
		 n, LIMIT_LOG_WINDOW_S, n - LIMIT_LOG_LINES,
		 h->caps.summary_eg);
	h->caps.summary_eg[0] = 0;
}

void caps_summary(struct helper *h)
{
	if (h->caps.on)
		log_summary(h, util_now_ms(), true);
}

void caps_tick(struct helper *h)
{
	struct nftmap_elem e[CHECK_MAX];
	struct limit_key k[CHECK_MAX];
	uint64_t now = util_now_ms();
	size_t i, n, round;

	if (!h->caps.on || now < h->caps.next_tick_ms)
		return;
	h->caps.next_tick_ms = now + 1000;
	log_summary(h, now, false);
	/* pins past their estimate: expired, or refreshed by the kernel; up
	 * to SWEEP_ROUNDS full rounds a second keep up with the global rate */
	for (round = 0; round < SWEEP_ROUNDS; round++) {
		n = limit_stale(&h->caps.limit, now, k, CHECK_MAX);
		for (i = 0; i < n; i++)
			e[i] = (struct nftmap_elem){ .zone = k[i].zone,
						     .inner = k[i].inner,
						     .gateway = k[i].gateway };
		if (n)
			check_pins(h, e, n, now);
		if (n < CHECK_MAX)
			break;
	}
	h->stats.pin_table = limit_count(&h->caps.limit);
	log_flush();
}

bool caps_log_pin(struct helper *h, const struct pin *p)
{
	struct pin_text a;

	if (!h->caps.on || limit_log_pin(&h->caps.limit, util_now_ms()))
		return true;
	if (!h->caps.summary_eg[0]) {
		util_pin_text(&a, p->zone, p->inner, p->gateway, p->pool);
		snprintf(h->caps.summary_eg, sizeof(h->caps.summary_eg),
			 "%s -> %s via %s", a.inner, a.gateway, a.pool);
	}
	return false;
}

void caps_free(struct caps *c)
{
	limit_free(&c->limit);
	free(c->created);
	c->created = NULL;
	c->on = false;
}
