// SPDX-License-Identifier: GPL-2.0-or-later
/* nfq-helper: runs the mode asked for; the daemon's start-up, signals, loop. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/netfilter/nf_tables.h>

#include "caps.h"
#include "check.h"
#include "config.h"
#include "explain.h"
#include "ct.h"
#include "helper.h"
#include "log.h"
#include "msg.h"
#include "nftmap.h"
#include "notify.h"
#include "priv.h"
#include "probe.h"
#include "queue.h"
#include "rebuild.h"
#include "stats.h"
#include "status.h"
#include "util.h"
#include "watch.h"

/* a batch's pins go into one commit (the rebuild's too) */
_Static_assert(CONFIG_BATCH_MAX <= NFTMAP_COMMIT_MAX, "a batch must fit one commit");

/* a verdict the kernel refused is sent again after this long */
#define VERDICT_RETRY_MS 10

static volatile sig_atomic_t quit, dump_stats, reload_req;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		dump_stats = 1;
	else if (sig == SIGHUP)
		reload_req = 1;
	else
		quit = 1;
}

static const char *timeout_update_str(int probe)
{
	return probe < 0 ? "could not tell" : probe ? "yes" : "no (before Linux 6.12)";
}

/*
 * Every load of a declaration without gc-interval sets the kernel's back (a
 * walk a second), and nft 1.0 cannot declare one for a map: so at start, on
 * SIGHUP and after every change of the ruleset the watch sees (a restore
 * included: it runs inside watch_handle).
 */
static void map_gc(struct helper *h, const struct nfqh_config *cfg)
{
	const char *which = cfg->map;
	char m[MSG_LEN];
	int ret;

	if (!cfg->gc_ms)
		return;
	ret = nftmap_gc_default(h->map.nft, cfg->gc_ms, &which);
	if (ret > 0)
		log_info("map %s: gc interval %" PRIu32 " s (it declared none)%s",
			 h->map.name, cfg->gc_ms / 1000,
			 ret > 1 ? ", its set of keys too" : "");
	else if (ret < 0)
		log_warnx("%s", msg_format(m, sizeof(m), MSG_MAP_GC, which,
					   cfg->table, strerror(-ret)));
}

static void open_map(struct helper *h, const struct nfqh_config *cfg,
		     char *name, size_t namelen)
{
	struct nftmap_info info;
	char m[MSG_LEN];
	const char *why;
	int ret;

	snprintf(name, namelen, "ip %s %s", cfg->table, cfg->map);
	ret = nftmap_open(&h->map.nft, cfg->table, cfg->map);
	if (ret == 0)
		ret = nftmap_info(h->map.nft, &info);
	if (ret < 0)
		fatalx("%s", msg_errno(m, sizeof(m), -ret, "map %s", name));
	why = nftmap_check(&info);
	if (why)
		fatalx("%s", msg_format(m, sizeof(m), MSG_MAP_UNSUITABLE,
					name, why));
	h->map.size = info.size;
	h->map.timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : info.timeout_ms;
	if (!h->map.timeout_ms)
		fatalx("%s", msg_format(m, sizeof(m), MSG_MAP_NO_TIMEOUT, name));
	if (cfg->timeout_ms && info.timeout_ms &&
	    cfg->timeout_ms != info.timeout_ms)
		log_warnx("%s", msg_format(m, sizeof(m), MSG_MAP_TIMEOUT_DIFFERS,
					   name, cfg->timeout_ms / 1000,
					   info.timeout_ms / 1000));
	if (!(info.flags & NFT_SET_EVAL))
		log_warnx("%s", msg_format(m, sizeof(m), MSG_MAP_NOT_DYNAMIC,
					   name));
	log_info("kernel: element timeout update: %s; pins are refreshed by natt-pin.nft's rules on every kernel",
		 timeout_update_str(probe_timeout_update()));
	map_gc(h, cfg);
}

/*
 * The map's declaration again (SIGHUP; a ruleset loaded anew, whose map may
 * be another size); what changed is logged.
 */
