// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mapfill: writes COUNT pins (100.80.0.0 + i . GATEWAY + i % GATEWAYS : POOL)
 * straight into the map through the daemon's writer, BATCH per transaction,
 * and prints the time it took. Usage: mapfill [-t table] [-m map]
 * [-b batch] [-G gateways] COUNT GATEWAY POOL
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nftmap.h"
#include "pin.h"

int main(int argc, char **argv)
{
	const char *table = "natt_pin", *map = "pins";
	/* the keys shape writes a batch's keys in one message, whose elements'
	 * nest length is 16 bits: 1,489 keys at most (44 bytes each) */
	unsigned long count, batch = 1024, done = 0, failed = 0, gateways = 1;
	struct pin *pins, **pp;
	struct nftmap *m;
	struct timespec a, b;
	in_addr_t gw, pool, base = inet_addr("100.80.0.0");
	bool committed;
	int c, ret;

	while ((c = getopt(argc, argv, "t:m:b:G:")) != -1) {
		if (c == 't')
			table = optarg;
		else if (c == 'm')
			map = optarg;
		else if (c == 'b')
			batch = strtoul(optarg, NULL, 10);
		else if (c == 'G')
			gateways = strtoul(optarg, NULL, 10);
		else
			return 2;
	}
	if (argc - optind != 3 || !batch || !gateways) {
		fprintf(stderr, "usage: mapfill [-t table] [-m map] [-b batch] [-G gateways] COUNT GATEWAY POOL\n");
		return 2;
	}
	count = strtoul(argv[optind], NULL, 10);
	gw = inet_addr(argv[optind + 1]);
	pool = inet_addr(argv[optind + 2]);
	pins = calloc(batch, sizeof(*pins));
	pp = calloc(batch, sizeof(*pp));
	ret = nftmap_open(&m, table, map);
	if (ret < 0 || !pins || !pp) {
		fprintf(stderr, "mapfill: %s\n", strerror(-ret));
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	while (done < count) {
		unsigned long n = count - done < batch ? count - done : batch;

		for (unsigned long i = 0; i < n; i++) {
			pin_init(&pins[i], 0, htonl(ntohl(base) + done + i),
				 htonl(ntohl(gw) + (done + i) % gateways), pool);
			pp[i] = &pins[i];
		}
		ret = nftmap_commit(m, pp, n, 3600 * 1000, &committed);
		if (ret < 0 || !committed) {
			failed += n;
			fprintf(stderr, "mapfill: batch at %lu: %s\n", done,
				ret < 0 ? strerror(-ret) : "refused");
			break;
		}
		done += n;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("pins %lu failed %lu seconds %.3f\n", done, failed,
	       (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
	nftmap_close(m);
	return failed ? 1 : 0;
}
