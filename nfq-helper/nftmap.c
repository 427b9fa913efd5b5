// SPDX-License-Identifier: GPL-2.0-or-later
/* The map of pins: declaration check and element transactions. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "netlink.h"
#include "nftmap.h"

/* one NEWSETELEM with the names, key, data and two u64 is under 512 bytes */
#define ELEM_MSG_SIZE 512
/* nft's datatype ids (nftables src/datatype.h): ipv4_addr is 7; a
 * concatenation shifts each part by 6 bits */
#define TYPE_IPADDR 7
#define TYPE_CONCAT_IPADDR_IPADDR (TYPE_IPADDR << 6 | TYPE_IPADDR)

struct nftmap {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	const char *table;
	const char *map;
	char *buf;
	size_t bufsize;
	char rbuf[NL_RECV_SIZE];
};

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
	*mp = m;
	return 0;
}

void nftmap_close(struct nftmap *m)
{
	if (!m)
		return;
	mnl_socket_close(m->nl);
	free(m->buf);
	free(m);
}

static int set_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_set *s = data;

	if (nftnl_set_nlmsg_parse(nlh, s) < 0)
		return MNL_CB_ERROR;
	return MNL_CB_OK;
}

static uint32_t set_u32(const struct nftnl_set *s, uint16_t attr)
{
	return nftnl_set_is_set(s, attr) ? nftnl_set_get_u32(s, attr) : 0;
}

int nftmap_info(struct nftmap *m, struct nftmap_info *info)
{
	char buf[NL_MSG_SIZE];
	struct nftnl_set *s, *got;
	struct nlmsghdr *nlh;
	uint32_t seq = m->seq++;
	int ret = 0;

	s = nftnl_set_alloc();
	got = nftnl_set_alloc();
	if (!s || !got) {
		ret = -ENOMEM;
		goto out;
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, m->table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, m->map);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSET, NFPROTO_IPV4, NLM_F_ACK,
				    seq);
	nftnl_set_nlmsg_build_payload(nlh, s);
	ret = nl_request(m->nl, m->portid, nlh, m->rbuf, sizeof(m->rbuf), set_cb,
			 got);
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
out:
	nftnl_set_free(got);
	nftnl_set_free(s);
	return ret;
}

const char *nftmap_check(const struct nftmap_info *info)
{
	if (!(info->flags & NFT_SET_MAP))
		return "it is a set, not a map";
	if (info->key_type != TYPE_CONCAT_IPADDR_IPADDR || info->key_len != 8)
		return "its key is not ipv4_addr . ipv4_addr";
	if (info->data_type != TYPE_IPADDR || info->data_len != 4)
		return "its value is not ipv4_addr";
	if (!(info->flags & NFT_SET_TIMEOUT))
		return "it lacks flags timeout";
	return NULL;
}

/* Bytes nftmap_build needs for n pins at most. */
static size_t nftmap_build_size(size_t n)
{
	return (n + 2) * ELEM_MSG_SIZE;
}

size_t nftmap_build(void *buf, size_t size, const char *table,
		    const char *map, struct pin *const *pins, size_t n,
		    uint64_t timeout_ms, uint32_t seq)
{
	struct nftnl_set *s;
	struct nftnl_set_elem *e;
	struct nlmsghdr *nlh;
	char *p = buf;
	uint32_t key[2];
	size_t i;

	if (size < nftmap_build_size(n))
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
		key[0] = pins[i]->inner;
		key[1] = pins[i]->gateway;
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, sizeof(key));
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_DATA, &pins[i]->pool,
				   sizeof(pins[i]->pool));
		/*
		 * Re-adding an element with only a timeout leaves its old
		 * expiry; the expiration is what refreshes it.
		 */
		nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT, timeout_ms);
		nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_EXPIRATION, timeout_ms);
		nlh = nftnl_nlmsg_build_hdr(p, NFT_MSG_NEWSETELEM, NFPROTO_IPV4,
					    NLM_F_CREATE |
						    (pins[i]->state == PIN_TRY_CREATE ?
							     NLM_F_EXCL : 0) |
						    (i == n - 1 ? NLM_F_ACK : 0),
					    seq + 1 + i);
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		p += nlh->nlmsg_len;
	}
	nlh = nftnl_batch_end(p, seq + 1 + n);
	p += nlh->nlmsg_len;
	nftnl_set_free(s);
	return p - (char *)buf;
}

struct collect {
	struct pin *const *pins;
	size_t n;
	uint32_t seq;	/* the batch's first message; element i has seq + 1 + i */
	int batch_err;
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
	if (i > c->n || c->pins[i - 1]->err != -EINPROGRESS)
		return 0;
	c->pins[i - 1]->err = -err;
	c->failed |= err != 0;
	/* the last element's answer comes last: the batch is done */
	return i == c->n ? c->n : 0;
}

