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

#include "nftmap.h"
#include "pin.h"
#include "pinwrite.h"
#include "stats.h"
#include "zone.h"

/* argv[0..3n): [ZONE:]INNER GW POOL each; -1 after saying what is wrong. */
static int parse_pins(char **argv, int n, struct pin *pins)
{
	char err[128];
	in_addr_t inner;
	uint16_t zone;
	int i;

	for (i = 0; i < n; i++) {
		if (zone_host_parse(argv[3 * i], &zone, &inner, err,
				    sizeof(err)) < 0) {
			fprintf(stderr, "pinwrite: %s\n", err);
			return -1;
		}
		pin_init(&pins[i], zone, inner, inet_addr(argv[3 * i + 1]),
			 inet_addr(argv[3 * i + 2]));
	}
	return 0;
}

static void print_pin(const struct pin *p)
{
	char a[3][ZONE_HOST_STRLEN];

	zone_host_str(p->zone, p->inner, a[0]);
	inet_ntop(AF_INET, &p->gateway, a[1], sizeof(a[1]));
	inet_ntop(AF_INET, &p->pool, a[2], sizeof(a[2]));
	printf("%s %s %s %s%s%s\n", a[0], a[1], a[2], pin_state_str(p->state),
	       p->err ? " " : "", p->err ? strerror(p->err) : "");
}

int main(int argc, char **argv)
{
	const char *table = "natt_pin", *map = "pins";
	struct nfqh_stats stats = { 0 };
	struct pin_map m = { .timeout_ms = 3600000 };
	struct pinwrite w;
	struct pin *pins;
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
			m.timeout_ms = strtoull(optarg, NULL, 10);
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
	pins = calloc(argc / 3, sizeof(*pins));
	if (!pins || pinwrite_init(&w, argc / 3, &m, NULL, &stats) < 0)
		return 1;
	ret = nftmap_open(&m.nft, table, map);
	if (ret < 0) {
		fprintf(stderr, "pinwrite: %s\n", strerror(-ret));
		return 1;
	}
	m.name = map;
	if (parse_pins(argv, argc / 3, pins) < 0)
		return 2;
	/* one call: the full map's back-off never holds it */
	pinwrite_restore(&w, pins, argc / 3, 0);
	for (i = 0; i < argc / 3; i++)
		print_pin(&pins[i]);
	printf("transactions %" PRIu64 ", failed %" PRIu64 "\n",
	       stats.transactions, stats.transactions_failed);
	nftmap_close(m.nft);
	pinwrite_free(&w);
	free(pins);
	return 0;
}
