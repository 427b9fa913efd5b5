// SPDX-License-Identifier: GPL-2.0-or-later
/* The pin writer: look-ups, caps, exclusive creates, the full map's back-off. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "caps.h"
#include "log.h"
#include "nftmap.h"
#include "pinwrite.h"
#include "stats.h"

int pinwrite_init(struct pinwrite *w, size_t max, const struct pin_map *map,
		  struct caps *caps, struct nfqh_stats *stats)
{
	*w = (struct pinwrite){ .map = map, .caps = caps, .stats = stats,
				.max = max };
	w->pending = calloc(max, sizeof(*w->pending));
	w->found = calloc(max, sizeof(*w->found));
	w->found_err = calloc(max, sizeof(*w->found_err));
	if (!w->pending || !w->found || !w->found_err) {
		pinwrite_free(w);
		return -ENOMEM;
	}
	return 0;
}

void pinwrite_free(struct pinwrite *w)
{
	free(w->pending);
	free(w->found);
	free(w->found_err);
	*w = (struct pinwrite){ 0 };
}

/*
 * One round trip of single-element look-ups for the pins in one of states
 * (a bit per enum pin_state), no transaction; how many were asked, *ret the
 * round's result. w->pending[i] has the answer w->found[i], w->found_err[i].
 */
static size_t look_up(struct pinwrite *w, struct pin *pins, size_t n,
		      unsigned int states, int *ret)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (!(states & 1u << pins[i].state))
			continue;
		w->pending[k] = &pins[i];
		w->found[k].zone = pins[i].zone;
		w->found[k].inner = pins[i].inner;
		w->found[k].gateway = pins[i].gateway;
		k++;
	}
	*ret = k ? nftmap_get(w->map->nft, w->found, k, w->found_err) : 0;
	return k;
}

/* The pins not yet known: present, a conflict, or to be created. */
static void look_up_unknown(struct pinwrite *w, struct pin *pins, size_t n)
{
	size_t i, k;
	int ret;

	k = look_up(w, pins, n, 1u << PIN_UNKNOWN, &ret);
	if (ret < 0)
		log_debug("map: look-up of %zu: %s", k, strerror(-ret));
	for (i = 0; i < k; i++) {
		/* unanswered: an exclusive create is still safe */
		if (ret < 0 && w->found_err[i] == ret)
			w->found_err[i] = -ENOENT;
		pin_found(w->pending[i], w->found_err[i], w->found[i].pool);
	}
}

void pinwrite_verify(struct pinwrite *w, struct pin *pins, size_t n)
{
	size_t i, k;
	int ret;

	k = look_up(w, pins, n, 1u << PIN_ADDED | 1u << PIN_PRESENT, &ret);
	if (ret < 0)
		log_debug("map: reading back %zu learnt pins: %s", k,
			  strerror(-ret));
	for (i = 0; i < k; i++) {
		struct pin *p = w->pending[i];

		if (w->found_err[i] == -ENOENT) {
			p->state = PIN_MAP_FULL;
			p->err = ENFILE;
		} else if (w->found_err[i] == 0 && w->found[i].pool != p->pool) {
			p->state = PIN_CONFLICT;
		}
	}
}

/*
 * Pins absent from the map: none while a full map backs off, one as the
 * probe after it, else all. How many go into the next transaction.
 */
static size_t creates_to_send(struct pinwrite *w, struct pin *pins, size_t n,
			      uint64_t now)
{
	bool hold = pin_backoff_holds(&w->backoff, now);
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		struct pin *p = &pins[i];

		if (p->state != PIN_TRY_CREATE)
			continue;
		if (hold) {
			p->state = PIN_MAP_FULL;
			p->err = ENFILE;
			continue;
		}
		w->pending[k++] = p;
		if (pin_backoff_probing(&w->backoff))
			break;
	}
	return k;
}

/*
 * One create transaction; false if there was nothing to create. Sets *full
 * when the map refused a pin as full: those that fitted go again in the next
 * round, and the back-off starts with the next batch, unless this was the
 * probe, which speaks for all the others.
 */
static bool create_pins(struct pinwrite *w, struct pin *pins, size_t n,
			uint64_t now, bool *full)
{
	bool probe = pin_backoff_probing(&w->backoff);
	size_t i, k = creates_to_send(w, pins, n, now);
	bool committed, refused = false;
	int ret;

	if (!k)
		return false;
	ret = nftmap_commit(w->map->nft, w->pending, k, w->map->timeout_ms,
			    &committed);
	w->stats->transactions++;
	if (!committed)
		w->stats->transactions_failed++;
	if (ret < 0)
		log_debug("map: transaction of %zu: %s", k, strerror(-ret));
	for (i = 0; i < k; i++) {
		pin_settle(w->pending[i], w->pending[i]->err, committed);
		refused |= w->pending[i]->state == PIN_MAP_FULL;
	}
	if (committed)
		pin_backoff_clear(&w->backoff);
	if (refused && probe)
		pin_backoff_full(&w->backoff, now);	/* holds the rest */
	*full |= refused && !probe;
	return true;
}

/*
 * The caps decide on pins the look-up found absent, never on live ones, which
 * count towards their host's cap first. A restore (rates false) is held to
 * the cap, not to the rates.
 */
static void admit_creates(struct pinwrite *w, struct pin *pins, size_t n,
			  bool rates)
{
	size_t i;

	if (!w->caps)
		return;
	caps_note_present(w->caps, pins, n, w->map->timeout_ms);
	for (i = 0; i < n; i++)
		if (pins[i].state == PIN_TRY_CREATE &&
		    !caps_admit(w->caps, &pins[i], rates))
			pins[i].state = PIN_REFUSED;
}

static void write_pins(struct pinwrite *w, struct pin *pins, size_t n,
		       bool rates, uint64_t now)
{
	bool full = false;
	size_t i, round;

	pin_mark_repeats(pins, n);
	for (round = 0; round < PIN_MAX_ROUNDS; round++) {
		look_up_unknown(w, pins, n);
		if (round == 0)
			admit_creates(w, pins, n, rates);
		if (!create_pins(w, pins, n, now, &full))
			break;
	}
	if (full)
		pin_backoff_full(&w->backoff, now);
	for (i = 0; i < n; i++)
		pin_give_up(&pins[i]);
	pin_share_outcomes(pins, n);
}

void pinwrite_commit(struct pinwrite *w, struct pin *pins, size_t n,
		     uint64_t now_ms)
{
	write_pins(w, pins, n < w->max ? n : w->max, true, now_ms);
}

size_t pinwrite_restore(struct pinwrite *w, struct pin *pins, size_t n,
			uint64_t now_ms)
{
	if (n > w->max)
		n = w->max;
	write_pins(w, pins, n, false, now_ms);
	if (w->caps)
		caps_settle(w->caps, pins, n, w->map->timeout_ms);
	return n;
}
