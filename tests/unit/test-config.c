// SPDX-License-Identifier: GPL-2.0-or-later
/* Command line parsing: values, limits, errors that name the bad token. */
#include <string.h>
#include <arpa/inet.h>

#include "check.h"
#include "config.h"
#include "zone.h"

static enum config_result parse(struct nfqh_config *c, char *err, int argc,
				char **argv)
{
	config_defaults(c);
	err[0] = 0;
	return config_parse(c, argc, argv, err, 256);
}

static void test_defaults(void)
{
	char *argv[] = { "nfq-helper", NULL };
	struct nfqh_config c;
	char err[256];

	CHECK(parse(&c, err, 1, argv) == CONFIG_RUN);
	CHECK(c.queue_num == 0 && !strcmp(c.table, "natt_pin"));
	CHECK(!strcmp(c.map, "pins") && c.timeout_ms == 0);
	CHECK(c.batch == 256 && c.verbose == 0 && c.log_dest == LOG_TO_STDERR);
	CHECK(c.restore && !strcmp(c.ruleset, CONFIG_RULESET_DEFAULT));
	CHECK(!strcmp(c.loader, CONFIG_LOADER_DEFAULT) && c.watch_interval == 0);
	CHECK(c.gc_ms == 60000);
}

static void test_gc(void)
{
	char *set[] = { "nfq-helper", "--gc-interval", "5m", NULL };
	char *off[] = { "nfq-helper", "--gc-interval", "0", NULL };
	char *big[] = { "nfq-helper", "--gc-interval", "2h", NULL };
	char *bad[] = { "nfq-helper", "--gc-interval", "-1", NULL };
	struct nfqh_config c;
	char err[256];

	CHECK(parse(&c, err, 3, set) == CONFIG_RUN && c.gc_ms == 300000);
	CHECK(parse(&c, err, 3, off) == CONFIG_RUN && c.gc_ms == 0);
	CHECK(parse(&c, err, 3, big) == CONFIG_ERROR &&
	      strstr(err, "gc interval `2h' (1s-1h"));
	CHECK(parse(&c, err, 3, bad) == CONFIG_ERROR && strstr(err, "`-1'"));
}

static void test_restore(void)
{
	char *argv[] = { "nfq-helper", "--no-restore", "--ruleset", "/r.nft",
			 "--loader", "/l", NULL };
	char *rel[] = { "nfq-helper", "--ruleset", "natt-pin.nft", NULL };
	char *nol[] = { "nfq-helper", "--loader", NULL };
	char *wi[] = { "nfq-helper", "--watch-interval", "5", NULL };
	char *wbad[] = { "nfq-helper", "--watch-interval", "3601", NULL };
	struct nfqh_config c;
	char err[256];

	CHECK(parse(&c, err, 6, argv) == CONFIG_RUN);
	CHECK(!c.restore && !strcmp(c.ruleset, "/r.nft"));
	CHECK(!strcmp(c.loader, "/l"));
	CHECK(parse(&c, err, 3, rel) == CONFIG_ERROR &&
	      strstr(err, "`natt-pin.nft' is not an absolute path"));
	CHECK(parse(&c, err, 2, nol) == CONFIG_ERROR && strstr(err, "--loader"));
	CHECK(parse(&c, err, 3, wi) == CONFIG_RUN && c.watch_interval == 5);
	CHECK(parse(&c, err, 3, wbad) == CONFIG_ERROR && strstr(err, "`3601'"));
}

static void test_values(void)
{
	char *argv[] = { "nfq-helper", "-q", "65535", "--table", "t",
			 "-m", "m", "-T", "30m", "-b", "64", "-vv", "-s",
			 NULL };
	struct nfqh_config c;
	char err[256];

	CHECK(parse(&c, err, 13, argv) == CONFIG_RUN && c.mode == MODE_RUN);
	CHECK(c.queue_num == 65535 && !strcmp(c.table, "t"));
	CHECK(!strcmp(c.map, "m") && c.timeout_ms == 30 * 60 * 1000);
	CHECK(c.batch == 64 && c.verbose == 2 && c.log_dest == LOG_TO_SYSLOG);
}

