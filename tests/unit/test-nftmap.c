// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The map writer: the transaction it builds, parsed back; its answer
 * collector fed synthetic kernel answers; look-ups and lost answers against
 * a stand-in kernel on a socketpair (no netlink, no root).
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <libmnl/libmnl.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>

#include "check.h"
#include "nftmap.h"
#include "pin.h"
#include "pinwrite.h"
#include "stats.h"

#define POOL inet_addr("198.51.100.1")

/*
 * A key as nft stores `ct zone . ip saddr . ip daddr' (read with nft
 * --debug=netlink: zone 258 is the word 0x00000102, 100.64.1.10 0x0a014064):
 * the zone a u16 in host order, then two bytes of zero, then the addresses
 * in network order.
 */
static bool key_is(const void *k, const struct pin *p)
{
	const uint8_t *b = k;
	uint16_t zone;

	memcpy(&zone, b, 2);
	return zone == p->zone && b[2] == 0 && b[3] == 0 &&
	       !memcmp(b + 4, &p->inner, 4) && !memcmp(b + 8, &p->gateway, 4);
}

/* nftmap_key() against the bytes nft itself wrote for zone 258. */
static void test_key_bytes(void)
{
	/* nft --debug=netlink, x86-64: element 00000102 0a014064 057100cb */
	const uint32_t nft[3] = { 0x00000102, 0x0a014064, 0x057100cb };
	uint32_t key[NFTMAP_KEY_WORDS];
	in_addr_t inner, gw;
	uint16_t zone;

	nftmap_key(key, 258, inet_addr("100.64.1.10"), inet_addr("203.0.113.5"));
	CHECK(!memcmp(key, nft, sizeof(key)));
	nftmap_key_parse(nft, &zone, &inner, &gw);
	CHECK(zone == 258 && inner == inet_addr("100.64.1.10") &&
	      gw == inet_addr("203.0.113.5"));
	nftmap_key(key, 0, inet_addr("100.64.1.10"), inet_addr("203.0.113.5"));
	CHECK(key[0] == 0);
}

static void make_pins(struct pin *pins, struct pin **pp, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		pin_init(&pins[i], 0, htonl(0x64400100 + i), inet_addr("203.0.113.2"),
			 POOL);
		pp[i] = &pins[i];
	}
}

static void test_batch(void)
{
	static char buf[8192];
	struct pin pins[2];
	struct pin *pp[2] = { &pins[0], &pins[1] };
	const struct nlmsghdr *nlh;
	int len, i = 0;

	pin_init(&pins[0], 0, inet_addr("100.64.1.1"), inet_addr("203.0.113.2"),
		 inet_addr("198.51.100.1"));
	pin_init(&pins[1], 258, inet_addr("100.64.1.2"), inet_addr("203.0.113.9"),
		 inet_addr("198.51.100.4"));

	CHECK(nftmap_build(buf, 100, "natt_pin", "pins", NULL, pp, 2, 60000, 7) == 0);
	len = nftmap_build(buf, sizeof(buf), "natt_pin", "pins", NULL, pp, 2, 60000,
			   7);
	CHECK(len > 0);

	nlh = (const struct nlmsghdr *)buf;
	for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len), i++) {
		struct nftnl_set *s;
		struct nftnl_set_elems_iter *it;
		struct nftnl_set_elem *e;
		uint32_t klen, dlen;
		const uint32_t *key, *data;

		CHECK(nlh->nlmsg_seq == 7u + i);
		if (i == 0) {
			CHECK(nlh->nlmsg_type == NFNL_MSG_BATCH_BEGIN);
			continue;
		}
		if (i == 3) {
			CHECK(nlh->nlmsg_type == NFNL_MSG_BATCH_END);
			continue;
		}
		CHECK(nlh->nlmsg_type ==
		      (NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWSETELEM));
		/* only the last element asks for an answer: it closes the batch */
		CHECK(!!(nlh->nlmsg_flags & NLM_F_ACK) == (i == 2));
		/* the daemon only creates, never rewrites a live pin */
		CHECK(nlh->nlmsg_flags & NLM_F_CREATE);
		CHECK(nlh->nlmsg_flags & NLM_F_EXCL);

		s = nftnl_set_alloc();
		CHECK(nftnl_set_elems_nlmsg_parse(nlh, s) == 0);
		CHECK(!strcmp(nftnl_set_get_str(s, NFTNL_SET_TABLE), "natt_pin"));
		CHECK(!strcmp(nftnl_set_get_str(s, NFTNL_SET_NAME), "pins"));
		CHECK(nftnl_set_get_u32(s, NFTNL_SET_FAMILY) == NFPROTO_IPV4);
		it = nftnl_set_elems_iter_create(s);
		e = nftnl_set_elems_iter_next(it);
		CHECK(e != NULL);
		if (e) {
			key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &klen);
			data = nftnl_set_elem_get(e, NFTNL_SET_ELEM_DATA, &dlen);
			CHECK(klen == 12 && key_is(key, &pins[i - 1]));
			CHECK(dlen == 4 && data[0] == pins[i - 1].pool);
			CHECK(nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_TIMEOUT) ==
			      60000);
			CHECK(nftnl_set_elems_iter_next(it) == NULL);
		}
		nftnl_set_elems_iter_destroy(it);
		nftnl_set_free(s);
	}
	CHECK(i == 4);
}

