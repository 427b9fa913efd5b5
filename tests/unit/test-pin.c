// SPDX-License-Identifier: GPL-2.0-or-later
/* Pin policy: what each kernel answer makes of a pin. */
#include <errno.h>
#include <arpa/inet.h>

#include "check.h"
#include "pin.h"

static struct pin make(void)
{
	struct pin p;

	pin_init(&p, inet_addr("100.64.1.1"), inet_addr("203.0.113.2"),
		 inet_addr("198.51.100.1"));
	return p;
}

static void test_new_pin(void)
{
	struct pin p = make();

	CHECK(p.state == PIN_TRY_CREATE && pin_pending(&p));
	pin_settle(&p, 0, true);
	CHECK(p.state == PIN_ADDED && !pin_pending(&p));
}

static void test_refresh(void)
{
	struct pin p = make();

	/* exists: the exclusive add is refused, the batch undone */
	pin_settle(&p, EEXIST, false);
	CHECK(p.state == PIN_TRY_REFRESH && pin_pending(&p));
	pin_settle(&p, 0, true);
	CHECK(p.state == PIN_REFRESHED);
}

static void test_conflict_never_moves(void)
{
	struct pin p = make();

	pin_settle(&p, EEXIST, false);
	/* the re-add with another address is refused too: a live pin to
	 * another pool address; it is kept, this one given up */
	pin_settle(&p, EEXIST, false);
	CHECK(p.state == PIN_CONFLICT && !pin_pending(&p));
	pin_settle(&p, 0, true);	/* final states stay */
	CHECK(p.state == PIN_CONFLICT);
}

static void test_undone_with_others(void)
{
	struct pin p = make();

	/* fine itself, but another element failed: try again unchanged */
	pin_settle(&p, 0, false);
	CHECK(p.state == PIN_TRY_CREATE);
	pin_settle(&p, 0, true);
	CHECK(p.state == PIN_ADDED);
}

static void test_map_full_and_errors(void)
{
	struct pin p = make(), q = make(), r = make();

	pin_settle(&p, ENFILE, false);
	CHECK(p.state == PIN_MAP_FULL && p.err == ENFILE);
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
	pins[2].pool = inet_addr("198.51.100.2");
	CHECK(pin_find(pins, 3, &other) == 0);
	CHECK(pin_find(pins + 1, 2, &other) == 2);	/* none: n */
	other.pool = inet_addr("198.51.100.2");
	/* same key, other address: a pin of its own (and a conflict) */
	CHECK(pin_find(pins, 3, &other) == 2);
	CHECK(pin_find(pins, 0, &other) == 0);
}

int main(void)
{
	RUN(test_new_pin);
	RUN(test_refresh);
	RUN(test_conflict_never_moves);
	RUN(test_undone_with_others);
	RUN(test_map_full_and_errors);
	RUN(test_find);
	return CHECK_DONE();
}
