// SPDX-License-Identifier: GPL-2.0-or-later
/* The map of pins: declaration check and element transactions. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/gen.h>
#include <libnftnl/object.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "netlink.h"
#include "nftmap.h"
#include "ruleset.h"

/* one element message less its two names: headers, key, data, two u64 */
#define ELEM_MSG_FIXED 256
/* one key in the companion set's message: nest, key, timeout, expiration */
#define KEY_ELEM_SIZE 96
/* nft's datatype ids (nftables src/datatype.h): integer is 4 (ct zone's),
 * ipv4_addr 7; a concatenation shifts each part by 6 bits */
#define TYPE_INTEGER 4
#define TYPE_IPADDR 7
#define TYPE_CONCAT_IPADDR_IPADDR (TYPE_IPADDR << 6 | TYPE_IPADDR)
#define TYPE_CONCAT_ZONE_IPADDR_IPADDR \
	(TYPE_INTEGER << 12 | TYPE_CONCAT_IPADDR_IPADDR)

struct nftmap {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	const char *table;
	const char *map;
	const char *keys;	/* RULESET_KEYS_SET where the table has it, else NULL */
	char *buf;
	size_t bufsize;
	char rbuf[NL_RECV_SIZE];
};

void nftmap_key(uint32_t key[NFTMAP_KEY_WORDS], uint16_t zone,
		in_addr_t inner, in_addr_t gateway)
{
	/* nft_reg_store16(): a u16 in host order, the register's other two
	 * bytes zero; addresses as the packet has them */
	key[0] = 0;
	memcpy(&key[0], &zone, sizeof(zone));
	key[1] = inner;
	key[2] = gateway;
}

void nftmap_key_parse(const uint32_t key[NFTMAP_KEY_WORDS], uint16_t *zone,
		      in_addr_t *inner, in_addr_t *gateway)
{
	memcpy(zone, &key[0], sizeof(*zone));
	*inner = key[1];
	*gateway = key[2];
}

static int set_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_set *s = data;

	if (nftnl_set_nlmsg_parse(nlh, s) < 0)
		return MNL_CB_ERROR;
	return MNL_CB_OK;
}

/*
 * The declaration of set (or map) name of the table, into got; with got
 * NULL, only whether it is there.
 */
static int get_set(struct nftmap *m, const char *name, struct nftnl_set *got)
{
	char buf[NL_MSG_SIZE];
	struct nftnl_set *s;
	struct nlmsghdr *nlh;

	s = nftnl_set_alloc();
	if (!s)
		return -ENOMEM;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, m->table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSET, NFPROTO_IPV4, NLM_F_ACK,
				    m->seq++);
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	return nl_request(m->nl, m->portid, nlh, m->rbuf, sizeof(m->rbuf),
			  got ? set_cb : NULL, got);
}

/* 1 if the table holds the companion set of keys, 0 if not, or -errno. */
static int keys_present(struct nftmap *m)
{
	int ret = get_set(m, RULESET_KEYS_SET, NULL);

	return ret == 0 ? 1 : ret == -ENOENT ? 0 : ret;
}

int nftmap_open(struct nftmap **mp, const char *table, const char *map)
{
	struct nftmap *m;
	int ret;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	ret = nl_open(NETLINK_NETFILTER, &m->nl, &m->portid);
	if (ret < 0) {
		free(m);
		return ret;
	}
	m->seq = time(NULL);
	m->table = table;
	m->map = map;
	ret = keys_present(m);
	m->keys = ret > 0 ? RULESET_KEYS_SET : NULL;
	*mp = m;
	return 0;
}

int nftmap_open_fd(struct nftmap **mp, int fd, const char *table,
		   const char *map, uint32_t seq)
{
	struct nftmap *m;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->nl = mnl_socket_fdopen(fd);
	if (!m->nl) {
		free(m);
		return -errno;
	}
	m->portid = 0;
	m->seq = seq;
	m->table = table;
	m->map = map;
	*mp = m;
	return 0;
}

