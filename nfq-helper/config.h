/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Command line -> struct nfqh_config; pure apart from printing help. */
#ifndef NFQH_CONFIG_H
#define NFQH_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"

#define CONFIG_BATCH_MAX 1024

struct nfqh_config {
	uint16_t queue_num;
	const char *table;
	const char *map;
	uint64_t timeout_ms;	/* 0: the map's own timeout */
	unsigned int batch;	/* packets taken per wakeup at most */
	int verbose;
	enum log_dest log_dest;
};

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
