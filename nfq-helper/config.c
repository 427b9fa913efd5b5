// SPDX-License-Identifier: GPL-2.0-or-later
/* Command line parsing. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "config.h"
#include "zone.h"

#ifndef NFQH_VERSION
#define NFQH_VERSION "unknown"
#endif

static const char usage_text[] =
	"usage: nfq-helper [-hsVv] [-b packets] [-M file] [-m map] [-q queue]\n"
	"                  [-T timeout] [-t table] [--no-restore]\n"
	"                  [--ruleset file] [--loader path] [--watch-interval s]\n"
	"                  [--host-pins NUM] [--host-rate R[/B]] [--pin-rate R[/B]]\n"
	"       nfq-helper --check [-M file] [-m map] [-q queue] [-t table]\n"
	"       nfq-helper --status [-M file] [-m map] [-t table]\n"
	"       nfq-helper --explain [ZONE:]INNER [GATEWAY] [-m map] [-t table]\n"
	"Pins the UDP 500/4500 flows of a subscriber towards an IPsec gateway to\n"
	"the pool address its first IKE flow got (see nfq-helper(8)).\n"
	"  -q, --queue NUM     NFQUEUE number the ruleset feeds (default 0)\n"
	"  -t, --table NAME    nftables table, family ip (default natt_pin)\n"
	"  -m, --map NAME      map of pins in that table (default pins)\n"
	"  -T, --timeout DUR   pin lifetime, e.g. 3600, 30m, 1h\n"
	"                      (default: the map's own timeout)\n"
	"  -b, --batch NUM     packets handled per wakeup at most (default 256)\n"
	"  -M, --metrics FILE  write counters there (Prometheus text) every 15 s\n"
	"      --ruleset FILE  the ruleset to load again when a firewall reload\n"
	"                      removed it (default " CONFIG_RULESET_DEFAULT ")\n"
	"      --loader PATH   loads it (default " CONFIG_LOADER_DEFAULT ")\n"
	"      --no-restore    only log and count when the ruleset disappears\n"
	"      --watch-interval S  look for the ruleset every S seconds instead\n"
	"                      of listening to nf_tables events (which make\n"
	"                      every pin write cost more)\n"
	"      --host-pins NUM live pins per inner host at most (default 32)\n"
	"      --host-rate R[/B]\n"
	"                      new pins a second per inner host, B at once\n"
	"                      (default 1/32)\n"
	"      --pin-rate R[/B]\n"
	"                      new pins a second in all (default 10000/20000);\n"
	"                      0 for any of the three: no limit\n"
	"      --check         check kernel support, ruleset and map, then exit\n"
	"      --status        print the live pins and the counters, then exit\n"
	"      --explain [ZONE:]INNER [GATEWAY]\n"
	"                      one subscriber's IKE flows and pins, and whether\n"
	"                      it is pinned, split or not pinned (exit 0, 1, 3)\n"
	"  -s, --syslog        log to syslog instead of stderr\n"
	"  -v, --verbose       per-packet detail (debug)\n"
	"  -V, --version       print the version\n"
	"  -h, --help          this text\n";

void config_defaults(struct nfqh_config *c)
{
	memset(c, 0, sizeof(*c));
	c->table = "natt_pin";
	c->map = "pins";
	c->batch = 256;
	c->log_dest = LOG_TO_STDERR;
	c->restore = true;
	c->ruleset = CONFIG_RULESET_DEFAULT;
	c->loader = CONFIG_LOADER_DEFAULT;
	c->limits = (struct limit_config){
		.host_cap = CONFIG_HOST_CAP, .host_rate = CONFIG_HOST_RATE,
		.host_burst = CONFIG_HOST_BURST, .rate = CONFIG_PIN_RATE,
		.burst = CONFIG_PIN_BURST,
	};
}

/* long options without a letter */
enum { OPT_RULESET = 0x100, OPT_LOADER, OPT_NO_RESTORE, OPT_WATCH_INTERVAL,
       OPT_HOST_PINS, OPT_HOST_RATE, OPT_PIN_RATE };

static bool parse_uint(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*v = strtoul(s, &end, 10);
	return !errno && !*end && *v <= max;
}

bool config_parse_duration(const char *s, uint64_t *ms)
{
	unsigned long long v;
	uint64_t unit;
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || v == 0)
		return false;
	if (!strcmp(end, "") || !strcmp(end, "s"))
		unit = 1000;
	else if (!strcmp(end, "m"))
		unit = 60 * 1000;
	else if (!strcmp(end, "h"))
		unit = 3600 * 1000;
	else if (!strcmp(end, "d"))
		unit = 86400 * 1000;
	else
		return false;
	/* the kernel holds at most a u64 of ms; be far more modest */
	if (v > UINT32_MAX / (unit / 1000))
		return false;
	*ms = v * unit;
	return true;
}