static void test_errors(void)
{
	char *q[] = { "nfq-helper", "-q", "65536", NULL };
	char *qneg[] = { "nfq-helper", "-q", "-1", NULL };
	char *b0[] = { "nfq-helper", "-b", "0", NULL };
	char *bbig[] = { "nfq-helper", "-b", "1025", NULL };
	char *t[] = { "nfq-helper", "-T", "5x", NULL };
	char *tab[] = { "nfq-helper", "-t", "", NULL };
	char *unk[] = { "nfq-helper", "--frobnicate", NULL };
	char *miss[] = { "nfq-helper", "-q", NULL };
	char *extra[] = { "nfq-helper", "stray", NULL };
	struct nfqh_config c;
	char err[256];

	CHECK(parse(&c, err, 3, q) == CONFIG_ERROR && strstr(err, "`65536'"));
	CHECK(parse(&c, err, 3, qneg) == CONFIG_ERROR && strstr(err, "`-1'"));
	CHECK(parse(&c, err, 3, b0) == CONFIG_ERROR && strstr(err, "batch"));
	CHECK(parse(&c, err, 3, bbig) == CONFIG_ERROR);
	CHECK(parse(&c, err, 3, t) == CONFIG_ERROR && strstr(err, "`5x'"));
	CHECK(parse(&c, err, 3, tab) == CONFIG_ERROR && strstr(err, "table"));
	CHECK(parse(&c, err, 2, unk) == CONFIG_ERROR &&
	      strstr(err, "--frobnicate"));
	CHECK(parse(&c, err, 2, miss) == CONFIG_ERROR && strstr(err, "-q"));
	CHECK(parse(&c, err, 2, extra) == CONFIG_ERROR && strstr(err, "stray"));
}

static void test_limits(void)
{
	char *def[] = { "nfq-helper", NULL };
	char *set[] = { "nfq-helper", "--host-pins", "8", "--host-rate",
			"2/16", "--pin-rate", "500", NULL };
	char *off[] = { "nfq-helper", "--host-pins", "0", "--host-rate", "0",
			"--pin-rate", "0", NULL };
	char *bad[] = { "nfq-helper", "--host-rate", "2/0", NULL };
	char *bad2[] = { "nfq-helper", "--pin-rate", "fast", NULL };
	char *bad3[] = { "nfq-helper", "--host-pins", "-1", NULL };
	struct nfqh_config c;
	char err[256];

	CHECK(parse(&c, err, 1, def) == CONFIG_RUN);
	CHECK(c.limits.host_cap == 32 && c.limits.host_rate == 1 &&
	      c.limits.host_burst == 32);
	CHECK(c.limits.rate == 10000 && c.limits.burst == 20000);
	CHECK(parse(&c, err, 7, set) == CONFIG_RUN);
	CHECK(c.limits.host_cap == 8 && c.limits.host_rate == 2 &&
	      c.limits.host_burst == 16);
	CHECK(c.limits.rate == 500 && c.limits.burst == 500);
	CHECK(parse(&c, err, 7, off) == CONFIG_RUN);
	CHECK(!c.limits.host_cap && !c.limits.host_rate && !c.limits.rate);
	CHECK(parse(&c, err, 3, bad) == CONFIG_ERROR && strstr(err, "`2/0'"));
	CHECK(parse(&c, err, 3, bad2) == CONFIG_ERROR && strstr(err, "`fast'"));
	CHECK(parse(&c, err, 3, bad3) == CONFIG_ERROR &&
	      strstr(err, "--host-pins `-1'"));
}

static void test_duration(void)
{
	uint64_t ms;

	CHECK(config_parse_duration("90", &ms) && ms == 90000);
	CHECK(config_parse_duration("90s", &ms) && ms == 90000);
	CHECK(config_parse_duration("2m", &ms) && ms == 120000);
	CHECK(config_parse_duration("1h", &ms) && ms == 3600000);
	CHECK(config_parse_duration("2d", &ms) && ms == 172800000);
	CHECK(!config_parse_duration("0", &ms));
	CHECK(!config_parse_duration("", &ms));
	CHECK(!config_parse_duration("h", &ms));
	CHECK(!config_parse_duration("-5", &ms));
	CHECK(!config_parse_duration("1hm", &ms));
	CHECK(!config_parse_duration("99999999999999999999", &ms));
	CHECK(!config_parse_duration("5000000000", &ms));
}