/*
 * A netlink socket's default destination is the kernel, so send() does what
 * mnl_socket_sendto() does, and works on a test's socketpair too.
 */
static ssize_t send_all(struct nftmap *m, size_t len)
{
	return send(mnl_socket_get_fd(m->nl), m->buf, len, 0);
}

void nftmap_close(struct nftmap *m)
{
	if (!m)
		return;
	mnl_socket_close(m->nl);
	free(m->buf);
	free(m);
}

static uint32_t set_u32(const struct nftnl_set *s, uint16_t attr)
{
	return nftnl_set_is_set(s, attr) ? nftnl_set_get_u32(s, attr) : 0;
}

int nftmap_info(struct nftmap *m, struct nftmap_info *info)
{
	struct nftnl_set *got;
	int ret = 0;

	got = nftnl_set_alloc();
	if (!got)
		return -ENOMEM;
	ret = get_set(m, m->map, got);
	if (ret < 0)
		goto out;
	info->flags = set_u32(got, NFTNL_SET_FLAGS);
	info->key_type = set_u32(got, NFTNL_SET_KEY_TYPE);
	info->key_len = set_u32(got, NFTNL_SET_KEY_LEN);
	info->data_type = set_u32(got, NFTNL_SET_DATA_TYPE);
	info->data_len = set_u32(got, NFTNL_SET_DATA_LEN);
	info->size = set_u32(got, NFTNL_SET_DESC_SIZE);
	info->timeout_ms = nftnl_set_is_set(got, NFTNL_SET_TIMEOUT) ?
				   nftnl_set_get_u64(got, NFTNL_SET_TIMEOUT) :
				   0;
	info->gc_ms = set_u32(got, NFTNL_SET_GC_INTERVAL);
	ret = keys_present(m);
	if (ret < 0)
		goto out;
	info->keys = ret;
	m->keys = ret ? RULESET_KEYS_SET : NULL;
	ret = 0;
out:
	nftnl_set_free(got);
	return ret;
}

static int gen_cb(const struct nlmsghdr *nlh, void *data)
{
	if (nftnl_gen_nlmsg_parse(nlh, data) < 0)
		return MNL_CB_ERROR;
	return MNL_CB_OK;
}

/* The ruleset's generation: a batch that names it fails once it moved. */
static int get_genid(struct nftmap *m, uint32_t *genid)
{
	char buf[NL_MSG_SIZE];
	struct nftnl_gen *g;
	struct nlmsghdr *nlh;
	int ret;

	g = nftnl_gen_alloc();
	if (!g)
		return -ENOMEM;
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK,
				    m->seq++);
	ret = nl_request(m->nl, m->portid, nlh, m->rbuf, sizeof(m->rbuf), gen_cb,
			 g);
	if (ret == 0)
		*genid = nftnl_gen_get_u32(g, NFTNL_GEN_ID);
	nftnl_gen_free(g);
	return ret;
}

/*
 * The declaration in got written back with gc_ms, in a batch bound to
 * generation genid: if anyone changed the ruleset since it was read, the
 * kernel refuses it (ERESTART) rather than undo their change.
 */
