// SPDX-License-Identifier: GPL-2.0-or-later
/* Counters: the verdict latency histogram, log lines, Prometheus text. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "stats.h"

static size_t bucket_of(uint64_t us)
{
	if (us < LAT_FINE)
		return us;
	if (us < LAT_FINE + (uint64_t)LAT_COARSE * 100)
		return LAT_FINE + (us - LAT_FINE) / 100;
	return LAT_BUCKETS - 1;
}

/* The upper edge of bucket i, in us. */
static uint64_t bucket_top(size_t i)
{
	if (i < LAT_FINE)
		return i + 1;
	return LAT_FINE + (i - LAT_FINE + 1) * 100;
}

void stats_latency(struct nfqh_stats *s, uint64_t us)
{
	s->latency[bucket_of(us)]++;
	s->latency_sum_us += us;
}

static uint64_t latency_count(const struct nfqh_stats *s)
{
	uint64_t n = 0;

	for (size_t i = 0; i < LAT_BUCKETS; i++)
		n += s->latency[i];
	return n;
}

uint64_t stats_percentile(const struct nfqh_stats *s, double q)
{
	uint64_t n = latency_count(s), want, seen = 0;

	if (!n)
		return 0;
	want = (uint64_t)(q * n);
	if (want >= n)
		want = n - 1;
	for (size_t i = 0; i < LAT_BUCKETS; i++) {
		seen += s->latency[i];
		if (seen > want)
			return bucket_top(i);
	}
	return bucket_top(LAT_BUCKETS - 1);
}

void stats_log(const struct nfqh_stats *s)
{
	log_info("stats: packets %" PRIu64 ", accepted %" PRIu64
		 ", ike ok %" PRIu64 ", ike rejected %" PRIu64
		 ", not ike %" PRIu64 ", esp %" PRIu64 ", keepalives %" PRIu64,
		 s->packets, s->verdicts, s->ike_ok, s->ike_rejected,
		 s->not_ike, s->esp, s->keepalives);
	log_info("stats: pins added %" PRIu64 ", already pinned %" PRIu64
		 ", refreshed in the kernel %" PRIu64 ", conflicts %" PRIu64
		 ", map full %" PRIu64 ", map errors %" PRIu64
		 ", capped %" PRIu64 ", rate limited %" PRIu64
		 ", ct misses %" PRIu64 ", ct errors %" PRIu64
		 ", ct attached %" PRIu64 ", ct looked up %" PRIu64
		 ", learns %" PRIu64 ", learn refusals %" PRIu64,
		 s->pins_added, s->pins_present, s->kernel_refreshes,
		 s->pin_conflicts, s->map_full, s->map_errors, s->pins_capped,
		 s->pins_rate_host + s->pins_rate_all, s->ct_miss,
		 s->ct_errors, s->ct_attached, s->ct_lookups, s->learns,
		 s->learn_refused);
	log_info("stats: batches %" PRIu64 ", largest %" PRIu64
		 ", verdict messages %" PRIu64 ", transactions %" PRIu64
		 ", failed %" PRIu64 ", queue overruns %" PRIu64
		 ", verdict errors %" PRIu64 ", verdict latency p50 %" PRIu64
		 " us, p99 %" PRIu64 " us, p99.9 %" PRIu64 " us",
		 s->batches, s->batch_max, s->verdict_msgs, s->transactions,
		 s->transactions_failed, s->overruns, s->verdict_errors,
		 stats_percentile(s, 0.5), stats_percentile(s, 0.99),
		 stats_percentile(s, 0.999));
	/* a fourth line only when the ruleset was touched: quiet otherwise */
	if (!s->ruleset_losses && !s->ruleset_recreated && !s->event_overruns)
		return;
	log_info("stats: ruleset %s, lost %" PRIu64 ", re-created %" PRIu64
		 ", restored %" PRIu64 ", restores failed %" PRIu64
		 ", fix off %" PRIu64 " ms in all, last gap %" PRIu64
		 " ms, event overruns %" PRIu64,
		 s->ruleset_ok ? "ok" : "missing", s->ruleset_losses,
		 s->ruleset_recreated, s->restores, s->restores_failed,
		 s->ruleset_off_ms, s->ruleset_last_gap_ms, s->event_overruns);
}

static void counter(FILE *f, const char *name, const char *help,
		    const char *label, uint64_t v)
{
	if (help)
		fprintf(f, "# HELP nfq_helper_%s %s\n# TYPE nfq_helper_%s counter\n",
			name, help, name);
	fprintf(f, "nfq_helper_%s%s %" PRIu64 "\n", name, label ? label : "", v);
}