static void test_explain(void)
{
	char *one[] = { "nfq-helper", "--explain", "100.64.1.7", NULL };
	char *two[] = { "nfq-helper", "--explain", "100.64.1.7", "203.0.113.2",
			"-t", "t", NULL };
	char *bad[] = { "nfq-helper", "--explain", "100.64.1", NULL };
	char *badgw[] = { "nfq-helper", "--explain", "100.64.1.7", "gw", NULL };
	char *three[] = { "nfq-helper", "--explain", "100.64.1.7",
			  "203.0.113.2", "x", NULL };
	struct nfqh_config c;
	char err[256];

	CHECK(parse(&c, err, 3, one) == CONFIG_RUN);
	CHECK(c.mode == MODE_EXPLAIN && c.explain_gateway == 0);
	CHECK(c.explain_inner == inet_addr("100.64.1.7"));
	CHECK(parse(&c, err, 6, two) == CONFIG_RUN);
	CHECK(c.explain_gateway == inet_addr("203.0.113.2"));
	CHECK(!strcmp(c.table, "t"));
	CHECK(parse(&c, err, 3, bad) == CONFIG_ERROR);
	CHECK(strstr(err, "`100.64.1'") != NULL);
	CHECK(parse(&c, err, 4, badgw) == CONFIG_ERROR);
	CHECK(strstr(err, "gateway") != NULL);
	CHECK(parse(&c, err, 5, three) == CONFIG_ERROR);
	CHECK(strstr(err, "unexpected argument `x'") != NULL);
}

/* --explain ZONE:INNER; plain INNER is zone 0 */
static void test_explain_zone(void)
{
	char *zoned[] = { "nfq-helper", "--explain", "2:100.64.1.10", NULL };
	char *max[] = { "nfq-helper", "--explain", "65535:100.64.1.10", NULL };
	char *plain[] = { "nfq-helper", "--explain", "100.64.1.10", NULL };
	const char *bad[] = { "65536:100.64.1.10", ":100.64.1.10", "x:100.64.1.10",
			      "-1:100.64.1.10", "2:", "2:100.64.1", "2:3:100.64.1.10",
			      " 2:100.64.1.10", "000002:100.64.1.10" };
	char *argv[] = { "nfq-helper", "--explain", NULL, NULL };
	struct nfqh_config c;
	char err[256];
	size_t i;

	CHECK(parse(&c, err, 3, zoned) == CONFIG_RUN);
	CHECK(c.explain_zone == 2 && c.explain_inner == inet_addr("100.64.1.10"));
	CHECK(parse(&c, err, 3, max) == CONFIG_RUN && c.explain_zone == 65535);
	CHECK(parse(&c, err, 3, plain) == CONFIG_RUN && c.explain_zone == 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		argv[2] = (char *)bad[i];
		err[0] = 0;
		CHECK(parse(&c, err, 3, argv) == CONFIG_ERROR);
		CHECK(strstr(err, "zone") || strstr(err, "address"));
	}
	argv[2] = "x:100.64.1.10";
	CHECK(parse(&c, err, 3, argv) == CONFIG_ERROR);
	CHECK(strstr(err, "invalid zone `x'") != NULL);
	argv[2] = "2:100.64.1";
	CHECK(parse(&c, err, 3, argv) == CONFIG_ERROR);
	CHECK(strstr(err, "invalid inner address `100.64.1'") != NULL);
}

/* --check and --status: the switch, the shared options, no arguments */
static void test_check_status(void)
{
	char *check[] = { "nfq-helper", "--check", "-q", "3", "-M", "/m", NULL };
	char *status[] = { "nfq-helper", "-t", "t", "--status", "-m", "m", NULL };
	char *carg[] = { "nfq-helper", "--check", "stray", NULL };
	char *sarg[] = { "nfq-helper", "--status", "x", NULL };
	char *sq[] = { "nfq-helper", "--status", "-q", "65536", NULL };
	char *sm[] = { "nfq-helper", "--status", "-M", "", NULL };
	char *abbrev[] = { "nfq-helper", "--stat", NULL };
	char *value[] = { "nfq-helper", "--check=1", NULL };
	struct nfqh_config c;
	char err[256];

	CHECK(parse(&c, err, 6, check) == CONFIG_RUN && c.mode == MODE_CHECK);
	CHECK(c.queue_num == 3 && !strcmp(c.metrics, "/m"));
	CHECK(parse(&c, err, 6, status) == CONFIG_RUN && c.mode == MODE_STATUS);
	CHECK(!strcmp(c.table, "t") && !strcmp(c.map, "m"));
	CHECK(parse(&c, err, 3, carg) == CONFIG_ERROR &&
	      strstr(err, "unexpected argument `stray'"));
	CHECK(parse(&c, err, 3, sarg) == CONFIG_ERROR &&
	      strstr(err, "unexpected argument `x'"));
	CHECK(parse(&c, err, 4, sq) == CONFIG_ERROR && strstr(err, "`65536'"));
	CHECK(parse(&c, err, 4, sm) == CONFIG_ERROR &&
	      strstr(err, "invalid metrics file"));
	CHECK(parse(&c, err, 2, abbrev) == CONFIG_RUN && c.mode == MODE_STATUS);
	CHECK(parse(&c, err, 2, value) == CONFIG_ERROR &&
	      strstr(err, "unknown option `--check=1'"));
}