static char long_table[256], long_map[256];

/*
 * Names of 255 characters (the most nft takes) make each element message far
 * longer than 512 bytes: the buffer is sized from the names (under ASan, an
 * overflow here fails the test).
 */
static void test_long_names(void)
{
	enum { N = 16 };
	struct pin pins[N], *pp[N];
	size_t small = (N + 2) * 512, len;
	char *buf;

	memset(long_table, 't', 255);
	memset(long_map, 'm', 255);
	make_pins(pins, pp, N);
	buf = malloc(small);
	CHECK(nftmap_build(buf, small, long_table, long_map, NULL, pp, N, 1000, 1) ==
	      0);
	free(buf);
	buf = malloc(64 * 1024);
	len = nftmap_build(buf, 64 * 1024, long_table, long_map, NULL, pp, N, 1000,
			   1);
	CHECK(len > small);
	free(buf);
}

/* Appends an NLMSG_ERROR (err 0: an ACK) for seq to buf at *off. */
static void put_error(char *buf, size_t *off, uint32_t seq, uint32_t pid,
		      int err)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf + *off);
	struct nlmsgerr *e;

	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_pid = pid;
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = err;
	e->msg.nlmsg_seq = seq;
	*off += nlh->nlmsg_len;
}

static void test_collect_whole_batch_refused(void)
{
	struct pin pins[3], *pp[3];
	char buf[1024];
	size_t len = 0;
	bool committed = true;

	make_pins(pins, pp, 3);
	put_error(buf, &len, 100, 0, -EPERM);	/* on the batch's begin */
	CHECK(nftmap_collect(pp, 3, false, 100, buf, len, 0, &committed) == -EPERM);
	CHECK(!committed);
	CHECK(pins[0].err == EPERM && pins[1].err == EPERM &&
	      pins[2].err == EPERM);
}

static void test_collect_commit_failure(void)
{
	struct pin pins[3], *pp[3];
	char buf[1024];
	size_t len = 0;
	bool committed = true;

	make_pins(pins, pp, 3);
	put_error(buf, &len, 102, 0, -EEXIST);	/* the second element */
	put_error(buf, &len, 103, 0, 0);	/* the last one's ACK */
	CHECK(nftmap_collect(pp, 3, false, 100, buf, len, 0, &committed) == 0);
	CHECK(!committed);
	CHECK(pins[0].err == 0 && pins[1].err == EEXIST && pins[2].err == 0);
}