#define NMEMB(a) (sizeof(a) / sizeof((a)[0]))

/* Counters without labels. */
struct metric {
	const char *name, *help;
	uint64_t v;
};

static void counters(FILE *f, const struct metric *m, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		counter(f, m[i].name, m[i].help, NULL, m[i].v);
}

/* A counter by one label's values, {KEY="value"} each. */
struct sample {
	const char *value;
	uint64_t v;
};

static void family(FILE *f, const char *name, const char *help,
		   const char *key, const struct sample *s, size_t n)
{
	char label[96];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(label, sizeof(label), "{%s=\"%s\"}", key, s[i].value);
		counter(f, name, i ? NULL : help, label, s[i].v);
	}
}

static void gauge(FILE *f, const char *name, const char *help, double v)
{
	fprintf(f, "# HELP nfq_helper_%s %s\n# TYPE nfq_helper_%s gauge\nnfq_helper_%s %g\n",
		name, help, name, name, v);
}

static void gauge_count(FILE *f, const char *name, const char *help,
			uint64_t v)
{
	fprintf(f, "# HELP nfq_helper_%s %s\n# TYPE nfq_helper_%s gauge\nnfq_helper_%s %" PRIu64 "\n",
		name, help, name, name, v);
}

static void ruleset_prometheus(const struct nfqh_stats *s, FILE *f)
{
	const struct metric losses[] = {
		{ "ruleset_losses_total", "Times the ruleset disappeared (a reload with flush ruleset?).",
		  s->ruleset_losses },
		{ "ruleset_recreated_total", "Times the table or map was re-created, its pins lost.",
		  s->ruleset_recreated },
		{ "event_overruns_total", "ENOBUFS on the nf_tables event socket (state read again).",
		  s->event_overruns },
	};
	const struct sample restores[] = {
		{ "ok", s->restores }, { "failed", s->restores_failed },
	};

	gauge(f, "ruleset_ok", "1 while the table, the map and the queue rules exist.",
	      s->ruleset_ok);
	counters(f, losses, NMEMB(losses));
	family(f, "ruleset_restores_total", "Loader runs, by outcome.", "outcome",
	       restores, NMEMB(restores));
	fprintf(f, "# HELP nfq_helper_ruleset_off_seconds_total Time the fix was off: ruleset missing.\n"
		   "# TYPE nfq_helper_ruleset_off_seconds_total counter\n"
		   "nfq_helper_ruleset_off_seconds_total %g\n", s->ruleset_off_ms / 1e3);
	gauge(f, "ruleset_last_gap_seconds", "How long the last loss lasted.",
	      s->ruleset_last_gap_ms / 1e3);
}

/* What became of the queued packets, and the IKE parser's verdicts. */
static void packets_prometheus(const struct nfqh_stats *s, FILE *f)
{
	const struct metric taken[] = {
		{ "packets_total", "Queued packets taken.", s->packets },
		{ "verdicts_total", "Packets accepted (all of them).", s->verdicts },
	};
	const struct sample skipped[] = {
		{ "not_ike", s->not_ike }, { "ike_malformed", s->ike_rejected },
		{ "esp", s->esp }, { "keepalive", s->keepalives },
		{ "no_nat_flow", s->ct_miss }, { "ct_error", s->ct_errors },
	};
	const struct sample entries[] = {
		{ "queued_packet", s->ct_attached }, { "ctnetlink", s->ct_lookups },
	};
	struct sample rejected[IKE_RESULTS];
	size_t n = 0;
	int r;

	counters(f, taken, NMEMB(taken));
	family(f, "packets_skipped_total", "Queued packets that could not pin, by reason.",
	       "reason", skipped, NMEMB(skipped));
	family(f, "conntrack_entries_total", "Conntrack entries of IKE answers, by where they came from.",
	       "source", entries, NMEMB(entries));
	counter(f, "ike_ok_total", "Well-formed IKE answers.", NULL, s->ike_ok);
	for (r = 0; r < IKE_RESULTS; r++)
		if (r != IKE_OK && r != IKE_ESP && r != IKE_KEEPALIVE)
			rejected[n++] = (struct sample){ ike_result_label(r),
							 s->ike_rejected_by[r] };
	family(f, "ike_rejected_total", "IKE-like answers that may not pin, by reason.",
	       "reason", rejected, n);
}

