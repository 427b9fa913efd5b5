// SPDX-License-Identifier: GPL-2.0-or-later
/* Pin policy: what each look-up and kernel answer makes of a pin. */
#include <errno.h>
#include <arpa/inet.h>

#include "check.h"
#include "pin.h"

#define POOL_A inet_addr("198.51.100.1")
#define POOL_B inet_addr("198.51.100.2")

static struct pin make(void)
{
	struct pin p;

	pin_init(&p, 0, inet_addr("100.64.1.1"), inet_addr("203.0.113.2"),
		 POOL_A);
	return p;
}

static void test_new_pin(void)
{
	struct pin p = make();

	CHECK(p.state == PIN_UNKNOWN && pin_pending(&p));
	pin_found(&p, -ENOENT, 0);
	CHECK(p.state == PIN_TRY_CREATE && pin_pending(&p) && p.err == 0);
	pin_settle(&p, 0, true);
	CHECK(p.state == PIN_ADDED && !pin_pending(&p));
}

static void test_present_needs_no_write(void)
{
	struct pin p = make();

	pin_found(&p, 0, POOL_A);
	CHECK(p.state == PIN_PRESENT && !pin_pending(&p));
	pin_settle(&p, 0, true);	/* final states stay */
	CHECK(p.state == PIN_PRESENT);
}

static void test_conflict_never_moves(void)
{
	struct pin p = make();

	/* a live pin to another pool address: kept, no write */
	pin_found(&p, 0, POOL_B);
	CHECK(p.state == PIN_CONFLICT && !pin_pending(&p));
}

static void test_lookup_error(void)
{
	struct pin p = make();

	pin_found(&p, -EPERM, 0);
	CHECK(p.state == PIN_FAILED && p.err == EPERM);
}

static void test_created_meanwhile(void)
{
	struct pin p = make();

	/* absent at the look-up, created by someone else before ours */
	pin_found(&p, -ENOENT, 0);
	pin_settle(&p, EEXIST, false);
	CHECK(p.state == PIN_UNKNOWN && pin_pending(&p));
	pin_found(&p, 0, POOL_B);
	CHECK(p.state == PIN_CONFLICT);
}

static void test_undone_with_others(void)
{
	struct pin p = make();

	/* fine itself, but another element failed: try again unchanged */
	pin_found(&p, -ENOENT, 0);
	pin_settle(&p, 0, false);
	CHECK(p.state == PIN_TRY_CREATE);
	pin_settle(&p, 0, true);
	CHECK(p.state == PIN_ADDED);
}

static void test_map_full_and_errors(void)
{
	struct pin p = make(), q = make(), r = make();

	pin_found(&p, -ENOENT, 0);
	pin_settle(&p, ENFILE, false);
	CHECK(p.state == PIN_MAP_FULL && p.err == ENFILE);
	pin_found(&q, -ENOENT, 0);
	pin_settle(&q, EPERM, false);
	CHECK(q.state == PIN_FAILED && q.err == EPERM);
	pin_give_up(&r);
	CHECK(r.state == PIN_FAILED && r.err == EAGAIN);
}

static void test_find(void)
{
	struct pin pins[3] = { make(), make(), make() };
	struct pin other = make();

	pins[1].gateway = inet_addr("203.0.113.9");
	pins[2].pool = POOL_B;
	CHECK(pin_find(pins, 3, &other) == 0);
	CHECK(pin_find(pins + 1, 2, &other) == 2);	/* none: n */
	other.pool = POOL_B;
	/* same key, other address: a pin of its own (and a conflict) */
	CHECK(pin_find(pins, 3, &other) == 2);
	CHECK(pin_find(pins, 0, &other) == 0);
}

static void test_repeats_in_a_batch(void)
{
	struct pin pins[4] = { make(), make(), make(), make() };

	pins[1].pool = POOL_B;	/* same key, other address: loses */
	pins[3].gateway = inet_addr("203.0.113.9");	/* another key */
	pin_mark_repeats(pins, 4);
	CHECK(pins[0].state == PIN_UNKNOWN);
	CHECK(pins[1].state == PIN_CONFLICT && !pin_pending(&pins[1]));
	CHECK(pins[2].state == PIN_REPEAT && !pin_pending(&pins[2]));
	CHECK(pins[3].state == PIN_UNKNOWN);
	pin_found(&pins[0], -ENOENT, 0);
	pin_settle(&pins[0], 0, true);
	pin_share_outcomes(pins, 4);
	CHECK(pins[2].state == PIN_ADDED && pins[1].state == PIN_CONFLICT);
}

/* the same inner host and gateway in two zones: two keys, no repeat */
static void test_zones_apart(void)
{
	struct pin pins[3] = { make(), make(), make() };

	pins[1].zone = 2;
	pins[1].pool = POOL_B;
	pins[2].zone = 2;
	pin_mark_repeats(pins, 3);
	CHECK(pins[0].state == PIN_UNKNOWN && pins[1].state == PIN_UNKNOWN);
	CHECK(pins[2].state == PIN_CONFLICT);	/* zone 2's, other address */
	CHECK(pin_find(pins, 3, &pins[1]) == 1);
	pins[2].pool = POOL_A;
	CHECK(pin_find(pins, 1, &pins[2]) == 1);	/* zone 0's is not it */
}

static void test_backoff(void)
{
	struct pin_backoff b = { 0 };
	uint64_t t = 5000, d;

	CHECK(!pin_backoff_holds(&b, t) && !pin_backoff_probing(&b));
	pin_backoff_full(&b, t);
	CHECK(pin_backoff_holds(&b, t + PIN_BACKOFF_MIN_MS - 1));
	CHECK(!pin_backoff_holds(&b, t + PIN_BACKOFF_MIN_MS));
	CHECK(pin_backoff_probing(&b));
	/* the probe is refused too: twice as long, up to the cap */
	for (d = PIN_BACKOFF_MIN_MS; d < PIN_BACKOFF_MAX_MS; d *= 2)
		pin_backoff_full(&b, t);
	pin_backoff_full(&b, t);
	CHECK(b.delay_ms == PIN_BACKOFF_MAX_MS);
	CHECK(pin_backoff_holds(&b, t + PIN_BACKOFF_MAX_MS - 1));
	pin_backoff_clear(&b);
	CHECK(!pin_backoff_holds(&b, t) && !pin_backoff_probing(&b));
}

int main(void)
{
	RUN(test_new_pin);
	RUN(test_present_needs_no_write);
	RUN(test_conflict_never_moves);
	RUN(test_lookup_error);
	RUN(test_created_meanwhile);
	RUN(test_undone_with_others);
	RUN(test_map_full_and_errors);
	RUN(test_find);
	RUN(test_repeats_in_a_batch);
	RUN(test_zones_apart);
	RUN(test_backoff);
	return CHECK_DONE();
}