static int put_gc(struct nftmap *m, struct nftnl_set *got, uint32_t gc_ms,
		  uint32_t genid)
{
	char buf[NL_MSG_SIZE], *p = buf;
	struct nlmsghdr *nlh;
	uint32_t seq = m->seq;
	int n;

	m->seq += 3;
	nftnl_set_unset(got, NFTNL_SET_HANDLE);
	nftnl_set_set_u32(got, NFTNL_SET_ID, 1);	/* the kernel wants one */
	nftnl_set_set_u32(got, NFTNL_SET_GC_INTERVAL, gc_ms);
	nlh = nftnl_batch_begin(p, seq);
	mnl_attr_put_u32(nlh, NFNL_BATCH_GENID, htonl(genid));
	p += nlh->nlmsg_len;
	nlh = nftnl_nlmsg_build_hdr(p, NFT_MSG_NEWSET, NFPROTO_IPV4,
				    NLM_F_CREATE | NLM_F_ACK, seq + 1);
	nftnl_set_nlmsg_build_payload(nlh, got);
	p += nlh->nlmsg_len;
	nlh = nftnl_batch_end(p, seq + 2);
	p += nlh->nlmsg_len;
	if (mnl_socket_sendto(m->nl, buf, p - buf) < 0)
		return -errno;
	/* one answer: the set's ACK, or the error of the set or the batch */
	do {
		n = mnl_socket_recvfrom(m->nl, m->rbuf, sizeof(m->rbuf));
		if (n < 0)
			return -errno;
		n = mnl_cb_run(m->rbuf, n, 0, m->portid, NULL, NULL);
	} while (n > 0);
	return n < 0 ? -errno : 0;
}

/* One set: 1 if it got gc_ms, 0 if it declares an interval or no timeout. */
static int gc_default(struct nftmap *m, const char *name, uint32_t gc_ms)
{
	struct nftnl_set *got;
	uint32_t genid;
	int ret;

	got = nftnl_set_alloc();
	if (!got)
		return -ENOMEM;
	ret = get_genid(m, &genid);
	if (ret == 0)
		ret = get_set(m, name, got);
	if (ret == 0 && !set_u32(got, NFTNL_SET_GC_INTERVAL) &&
	    (set_u32(got, NFTNL_SET_FLAGS) & NFT_SET_TIMEOUT)) {
		ret = put_gc(m, got, gc_ms, genid);
		if (ret == 0)
			ret = 1;
	}
	nftnl_set_free(got);
	return ret;
}

int nftmap_gc_default(struct nftmap *m, uint32_t gc_ms, const char **which)
{
	const char *names[] = { m->map, m->keys };
	int applied = 0, ret, tries, i;

	for (i = 0; i < 2 && names[i]; i++) {
		*which = names[i];
		tries = 3;	/* each refusal means someone loaded rules */
		do
			ret = gc_default(m, names[i], gc_ms);
		while (ret == -ERESTART && --tries);
		if (ret < 0)
			return ret;
		applied += ret;
	}
	return applied;
}

const char *nftmap_check(const struct nftmap_info *info)
{
	if (!(info->flags & NFT_SET_MAP))
		return "it is a set, not a map";
	if (info->key_type == TYPE_CONCAT_IPADDR_IPADDR && info->key_len == 8)
		return "its key is inner . gateway without the conntrack zone: a table of an older natt-pin.nft; load the shipped one with natt-pin-load, which keeps every pin (in zone 0)";
	if (info->key_type != TYPE_CONCAT_ZONE_IPADDR_IPADDR ||
	    info->key_len != NFTMAP_KEY_WORDS * 4)
		return "its key is not ct zone . ipv4_addr . ipv4_addr";
	if (info->data_type != TYPE_IPADDR || info->data_len != 4)
		return "its value is not ipv4_addr";
	if (!(info->flags & NFT_SET_TIMEOUT))
		return "it lacks flags timeout";
	return NULL;
}

/* Bytes of one element message (or a batch's begin or end) at most. */
static size_t elem_msg_size(const char *table, const char *map)
{
	return ELEM_MSG_FIXED + MNL_ALIGN(strlen(table) + 1) +
	       MNL_ALIGN(strlen(map) + 1);
}

/* Bytes nftmap_build needs for n pins at most. */
static size_t nftmap_build_size(const char *table, const char *map,
				const char *keys, size_t n)
{
	size_t size = (n + 2) * elem_msg_size(table, map);

	if (keys)
		size += elem_msg_size(table, keys) + n * KEY_ELEM_SIZE;
	return size;
}