int nftmap_commit(struct nftmap *m, struct pin *const *pins, size_t n,
		  uint64_t timeout_ms, bool *committed)
{
	struct collect c = { .pins = pins, .n = n, .seq = m->seq };
	size_t i, len;
	int ret;

	*committed = false;
	if (!n)
		return 0;
	ret = nl_reserve(&m->buf, &m->bufsize, nftmap_build_size(n));
	if (ret < 0)
		return ret;
	len = nftmap_build(m->buf, m->bufsize, m->table, m->map, pins, n,
			   timeout_ms, c.seq);
	if (!len)
		return -ENOMEM;
	m->seq += n + 2;
	for (i = 0; i < n; i++)
		pins[i]->err = -EINPROGRESS;
	if (mnl_socket_sendto(m->nl, m->buf, len) < 0)
		return -errno;

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
	if (!ret)
		ret = c.batch_err;
	for (i = 0; i < n; i++)
		if (pins[i]->err == -EINPROGRESS)
			pins[i]->err = ret < 0 ? -ret : 0;
	*committed = ret == 0 && !c.failed;
	return ret;
}

struct dump {
	void (*cb)(const struct nftmap_elem *e, void *data);
	void *data;
};

static uint64_t elem_u64(struct nftnl_set_elem *e, uint16_t attr)
{
	return nftnl_set_elem_is_set(e, attr) ? nftnl_set_elem_get_u64(e, attr) : 0;
}

static int elems_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump *d = data;
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *e;
	struct nftnl_set *s;
	struct nftmap_elem out;
	const uint32_t *key, *val;
	uint32_t klen, vlen;
	int ret = MNL_CB_OK;

	s = nftnl_set_alloc();
	if (!s || nftnl_set_elems_nlmsg_parse(nlh, s) < 0) {
		nftnl_set_free(s);
		return MNL_CB_ERROR;
	}
	it = nftnl_set_elems_iter_create(s);
	while (it && (e = nftnl_set_elems_iter_next(it))) {
		key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &klen);
		val = nftnl_set_elem_get(e, NFTNL_SET_ELEM_DATA, &vlen);
		if (!key || !val || klen != 8 || vlen != 4)
			continue;
		out.inner = key[0];
		out.gateway = key[1];
		out.pool = val[0];
		out.expires_ms = elem_u64(e, NFTNL_SET_ELEM_EXPIRATION);
		out.timeout_ms = elem_u64(e, NFTNL_SET_ELEM_TIMEOUT);
		d->cb(&out, d->data);
	}
	nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(s);
	return ret;
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

struct get {
	struct nftmap_elem *e;
	int *err;
	size_t n;
	uint32_t seq;	/* element i's request has seq + i */
};

static void copy_elem(const struct nftmap_elem *got, void *data)
{
	*(struct nftmap_elem *)data = *got;
}

static size_t take_get(const struct nlmsghdr *nlh, void *data)
{
	struct get *g = data;
	uint32_t i = nlh->nlmsg_seq - g->seq;
	struct dump d = { .cb = copy_elem };

	if (i >= g->n || g->err[i] != -EINPROGRESS)
		return 0;
	if (nlh->nlmsg_type == NLMSG_ERROR) {
		g->err[i] = nl_error(nlh);
		return 1;
	}
	d.data = &g->e[i];
	if (elems_cb(nlh, &d) != MNL_CB_OK)
		g->err[i] = -EBADMSG;	/* its ACK still comes */
	return 0;
}

int nftmap_get(struct nftmap *m, struct nftmap_elem *e, size_t n, int *err)
{
	size_t i, len = 0, each;
	struct get g = { .e = e, .err = err, .n = n, .seq = m->seq };
	struct nftnl_set_elem *el;
	struct nftnl_set *s;
	struct nlmsghdr *nlh;
	uint32_t key[2];
	int ret;

	if (!n)
		return 0;
	each = ELEM_MSG_SIZE + strlen(m->table) + strlen(m->map);
	ret = nl_reserve(&m->buf, &m->bufsize, n * each);
	if (ret < 0)
		return ret;
	s = nftnl_set_alloc();
	el = nftnl_set_elem_alloc();
	if (!s || !el) {
		nftnl_set_free(s);
		nftnl_set_elem_free(el);
		return -ENOMEM;
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, m->table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, m->map);
	nftnl_set_elem_add(s, el);
	/* one GET per element, all in one send: no transaction, no abort */
	for (i = 0; i < n; i++) {
		key[0] = e[i].inner;
		key[1] = e[i].gateway;
		nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, key, sizeof(key));
		nlh = nftnl_nlmsg_build_hdr(m->buf + len, NFT_MSG_GETSETELEM,
					    NFPROTO_IPV4, NLM_F_ACK,
					    g.seq + i);
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		len += nlh->nlmsg_len;
		err[i] = -EINPROGRESS;
	}
	nftnl_set_free(s);
	m->seq += n;
	if (mnl_socket_sendto(m->nl, m->buf, len) < 0)
		ret = -errno;
	else
		ret = nl_collect(m->nl, m->portid, m->rbuf, sizeof(m->rbuf), n,
				 take_get, &g);
	for (i = 0; i < n; i++)
		if (err[i] == -EINPROGRESS)
			err[i] = ret < 0 ? ret : -EIO;
	return ret;
}
