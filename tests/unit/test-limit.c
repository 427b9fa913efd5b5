// SPDX-License-Identifier: GPL-2.0-or-later
/* Caps on new pins: per-host cap, its check in the kernel, rates, logging. */
#include <arpa/inet.h>

#include "check.h"
#include "limit.h"

#define HOUR_MS (3600 * 1000ULL)

static in_addr_t addr(uint32_t host_order)
{
	return htonl(host_order);
}

static const in_addr_t sub = 0x0a014064; /* 100.64.1.10, any order */

static in_addr_t gw(uint32_t i)
{
	return addr(0xcb007100 + i); /* 203.0.113.i */
}

static void start(struct limit *l, uint32_t cap, uint32_t host_rate,
		  uint32_t host_burst, uint32_t rate, uint32_t burst)
{
	struct limit_config c = { .host_cap = cap,
				  .host_rate = host_rate,
				  .host_burst = host_burst,
				  .rate = rate,
				  .burst = burst };

	CHECK(limit_init(l, &c, 12345) == 0);
}

/* n new pins for sub at now, each written and noted */
static uint32_t fill(struct limit *l, uint32_t first, uint32_t n, uint64_t now)
{
	uint32_t i, made = 0;

	for (i = first; i < first + n; i++)
		if (limit_admit(l, 0, sub, gw(i), now) == LIMIT_CREATE) {
			limit_note(l, 0, sub, gw(i), now + HOUR_MS);
			made++;
		}
	return made;
}

static void test_cap(void)
{
	struct limit l;
	uint64_t now = 5000;
	in_addr_t g[8];

	start(&l, 4, 0, 0, 0, 0);
	CHECK(fill(&l, 1, 4, now) == 4);
	/* at the cap, never checked: ask the kernel first */
	CHECK(limit_admit(&l, 0, sub, gw(9), now) == LIMIT_VERIFY);
	CHECK(limit_host_pins(&l, 0, sub, g, 8) == 4);
	limit_verified(&l, 0, sub, now);
	CHECK(limit_admit(&l, 0, sub, gw(9), now) == LIMIT_CAPPED);
	/* refreshes of its live pins are never limited */
	CHECK(limit_admit(&l, 0, sub, gw(2), now) == LIMIT_KNOWN);
	/* other hosts are not touched by it */
	CHECK(limit_admit(&l, 0, sub + 1, gw(9), now) == LIMIT_CREATE);
	/* within LIMIT_VERIFY_S no new check, then one again */
	CHECK(limit_admit(&l, 0, sub, gw(9), now + 9000) == LIMIT_CAPPED);
	CHECK(limit_admit(&l, 0, sub, gw(9), now + LIMIT_VERIFY_S * 1000) ==
	      LIMIT_VERIFY);
	/* the check found one pin gone from the kernel: room for one */
	limit_forget(&l, 0, sub, gw(3));
	limit_verified(&l, 0, sub, now + LIMIT_VERIFY_S * 1000);
	CHECK(limit_admit(&l, 0, sub, gw(9), now + LIMIT_VERIFY_S * 1000) ==
	      LIMIT_CREATE);
	CHECK(limit_count(&l) == 5);
	limit_free(&l);
}

static void test_cap_expired_estimate(void)
{
	struct limit l;
	uint64_t now = 1000;

	start(&l, 2, 0, 0, 0, 0);
	CHECK(fill(&l, 1, 2, now) == 2);
	limit_verified(&l, 0, sub, now);
	CHECK(limit_admit(&l, 0, sub, gw(5), now) == LIMIT_CAPPED);
	/* an estimate has passed: the kernel may have let it expire */
	CHECK(limit_admit(&l, 0, sub, gw(5), now + HOUR_MS) == LIMIT_VERIFY);
	/* the kernel refreshed it itself: live, with a new expiry */
	limit_note(&l, 0, sub, gw(1), now + 2 * HOUR_MS);
	limit_note(&l, 0, sub, gw(2), now + 2 * HOUR_MS);
	limit_verified(&l, 0, sub, now + HOUR_MS);
	CHECK(limit_admit(&l, 0, sub, gw(5), now + HOUR_MS) == LIMIT_CAPPED);
	limit_free(&l);
}