/* The message adding the n pins' keys to the companion set keys. */
static struct nlmsghdr *build_keys(char *p, const char *table,
				   const char *keys, struct pin *const *pins,
				   size_t n, uint64_t timeout_ms, uint32_t seq)
{
	struct nftnl_set_elem *e;
	struct nftnl_set *s;
	struct nlmsghdr *nlh;
	uint32_t key[NFTMAP_KEY_WORDS];
	size_t i;

	s = nftnl_set_alloc();
	if (!s)
		return NULL;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, keys);
	for (i = 0; i < n; i++) {
		e = nftnl_set_elem_alloc();
		if (!e) {
			nftnl_set_free(s);
			return NULL;
		}
		nftmap_key(key, pins[i]->zone, pins[i]->inner,
			   pins[i]->gateway);
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, sizeof(key));
		nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT, timeout_ms);
		nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_EXPIRATION, timeout_ms);
		nftnl_set_elem_add(s, e);
	}
	/* not exclusive: a key left from an expired pin is no conflict */
	nlh = nftnl_nlmsg_build_hdr(p, NFT_MSG_NEWSETELEM, NFPROTO_IPV4,
				    NLM_F_CREATE | NLM_F_ACK, seq);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	return nlh;
}

size_t nftmap_build(void *buf, size_t size, const char *table,
		    const char *map, const char *keys, struct pin *const *pins,
		    size_t n, uint64_t timeout_ms, uint32_t seq)
{
	struct nftnl_set *s;
	struct nftnl_set_elem *e;
	struct nlmsghdr *nlh;
	char *p = buf;
	uint32_t key[NFTMAP_KEY_WORDS];
	size_t i;

	if (size < nftmap_build_size(table, map, keys, n) ||
	    n > NFTMAP_COMMIT_MAX)
		return 0;
	s = nftnl_set_alloc();
	e = nftnl_set_elem_alloc();
	if (!s || !e) {
		nftnl_set_free(s);
		nftnl_set_elem_free(e);
		return 0;
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, map);
	nftnl_set_elem_add(s, e);	/* the set owns it from here */

	nlh = nftnl_batch_begin(p, seq);
	p += nlh->nlmsg_len;
	for (i = 0; i < n; i++) {
		nftmap_key(key, pins[i]->zone, pins[i]->inner,
			   pins[i]->gateway);
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, sizeof(key));
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_DATA, &pins[i]->pool,
				   sizeof(pins[i]->pool));
		/*
		 * Re-adding an element with only a timeout leaves its old
		 * expiry; the expiration is what refreshes it.
		 */
		nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT, timeout_ms);
		nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_EXPIRATION, timeout_ms);
		/* the daemon only creates: an existing element is refused */
		nlh = nftnl_nlmsg_build_hdr(p, NFT_MSG_NEWSETELEM, NFPROTO_IPV4,
					    NLM_F_CREATE | NLM_F_EXCL |
						    (i == n - 1 && !keys ?
							     NLM_F_ACK : 0),
					    seq + 1 + i);
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		p += nlh->nlmsg_len;
	}
	nftnl_set_free(s);
	if (keys) {
		nlh = build_keys(p, table, keys, pins, n, timeout_ms,
				 seq + 1 + n);
		if (!nlh)
			return 0;
		p += nlh->nlmsg_len;
	}
	nlh = nftnl_batch_end(p, seq + 1 + n + !!keys);
	p += nlh->nlmsg_len;
	return p - (char *)buf;
}

struct collect {
	struct pin *const *pins;
	size_t n;
	uint32_t seq;	/* the batch's first message; element i has seq + 1 + i */
	uint32_t last;	/* the message with the ACK: n, or n + 1, the keys' */
	int batch_err;
	int keys_err;
	bool failed;
};