static void reload_map(struct helper *h, const struct nfqh_config *cfg,
		       const char *when, bool say_unchanged)
{
	struct nftmap_info info;
	uint64_t timeout_ms;
	char m[MSG_LEN];
	const char *why;
	int ret;

	ret = nftmap_info(h->map.nft, &info);
	if (ret < 0) {
		log_warnx("%s; keeping size %" PRIu32 ", pin timeout %" PRIu64 "s",
			  msg_errno(m, sizeof(m), -ret, "%s: map %s", when,
				    h->map.name),
			  h->map.size, h->map.timeout_ms / 1000);
		return;
	}
	why = nftmap_check(&info);
	if (why) {
		log_warnx("%s: %s; pins fail until it is replaced", when,
			  msg_format(m, sizeof(m), MSG_MAP_UNSUITABLE,
				     h->map.name, why));
		return;
	}
	timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : info.timeout_ms;
	if (!timeout_ms)
		timeout_ms = h->map.timeout_ms;	/* none declared: keep ours */
	if (info.size == h->map.size && timeout_ms == h->map.timeout_ms) {
		if (say_unchanged)
			log_info("%s: map %s unchanged (size %" PRIu32
			 ", pin timeout %" PRIu64 "s)",
			 when, h->map.name, h->map.size, h->map.timeout_ms / 1000);
		return;
	}
	log_info("%s: map %s: size %" PRIu32 " -> %" PRIu32
		 ", pin timeout %" PRIu64 "s -> %" PRIu64 "s%s",
		 when, h->map.name, h->map.size, info.size, h->map.timeout_ms / 1000,
		 timeout_ms / 1000, cfg->timeout_ms ? " (from -T)" : "");
	h->map.size = info.size;
	h->map.timeout_ms = timeout_ms;
}

/*
 * SIGHUP. The daemon keeps no state it cannot read back from the kernel, so a
 * reload is reading it again: the map's declaration, then the pins from
 * conntrack (what an HA node taking over needs).
 */
static void reload(struct helper *h, const struct nfqh_config *cfg)
{
	struct rebuild_result rebuilt;

	reload_map(h, cfg, "reload", true);
	map_gc(h, cfg);
	rebuild_run(h, &h->writer, &rebuilt);
}

static void start_limits(struct helper *h, const struct nfqh_config *cfg)
{
	const struct limit_config *c = &cfg->limits;
	char m[MSG_LEN];
	int ret;

	ret = caps_start(&h->caps, c, h->map.nft, h->map.name, &h->stats);
	if (ret < 0)
		fatalx("%s", msg_errno(m, sizeof(m), -ret, "caps: start"));
	log_info("caps: %" PRIu32 " pins per inner host, new pins %" PRIu32
		 "/s per host (burst %" PRIu32 "), %" PRIu32 "/s in all (burst %"
		 PRIu32 "), 0 meaning none",
		 c->host_cap, c->host_rate, c->host_burst, c->rate, c->burst);
}

static void open_queue(struct helper *h, const struct nfqh_config *cfg)
{
	bool ct_attached;
	char m[MSG_LEN];
	int ret;

	ret = queue_open(&h->queue, cfg->queue_num, &ct_attached);
	/* the map check passed, so we hold CAP_NET_ADMIN: EPERM here is the
	 * kernel refusing a queue that another socket has bound */
	if (ret == -EPERM)
		fatalx("%s", msg_format(m, sizeof(m), MSG_QUEUE_TAKEN,
					cfg->queue_num));
	if (ret < 0)
		fatalx("%s", msg_errno(m, sizeof(m), -ret, "queue %u: bind",
				       cfg->queue_num));
	if (ct_attached)
		return;
	/* no GLUE_CT in this kernel: ask ctnetlink per reply instead */
	ret = ct_open(&h->ct);
	if (ret < 0) {
		queue_close(h->queue);
		fatalx("%s", msg_errno(m, sizeof(m), -ret,
				       "ct: ctnetlink socket"));
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
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* held back outside ppoll(), so none is lost between checks */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, unblocked);
}

static struct ratelimit rl_metrics;

static void write_metrics(const struct helper *h, const char *path)
{
	unsigned long suppressed;
	char m[MSG_LEN];
	int ret;

	if (!path)
		return;
	ret = stats_write(&h->stats, path);
	if (ret < 0 && ratelimit_pass(&rl_metrics, &suppressed))
		log_warnx("%s", msg_format(m, sizeof(m),
					   ret == -EACCES ? MSG_METRICS_ACCESS :
							    MSG_METRICS_WRITE,
					   path, strerror(-ret)));
}

static struct ratelimit rl_verdict;

/* A batch verdict the kernel refused: its packets must not wait for more. */
static void retry_verdict(struct helper *h)
{
	int ret;

	ret = queue_accept_held(h->queue);
	if (ret >= 0) {
		h->stats.verdicts += ret;
		return;
	}
	h->stats.verdict_errors++;
	warn_msg(&rl_verdict, MSG_VERDICT, strerror(-ret));
}

/* The loop's wakeups, on CLOCK_MONOTONIC in ms; 0: not wanted. */
struct schedule {
	uint64_t metrics, watchdog, watchdog_ms;
};

