// SPDX-License-Identifier: GPL-2.0-or-later
/* The transaction the map writer sends, built and parsed back. */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>

#include <libmnl/libmnl.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>

#include "check.h"
#include "nftmap.h"
#include "pin.h"

static void test_batch(void)
{
	static char buf[8192];
	struct pin pins[2];
	struct pin *pp[2] = { &pins[0], &pins[1] };
	const struct nlmsghdr *nlh;
	int len, i = 0;

	pin_init(&pins[0], inet_addr("100.64.1.1"), inet_addr("203.0.113.2"),
		 inet_addr("198.51.100.1"));
	pin_init(&pins[1], inet_addr("100.64.1.2"), inet_addr("203.0.113.9"),
		 inet_addr("198.51.100.4"));
	pins[1].state = PIN_TRY_REFRESH;

	CHECK(nftmap_build(buf, 100, "natt_pin", "pins", pp, 2, 60000, 7) == 0);
	len = nftmap_build(buf, sizeof(buf), "natt_pin", "pins", pp, 2, 60000,
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
		CHECK(nlh->nlmsg_flags & NLM_F_CREATE);
		/* exclusive only while the pin is not known to exist */
		CHECK(!!(nlh->nlmsg_flags & NLM_F_EXCL) == (i == 1));

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
			CHECK(klen == 8 && key[0] == pins[i - 1].inner &&
			      key[1] == pins[i - 1].gateway);
			CHECK(dlen == 4 && data[0] == pins[i - 1].pool);
			CHECK(nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_TIMEOUT) ==
			      60000);
			/* the expiration is what refreshes a live element */
			CHECK(nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_EXPIRATION));
			CHECK(nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_EXPIRATION) ==
			      60000);
			CHECK(nftnl_set_elems_iter_next(it) == NULL);
		}
		nftnl_set_elems_iter_destroy(it);
		nftnl_set_free(s);
	}
	CHECK(i == 4);
}

static void test_check(void)
{
	struct nftmap_info good = {
		.flags = NFT_SET_MAP | NFT_SET_TIMEOUT,
		.key_type = 7 << 6 | 7, .key_len = 8,
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
	bad = good;
	bad.data_type = 13;	/* inet_service */
	bad.data_len = 2;
	CHECK(strstr(nftmap_check(&bad), "value"));
}

int main(void)
{
	RUN(test_batch);
	RUN(test_check);
	return CHECK_DONE();
}