/* Pin outcomes, the caps' refusals and the learn rule's work. */
static void pins_prometheus(const struct nfqh_stats *s, FILE *f)
{
	const struct sample outcomes[] = {
		{ "added", s->pins_added }, { "already_pinned", s->pins_present },
		{ "conflict", s->pin_conflicts }, { "map_full", s->map_full },
		{ "error", s->map_errors }, { "rebuilt", s->pins_rebuilt },
		{ "capped", s->pins_capped },
		{ "rate_limited", s->pins_rate_host + s->pins_rate_all },
	};
	const struct sample rated[] = {
		{ "host", s->pins_rate_host }, { "all", s->pins_rate_all },
	};
	const struct metric work[] = {
		{ "heals_total", "Split NAT-T flows whose conntrack entry a rebuild deleted.", s->heals },
		{ "pin_checks_total", "Reads of pins in the kernel (a host at its cap, expired estimates).",
		  s->pin_checks },
		{ "learns_total", "Answers accepted with the learn bit: the kernel's learn rule writes their pin.",
		  s->learns },
		{ "learn_refused_total", "Pins the kernel's learn rule could not write: map full (counter learn_refused).",
		  s->learn_refused },
	};

	family(f, "pins_total", "Pin outcomes.", "outcome", outcomes, NMEMB(outcomes));
	family(f, "pins_rate_limited_total", "New pins refused by a rate, by scope.",
	       "scope", rated, NMEMB(rated));
	counters(f, work, NMEMB(work));
	gauge_count(f, "pins_known", "Pins the daemon's table holds (for the caps).",
		    s->pin_table);
	gauge_count(f, "learn_mark", "The packet-mark bit of the ruleset's learn rule; 0: none, pins by transactions.",
		    s->learn_mark);
}

/* Transactions, the ruleset's own counters, and the queue's batches. */
static void work_prometheus(const struct nfqh_stats *s, FILE *f)
{
	const struct metric work[] = {
		{ "transactions_total", "nftables transactions sent (rebuilds, heals, a ruleset without the learn rule).",
		  s->transactions },
		{ "transactions_failed_total", "nftables transactions the kernel aborted.",
		  s->transactions_failed },
		{ "kernel_refreshes_total", "Answers that refreshed a live pin in the kernel, never queued (counter refreshes).",
		  s->kernel_refreshes },
		{ "flood_passed_total", "Answers over the ruleset's flood limit per flow, passed unpinned, never queued (counter flood_passed).",
		  s->flood_passed },
		{ "batches_total", "Wakeups that took packets.", s->batches },
		{ "queue_overruns_total", "ENOBUFS on the queue socket (packets passed unpinned).",
		  s->overruns },
		{ "verdict_errors_total", "Batch verdicts the kernel refused, then sent again.",
		  s->verdict_errors },
		{ "verdict_messages_total", "Verdict messages sent: one per run of answers with the same mark.",
		  s->verdict_msgs },
	};

	counters(f, work, NMEMB(work));
	gauge_count(f, "batch_max", "Largest batch taken in one wakeup.",
		    s->batch_max);
}

/* The latency histogram, in the coarser buckets Prometheus is given. */
static void latency_prometheus(const struct nfqh_stats *s, FILE *f)
{
	static const uint64_t edges[] = { 10, 20, 50, 100, 200, 500, 1000,
					  2000, 5000, 10000, 100000 };
	uint64_t below = 0;
	size_t i = 0, e;

	fprintf(f, "# HELP nfq_helper_verdict_latency_seconds From the packet's receipt by the helper to its verdict.\n"
		   "# TYPE nfq_helper_verdict_latency_seconds histogram\n");
	for (e = 0; e < sizeof(edges) / sizeof(edges[0]); e++) {
		for (; i < LAT_BUCKETS && bucket_top(i) <= edges[e]; i++)
			below += s->latency[i];
		fprintf(f, "nfq_helper_verdict_latency_seconds_bucket{le=\"%g\"} %" PRIu64 "\n",
			edges[e] / 1e6, below);
	}
	fprintf(f, "nfq_helper_verdict_latency_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n"
		   "nfq_helper_verdict_latency_seconds_sum %g\n"
		   "nfq_helper_verdict_latency_seconds_count %" PRIu64 "\n",
		latency_count(s), s->latency_sum_us / 1e6, latency_count(s));
}

void stats_prometheus(const struct nfqh_stats *s, FILE *f)
{
	packets_prometheus(s, f);
	pins_prometheus(s, f);
	work_prometheus(s, f);
	latency_prometheus(s, f);
	ruleset_prometheus(s, f);
}

int stats_write(const struct nfqh_stats *s, const char *path)
{
	char tmp[4096];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	stats_prometheus(s, f);
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		int err = -errno;

		unlink(tmp);
		return err;
	}
	return 0;
}