static void schedule_init(struct schedule *s, const char *metrics)
{
	uint64_t now = util_now_ms();

	s->metrics = metrics ? now + CONFIG_METRICS_INTERVAL * 1000 : 0;
	/* systemd's advice: half the interval (sd_watchdog_enabled(3)) */
	s->watchdog_ms = notify_watchdog_usec() / 2000;
	if (s->watchdog_ms == 0 && notify_watchdog_usec())
		s->watchdog_ms = 1;
	s->watchdog = s->watchdog_ms ? now : 0;
}

static int timeout_to(uint64_t deadline, uint64_t now, int timeout)
{
	int left;

	if (!deadline)
		return timeout;
	left = deadline > now ? (int)(deadline - now) : 0;
	return timeout < 0 || left < timeout ? left : timeout;
}

/* Does what is due; returns ms to the next wakeup, -1 for none. */
static int run_schedule(struct helper *h, struct schedule *s,
			const char *metrics)
{
	uint64_t now = util_now_ms();
	int timeout = -1;

	if (s->metrics && now >= s->metrics) {
		helper_read_kernel_counters(h);
		write_metrics(h, metrics);
		s->metrics = now + CONFIG_METRICS_INTERVAL * 1000;
	}
	if (s->watchdog && now >= s->watchdog) {
		notify("WATCHDOG=1");
		s->watchdog = now + s->watchdog_ms;
	}
	if (queue_holding(h->queue)) {
		retry_verdict(h);
		if (queue_holding(h->queue))
			timeout = VERDICT_RETRY_MS;
	}
	timeout = timeout_to(s->metrics, now, timeout);
	timeout = timeout_to(s->watchdog, now, timeout);
	/* the caps' summary line and reads of expired estimates */
	return timeout < 0 || timeout > CAPS_TICK_MS ? CAPS_TICK_MS : timeout;
}

struct restore_ctx {
	struct helper *h;
	const struct nfqh_config *cfg;
};

/*
 * The ruleset is back after a loss, or was re-created: its map is empty
 * (and may have another size), and conntrack still knows every live tunnel.
 */
static void restore_done(void *arg)
{
	struct restore_ctx *rc = arg;
	struct rebuild_result rebuilt;

	reload_map(rc->h, rc->cfg, "ruleset", false);
	rebuild_run(rc->h, &rc->h->writer, &rebuilt);
}

static void serve(struct helper *h, struct watch *w,
		  const struct nfqh_config *cfg, const sigset_t *unblocked)
{
	struct pollfd pfd[] = {
		{ .fd = queue_fd(h->queue), .events = POLLIN },
		{ .fd = watch_fd(w), .events = POLLIN },
	};
	struct schedule sched;
	struct timespec ts;
	char m[MSG_LEN];
	int n, timeout;

	schedule_init(&sched, cfg->metrics);
	while (!quit) {
		if (dump_stats) {
			dump_stats = 0;
			helper_read_kernel_counters(h);
			caps_summary(&h->caps);
			stats_log(&h->stats);
			/* the file first: whoever sees the log line finds it */
			write_metrics(h, cfg->metrics);
			log_flush();
		}
		if (reload_req) {
			reload_req = 0;
			reload(h, cfg);
			log_flush();
		}
		caps_tick(&h->caps);
		helper_tick(h);
		timeout = run_schedule(h, &sched, cfg->metrics);
		log_flush();	/* what the schedule logged, before we sleep */
		ts.tv_sec = timeout / 1000;
		ts.tv_nsec = timeout % 1000 * 1000000L;
		n = ppoll(pfd, ARRAY_SIZE(pfd), timeout < 0 ? NULL : &ts, unblocked);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fatalx("%s", msg_errno(m, sizeof(m), errno, "poll"));
		}
		/* the ruleset first: how packets are answered depends on it */
		if (n > 0 && (pfd[1].revents & POLLIN)) {
			watch_handle(w);
			helper_set_learn(h, watch_learn_mark(w));
			if (h->stats.ruleset_ok)
				map_gc(h, cfg);
		}
		if (n > 0 && (pfd[0].revents & POLLIN)) {
			helper_coalesce(h);
			helper_run(h);
		}
	}
}

/*
 * SIGTERM: first the kernel stops queueing (new answers pass, unpinned),
 * then what it queued before is taken, pinned and accepted, and only then is
 * the queue unbound, which would drop anything still held.
 */
static void stop(struct helper *h, uint16_t num)
{
	char m[MSG_LEN];
	int ret, n, drained, tries;

	ret = queue_stop_intake(h->queue);
	if (ret < 0)
		log_warnx("%s", msg_format(m, sizeof(m), MSG_QUEUE_STOP, num,
					   strerror(-ret)));
	for (drained = 0, n = 1; n > 0 && drained < QUEUE_MAXLEN; drained += n)
		n = helper_run(h);
	for (tries = 0; tries < 100 && queue_holding(h->queue); tries++) {
		retry_verdict(h);
		if (queue_holding(h->queue))
			poll(NULL, 0, VERDICT_RETRY_MS);
	}
	queue_close(h->queue);
}

