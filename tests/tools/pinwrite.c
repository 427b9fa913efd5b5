// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pinwrite: writes pins into the map in one batch through the daemon's own
 * map writer and policy, and prints each outcome; for the kernel-semantics
 * test. Usage: pinwrite [-t table] [-m map] [-T ms] [ZONE:]INNER GW POOL ...
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helper.h"
#include "nftmap.h"
#include "pin.h"
#include "zone.h"

int main(int argc, char **argv)
{
	const char *table = "natt_pin", *map = "pins";
	struct helper h = { 0 };
	uint64_t timeout = 3600000;
	char a[3][ZONE_HOST_STRLEN], err[128];
	in_addr_t inner;
	uint16_t zone;
	int c, i, ret;

	while ((c = getopt(argc, argv, "t:m:T:")) != -1) {
		switch (c) {
		case 't':
			table = optarg;
			break;
		case 'm':
			map = optarg;
			break;
		case 'T':
			timeout = strtoull(optarg, NULL, 10);
			break;
		default:
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 3 || argc % 3) {
		fprintf(stderr, "usage: pinwrite [-t table] [-m map] [-T ms] [ZONE:]INNER GW POOL ...\n");
		return 2;
	}
	if (helper_init(&h, argc / 3) < 0)
		return 1;
	ret = nftmap_open(&h.map, table, map);
	if (ret < 0) {
		fprintf(stderr, "pinwrite: %s\n", strerror(-ret));
		return 1;
	}
	h.timeout_ms = timeout;
	h.map_name = map;
	for (i = 0; i < argc; i += 3) {
		if (zone_host_parse(argv[i], &zone, &inner, err,
				    sizeof(err)) < 0) {
			fprintf(stderr, "pinwrite: %s\n", err);
			return 2;
		}
		pin_init(&h.pins[h.npins++], zone, inner,
			 inet_addr(argv[i + 1]), inet_addr(argv[i + 2]));
	}
	helper_commit_pins(&h);
	for (i = 0; i < (int)h.npins; i++) {
		struct pin *p = &h.pins[i];

		zone_host_str(p->zone, p->inner, a[0]);
		inet_ntop(AF_INET, &p->gateway, a[1], sizeof(a[1]));
		inet_ntop(AF_INET, &p->pool, a[2], sizeof(a[2]));
		printf("%s %s %s %s%s%s\n", a[0], a[1], a[2],
		       pin_state_str(p->state), p->err ? " " : "",
		       p->err ? strerror(p->err) : "");
	}
	printf("transactions %" PRIu64 ", failed %" PRIu64 "\n",
	       h.stats.transactions, h.stats.transactions_failed);
	nftmap_close(h.map);
	helper_free(&h);
	return 0;
}
