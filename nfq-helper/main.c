// SPDX-License-Identifier: GPL-2.0-or-later
/* nfq-helper: start-up checks, signals and the main loop. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "caps.h"
#include "check.h"
#include "config.h"
#include "ct.h"
#include "helper.h"
#include "log.h"
#include "nftmap.h"
#include "notify.h"
#include "queue.h"
#include "stats.h"
#include "status.h"

#define RULESET_HINT "load the ruleset first: /usr/share/nfq-helper/natt-pin-load"

static volatile sig_atomic_t quit, dump_stats;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		dump_stats = 1;
	else
		quit = 1;
}

static const char *remedy(int err)
{
	switch (err) {
	case EPERM:
		return " (needs CAP_NET_ADMIN: run as root or grant the capability)";
	case ENOENT:
		return " (" RULESET_HINT ")";
	default:
		return "";
	}
}

static void open_map(struct helper *h, const struct nfqh_config *cfg,
		     char *name, size_t namelen)
{
	struct nftmap_info info;
	const char *why;
	int ret;

	snprintf(name, namelen, "ip %s %s", cfg->table, cfg->map);
	ret = nftmap_open(&h->map, cfg->table, cfg->map);
	if (ret == 0)
		ret = nftmap_info(h->map, &info);
	if (ret < 0)
		fatalx("map %s: %s%s", name, strerror(-ret), remedy(-ret));
	why = nftmap_check(&info);
	if (why)
		fatalx("map %s: unsuitable for pins: %s (" RULESET_HINT ")",
		       name, why);
	h->map_size = info.size;
	h->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : info.timeout_ms;
	if (!h->timeout_ms)
		fatalx("map %s: declares no timeout: give one with -T", name);
}

static void start_limits(struct helper *h, const struct nfqh_config *cfg)
{
	const struct limit_config *c = &cfg->limits;
	int ret;

	ret = caps_start(h, c, cfg->table, cfg->map);
	if (ret < 0)
		fatalx("caps: %s", strerror(-ret));
	log_info("caps: %" PRIu32 " pins per inner host, new pins %" PRIu32
		 "/s per host (burst %" PRIu32 "), %" PRIu32 "/s in all (burst %"
		 PRIu32 "), 0 meaning none; the map's pins are read in the background",
		 c->host_cap, c->host_rate, c->host_burst, c->rate, c->burst);
}

static void open_queue(struct helper *h, const struct nfqh_config *cfg)
{
	bool ct_attached;
	int ret;

	ret = queue_open(&h->queue, cfg->queue_num, &ct_attached);
	/* the map check passed, so we hold CAP_NET_ADMIN: EPERM here is the
	 * kernel refusing a queue that another socket has bound */
	if (ret == -EPERM)
		fatalx("queue %u: bind: taken by another process (is nfq-helper already running? "
		       "else pick a free queue with -q and NATT_PIN_QUEUE)", cfg->queue_num);
	if (ret < 0)
		fatalx("queue %u: bind: %s%s", cfg->queue_num, strerror(-ret),
		       remedy(-ret));
	if (ct_attached)
		return;
	/* no GLUE_CT in this kernel: ask ctnetlink per reply instead */
	ret = ct_open(&h->ct);
	if (ret < 0) {
		queue_close(h->queue);
		fatalx("ct: ctnetlink socket: %s%s", strerror(-ret),
		       remedy(-ret));
	}
}

static void set_signals(sigset_t *unblocked)
{
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* held back outside ppoll(), so none is lost between checks */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, unblocked);
}

static struct ratelimit rl_metrics;

static void write_metrics(const struct helper *h, const char *path)
{
	unsigned long suppressed;
	int ret;

	if (!path)
		return;
	ret = stats_write(&h->stats, path);
	if (ret < 0 && ratelimit_pass(&rl_metrics, &suppressed))
		log_warnx("metrics: %s: %s", path, strerror(-ret));
}

static void serve(struct helper *h, const sigset_t *unblocked,
		  const char *metrics)
{
	struct pollfd pfd = { .fd = queue_fd(h->queue), .events = POLLIN };
	/* a second at most between two caps_tick(): the summary line, the
	 * caps' reads, none while a batch is held */
	struct timespec tick = { .tv_sec = 1 };
	time_t next = time(NULL) + CONFIG_METRICS_INTERVAL;
	int n;

	while (!quit) {
		if (dump_stats) {
			dump_stats = 0;
			caps_summary(h);
			stats_log(&h->stats);
			/* the file first: whoever sees the log line finds it */
			write_metrics(h, metrics);
			log_flush();
		}
		if (metrics && time(NULL) >= next) {
			write_metrics(h, metrics);
			next = time(NULL) + CONFIG_METRICS_INTERVAL;
		}
		caps_tick(h);
		n = ppoll(&pfd, 1, &tick, unblocked);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (n > 0 && (pfd.revents & POLLIN))
			helper_run(h);
	}
}

int main(int argc, char **argv)
{
	struct nfqh_config cfg;
	struct helper h = { 0 };
	char err[256], map_name[600];
	sigset_t unblocked;
	int n, drained;

	config_defaults(&cfg);
	switch (config_parse(&cfg, argc, argv, err, sizeof(err))) {
	case CONFIG_EXIT:
		return 0;
	case CONFIG_ERROR:
		fprintf(stderr, "nfq-helper: %s\n(try nfq-helper --help)\n", err);
		return 2;
	case CONFIG_RUN:
		break;
	}
	if (cfg.mode == MODE_CHECK)
		return check_run(&cfg);
	if (cfg.mode == MODE_STATUS)
		return status_run(&cfg);
	log_init(cfg.log_dest, cfg.verbose);
	if (helper_init(&h, cfg.batch) < 0)
		fatalx("out of memory");
	h.map_name = map_name;

	open_map(&h, &cfg, map_name, sizeof(map_name));
	start_limits(&h, &cfg);
	set_signals(&unblocked);
	open_queue(&h, &cfg);
	log_info("queue %u bound; conntrack from %s; map %s (size %" PRIu32
		 ", pin timeout %" PRIu64 "s); batch %u",
		 cfg.queue_num, h.ct ? "ctnetlink lookups (kernel attaches none to queued packets)" :
				       "queued packets",
		 map_name, h.map_size, h.timeout_ms / 1000, cfg.batch);

	log_flush();
	write_metrics(&h, cfg.metrics);
	notify("READY=1\nSTATUS=serving queue");

	serve(&h, &unblocked, cfg.metrics);

	notify("STOPPING=1");
	/* what the queue held at the signal is still pinned (a queue's worth
	 * at most, so that a steady load cannot keep us); closing accepts the
	 * rest */
	for (drained = 0, n = 1; n > 0 && drained < QUEUE_MAXLEN; drained += n)
		n = helper_run(&h);
	queue_close(h.queue);
	caps_summary(&h);
	stats_log(&h.stats);
	write_metrics(&h, cfg.metrics);
	log_info("queue %u unbound, pins stay in map %s; exiting",
		 cfg.queue_num, map_name);
	ct_close(h.ct);
	nftmap_close(h.map);
	helper_free(&h);
	return 0;
}