static size_t take_ack(const struct nlmsghdr *nlh, void *data)
{
	struct collect *c = data;
	uint32_t i = nlh->nlmsg_seq - c->seq;
	int err;

	if (nlh->nlmsg_type != NLMSG_ERROR)
		return 0;
	err = nl_error(nlh);
	if (i == 0) {	/* the whole batch refused: nothing else comes */
		c->batch_err = err ? err : -EBADMSG;
		return c->n;
	}
	if (i == c->n + 1 && i == c->last) {	/* the keys' answer, last */
		c->keys_err = err;
		c->failed |= err != 0;
		return c->n;
	}
	/* an answer to an earlier batch (stale) has a sequence out of range */
	if (i > c->n || c->pins[i - 1]->err != -EINPROGRESS)
		return 0;
	c->pins[i - 1]->err = -err;
	c->failed |= err != 0;
	/* the answer of the message with the ACK comes last: the batch is done */
	return i == c->last ? c->n : 0;
}

/* Gives every pin without an answer its outcome; the commit's result. */
static int settle(struct collect *c, int ret, bool *committed)
{
	size_t i;

	if (!ret)
		ret = c->batch_err;
	/* the keys refused (their set full or gone): no pin was made */
	for (i = 0; i < c->n; i++)
		if (c->pins[i]->err == -EINPROGRESS)
			c->pins[i]->err = ret < 0 ? -ret : -c->keys_err;
	*committed = ret == 0 && !c->failed;
	return ret;
}

int nftmap_collect(struct pin *const *pins, size_t n, bool keys, uint32_t seq,
		   const void *buf, size_t len, int ret, bool *committed)
{
	struct collect c = { .pins = pins, .n = n, .seq = seq,
			     .last = n + keys };
	const struct nlmsghdr *nlh = buf;
	int left = len;
	size_t i, answered = 0;

	for (i = 0; i < n; i++)
		pins[i]->err = -EINPROGRESS;
	for (; answered < n && mnl_nlmsg_ok(nlh, left);
	     nlh = mnl_nlmsg_next(nlh, &left))
		answered += take_ack(nlh, &c);
	if (!ret && answered < n)
		ret = -EAGAIN;	/* as nl_collect when answers are lost */
	return settle(&c, ret, committed);
}

/*
 * The answers were lost (ENOBUFS, or none in time): the transaction may have
 * been applied. Ask the map: it was if every pin is there with its address
 * (a transaction is all or nothing).
 */
static int learn_outcome(struct nftmap *m, struct pin *const *pins, size_t n,
			 bool *committed)
{
	struct nftmap_elem *e;
	int *err, ret;
	size_t i;

	e = calloc(n, sizeof(*e));
	err = calloc(n, sizeof(*err));
	ret = e && err ? 0 : -ENOMEM;
	for (i = 0; !ret && i < n; i++) {
		e[i].zone = pins[i]->zone;
		e[i].inner = pins[i]->inner;
		e[i].gateway = pins[i]->gateway;
	}
	if (!ret)
		ret = nftmap_get(m, e, n, err);
	*committed = ret == 0;
	for (i = 0; i < n && *committed; i++)
		*committed = err[i] == 0 && e[i].pool == pins[i]->pool;
	for (i = 0; i < n; i++)
		pins[i]->err = *committed ? 0 : ret < 0 ? -ret : 0;
	free(e);
	free(err);
	return ret;
}