static void test_collect_stale_acks(void)
{
	struct pin pins[2], *pp[2];
	char buf[1024];
	size_t len = 0;
	bool committed = false;

	make_pins(pins, pp, 2);
	/* answers to earlier batches, which timed out, come first */
	put_error(buf, &len, 95, 0, -EEXIST);
	put_error(buf, &len, 99, 0, -ENFILE);
	put_error(buf, &len, 102, 0, 0);
	CHECK(nftmap_collect(pp, 2, false, 100, buf, len, 0, &committed) == 0);
	CHECK(committed && pins[0].err == 0 && pins[1].err == 0);

	/* the closing answer is missing: unknown, not success */
	len = 0;
	put_error(buf, &len, 99, 0, 0);
	CHECK(nftmap_collect(pp, 2, false, 100, buf, len, 0, &committed) == -EAGAIN);
	CHECK(!committed && pins[0].err == EAGAIN);
}

/* Checks one element of the keys' message: its key, no data, an expiry. */
static void check_key_elem(const struct nlattr *elem, const struct pin *p)
{
	const struct nlattr *a, *v;
	bool key = false, data = false, expiry = false;

	mnl_attr_for_each_nested(a, elem) {
		switch (mnl_attr_get_type(a)) {
		case NFTA_SET_ELEM_KEY:
			v = mnl_attr_get_payload(a);
			key = mnl_attr_get_payload_len(v) == 12 &&
			      key_is(mnl_attr_get_payload(v), p);
			break;
		case NFTA_SET_ELEM_DATA:
			data = true;
			break;
		case NFTA_SET_ELEM_EXPIRATION:
			expiry = be64toh(mnl_attr_get_u64(a)) == 60000;
			break;
		}
	}
	CHECK(key && !data && expiry);
}

/*
 * With the companion set (kernels that cannot look up a map's keys), one more
 * message adds every pin's key there, not exclusively, and carries the ACK
 * that closes the batch. (libnftnl's own parser takes one element a message
 * only, so the elements are walked here.)
 */
static void test_batch_keys(void)
{
	enum { N = 3 };
	static char buf[8192];
	struct pin pins[N], *pp[N];
	const struct nlmsghdr *nlh;
	const struct nlattr *a, *elem;
	int len, i = 0, keys = 0;

	make_pins(pins, pp, N);
	len = nftmap_build(buf, sizeof(buf), "natt_pin", "pins", "pinned", pp,
			   N, 60000, 7);
	CHECK(len > 0);
	nlh = (const struct nlmsghdr *)buf;
	for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len), i++) {
		CHECK(nlh->nlmsg_seq == 7u + i);
		if (i == 0 || i == N + 2)
			continue;
		CHECK(!!(nlh->nlmsg_flags & NLM_F_ACK) == (i == N + 1));
		if (i <= N)
			continue;
		CHECK(nlh->nlmsg_flags & NLM_F_CREATE);
		CHECK(!(nlh->nlmsg_flags & NLM_F_EXCL));
		mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
			if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_SET)
				CHECK(!strcmp(mnl_attr_get_str(a), "pinned"));
			if (mnl_attr_get_type(a) != NFTA_SET_ELEM_LIST_ELEMENTS)
				continue;
			mnl_attr_for_each_nested(elem, a) {
				CHECK(keys < N);
				if (keys < N)
					check_key_elem(elem, &pins[keys]);
				keys++;
			}
		}
	}
	CHECK(i == N + 3 && keys == N);
	/* more keys than one nest holds: refused, never truncated */
	{
		static char big[512 * 1024];
		static struct pin many[NFTMAP_COMMIT_MAX + 1];
		static struct pin *mp[NFTMAP_COMMIT_MAX + 1];

		make_pins(many, mp, NFTMAP_COMMIT_MAX + 1);
		CHECK(nftmap_build(big, sizeof(big), "natt_pin", "pins",
				   "pinned", mp, NFTMAP_COMMIT_MAX + 1, 60000,
				   7) == 0);
		CHECK(nftmap_build(big, sizeof(big), "natt_pin", "pins",
				   "pinned", mp, NFTMAP_COMMIT_MAX, 60000, 7) > 0);
	}
	/* a buffer sized for the map's messages alone is too small */
	CHECK(nftmap_build(buf, (N + 2) * 300, "natt_pin", "pins", "pinned",
			   pp, N, 60000, 7) == 0);
}