static void test_pending_counts(void)
{
	struct limit l;
	in_addr_t g[8];

	/* admitted in one batch, not written yet: counted for the cap, but
	 * never handed out for a check (the kernel has not seen them) */
	start(&l, 3, 0, 0, 0, 0);
	CHECK(limit_admit(&l, 0, sub, gw(1), 0) == LIMIT_CREATE);
	CHECK(limit_admit(&l, 0, sub, gw(2), 0) == LIMIT_CREATE);
	CHECK(limit_admit(&l, 0, sub, gw(3), 0) == LIMIT_CREATE);
	CHECK(limit_admit(&l, 0, sub, gw(4), 0) == LIMIT_VERIFY);
	CHECK(limit_host_pins(&l, 0, sub, g, 8) == 0);
	/* one refused by the kernel (map full): forgotten, room again */
	limit_forget(&l, 0, sub, gw(2));
	CHECK(limit_admit(&l, 0, sub, gw(4), 0) == LIMIT_CREATE);
	limit_free(&l);
}

static void test_host_rate(void)
{
	struct limit l;

	/* 2 a second, burst 3 */
	start(&l, 0, 2, 3, 0, 0);
	CHECK(fill(&l, 1, 3, 0) == 3);
	CHECK(limit_admit(&l, 0, sub, gw(4), 0) == LIMIT_HOST_RATE);
	CHECK(limit_admit(&l, 0, sub + 1, gw(4), 0) == LIMIT_CREATE);
	CHECK(limit_admit(&l, 0, sub, gw(4), 499) == LIMIT_HOST_RATE);
	CHECK(limit_admit(&l, 0, sub, gw(4), 500) == LIMIT_CREATE);
	CHECK(limit_admit(&l, 0, sub, gw(5), 500) == LIMIT_HOST_RATE);
	/* a known pin is a refresh: no token needed */
	CHECK(limit_admit(&l, 0, sub, gw(1), 500) == LIMIT_KNOWN);
	/* idle long enough: the full burst again, no more */
	CHECK(fill(&l, 10, 5, 60000) == 3);
	limit_free(&l);
}

static void test_global_rate(void)
{
	struct limit l;
	uint32_t i, made = 0;

	/* 100 a second, burst 10, over many hosts */
	start(&l, 0, 0, 0, 100, 10);
	for (i = 0; i < 50; i++)
		made += limit_admit(&l, 0, addr(0x64400100 + i), gw(1), 0) ==
			LIMIT_CREATE;
	CHECK(made == 10);
	CHECK(limit_admit(&l, 0, addr(0x64400200), gw(1), 0) == LIMIT_RATE);
	CHECK(limit_admit(&l, 0, addr(0x64400200), gw(1), 10) == LIMIT_CREATE);
	limit_free(&l);
}

static void test_stale(void)
{
	struct limit_key k[16];
	struct limit l;
	size_t n;

	start(&l, 0, 0, 0, 0, 0);
	limit_note(&l, 0, sub, gw(1), 10000);
	limit_note(&l, 0, sub, gw(2), 20000);
	limit_note(&l, 0, sub + 1, gw(1), 10000);
	CHECK(limit_admit(&l, 0, sub, gw(3), 0) == LIMIT_CREATE); /* pending */
	CHECK(limit_stale(&l, 9999, k, 16) == 0);
	n = limit_stale(&l, 15000, k, 16);
	CHECK(n == 2);
	CHECK(n == 2 && k[0].inner != k[1].inner && k[0].gateway == gw(1) &&
	      k[1].gateway == gw(1));
	/* at most max at a time */
	CHECK(limit_stale(&l, 30000, k, 1) == 1);
	limit_forget(&l, 0, sub, gw(1));
	limit_forget(&l, 0, sub + 1, gw(1));
	limit_forget(&l, 0, sub, gw(2));
	CHECK(limit_stale(&l, 30000, k, 16) == 0);
	CHECK(limit_count(&l) == 1);
	limit_free(&l);
}

