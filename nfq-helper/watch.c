// SPDX-License-Identifier: GPL-2.0-or-later
/* The ruleset under the daemon: nf_tables events, the loss, the restore. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>

#include <libmnl/libmnl.h>
#include <linux/filter.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "loader.h"
#include "log.h"
#include "msg.h"
#include "netlink.h"
#include "nfqh.h"
#include "priv.h"
#include "ruleset.h"
#include "util.h"
#include "watch.h"

/* newer than the headers of Debian 12 (Linux 6.3) */
#define MSG_DESTROYTABLE 26
#define MSG_DESTROYSET 29
#define MSG_DESTROYSETELEM 30

/* loader runs per loss: a second flush may come while the first runs */
#define RESTORE_TRIES 3

/* events queue up only while a reload runs: a table's worth is small */
#define WATCH_BUFFER_BYTES (1 << 20)

struct watch {
	struct mnl_socket *ev;	/* NULL when polling */
	int timer;		/* polling: a timerfd, else -1 */
	struct ruleset_sock rs;
	int epfd;		/* the events or timer, and the loader's end */
	struct loader loader;
	const struct nfqh_config *cfg;
	struct nfqh_stats *stats;
	void (*restored)(void *arg);
	void *arg;
	uint64_t table_handle, map_handle;	/* as last seen present */
	uint32_t learn_mark;	/* as last seen whole */
	bool lost;		/* the fix is off */
	int tries;		/* loader runs in this loss */
	bool loaded;		/* the last one succeeded */
	bool recheck;
	uint64_t lost_at_ms;
	struct ratelimit rl_read;
	char buf[NL_RECV_SIZE];
};

static uint16_t nft_type(int msg)
{
	return NFNL_SUBSYS_NFTABLES << 8 | msg;
}

/*
 * Every pin the daemon writes comes back as an element event while anyone
 * listens, and every transaction as a new generation: the kernel drops
 * those before they reach this socket. (The filter sees the first message
 * of a datagram only; element events come in datagrams of their own.)
 */
static int attach_filter(int fd)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS,
			 offsetof(struct nlmsghdr, nlmsg_type)),
		/* loads are big-endian, netlink headers host-endian */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
			 ntohs(nft_type(NFT_MSG_NEWSETELEM)), 4, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
			 ntohs(nft_type(NFT_MSG_DELSETELEM)), 3, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
			 ntohs(nft_type(MSG_DESTROYSETELEM)), 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
			 ntohs(nft_type(NFT_MSG_NEWGEN)), 1, 0),
		BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = { .len = ARRAY_SIZE(code), .filter = code };

	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)))
		return -errno;
	return 0;
}

static int open_events(struct watch *w)
{
	int fd;

	w->ev = mnl_socket_open2(NETLINK_NETFILTER,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!w->ev)
		return -errno;
	fd = mnl_socket_get_fd(w->ev);
	if (mnl_socket_bind(w->ev, 1 << (NFNLGRP_NFTABLES - 1),
			    MNL_SOCKET_AUTOPID) < 0)
		return -errno;
	nl_set_buffers(w->ev, WATCH_BUFFER_BYTES);
	return attach_filter(fd);
}

/* Without events: a look every interval, and no cost on any write. */
static int open_timer(struct watch *w, unsigned int seconds)
{
	struct itimerspec its = {
		.it_interval = { .tv_sec = seconds },
		.it_value = { .tv_sec = seconds },
	};

	w->timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (w->timer < 0 || timerfd_settime(w->timer, 0, &its, NULL))
		return -errno;
	return 0;
}

/* Table, chain, rule and set events of the two tables that matter. */
static bool relevant(const struct watch *w, const struct nlmsghdr *nlh)
{
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	const char *table;
	int msg = NFNL_MSG_TYPE(nlh->nlmsg_type);

	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*g)) ||
	    g->nfgen_family != NFPROTO_IPV4)
		return false;
	if (!(msg <= NFT_MSG_DELSET ||
	      (msg >= MSG_DESTROYTABLE && msg <= MSG_DESTROYSET)))
		return false;
	/* the table's name is attribute 1 in all four kinds */
	mnl_attr_for_each(a, nlh, sizeof(*g)) {
		if (mnl_attr_get_type(a) != NFTA_TABLE_NAME)
			continue;
		if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0)
			return false;
		table = mnl_attr_get_str(a);
		return !strcmp(table, w->cfg->table) ||
		       !strcmp(table, "mangle");
	}
	return false;
}