/* The keys' answer closes the batch; its refusal undoes every pin. */
static void test_collect_keys(void)
{
	struct pin pins[2], *pp[2];
	char buf[1024];
	size_t len = 0;
	bool committed = false;

	make_pins(pins, pp, 2);
	put_error(buf, &len, 102, 0, 0);	/* no ACK asked: stale */
	put_error(buf, &len, 103, 0, 0);
	CHECK(nftmap_collect(pp, 2, true, 100, buf, len, 0, &committed) == 0);
	CHECK(committed && pins[0].err == 0 && pins[1].err == 0);

	len = 0;
	put_error(buf, &len, 103, 0, -ENFILE);
	CHECK(nftmap_collect(pp, 2, true, 100, buf, len, 0, &committed) == 0);
	CHECK(!committed && pins[0].err == ENFILE && pins[1].err == ENFILE);

	/* the map's own refusal comes first and stays the pin's */
	len = 0;
	put_error(buf, &len, 101, 0, -EEXIST);
	put_error(buf, &len, 103, 0, 0);
	CHECK(nftmap_collect(pp, 2, true, 100, buf, len, 0, &committed) == 0);
	CHECK(!committed && pins[0].err == EEXIST && pins[1].err == 0);

	/* without the keys' answer the batch is not done */
	len = 0;
	put_error(buf, &len, 102, 0, 0);
	CHECK(nftmap_collect(pp, 2, true, 100, buf, len, 0, &committed) ==
	      -EAGAIN);
	CHECK(!committed);
}

static void test_send_failure(void)
{
	struct pin pins[2], *pp[2];
	struct nftmap *m;
	bool committed = true;
	int sv[2];

	make_pins(pins, pp, 2);
	CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0);
	close(sv[1]);	/* nobody to send to */
	CHECK(nftmap_open_fd(&m, sv[0], "natt_pin", "pins", 100) == 0);
	CHECK(nftmap_commit(m, pp, 2, 1000, &committed) < 0);
	CHECK(!committed);
	/* the send's errno, never -EINPROGRESS ("Unknown error -115") */
	CHECK(pins[0].err > 0 && pins[0].err != EINPROGRESS &&
	      pins[1].err == pins[0].err);
	CHECK(strstr(strerror(pins[0].err), "Unknown") == NULL);
	nftmap_close(m);
}

/* The stand-in kernel's answer to one GETSETELEM request, appended. */
static void answer_get(char *out, size_t *off, const struct nlmsghdr *req,
		       in_addr_t pool)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *e;
	struct nlmsghdr *nlh;

	if (!s || nftnl_set_elems_nlmsg_parse(req, s) < 0)
		goto out;
	if (!pool) {
		put_error(out, off, req->nlmsg_seq, 0, -ENOENT);
		goto out;
	}
	it = nftnl_set_elems_iter_create(s);
	e = nftnl_set_elems_iter_next(it);
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_DATA, &pool, sizeof(pool));
	nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_EXPIRATION, 42000);
	nftnl_set_elems_iter_destroy(it);
	nlh = nftnl_nlmsg_build_hdr(out + *off, NFT_MSG_NEWSETELEM,
				    NFPROTO_IPV4, 0, req->nlmsg_seq);
	nlh->nlmsg_pid = 0;
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	*off += nlh->nlmsg_len;
out:
	nftnl_set_free(s);
}

/*
 * A stand-in kernel on the other end: answers each GETSETELEM with the
 * element and pool (or ENOENT when pool is 0), and drops everything else,
 * as if a batch's answers were lost. Exits when the socket closes.
 */