static void test_many(void)
{
	in_addr_t g[4];
	struct limit l;
	uint32_t i, bad = 0;

	/* the table grows (chains double) and keeps every pin */
	start(&l, 0, 0, 0, 0, 0);
	for (i = 1; i <= 200000; i++)
		bad += limit_note(&l, 0, addr(0x64500000 + i / 2), gw(i % 2),
				  HOUR_MS) != 0;
	CHECK(bad == 0 && limit_count(&l) == 200000);
	for (i = 1; i <= 200000; i++)
		bad += limit_admit(&l, 0, addr(0x64500000 + i / 2), gw(i % 2),
				   0) != LIMIT_KNOWN;
	CHECK(bad == 0);
	CHECK(limit_host_pins(&l, 0, addr(0x64500000 + 7), g, 4) == 2);
	for (i = 1; i <= 200000; i += 2)
		limit_forget(&l, 0, addr(0x64500000 + i / 2), gw(i % 2));
	CHECK(limit_count(&l) == 100000);
	/* freed entries are reused before the array grows */
	i = l.used;
	limit_note(&l, 0, addr(0x64600000), gw(1), HOUR_MS);
	CHECK(l.used == i && limit_count(&l) == 100001);
	limit_free(&l);
}

static void test_log_summary(void)
{
	struct limit l;
	uint32_t i, lines = 0;

	start(&l, 0, 0, 0, 0, 0);
	/* a few pins: a line each, no summary */
	for (i = 0; i < 3; i++)
		lines += limit_log_pin(&l, 1000);
	CHECK(lines == 3 && limit_log_due(&l, 20000, false) == 0);
	/* 1234 in one window: LIMIT_LOG_LINES lines, then one summary */
	for (i = 0, lines = 0; i < 1234; i++)
		lines += limit_log_pin(&l, 30000 + i);
	CHECK(lines == LIMIT_LOG_LINES);
	CHECK(limit_log_due(&l, 30000 + 9999, false) == 0);
	CHECK(limit_log_due(&l, 30000 + LIMIT_LOG_WINDOW_S * 1000, false) ==
	      1234);
	CHECK(limit_log_due(&l, 90000, false) == 0);
	CHECK(limit_log_pin(&l, 90000));
	/* forced (SIGUSR1, exit): only when some went unlogged */
	CHECK(limit_log_due(&l, 90001, true) == 0);
	for (i = 0; i < 20; i++)
		limit_log_pin(&l, 100000);
	CHECK(limit_log_due(&l, 100001, true) == 20);
	CHECK(limit_log_due(&l, 100002, true) == 0);
	limit_free(&l);
}

/* the same inner address in two zones: two subscribers, a cap each */
static void test_cap_per_zone(void)
{
	struct limit_key k[4];
	struct limit l;
	uint64_t now = 5000;
	in_addr_t g[8];

	start(&l, 2, 0, 0, 0, 0);
	CHECK(fill(&l, 1, 2, now) == 2);
	limit_verified(&l, 0, sub, now);
	CHECK(limit_admit(&l, 0, sub, gw(9), now) == LIMIT_CAPPED);
	/* zone 2's 100.64.1.10 has none yet: its own cap */
	CHECK(limit_admit(&l, 2, sub, gw(1), now) == LIMIT_CREATE);
	limit_note(&l, 2, sub, gw(1), now + HOUR_MS);
	CHECK(limit_admit(&l, 2, sub, gw(2), now) == LIMIT_CREATE);
	limit_note(&l, 2, sub, gw(2), now + 1000);
	limit_verified(&l, 2, sub, now);
	CHECK(limit_admit(&l, 2, sub, gw(3), now) == LIMIT_CAPPED);
	CHECK(limit_host_pins(&l, 2, sub, g, 8) == 2);
	CHECK(limit_host_pins(&l, 7, sub, g, 8) == 0);
	/* a pin of zone 0 is no refresh of zone 2's */
	CHECK(limit_expires_ms(&l, 2, sub, gw(1)) == (now + HOUR_MS) / 1000 * 1000);
	limit_forget(&l, 2, sub, gw(1));
	CHECK(limit_expires_ms(&l, 2, sub, gw(1)) == 0);
	CHECK(limit_expires_ms(&l, 0, sub, gw(1)) != 0);
	/* a stale entry is handed out with its zone */
	CHECK(limit_stale(&l, now + 2000, k, 4) == 1);
	CHECK(k[0].zone == 2 && k[0].inner == sub && k[0].gateway == gw(2));
	limit_free(&l);
}

int main(void)
{
	RUN(test_cap);
	RUN(test_cap_per_zone);
	RUN(test_cap_expired_estimate);
	RUN(test_pending_counts);
	RUN(test_host_rate);
	RUN(test_global_rate);
	RUN(test_stale);
	RUN(test_many);
	RUN(test_log_summary);
	return CHECK_DONE();
}
