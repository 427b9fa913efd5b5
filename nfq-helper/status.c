// SPDX-License-Identifier: GPL-2.0-or-later
/* nfq-helper --status: pins (zone, inner, gateway, pool, time left), counters. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/stat.h>

#include "msg.h"
#include "nftmap.h"
#include "status.h"
#include "util.h"

static void print_pin(const struct nftmap_elem *e, void *data)
{
	char a[3][INET_ADDRSTRLEN];

	util_addr_str(e->inner, a[0]);
	util_addr_str(e->gateway, a[1]);
	util_addr_str(e->pool, a[2]);
	printf("%5u  %-15s  %-15s  %-15s  %8" PRIu64 "\n", e->zone, a[0], a[1],
	       a[2], e->expires_ms / 1000);
	(*(uint64_t *)data)++;
}

static void print_metrics(const char *path)
{
	char line[512];
	struct stat st;
	FILE *f;

	f = fopen(path, "r");
	if (!f) {
		printf("\ncounters: %s: %s (is nfq-helper running with -M %s?)\n",
		       path, strerror(errno), path);
		return;
	}
	if (fstat(fileno(f), &st) == 0)
		printf("\ncounters (%s, written %lld s ago):\n", path,
		       (long long)(time(NULL) - st.st_mtime));
	while (fgets(line, sizeof(line), f))
		if (line[0] != '#')
			printf("  %s", line);
	fclose(f);
}

int status_run(const struct nfqh_config *cfg)
{
	struct nftmap *m;
	uint64_t n = 0, refreshed = 0, refused = 0;
	int ret, got = -1, got_refused = -1;
	char t[MSG_LEN];

	ret = nftmap_open(&m, cfg->table, cfg->map);
	if (ret == 0) {
		printf("%5s  %-15s  %-15s  %-15s  %8s\n", "zone", "inner host",
		       "gateway", "pool address", "left (s)");
		ret = nftmap_dump(m, print_pin, &n);
		got = nftmap_counter(m, "refreshes", &refreshed);
		got_refused = nftmap_counter(m, "learn_refused", &refused);
		nftmap_close(m);
	}
	if (ret < 0) {
		fprintf(stderr, "nfq-helper: %s\n",
			msg_errno(t, sizeof(t), -ret, "map ip %s %s",
				  cfg->table, cfg->map));
		return 1;
	}
	printf("%" PRIu64 " pins in map ip %s %s\n", n, cfg->table, cfg->map);
	if (got == 0)
		printf("%" PRIu64 " answers refreshed in the kernel (counter refreshes)\n",
		       refreshed);
	else
		printf("%s\n", msg_format(t, sizeof(t), MSG_STATUS_REFRESHES,
					  strerror(-got)));
	if (got_refused == 0 && refused)
		printf("%s\n", msg_format(t, sizeof(t), MSG_STATUS_MAP_FULL,
					  refused));
	else if (got_refused == 0)
		printf("0 new pins the kernel could not write (counter learn_refused)\n");
	print_metrics(cfg->metrics ? cfg->metrics : STATUS_METRICS_DEFAULT);
	return 0;
}