static void fake_kernel(int fd, in_addr_t pool)
{
	static char in[65536], out[65536];
	const struct nlmsghdr *req;
	size_t off;
	ssize_t n;
	int left;

	while ((n = recv(fd, in, sizeof(in), 0)) > 0) {
		left = n;
		for (req = (void *)in; mnl_nlmsg_ok(req, left);
		     req = mnl_nlmsg_next(req, &left)) {
			if (NFNL_MSG_TYPE(req->nlmsg_type) !=
			    NFT_MSG_GETSETELEM)
				continue;
			off = 0;
			answer_get(out, &off, req, pool);
			/* one answer a message, as the kernel's unicasts */
			if (off)
				send(fd, out, off, 0);
		}
	}
	_exit(0);
}

/* A map writer talking to fake_kernel(pool); answers wait 200 ms at most. */
static pid_t open_fake(struct nftmap **m, in_addr_t pool, const char *table,
		       const char *map)
{
	struct timeval tv = { .tv_usec = 200000 };
	int sv[2];
	pid_t pid;

	/* seqpacket: boundaries kept, and the close reaches the child */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		fake_kernel(sv[1], pool);
	}
	close(sv[1]);
	setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (nftmap_open_fd(m, sv[0], table, map, 1000) < 0)
		return -1;
	return pid;
}

static void close_fake(struct nftmap *m, pid_t pid)
{
	int status;

	nftmap_close(m);
	waitpid(pid, &status, 0);
}

static void test_get(void)
{
	struct nftmap_elem e[3] = {
		{ .inner = inet_addr("100.64.1.1"), .gateway = inet_addr("203.0.113.2") },
		{ .inner = inet_addr("100.64.1.2"), .gateway = inet_addr("203.0.113.2") },
		{ .inner = inet_addr("100.64.1.3"), .gateway = inet_addr("203.0.113.9") },
	};
	int err[3];
	struct nftmap *m;
	pid_t pid;

	pid = open_fake(&m, POOL, "natt_pin", "pins");
	CHECK(pid > 0);
	CHECK(nftmap_get(m, e, 3, err) == 0);
	CHECK(err[0] == 0 && err[1] == 0 && err[2] == 0);
	CHECK(e[2].pool == POOL && e[2].inner == inet_addr("100.64.1.3") &&
	      e[2].expires_ms == 42000);
	close_fake(m, pid);

	pid = open_fake(&m, 0, "natt_pin", "pins");
	CHECK(nftmap_get(m, e, 3, err) == 0);
	CHECK(err[0] == -ENOENT && err[1] == -ENOENT && err[2] == -ENOENT);
	close_fake(m, pid);
}

/*
 * The batch's answers are lost (ENOBUFS, or none in time): the transaction
 * may have committed. The map is asked: every pin there, with its address,
 * means it did; none there means it did not, and the pins are tried again.
 */
static void test_lost_answers(void)
{
	enum { N = 12 };
	struct pin pins[N], *pp[N];
	struct nftmap *m;
	bool committed;
	pid_t pid;

	make_pins(pins, pp, N);
	/* long names as well: the writer's buffer fits them (ASan) */
	pid = open_fake(&m, POOL, long_table, long_map);
	CHECK(nftmap_commit(m, pp, N, 1000, &committed) == 0);
	CHECK(committed && pins[0].err == 0 && pins[N - 1].err == 0);
	close_fake(m, pid);

	pid = open_fake(&m, 0, "natt_pin", "pins");
	CHECK(nftmap_commit(m, pp, N, 1000, &committed) == 0);
	CHECK(!committed && pins[0].err == 0);
	pin_found(&pins[0], -ENOENT, 0);
	pin_settle(&pins[0], pins[0].err, committed);
	CHECK(pins[0].state == PIN_TRY_CREATE);	/* again, next round */
	close_fake(m, pid);
}

/*
 * A stand-in kernel with a map of its own, room for cap elements: answers
 * look-ups from it, and applies a batch of creates only when no element
 * fails (EEXIST for a present key, ENFILE past cap), as the kernel does.
 */