static void take_events(struct watch *w)
{
	const struct nlmsghdr *nlh;
	int n;

	for (;;) {
		n = recv(mnl_socket_get_fd(w->ev), w->buf, sizeof(w->buf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* events lost: the state read that follows resyncs */
			if (errno == ENOBUFS) {
				w->stats->event_overruns++;
				w->recheck = true;
				continue;
			}
			return;
		}
		nlh = (const struct nlmsghdr *)w->buf;
		for (; mnl_nlmsg_ok(nlh, n); nlh = mnl_nlmsg_next(nlh, &n))
			if (relevant(w, nlh))
				w->recheck = true;
	}
}

static const char *what_missing(const struct watch *w, const char *missing,
				char *buf, size_t len)
{
	const struct nfqh_config *c = w->cfg;

	if (!strcmp(missing, "table"))
		snprintf(buf, len, "table ip %s", c->table);
	else if (!strcmp(missing, "map"))
		snprintf(buf, len, "map ip %s %s", c->table, c->map);
	else if (!strcmp(missing, "queue rules"))
		snprintf(buf, len, "queue rules (chains ip %s ike500 and ike4500, or iptables-nft's ip mangle " RULESET_XT_CHAIN ")",
			 c->table);
	else
		snprintf(buf, len, "%s", missing);
	return buf;
}

static void restore(struct watch *w)
{
	const struct nfqh_config *c = w->cfg;
	int ret;
	char m[MSG_LEN];

	w->tries++;
	ret = loader_start(&w->loader, w->epfd, c->loader, c->ruleset);
	if (ret == 0) {
		log_info("ruleset: restoring: %s %s", c->loader, c->ruleset);
		return;
	}
	w->stats->restores_failed++;
	log_errx("%s", msg_format(m, sizeof(m), MSG_RESTORE_CANNOT, c->loader,
				  c->ruleset, strerror(-ret)));
}

static void report_loss(struct watch *w, const char *missing)
{
	const struct nfqh_config *c = w->cfg;
	char what[160];
	char m[MSG_LEN];

	w->lost = true;
	w->tries = 0;
	w->loaded = false;
	w->lost_at_ms = util_now_ms();
	w->stats->ruleset_losses++;
	log_errx("%s", msg_format(m, sizeof(m),
				  c->restore ? MSG_RULESET_LOST :
					       MSG_RULESET_LOST_NO_RESTORE,
				  what_missing(w, missing, what, sizeof(what))));
}

/* The loader succeeded, yet something is missing: flushed again, or the
 * file does not feed our queue. */
static void still_missing(struct watch *w, const char *missing)
{
	const struct nfqh_config *c = w->cfg;
	char what[160];
	char m[MSG_LEN];

	w->loaded = false;
	w->stats->restores_failed++;
	what_missing(w, missing, what, sizeof(what));
	if (w->tries < RESTORE_TRIES || !c->restore)
		log_warnx("%s", msg_format(m, sizeof(m), MSG_RESTORE_AGAIN,
					   what));
	else
		log_errx("%s", msg_format(m, sizeof(m), MSG_RESTORE_STILL_GONE,
					  what, RESTORE_TRIES, c->ruleset,
					  c->queue_num));
}

static void report_back(struct watch *w)
{
	uint64_t gap = util_now_ms() - w->lost_at_ms;

	w->lost = false;
	w->stats->ruleset_last_gap_ms = gap;
	w->stats->ruleset_off_ms += gap;
	if (w->loaded)
		w->stats->restores++;
	log_info("ruleset: back after %" PRIu64 " ms (%s); pins made before are gone",
		 gap, w->loaded ? "restored by the loader" : "loaded by someone else");
	w->restored(w->arg);
}

static void evaluate(struct watch *w)
{
	const struct nfqh_config *c = w->cfg;
	struct ruleset_state s;
	unsigned long suppressed;
	const char *missing;
	bool recreated;
	int ret;
	char m[MSG_LEN];

	ret = ruleset_read(&w->rs, c->table, c->map, c->queue_num, &s);
	if (ret < 0) {
		if (ratelimit_pass(&w->rl_read, &suppressed))
			log_warnx("%s", msg_format(m, sizeof(m),
						   MSG_RULESET_READ,
						   strerror(-ret)));
		return;
	}
	log_debug("ruleset: read: table %d (handle %" PRIu64 "), map %d (handle %" PRIu64
		  "), queue rules %u nft, %u iptables-nft, %u jumps",
		  s.table, s.table_handle, s.map, s.map_handle, s.rules.native,
		  s.rules.xt, s.rules.xt_jumps);
	recreated = (s.table && w->table_handle &&
		     s.table_handle != w->table_handle) ||
		    (s.map && w->map_handle && s.map_handle != w->map_handle);
	if (s.table && s.map) {
		w->table_handle = s.table_handle;
		w->map_handle = s.map_handle;
	}
	missing = ruleset_missing(&s);
	w->stats->ruleset_ok = !missing;
	if (!missing)
		w->learn_mark = s.rules.learn_mark;
	if (missing && !w->lost)
		report_loss(w, missing);
	else if (missing && w->loaded)
		still_missing(w, missing);
	if (missing && c->restore && w->tries < RESTORE_TRIES)
		restore(w);
	else if (!missing && w->lost)
		report_back(w);
	else if (!missing && recreated) {
		w->stats->ruleset_recreated++;
		log_warnx("%s", msg_format(m, sizeof(m), MSG_RULESET_RECREATED,
					   c->table, c->map));
		w->restored(w->arg);
	}
}

static void reap_loader(struct watch *w, bool wait)
{
	int status, ret;
	char m[MSG_LEN];

	ret = loader_reap(&w->loader, wait, &status);
	if (ret == 0)
		return;
	w->recheck = true;
	if (ret > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		w->loaded = true;
		return;
	}
	/* its own message says why; running it again would say it again */
	w->tries = RESTORE_TRIES;
	w->stats->restores_failed++;
	log_errx("%s", msg_format(m, sizeof(m), MSG_RESTORE_FAILED,
				  w->cfg->loader, w->cfg->ruleset,
		 ret > 0 && WIFSIGNALED(status) ? "killed by signal" : "exited with",
		 ret < 0 ? ret : WIFSIGNALED(status) ? WTERMSIG(status) :
						       WEXITSTATUS(status)));
}

void watch_handle(struct watch *w)
{
	uint64_t ticks;

	if (loader_running(&w->loader))
		reap_loader(w, false);
	if (w->timer >= 0 && read(w->timer, &ticks, sizeof(ticks)) > 0)
		w->recheck = true;
	if (w->ev)
		take_events(w);
	/* the loader's own transactions only count once it is done */
	if (w->recheck && !loader_running(&w->loader)) {
		w->recheck = false;
		evaluate(w);
	}
	log_flush();
}

int watch_fd(const struct watch *w)
{
	return w->epfd;
}

uint32_t watch_learn_mark(const struct watch *w)
{
	return w->learn_mark;
}

static void warn_restore_files(const struct nfqh_config *c)
{
	char m[MSG_LEN];
	int ret = loader_usable(c->loader, c->ruleset);

	if (ret == 0)
		return;
	log_warnx("%s", msg_format(m, sizeof(m), MSG_RESTORE_FILES, c->loader,
				   c->ruleset, strerror(-ret)));
}

int watch_open(struct watch **wp, const struct nfqh_config *cfg,
	       struct nfqh_stats *stats, void (*restored)(void *arg), void *arg)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct watch *w;
	int ret;

	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->loader.pidfd = w->epfd = w->timer = -1;
	w->cfg = cfg;
	w->stats = stats;
	w->restored = restored;
	w->arg = arg;
	ret = cfg->watch_interval ? open_timer(w, cfg->watch_interval) :
				    open_events(w);
	if (ret == 0)
		ret = nl_open(NETLINK_NETFILTER, &w->rs.nl, &w->rs.portid);
	w->rs.seq = time(NULL);
	if (ret == 0) {
		w->epfd = epoll_create1(EPOLL_CLOEXEC);
		ev.data.fd = w->ev ? mnl_socket_get_fd(w->ev) : w->timer;
		if (w->epfd < 0 ||
		    epoll_ctl(w->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev))
			ret = -errno;
	}
	if (ret < 0) {
		watch_close(w);
		return ret;
	}
	if (cfg->restore)
		warn_restore_files(cfg);
	evaluate(w);
	*wp = w;
	return 0;
}

void watch_close(struct watch *w)
{
	if (!w)
		return;
	if (loader_running(&w->loader))
		reap_loader(w, true);
	if (w->ev)
		mnl_socket_close(w->ev);
	if (w->rs.nl)
		mnl_socket_close(w->rs.nl);
	if (w->timer >= 0)
		close(w->timer);
	if (w->epfd >= 0)
		close(w->epfd);
	free(w);
}
