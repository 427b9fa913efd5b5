// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Command line parsing, a mode at a time (wireguard-tools' table of
 * subcommands): the options every mode shares, then each mode's own.
 */
#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "config.h"
#include "nfqh.h"
#include "zone.h"

#ifndef NFQH_VERSION
#define NFQH_VERSION "unknown"
#endif

const char config_version[] = NFQH_VERSION;

const char config_usage[] =
	"usage: nfq-helper [-hsVv] [-b packets] [-M file] [-m map] [-q queue]\n"
	"                  [-T timeout] [-t table] [--gc-interval dur]\n"
	"                  [--no-restore] [--ruleset file] [--loader path]\n"
	"                  [--watch-interval s]\n"
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
	"      --gc-interval DUR  how often the kernel frees expired pins, for a\n"
	"                      map that declares no gc-interval (default 60s;\n"
	"                      0: the kernel's, every second)\n"
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
	c->gc_ms = CONFIG_GC_MS;
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

/* long options without a letter; a mode's switch is OPT_MODE + its mode */
enum { OPT_RULESET = 0x100, OPT_LOADER, OPT_NO_RESTORE, OPT_WATCH_INTERVAL,
       OPT_HOST_PINS, OPT_HOST_RATE, OPT_PIN_RATE, OPT_GC_INTERVAL,
       OPT_MODE = 0x200 };

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

	if (ch == OPT_HOST_PINS && parse_uint(arg, CONFIG_RATE_MAX, &v)) {
		l->host_cap = v;
		return true;
	}
	if (ch == OPT_HOST_RATE &&
	    config_parse_rate(arg, &l->host_rate, &l->host_burst))
		return true;
	if (ch == OPT_PIN_RATE && config_parse_rate(arg, &l->rate, &l->burst))
		return true;
	snprintf(err, errlen, ch == OPT_HOST_PINS ? "invalid --host-pins `%s' (0-%d)" :
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

/* Where the ruleset is, in every mode: -q, -t, -m, -M (and -h, -V). */
static const char shared_shorts[] = "q:t:m:M:Vh";
static const struct option shared_opts[] = {
	{ "queue", required_argument, NULL, 'q' },
	{ "table", required_argument, NULL, 't' },
	{ "map", required_argument, NULL, 'm' },
	{ "metrics", required_argument, NULL, 'M' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static bool parse_shared(struct nfqh_config *c, int ch, const char *arg,
			 char *err, size_t errlen)
{
	unsigned long v;

	switch (ch) {
	case 'q':
		if (!parse_uint(arg, UINT16_MAX, &v)) {
			snprintf(err, errlen, "invalid queue number `%s' (0-65535)", arg);
			return false;
		}
		c->queue_num = v;
		return true;
	case 'M':
		if (!*arg) {
			snprintf(err, errlen, "invalid metrics file `'");
			return false;
		}
		c->metrics = arg;
		return true;
	default:	/* 't', 'm' */
		if (!valid_name(arg)) {
			snprintf(err, errlen, "invalid %s name `%s'", ch == 't' ? "table" : "map", arg);
			return false;
		}
		*(ch == 't' ? &c->table : &c->map) = arg;
		return true;
	}
}

/* The daemon's own options. */
static const struct option run_opts[] = {
	{ "timeout", required_argument, NULL, 'T' },
	{ "gc-interval", required_argument, NULL, OPT_GC_INTERVAL },
	{ "batch", required_argument, NULL, 'b' },
	{ "syslog", no_argument, NULL, 's' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "ruleset", required_argument, NULL, OPT_RULESET },
	{ "loader", required_argument, NULL, OPT_LOADER },
	{ "no-restore", no_argument, NULL, OPT_NO_RESTORE },
	{ "watch-interval", required_argument, NULL, OPT_WATCH_INTERVAL },
	{ "host-pins", required_argument, NULL, OPT_HOST_PINS },
	{ "host-rate", required_argument, NULL, OPT_HOST_RATE },
	{ "pin-rate", required_argument, NULL, OPT_PIN_RATE },
	{ NULL, 0, NULL, 0 },
};

/* --ruleset, --loader, --no-restore, --watch-interval: the ruleset's watch. */
static bool parse_restore(struct nfqh_config *c, int ch, const char *arg,
			  char *err, size_t errlen)
{
	unsigned long v;

	if (ch == OPT_NO_RESTORE) {
		c->restore = false;
		return true;
	}
	if (ch == OPT_WATCH_INTERVAL) {
		if (!parse_uint(arg, CONFIG_WATCH_INTERVAL_MAX, &v)) {
			snprintf(err, errlen, "invalid watch interval `%s' (0-%d seconds; 0: events)",
				 arg, CONFIG_WATCH_INTERVAL_MAX);
			return false;
		}
		c->watch_interval = v;
		return true;
	}
	if (*arg != '/') {
		snprintf(err, errlen, "%s `%s' is not an absolute path",
			 ch == OPT_RULESET ? "ruleset" : "loader", arg);
		return false;
	}
	*(ch == OPT_RULESET ? &c->ruleset : &c->loader) = arg;
	return true;
}

/* --gc-interval DUR, or 0: the map's as it is */
static bool parse_gc(struct nfqh_config *c, const char *arg, char *err,
		     size_t errlen)
{
	uint64_t ms;

	if (!strcmp(arg, "0")) {
		c->gc_ms = 0;
		return true;
	}
	if (!config_parse_duration(arg, &ms) || ms > CONFIG_GC_MAX_MS) {
		snprintf(err, errlen, "invalid gc interval `%s' (1s-1h, e.g. 60, 5m; 0: leave the map's)", arg);
		return false;
	}
	c->gc_ms = ms;
	return true;
}

static bool parse_run(struct nfqh_config *c, int ch, const char *arg,
		      char *err, size_t errlen)
{
	unsigned long v;

	switch (ch) {
	case 'T':
		if (!config_parse_duration(arg, &c->timeout_ms)) {
			snprintf(err, errlen, "invalid timeout `%s' (e.g. 3600, 30m, 1h)", arg);
			return false;
		}
		return true;
	case OPT_GC_INTERVAL:
		return parse_gc(c, arg, err, errlen);
	case 'b':
		if (!parse_uint(arg, CONFIG_BATCH_MAX, &v) || !v) {
			snprintf(err, errlen, "invalid batch `%s' (1-%d)", arg, CONFIG_BATCH_MAX);
			return false;
		}
		c->batch = v;
		return true;
	case 's':
		c->log_dest = LOG_TO_SYSLOG;
		return true;
	case 'v':
		c->verbose++;
		return true;
	case OPT_HOST_PINS:
	case OPT_HOST_RATE:
	case OPT_PIN_RATE:
		return parse_limit(&c->limits, ch, arg, err, errlen);
	default:
		return parse_restore(c, ch, arg, err, errlen);
	}
}

/* What follows the options: nothing, in most modes. */
static bool parse_no_args(struct nfqh_config *c, int argc, char **argv,
			  char *err, size_t errlen)
{
	if (argc == 0)
		return true;
	snprintf(err, errlen, "unexpected argument `%s'", argv[0]);
	return false;
}

/* --explain [ZONE:]INNER */
static bool parse_explain(struct nfqh_config *c, int ch, const char *arg,
			  char *err, size_t errlen)
{
	return zone_host_parse(arg, &c->explain_zone, &c->explain_inner, err,
			       errlen) == 0;
}

/* --explain's [GATEWAY] */
static bool parse_gateway(struct nfqh_config *c, int argc, char **argv,
			  char *err, size_t errlen)
{
	if (argc == 0)
		return true;
	if (inet_pton(AF_INET, argv[0], &c->explain_gateway) != 1) {
		snprintf(err, errlen, "invalid gateway address `%s' (an IPv4 address)", argv[0]);
		return false;
	}
	return parse_no_args(c, argc - 1, argv + 1, err, errlen);
}

/*
 * A mode: the switch that selects it, its own options, and the parsers of
 * both and of what follows the options (wg's subcommands[], parsers only:
 * main.c runs the mode).
 */
struct mode {
	const char *name;	/* its switch, --NAME; NULL: the daemon's */
	int has_arg;		/* the switch's argument */
	const char *shorts;	/* its own short options, as getopt takes them */
	const struct option *opts;
	/* its switch (OPT_MODE + the mode) and options; NULL: nothing to parse */
	bool (*parse_opt)(struct nfqh_config *c, int ch, const char *arg,
			  char *err, size_t errlen);
	bool (*parse_args)(struct nfqh_config *c, int argc, char **argv,
			   char *err, size_t errlen);
};

static const struct mode modes[] = {
	[MODE_RUN] = { .shorts = "T:b:sv", .opts = run_opts,
		       .parse_opt = parse_run, .parse_args = parse_no_args },
	[MODE_CHECK] = { .name = "check", .parse_args = parse_no_args },
	[MODE_STATUS] = { .name = "status", .parse_args = parse_no_args },
	[MODE_EXPLAIN] = { .name = "explain", .has_arg = required_argument,
			   .parse_opt = parse_explain,
			   .parse_args = parse_gateway },
};

static bool owns(const struct option *opts, int ch)
{
	for (; opts && opts->name; opts++)
		if (opts->val == ch)
			return true;
	return false;
}

/* The mode whose switch or option ch is; NULL: a shared one, or none. */
static const struct mode *owner(int ch)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(modes); i++)
		if ((modes[i].name && ch == OPT_MODE + (int)i) ||
		    owns(modes[i].opts, ch))
			return &modes[i];
	return NULL;
}

#define OPTS_MAX 32

static void add_options(struct option *opts, size_t *n,
			const struct option *add)
{
	for (; add && add->name; add++) {
		assert(*n < OPTS_MAX - 1);
		opts[(*n)++] = *add;
	}
}

/*
 * getopt's tables hold every mode's options, as the one parser before the
 * modes did: a switch may come after options of another mode (`-t t
 * --explain ADDR`), and those are taken (checked, then unused) whatever
 * the mode, so `--check -b 64` still runs the check.
 */
static void build_options(struct option *opts, char *shorts, size_t len)
{
	size_t n = 0, i;

	snprintf(shorts, len, ":%s", shared_shorts);
	add_options(opts, &n, shared_opts);
	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		const struct mode *m = &modes[i];
		const struct option sw[] = {
			{ m->name, m->has_arg, NULL, OPT_MODE + (int)i },
			{ NULL, 0, NULL, 0 },
		};

		add_options(opts, &n, sw);
		add_options(opts, &n, m->opts);
		if (m->shorts)
			strncat(shorts, m->shorts, len - strlen(shorts) - 1);
	}
	opts[n] = (struct option){ NULL, 0, NULL, 0 };
}

