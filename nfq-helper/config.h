/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Command line -> struct nfqh_config; pure apart from printing help. */
#ifndef NFQH_CONFIG_H
#define NFQH_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "log.h"

#define CONFIG_BATCH_MAX 1024

enum config_mode {
	MODE_RUN,
	MODE_CHECK,	/* --check: kernel support and ruleset, then exit */
	MODE_STATUS,	/* --status: live pins and counters, then exit */
	MODE_EXPLAIN,	/* --explain INNER [GATEWAY]: one subscriber */
};

struct nfqh_config {
	enum config_mode mode;
	uint16_t queue_num;
	const char *table;
	const char *map;
	uint64_t timeout_ms;	/* 0: the map's own timeout */
	unsigned int batch;	/* packets taken per wakeup at most */
	int verbose;
	enum log_dest log_dest;
	const char *metrics;	/* Prometheus text file, or NULL */
	in_addr_t explain_inner;	/* --explain: the subscriber */
	in_addr_t explain_gateway;	/* and its gateway, or 0: every one */
	bool restore;		/* reload the ruleset when it disappears */
	const char *ruleset;	/* the file natt-pin-load loads */
	const char *loader;	/* natt-pin-load */
	unsigned int watch_interval;	/* s between looks; 0: nf_tables events */
};

#define CONFIG_RULESET_DEFAULT "/etc/nfq-helper/natt-pin.nft"
#define CONFIG_LOADER_DEFAULT "/usr/share/nfq-helper/natt-pin-load"
#define CONFIG_WATCH_INTERVAL_MAX 3600

#define CONFIG_METRICS_INTERVAL 15	/* seconds between metrics writes */

enum config_result {
	CONFIG_RUN,
	CONFIG_EXIT,	/* --help or --version was answered */
	CONFIG_ERROR,	/* err holds the reason */
};

void config_defaults(struct nfqh_config *c);
enum config_result config_parse(struct nfqh_config *c, int argc, char **argv,
				char *err, size_t errlen);

/* "90", "90s", "30m", "1h", "2d" -> milliseconds; false if malformed or 0. */
bool config_parse_duration(const char *s, uint64_t *ms);

#endif