/*
 * Modes meet on one line: the last switch wins, and its parser takes what
 * follows the options; the daemon's options are taken (checked, unused)
 * with any mode, as before the modes had parsers of their own.
 */
static void test_modes_mixed(void)
{
	char *last[] = { "nfq-helper", "--explain", "100.64.1.7", "--check", NULL };
	char *gw[] = { "nfq-helper", "--explain", "100.64.1.7", "--check",
		       "203.0.113.2", NULL };
	char *back[] = { "nfq-helper", "--check", "--explain", "100.64.1.7",
			 "203.0.113.2", NULL };
	char *run[] = { "nfq-helper", "--check", "-b", "64", "--no-restore", NULL };
	char *bad[] = { "nfq-helper", "--status", "-b", "0", NULL };
	char *noval[] = { "nfq-helper", "-t", "t", "--explain", NULL };
	struct nfqh_config c;
	char err[256];

	CHECK(parse(&c, err, 4, last) == CONFIG_RUN && c.mode == MODE_CHECK);
	CHECK(parse(&c, err, 5, gw) == CONFIG_ERROR &&
	      strstr(err, "unexpected argument `203.0.113.2'"));
	CHECK(parse(&c, err, 5, back) == CONFIG_RUN && c.mode == MODE_EXPLAIN);
	CHECK(c.explain_gateway == inet_addr("203.0.113.2"));
	CHECK(parse(&c, err, 5, run) == CONFIG_RUN && c.mode == MODE_CHECK);
	CHECK(c.batch == 64 && !c.restore);
	CHECK(parse(&c, err, 4, bad) == CONFIG_ERROR && strstr(err, "batch `0'"));
	CHECK(parse(&c, err, 4, noval) == CONFIG_ERROR &&
	      strstr(err, "option `--explain' needs a value"));
}

/* --help and --version are answered by the caller, the first one given */
static void test_help_version(void)
{
	char *help[] = { "nfq-helper", "--check", "-h", NULL };
	char *version[] = { "nfq-helper", "-V", "-h", NULL };
	char *first[] = { "nfq-helper", "--help", "--frobnicate", NULL };
	char *late[] = { "nfq-helper", "--frobnicate", "--version", NULL };
	char *bad[] = { "nfq-helper", "-q", "x", "-h", NULL };
	struct nfqh_config c;
	char err[256];

	CHECK(parse(&c, err, 3, help) == CONFIG_HELP);
	CHECK(parse(&c, err, 3, version) == CONFIG_VERSION);
	CHECK(parse(&c, err, 3, first) == CONFIG_HELP);
	CHECK(parse(&c, err, 3, late) == CONFIG_ERROR &&
	      strstr(err, "unknown option `--frobnicate'"));
	CHECK(parse(&c, err, 4, bad) == CONFIG_ERROR && strstr(err, "`x'"));
	CHECK(!strncmp(config_usage, "usage: nfq-helper [-hsVv]", 25));
	CHECK(strstr(config_usage, "nfq-helper --explain [ZONE:]INNER") != NULL);
	CHECK(config_version[0] != 0);
}

/* A subscriber in log lines: zone 0 as before zones existed. */
static void test_host_str(void)
{
	char buf[ZONE_HOST_STRLEN];

	CHECK(!strcmp(zone_host_str(0, inet_addr("100.64.1.10"), buf),
		      "100.64.1.10"));
	CHECK(!strcmp(zone_host_str(3, inet_addr("100.64.1.10"), buf),
		      "zone 3 100.64.1.10"));
	CHECK(!strcmp(zone_host_str(65535, inet_addr("255.255.255.255"), buf),
		      "zone 65535 255.255.255.255"));
}

int main(void)
{
	RUN(test_defaults);
	RUN(test_restore);
	RUN(test_gc);
	RUN(test_values);
	RUN(test_errors);
	RUN(test_limits);
	RUN(test_duration);
	RUN(test_explain);
	RUN(test_explain_zone);
	RUN(test_check_status);
	RUN(test_modes_mixed);
	RUN(test_help_version);
	RUN(test_host_str);
	return CHECK_DONE();
}