static enum config_result parse_option(struct nfqh_config *c, int ch,
				       char **argv, char *err, size_t errlen)
{
	const struct mode *m = owner(ch);
	bool ok;

	if (ch == 'V')
		return CONFIG_VERSION;
	if (ch == 'h')
		return CONFIG_HELP;
	if (ch == ':') {
		snprintf(err, errlen, "option `%s' needs a value", argv[optind - 1]);
		return CONFIG_ERROR;
	}
	if (!m && !owns(shared_opts, ch)) {
		snprintf(err, errlen, "unknown option `%s'", argv[optind - 1]);
		return CONFIG_ERROR;
	}
	if (m)
		ok = !m->parse_opt || m->parse_opt(c, ch, optarg, err, errlen);
	else
		ok = parse_shared(c, ch, optarg, err, errlen);
	if (!ok)
		return CONFIG_ERROR;
	if (ch >= OPT_MODE)
		c->mode = ch - OPT_MODE;
	return CONFIG_RUN;
}

enum config_result config_parse(struct nfqh_config *c, int argc, char **argv,
				char *err, size_t errlen)
{
	struct option opts[OPTS_MAX];
	char shorts[2 * OPTS_MAX];
	enum config_result r = CONFIG_RUN;
	int ch;

	build_options(opts, shorts, sizeof(shorts));
	opterr = 0;
	optind = 1;
	while (r == CONFIG_RUN &&
	       (ch = getopt_long(argc, argv, shorts, opts, NULL)) != -1)
		r = parse_option(c, ch, argv, err, errlen);
	if (r != CONFIG_RUN)
		return r;
	if (!modes[c->mode].parse_args(c, argc - optind, argv + optind, err,
				       errlen))
		return CONFIG_ERROR;
	return CONFIG_RUN;
}
