// SPDX-License-Identifier: GPL-2.0-or-later
/* Pin policy: learn, never move a live pin, hold back while the map is full. */
#include <errno.h>

#include "pin.h"

void pin_init(struct pin *p, uint16_t zone, in_addr_t inner,
	      in_addr_t gateway, in_addr_t pool)
{
	p->zone = zone;
	p->inner = inner;
	p->gateway = gateway;
	p->pool = pool;
	p->state = PIN_UNKNOWN;
	p->err = 0;
}

bool pin_pending(const struct pin *p)
{
	return p->state == PIN_UNKNOWN || p->state == PIN_TRY_CREATE;
}

void pin_found(struct pin *p, int err, in_addr_t pool)
{
	if (p->state != PIN_UNKNOWN)
		return;
	p->err = err < 0 ? -err : 0;
	if (err == -ENOENT) {
		p->state = PIN_TRY_CREATE;
		p->err = 0;
	} else if (err) {
		p->state = PIN_FAILED;
	} else {
		p->state = pool == p->pool ? PIN_PRESENT : PIN_CONFLICT;
	}
}

void pin_settle(struct pin *p, int err, bool committed)
{
	if (p->state != PIN_TRY_CREATE)
		return;
	p->err = err;
	if (committed) {
		p->state = PIN_ADDED;
		return;
	}
	switch (err) {
	case 0:
		/* fine on its own, undone with the rest: try again as is */
		break;
	case EEXIST:
		/* created since the look-up (by another writer): look again */
		p->state = PIN_UNKNOWN;
		break;
	case ENFILE:	/* the set's size is reached */
	case ENOSPC:
		p->state = PIN_MAP_FULL;
		break;
	default:
		p->state = PIN_FAILED;
		break;
	}
}

void pin_give_up(struct pin *p)
{
	if (!pin_pending(p))
		return;
	p->state = PIN_FAILED;
	if (!p->err)
		p->err = EAGAIN;
}

static bool same_key(const struct pin *a, const struct pin *b)
{
	return a->zone == b->zone && a->inner == b->inner &&
	       a->gateway == b->gateway;
}

size_t pin_find(const struct pin *pins, size_t n, const struct pin *p)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (same_key(&pins[i], p) && pins[i].pool == p->pool)
			return i;
	return n;
}

/* Index of the first pin in pins[0..n) with p's key, or n. */
static size_t first_of_key(const struct pin *pins, size_t n,
			   const struct pin *p)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (same_key(&pins[i], p))
			return i;
	return n;
}

void pin_mark_repeats(struct pin *pins, size_t n)
{
	size_t i, first;

	for (i = 1; i < n; i++) {
		if (!pin_pending(&pins[i]))
			continue;
		first = first_of_key(pins, i, &pins[i]);
		if (first == i)
			continue;
		pins[i].state = pins[first].pool == pins[i].pool ? PIN_REPEAT :
								   PIN_CONFLICT;
	}
}

void pin_share_outcomes(struct pin *pins, size_t n)
{
	size_t i, first;

	for (i = 0; i < n; i++) {
		if (pins[i].state != PIN_REPEAT)
			continue;
		first = pin_find(pins, i, &pins[i]);
		pins[i].state = pins[first].state;
		pins[i].err = pins[first].err;
	}
}

const char *pin_state_str(enum pin_state s)
{
	switch (s) {
	case PIN_UNKNOWN:
		return "pending look-up";
	case PIN_TRY_CREATE:
		return "pending add";
	case PIN_ADDED:
		return "added";
	case PIN_PRESENT:
		return "already pinned";
	case PIN_CONFLICT:
		return "conflict";
	case PIN_MAP_FULL:
		return "map full";
	case PIN_FAILED:
		return "failed";
	case PIN_REFUSED:
		return "refused by the caps";
	case PIN_REPEAT:
		return "repeat";
	}
	return "?";
}

bool pin_backoff_holds(const struct pin_backoff *b, uint64_t now_ms)
{
	return b->delay_ms && now_ms < b->until_ms;
}

bool pin_backoff_probing(const struct pin_backoff *b)
{
	return b->delay_ms != 0;
}

void pin_backoff_full(struct pin_backoff *b, uint64_t now_ms)
{
	if (!b->delay_ms)
		b->delay_ms = PIN_BACKOFF_MIN_MS;
	else if (b->delay_ms < PIN_BACKOFF_MAX_MS)
		b->delay_ms *= 2;
	if (b->delay_ms > PIN_BACKOFF_MAX_MS)
		b->delay_ms = PIN_BACKOFF_MAX_MS;
	b->until_ms = now_ms + b->delay_ms;
}

void pin_backoff_clear(struct pin_backoff *b)
{
	b->delay_ms = 0;
	b->until_ms = 0;
}
