// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The message table: every entry names a cause and a remedy, no two share
 * a text, and remedies name the configured loader and ruleset.
 */
#include <string.h>

#include "check.h"
#include "msg.h"

#define LOADER "/opt/test/sbin/pin-loader"
#define RULESET "/opt/test/etc/pins.nft"

static void test_every_entry(void)
{
	char a[MSG_LEN], b[MSG_LEN];
	const struct msg *m, *o;
	int i, j;

	msg_set_paths(LOADER, RULESET);
	for (i = 0; i < MSG_COUNT; i++) {
		m = msg_get(i);
		CHECK(m->cause && m->cause[0]);
		CHECK(m->remedy && m->remedy[0]);
		if (!m->cause || !m->remedy)
			continue;
		/* the paths come from the configuration, never the text */
		CHECK(!strstr(m->remedy, "natt-pin-load"));
		CHECK(!strstr(m->remedy, "natt-pin.nft"));
		CHECK(!strstr(m->remedy, "/usr/share/nfq-helper"));
		msg_remedy(i, a, sizeof(a));
		CHECK(!strchr(a, '{') && !strchr(a, '}'));
		if (strstr(m->remedy, "{loader}"))
			CHECK(strstr(a, LOADER));
		if (strstr(m->remedy, "{ruleset}"))
			CHECK(strstr(a, RULESET));
		for (j = 0; j < i; j++) {
			o = msg_get(j);
			msg_remedy(j, b, sizeof(b));
			if (!strcmp(m->cause, o->cause) && !strcmp(a, b))
				fprintf(stderr, "messages %d and %d: one text\n",
					j, i);
			CHECK(strcmp(m->cause, o->cause) || strcmp(a, b));
		}
	}
}

static void test_format(void)
{
	char buf[MSG_LEN];

	msg_set_paths(LOADER, RULESET);
	msg_errno(buf, sizeof(buf), 2, "map ip %s %s", "natt_pin", "pins");
	CHECK(!strcmp(buf, "map ip natt_pin pins: No such file or directory (load the ruleset first: " LOADER " " RULESET ")"));
	msg_errno(buf, sizeof(buf), 1, "queue %u: bind", 3u);
	CHECK(!strcmp(buf, "queue 3: bind: Operation not permitted (needs CAP_NET_ADMIN: run as root or grant the capability)"));
	msg_format(buf, sizeof(buf), MSG_VERDICT, "No buffer space available");
	CHECK(!strncmp(buf, "queue: verdict: No buffer space available (", 43));
	CHECK(buf[strlen(buf) - 1] == ')');

	/* too small a buffer cuts, and stays a string */
	msg_format(buf, 20, MSG_PIN_MAP_FULL, "100.64.1.1", "203.0.113.1",
		   "198.51.100.1", "ip natt_pin pins", 2u);
	CHECK(strlen(buf) == 19);
	msg_remedy(MSG_PIN_MAP_FULL, buf, 8);
	CHECK(!strcmp(buf, "raise i"));
}

int main(void)
{
	RUN(test_every_entry);
	RUN(test_format);
	return CHECK_DONE();
}