struct fake_map {
	uint32_t key[16][3];
	in_addr_t pool[16];
	size_t n, cap;
};

static void elem_of(const struct nlmsghdr *nlh, uint32_t key[3],
		    in_addr_t *pool)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *e;
	const uint32_t *k, *v;
	uint32_t len;

	nftnl_set_elems_nlmsg_parse(nlh, s);
	it = nftnl_set_elems_iter_create(s);
	e = nftnl_set_elems_iter_next(it);
	k = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
	memcpy(key, k, 12);
	v = nftnl_set_elem_get(e, NFTNL_SET_ELEM_DATA, &len);
	*pool = v ? *v : 0;
	nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(s);
}

static in_addr_t fake_find(const struct fake_map *fm, const uint32_t key[3])
{
	for (size_t i = 0; i < fm->n; i++)
		if (!memcmp(fm->key[i], key, 12))
			return fm->pool[i];
	return 0;
}

static void answer(int fd, uint32_t seq, int err)
{
	char out[256];
	size_t off = 0;

	put_error(out, &off, seq, 0, err);
	send(fd, out, off, 0);
}

static void fake_batch(int fd, struct fake_map *fm, const struct nlmsghdr *nlh,
		       int left)
{
	struct fake_map next = *fm;
	bool failed = false;
	uint32_t key[3];
	in_addr_t pool;
	int err;

	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_NEWSETELEM)
			continue;
		elem_of(nlh, key, &pool);
		err = fake_find(&next, key) ? -EEXIST :
		      next.n == next.cap  ? -ENFILE :
					    0;
		if (!err) {
			memcpy(next.key[next.n], key, 12);
			next.pool[next.n++] = pool;
		}
		failed |= err != 0;
		if (err || nlh->nlmsg_flags & NLM_F_ACK)
			answer(fd, nlh->nlmsg_seq, err);
	}
	if (!failed)
		*fm = next;
}

static void fake_kernel_map(int fd, size_t cap)
{
	static char in[65536], out[4096];
	struct fake_map fm = { .cap = cap };
	const struct nlmsghdr *req = (void *)in;
	uint32_t key[3];
	in_addr_t pool;
	size_t off;
	ssize_t n;

	while ((n = recv(fd, in, sizeof(in), 0)) > 0) {
		if (req->nlmsg_type == NFNL_MSG_BATCH_BEGIN) {
			fake_batch(fd, &fm, req, n);
			continue;
		}
		for (int left = n; mnl_nlmsg_ok(req, left);
		     req = mnl_nlmsg_next(req, &left)) {
			elem_of(req, key, &pool);
			off = 0;
			answer_get(out, &off, req, fake_find(&fm, key));
			send(fd, out, off, 0);
		}
		req = (void *)in;
	}
	_exit(0);
}

static void set_pin(struct pin *p, const char *inner, const char *pool)
{
	pin_init(p, 0, inet_addr(inner), inet_addr("203.0.113.2"),
		 inet_addr(pool));
}

/*
 * The daemon's whole write path against a map of 3: repeats resolved in
 * userspace, look-ups before creates, one failed transaction when the map
 * fills, then creates held back, and a probe after the back-off.
 */