int nftmap_commit(struct nftmap *m, struct pin *const *pins, size_t n,
		  uint64_t timeout_ms, bool *committed)
{
	struct collect c = { .pins = pins, .n = n, .seq = m->seq,
			     .last = n + !!m->keys };
	size_t i, len;
	int ret;

	*committed = false;
	if (!n)
		return 0;
	if (n > NFTMAP_COMMIT_MAX)
		return -E2BIG;
	ret = nl_reserve(&m->buf, &m->bufsize,
			 nftmap_build_size(m->table, m->map, m->keys, n));
	if (ret < 0)
		return ret;
	len = nftmap_build(m->buf, m->bufsize, m->table, m->map, m->keys, pins,
			   n, timeout_ms, c.seq);
	if (!len)
		return -ENOMEM;
	m->seq += c.last + 2;
	for (i = 0; i < n; i++)
		pins[i]->err = -EINPROGRESS;
	if (send_all(m, len) < 0)
		return settle(&c, -errno, committed);

	/*
	 * The kernel answers every element that fails, goes on through the
	 * batch, and only then applies or aborts it, delivering the answers in
	 * order. So the last element carries NLM_F_ACK: its answer, success
	 * or not, closes the batch, and elements that sent none succeeded. A
	 * refusal of the whole batch (no permission, no memory) comes as one
	 * error on the batch's first message.
	 */
	ret = nl_collect(m->nl, m->portid, m->rbuf, sizeof(m->rbuf), n,
			 take_ack, &c);
	if (ret == -ENOBUFS || ret == -EAGAIN)
		return learn_outcome(m, pins, n, committed);
	return settle(&c, ret, committed);
}

struct dump {
	void (*cb)(const struct nftmap_elem *e, void *data);
	void *data;
};

static uint64_t elem_u64(struct nftnl_set_elem *e, uint16_t attr)
{
	return nftnl_set_elem_is_set(e, attr) ? nftnl_set_elem_get_u64(e, attr) : 0;
}

/* One element of an answer; -EBADMSG if it is not a pin. */
static int elem_from(struct nftnl_set_elem *e, struct nftmap_elem *out)
{
	const uint32_t *key, *val;
	uint32_t klen, vlen;

	key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &klen);
	val = nftnl_set_elem_get(e, NFTNL_SET_ELEM_DATA, &vlen);
	if (!key || !val || klen != NFTMAP_KEY_WORDS * 4 || vlen != 4)
		return -EBADMSG;
	nftmap_key_parse(key, &out->zone, &out->inner, &out->gateway);
	out->pool = val[0];
	out->expires_ms = elem_u64(e, NFTNL_SET_ELEM_EXPIRATION);
	out->timeout_ms = elem_u64(e, NFTNL_SET_ELEM_TIMEOUT);
	return 0;
}

/* Hands each pin of one element message to cb; -EBADMSG if unparsable. */
static int parse_elems(const struct nlmsghdr *nlh,
		       void (*cb)(const struct nftmap_elem *e, void *data),
		       void *data)
{
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *e;
	struct nftnl_set *s;
	struct nftmap_elem out;

	s = nftnl_set_alloc();
	if (!s || nftnl_set_elems_nlmsg_parse(nlh, s) < 0) {
		nftnl_set_free(s);
		return -EBADMSG;
	}
	it = nftnl_set_elems_iter_create(s);
	while (it && (e = nftnl_set_elems_iter_next(it)))
		if (elem_from(e, &out) == 0)
			cb(&out, data);
	nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(s);
	return 0;
}

static int elems_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump *d = data;

	return parse_elems(nlh, d->cb, d->data) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

int nftmap_dump(struct nftmap *m,
		void (*cb)(const struct nftmap_elem *e, void *data), void *data)
{
	struct dump d = { .cb = cb, .data = data };
	char buf[NL_MSG_SIZE];
	struct nftnl_set *s;
	struct nlmsghdr *nlh;
	uint32_t seq = m->seq++;

	s = nftnl_set_alloc();
	if (!s)
		return -ENOMEM;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, m->table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, m->map);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_IPV4,
				    NLM_F_DUMP | NLM_F_ACK, seq);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	return nl_request(m->nl, m->portid, nlh, m->rbuf, sizeof(m->rbuf),
			  elems_cb, &d);
}

