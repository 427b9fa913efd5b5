/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Command line -> struct nfqh_config, a mode at a time; pure: no I/O. */
#ifndef NFQH_CONFIG_H
#define NFQH_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "limit.h"
#include "log.h"

#define CONFIG_BATCH_MAX 1024

/* config.c parses each mode's options, main.c runs it */
enum config_mode {
	MODE_RUN,	/* the daemon */
	MODE_CHECK,	/* --check: kernel support and ruleset, then exit */
	MODE_STATUS,	/* --status: live pins and counters, then exit */
	MODE_EXPLAIN,	/* --explain [ZONE:]INNER [GATEWAY]: one subscriber */
};

struct nfqh_config {
	enum config_mode mode;
	uint16_t queue_num;
	const char *table;
	const char *map;
	uint64_t timeout_ms;	/* 0: the map's own timeout */
	uint32_t gc_ms;		/* the map's gc interval if it declares none; 0: none */
	unsigned int batch;	/* packets taken per wakeup at most */
	int verbose;
	enum log_dest log_dest;
	const char *metrics;	/* Prometheus text file, or NULL */
	uint16_t explain_zone;		/* --explain: the subscriber's zone */
	in_addr_t explain_inner;	/* and inner address */
	in_addr_t explain_gateway;	/* and its gateway, or 0: every one */
	bool restore;		/* reload the ruleset when it disappears */
	const char *ruleset;	/* the file natt-pin-load loads */
	const char *loader;	/* natt-pin-load */
	unsigned int watch_interval;	/* s between looks; 0: nf_tables events */
	struct limit_config limits;	/* caps on new pins */
};

#define CONFIG_RULESET_DEFAULT "/etc/nfq-helper/natt-pin.nft"
#define CONFIG_LOADER_DEFAULT "/usr/share/nfq-helper/natt-pin-load"
#define CONFIG_WATCH_INTERVAL_MAX 3600

/*
 * Caps on new pins (limit.h). A home router with several VPN clients, each
 * reaching up to a few gateway addresses (a cluster, a fallback), holds well
 * under 32 pins; a 1M-pin map holds 32,768 such hosts at their cap. The host
 * rate lets all of them start at once (burst = cap), then one a second. The
 * global rate is a third of what the helper serves with hold p99 <= 1 ms on
 * the CI VM (30,000/s), so a scan spread over many hosts leaves room for
 * the rest; a map of 1M fills no faster than in 100 s.
 */
#define CONFIG_HOST_CAP 32
#define CONFIG_HOST_RATE 1
#define CONFIG_HOST_BURST 32
#define CONFIG_PIN_RATE 10000
#define CONFIG_PIN_BURST 20000
#define CONFIG_RATE_MAX 1000000

/*
 * The kernel frees a map's expired elements by walking it whole, every
 * second unless its declaration says otherwise: with 100,000 pins a CPU is
 * held 5-7 ms each time, and the helper, woken there, waits behind it
 * (docs/performance.md). Expired pins match nothing; only their memory, and
 * their room in the map's size, waits for the walk.
 */
#define CONFIG_GC_MS (60 * 1000)
#define CONFIG_GC_MAX_MS (3600 * 1000)

#define CONFIG_METRICS_INTERVAL 15	/* seconds between metrics writes */

enum config_result {
	CONFIG_RUN,
	CONFIG_HELP,	/* --help: print config_usage */
	CONFIG_VERSION,	/* --version: print config_version */
	CONFIG_ERROR,	/* err holds the reason */
};

/* What --help and --version print. */
extern const char config_usage[];
extern const char config_version[];

void config_defaults(struct nfqh_config *c);
/*
 * Fills c (config_defaults() first) from argv; the mode is the last switch
 * given. CONFIG_ERROR: err names the bad token.
 */
enum config_result config_parse(struct nfqh_config *c, int argc, char **argv,
				char *err, size_t errlen);

/* "RATE" or "RATE/BURST" (burst default: RATE); false if malformed. */
bool config_parse_rate(const char *s, uint32_t *rate, uint32_t *burst);

/* "90", "90s", "30m", "1h", "2d" -> milliseconds; false if malformed or 0. */
bool config_parse_duration(const char *s, uint64_t *ms);

#endif