bool config_parse_rate(const char *s, uint32_t *rate, uint32_t *burst)
{
	unsigned long r, b;
	char buf[32], *slash;

	if (strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = 0;
	if (!parse_uint(buf, CONFIG_RATE_MAX, &r))
		return false;
	b = r;
	if (slash && (!parse_uint(slash, CONFIG_RATE_MAX, &b) || !b))
		return false;
	*rate = r;
	*burst = b ? b : 1;
	return true;
}

/* The caps' options, kept apart: --host-pins, --host-rate, --pin-rate. */
static bool parse_limit(struct limit_config *l, int ch, const char *arg,
			char *err, size_t errlen)
{
	unsigned long v;

	if (ch == 'P' && parse_uint(arg, CONFIG_RATE_MAX, &v)) {
		l->host_cap = v;
		return true;
	}
	if (ch == 'H' && config_parse_rate(arg, &l->host_rate, &l->host_burst))
		return true;
	if (ch == 'R' && config_parse_rate(arg, &l->rate, &l->burst))
		return true;
	snprintf(err, errlen, ch == 'P' ? "invalid --host-pins `%s' (0-%d)" :
		 "invalid rate `%s' (RATE or RATE/BURST, 0-%d; 0: no limit)",
		 arg, CONFIG_RATE_MAX);
	return false;
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	/* NFT_NAME_MAXLEN is 256 with the terminating zero */
	return n > 0 && n < 256;
}

enum config_result config_parse(struct nfqh_config *c, int argc, char **argv,
				char *err, size_t errlen)
{
	static const struct option opts[] = {
		{ "queue", required_argument, NULL, 'q' },
		{ "table", required_argument, NULL, 't' },
		{ "map", required_argument, NULL, 'm' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "batch", required_argument, NULL, 'b' },
		{ "metrics", required_argument, NULL, 'M' },
		{ "ruleset", required_argument, NULL, OPT_RULESET },
		{ "loader", required_argument, NULL, OPT_LOADER },
		{ "no-restore", no_argument, NULL, OPT_NO_RESTORE },
		{ "watch-interval", required_argument, NULL, OPT_WATCH_INTERVAL },
		{ "host-pins", required_argument, NULL, 'P' },
		{ "host-rate", required_argument, NULL, 'H' },
		{ "pin-rate", required_argument, NULL, 'R' },
		{ "check", no_argument, NULL, 'C' },
		{ "status", no_argument, NULL, 'S' },
		{ "explain", required_argument, NULL, 'E' },
		{ "syslog", no_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	int ch;

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, ":q:t:m:T:b:M:svVh", opts,
				 NULL)) != -1) {
		switch (ch) {
		case 'q':
			if (!parse_uint(optarg, UINT16_MAX, &v)) {
				snprintf(err, errlen, "invalid queue number `%s' (0-65535)", optarg);
				return CONFIG_ERROR;
			}
			c->queue_num = v;
			break;
		case 't':
		case 'm':
			if (!valid_name(optarg)) {
				snprintf(err, errlen, "invalid %s name `%s'", ch == 't' ? "table" : "map", optarg);
				return CONFIG_ERROR;
			}
			*(ch == 't' ? &c->table : &c->map) = optarg;
			break;
		case 'T':
			if (!config_parse_duration(optarg, &c->timeout_ms)) {
				snprintf(err, errlen, "invalid timeout `%s' (e.g. 3600, 30m, 1h)", optarg);
				return CONFIG_ERROR;
			}
			break;
		case 'b':
			if (!parse_uint(optarg, CONFIG_BATCH_MAX, &v) || !v) {
				snprintf(err, errlen, "invalid batch `%s' (1-%d)", optarg, CONFIG_BATCH_MAX);
				return CONFIG_ERROR;
			}
			c->batch = v;
			break;
		case 'M':
			if (!*optarg) {
				snprintf(err, errlen, "invalid metrics file `'");
				return CONFIG_ERROR;
			}
			c->metrics = optarg;
			break;
		case OPT_RULESET:
		case OPT_LOADER:
			if (*optarg != '/') {
				snprintf(err, errlen, "%s `%s' is not an absolute path",
					 ch == OPT_RULESET ? "ruleset" : "loader", optarg);
				return CONFIG_ERROR;
			}
			*(ch == OPT_RULESET ? &c->ruleset : &c->loader) =
				optarg;
			break;
		case OPT_NO_RESTORE:
			c->restore = false;
			break;
		case OPT_WATCH_INTERVAL:
			if (!parse_uint(optarg, CONFIG_WATCH_INTERVAL_MAX,
					&v)) {
				snprintf(err, errlen, "invalid watch interval `%s' (0-%d seconds; 0: events)",
					 optarg, CONFIG_WATCH_INTERVAL_MAX);
				return CONFIG_ERROR;
			}
			c->watch_interval = v;
			break;
		case 'P':
		case 'H':
		case 'R':
			if (!parse_limit(&c->limits, ch, optarg, err, errlen))
				return CONFIG_ERROR;
			break;
		case 'C':
			c->mode = MODE_CHECK;
			break;
		case 'S':
			c->mode = MODE_STATUS;
			break;
		case 'E':
			if (zone_host_parse(optarg, &c->explain_zone,
					    &c->explain_inner, err, errlen) < 0)
				return CONFIG_ERROR;
			c->mode = MODE_EXPLAIN;
			break;
		case 's':
			c->log_dest = LOG_TO_SYSLOG;
			break;
		case 'v':
			c->verbose++;
			break;
		case 'V':
			printf("nfq-helper %s\n", NFQH_VERSION);
			return CONFIG_EXIT;
		case 'h':
			fputs(usage_text, stdout);
			return CONFIG_EXIT;
		case ':':
			snprintf(err, errlen, "option `%s' needs a value", argv[optind - 1]);
			return CONFIG_ERROR;
		default:
			snprintf(err, errlen, "unknown option `%s'", argv[optind - 1]);
			return CONFIG_ERROR;
		}
	}
	if (c->mode == MODE_EXPLAIN && optind < argc) {
		if (inet_pton(AF_INET, argv[optind], &c->explain_gateway) != 1) {
			snprintf(err, errlen, "invalid gateway address `%s' (an IPv4 address)", argv[optind]);
			return CONFIG_ERROR;
		}
		optind++;
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument `%s'", argv[optind]);
		return CONFIG_ERROR;
	}
	return CONFIG_RUN;
}