static int obj_cb(const struct nlmsghdr *nlh, void *data)
{
	return nftnl_obj_nlmsg_parse(nlh, data) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

int nftmap_counter(struct nftmap *m, const char *name, uint64_t *packets)
{
	char buf[NL_MSG_SIZE];
	struct nftnl_obj *o;
	struct nlmsghdr *nlh;
	int ret;

	o = nftnl_obj_alloc();
	if (!o)
		return -ENOMEM;
	nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, m->table);
	nftnl_obj_set_str(o, NFTNL_OBJ_NAME, name);
	nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETOBJ, NFPROTO_IPV4,
				    NLM_F_ACK, m->seq++);
	nftnl_obj_nlmsg_build_payload(nlh, o);
	ret = nl_request(m->nl, m->portid, nlh, m->rbuf, sizeof(m->rbuf),
			 obj_cb, o);
	if (ret == 0)
		*packets = nftnl_obj_is_set(o, NFTNL_OBJ_CTR_PKTS) ?
				   nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_PKTS) :
				   0;
	nftnl_obj_free(o);
	return ret;
}

struct get {
	struct nftmap_elem *e;
	int *err;
	size_t n;
	uint32_t seq;	/* element i's request has seq + i */
};

static void take_found(const struct nftmap_elem *found, void *data)
{
	*(struct nftmap_elem *)data = *found;
}

static size_t take_elem(const struct nlmsghdr *nlh, void *data)
{
	struct get *g = data;
	uint32_t i = nlh->nlmsg_seq - g->seq;

	if (i >= g->n || g->err[i] != -EINPROGRESS)
		return 0;	/* stale, or a second answer */
	if (nlh->nlmsg_type == NLMSG_ERROR) {
		g->err[i] = nl_error(nlh);
		/* no ACK was asked for: 0 says nothing about the element */
		if (!g->err[i])
			g->err[i] = -EBADMSG;
		return 1;
	}
	if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_NEWSETELEM)
		return 0;
	g->err[i] = -ENOENT;
	if (parse_elems(nlh, take_found, &g->e[i]) < 0)
		g->err[i] = -EBADMSG;
	else
		g->err[i] = 0;
	return 1;
}

/* The GETSETELEM request for e, with sequence number seq, built at buf. */
static struct nlmsghdr *build_get(char *buf, const struct nftmap *m,
				  const struct nftmap_elem *e, uint32_t seq)
{
	struct nftnl_set_elem *se = nftnl_set_elem_alloc();
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *nlh = NULL;
	uint32_t key[NFTMAP_KEY_WORDS];

	if (!s || !se) {
		nftnl_set_free(s);
		nftnl_set_elem_free(se);
		return NULL;
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, m->table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, m->map);
	nftmap_key(key, e->zone, e->inner, e->gateway);
	nftnl_set_elem_set(se, NFTNL_SET_ELEM_KEY, key, sizeof(key));
	nftnl_set_elem_add(s, se);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_IPV4, 0,
				    seq);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	return nlh;
}

/*
 * A GET of one element is no transaction: no abort, no commit mutex. All the
 * requests go in one sendmsg; the kernel answers each with the element or
 * an error, in order.
 */
int nftmap_get(struct nftmap *m, struct nftmap_elem *e, size_t n, int *err)
{
	struct get g = { .e = e, .err = err, .n = n, .seq = m->seq };
	struct nlmsghdr *nlh;
	size_t i, len = 0;
	int ret;

	if (!n)
		return 0;
	ret = nl_reserve(&m->buf, &m->bufsize,
			 n * elem_msg_size(m->table, m->map));
	if (ret < 0)
		return ret;
	for (i = 0; i < n; i++) {
		nlh = build_get(m->buf + len, m, &e[i], m->seq++);
		if (!nlh)
			return -ENOMEM;
		len += nlh->nlmsg_len;
		err[i] = -EINPROGRESS;
	}
	ret = send_all(m, len) < 0 ? -errno : 0;
	if (ret == 0)
		ret = nl_collect(m->nl, m->portid, m->rbuf, sizeof(m->rbuf), n,
				 take_elem, &g);
	for (i = 0; i < n; i++)
		if (err[i] == -EINPROGRESS)
			err[i] = ret < 0 ? ret : -EBADMSG;
	return ret;
}