static void test_commit_pins(void)
{
	struct nfqh_stats stats = { 0 };
	struct pin_map map = { .timeout_ms = 1000 };
	struct timeval tv = { .tv_usec = 200000 };
	uint64_t now = 1000000;
	struct pinwrite w;
	struct pin pins[8];
	int sv[2];
	pid_t pid;

	CHECK(pinwrite_init(&w, 8, &map, NULL, &stats) == 0);
	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		fake_kernel_map(sv[1], 3);
	}
	close(sv[1]);
	setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	CHECK(nftmap_open_fd(&map.nft, sv[0], "natt_pin", "pins", 1000) == 0);

	set_pin(&pins[0], "100.64.1.1", "198.51.100.1");
	set_pin(&pins[1], "100.64.1.2", "198.51.100.1");
	set_pin(&pins[2], "100.64.1.1", "198.51.100.2");	/* same key: loses */
	set_pin(&pins[3], "100.64.1.3", "198.51.100.1");
	set_pin(&pins[4], "100.64.1.4", "198.51.100.1");	/* past the map's size */
	CHECK(pinwrite_restore(&w, pins, 5, now) == 5);
	CHECK(pins[0].state == PIN_ADDED && pins[1].state == PIN_ADDED &&
	      pins[3].state == PIN_ADDED);
	CHECK(pins[2].state == PIN_CONFLICT);
	CHECK(pins[4].state == PIN_MAP_FULL && pins[4].err == ENFILE);
	CHECK(stats.transactions == 2 && stats.transactions_failed == 1);

	/* at once again: held back, no transaction */
	set_pin(&pins[0], "100.64.1.5", "198.51.100.1");
	pinwrite_restore(&w, pins, 1, now);
	CHECK(pins[0].state == PIN_MAP_FULL);
	CHECK(stats.transactions == 2);

	/* live pins: looked up, never written */
	set_pin(&pins[0], "100.64.1.1", "198.51.100.1");
	set_pin(&pins[1], "100.64.1.2", "198.51.100.3");
	pinwrite_restore(&w, pins, 2, now);
	CHECK(pins[0].state == PIN_PRESENT && pins[1].state == PIN_CONFLICT);
	CHECK(stats.transactions == 2);

	/* the back-off over: one probe, refused, the other held */
	now += PIN_BACKOFF_MIN_MS;
	set_pin(&pins[0], "100.64.1.6", "198.51.100.1");
	set_pin(&pins[1], "100.64.1.7", "198.51.100.1");
	pinwrite_restore(&w, pins, 2, now);
	CHECK(pins[0].state == PIN_MAP_FULL && pins[1].state == PIN_MAP_FULL);
	CHECK(stats.transactions == 3 && stats.transactions_failed == 2);
	CHECK(w.backoff.delay_ms == 2 * PIN_BACKOFF_MIN_MS);

	close_fake(map.nft, pid);
	pinwrite_free(&w);
}

static void test_check(void)
{
	struct nftmap_info good = {
		.flags = NFT_SET_MAP | NFT_SET_TIMEOUT,
		.key_type = 4 << 12 | 7 << 6 | 7, .key_len = 12,
		.data_type = 7, .data_len = 4,
	};
	struct nftmap_info bad;

	CHECK(nftmap_check(&good) == NULL);
	bad = good;
	bad.flags = NFT_SET_TIMEOUT;
	CHECK(strstr(nftmap_check(&bad), "not a map"));
	bad = good;
	bad.flags = NFT_SET_MAP;
	CHECK(strstr(nftmap_check(&bad), "timeout"));
	bad = good;
	bad.key_type = 7;
	bad.key_len = 4;
	CHECK(strstr(nftmap_check(&bad), "key"));
	/* today's table before zones: told how to migrate it */
	bad = good;
	bad.key_type = 7 << 6 | 7;
	bad.key_len = 8;
	CHECK(strstr(nftmap_check(&bad), "natt-pin-load"));
	CHECK(strstr(nftmap_check(&bad), "zone 0"));
	bad = good;
	bad.data_type = 13;	/* inet_service */
	bad.data_len = 2;
	CHECK(strstr(nftmap_check(&bad), "value"));
}

int main(void)
{
	RUN(test_key_bytes);
	RUN(test_batch);
	RUN(test_long_names);
	RUN(test_collect_whole_batch_refused);
	RUN(test_collect_commit_failure);
	RUN(test_collect_stale_acks);
	RUN(test_batch_keys);
	RUN(test_collect_keys);
	RUN(test_send_failure);
	RUN(test_get);
	RUN(test_lost_answers);
	RUN(test_commit_pins);
	RUN(test_check);
	return CHECK_DONE();
}