/* Started as root outside systemd: CAP_NET_ADMIN is all the loop needs. */
static void drop_privileges(void)
{
	char m[MSG_LEN];
	bool bounding;
	int ret;

	ret = priv_drop(&bounding);
	if (ret < 0)
		fatalx("%s", msg_format(m, sizeof(m), MSG_PRIVILEGES,
					strerror(-ret)));
	log_info("privileges: CAP_NET_ADMIN only%s, no_new_privs",
		 bounding ? ", bounding set too" :
			    " (bounding set as given: no CAP_SETPCAP)");
}

/* The ruleset's watch, once the queue is bound; then what the daemon serves. */
static struct watch *open_watch(struct helper *h, const struct nfqh_config *cfg,
				struct restore_ctx *rc)
{
	struct watch *watch;
	char m[MSG_LEN];
	int ret;

	ret = watch_open(&watch, cfg, &h->stats, restore_done, rc);
	if (ret < 0)
		fatalx("%s", msg_errno(m, sizeof(m), -ret,
				       "ruleset: nf_tables events"));
	log_info("queue %u bound; conntrack from %s; map %s (size %" PRIu32
		 ", pin timeout %" PRIu64 "s); batch %u",
		 cfg->queue_num, h->ct ? "ctnetlink lookups, in the answer's zone where natt-pin.nft puts it in its priority (kernel attaches none to queued packets)" :
					 "queued packets",
		 h->map.name, h->map.size, h->map.timeout_ms / 1000, cfg->batch);
	helper_set_learn(h, watch_learn_mark(watch));
	return watch;
}

/* SIGTERM came: the queue drained and unbound, the last counters, all closed. */
static void finish(struct helper *h, struct watch *watch,
		   const struct nfqh_config *cfg)
{
	notify("STOPPING=1");
	stop(h, cfg->queue_num);
	helper_read_kernel_counters(h);
	caps_summary(&h->caps);
	stats_log(&h->stats);
	write_metrics(h, cfg->metrics);
	log_info("queue %u unbound, pins stay in map %s; exiting",
		 cfg->queue_num, h->map.name);
	watch_close(watch);
	ct_close(h->ct);
	nftmap_close(h->map.nft);
	helper_free(h);
}

static int run_daemon(const struct nfqh_config *cfg)
{
	struct helper h = { 0 };
	struct restore_ctx rc = { .h = &h, .cfg = cfg };
	struct rebuild_result rebuilt;
	struct watch *watch;
	char map_name[600], m[MSG_LEN];
	sigset_t unblocked;

	log_init(cfg->log_dest, cfg->verbose);
	if (helper_init(&h, cfg->batch) < 0)
		fatalx("%s", msg_errno(m, sizeof(m), ENOMEM, "batch of %u",
				       cfg->batch));
	h.map.name = map_name;

	open_map(&h, cfg, map_name, sizeof(map_name));
	set_signals(&unblocked);
	open_queue(&h, cfg);
	watch = open_watch(&h, cfg, &rc);
	drop_privileges();
	/* before the rebuild: the pins it restores or finds join the caps */
	start_limits(&h, cfg);

	log_flush();
	/* after binding: IKE answers meanwhile are pinned, not bypassed */
	rebuild_run(&h, &h.writer, &rebuilt);
	write_metrics(&h, cfg->metrics);
	log_flush();
	notify("READY=1\nSTATUS=serving queue");

	serve(&h, watch, cfg, &unblocked);

	finish(&h, watch, cfg);
	return 0;
}

/* Each mode's run (config.c parses its options); the exit status. */
static int (*const mode_run[])(const struct nfqh_config *cfg) = {
	[MODE_RUN] = run_daemon,
	[MODE_CHECK] = check_run,
	[MODE_STATUS] = status_run,
	[MODE_EXPLAIN] = explain_run,
};

int main(int argc, char **argv)
{
	struct nfqh_config cfg;
	char err[256];

	config_defaults(&cfg);
	switch (config_parse(&cfg, argc, argv, err, sizeof(err))) {
	case CONFIG_HELP:
		fputs(config_usage, stdout);
		return 0;
	case CONFIG_VERSION:
		printf("nfq-helper %s\n", config_version);
		return 0;
	case CONFIG_ERROR:
		fprintf(stderr, "nfq-helper: %s\n(try nfq-helper --help)\n", err);
		return 2;
	case CONFIG_RUN:
		break;
	}
	msg_set_paths(cfg.loader, cfg.ruleset);
	return mode_run[cfg.mode](&cfg);
}
