// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ctfill: fills the conntrack table through ctnetlink, many NEW messages per
 * send, for the rebuild's figures. COUNT UDP entries: every EVERY-th one an
 * answered IKE flow (100.96.0.0 + i -> GATEWAY:500, source-NATed to one of
 * POOLS addresses from 198.51.100.1), the others plain flows from
 * 100.112.0.0/12 and GATEWAY:53 without NAT. Prints how many the kernel
 * refused. Usage: ctfill COUNT EVERY GATEWAY POOLS
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netfilter/nf_conntrack_common.h>

#define SEND_BYTES (256 * 1024)

static void put_tuple(struct nlmsghdr *nlh, int type, in_addr_t src,
		      in_addr_t dst, uint16_t sport, uint16_t dport)
{
	struct nlattr *t = mnl_attr_nest_start(nlh, type), *n;

	n = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	mnl_attr_put_u32(nlh, CTA_IP_V4_SRC, src);
	mnl_attr_put_u32(nlh, CTA_IP_V4_DST, dst);
	mnl_attr_nest_end(nlh, n);
	n = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, IPPROTO_UDP);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(sport));
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(dport));
	mnl_attr_nest_end(nlh, n);
	mnl_attr_nest_end(nlh, t);
}

static size_t put_entry(char *buf, unsigned long i, unsigned long every,
			in_addr_t gw, unsigned pools, uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;
	struct nlattr *nat;
	in_addr_t src, pool;
	uint16_t sport;
	bool ike = every && i % every == 0;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	nfg->version = NFNETLINK_V0;
	if (ike) {
		src = htonl(ntohl(inet_addr("100.96.0.0")) + i / every);
		pool = htonl(ntohl(inet_addr("198.51.100.1")) + i / every % pools);
		/* the reply as if not NATed: the NAT set-up mends it */
		/* a port of its own: the NAT keeps it (below 1024 it would
		 * pick one of the 511 privileged ones) */
		sport = 1024 + i / every % 64000;
		put_tuple(nlh, CTA_TUPLE_ORIG, src, gw, sport, 500);
		put_tuple(nlh, CTA_TUPLE_REPLY, gw, src, 500, sport);
		nat = mnl_attr_nest_start(nlh, CTA_NAT_SRC);
		mnl_attr_put_u32(nlh, CTA_NAT_V4_MINIP, pool);
		mnl_attr_put_u32(nlh, CTA_NAT_V4_MAXIP, pool);
		mnl_attr_nest_end(nlh, nat);
		/* as libnetfilter_conntrack: a created entry is confirmed */
		mnl_attr_put_u32(nlh, CTA_STATUS,
				 htonl(IPS_SEEN_REPLY | IPS_CONFIRMED));
	} else {
		src = htonl(ntohl(inet_addr("100.112.0.0")) + i / 60000);
		put_tuple(nlh, CTA_TUPLE_ORIG, src, gw, 1024 + i % 60000, 53);
		put_tuple(nlh, CTA_TUPLE_REPLY, gw, src, 53, 1024 + i % 60000);
	}
	mnl_attr_put_u32(nlh, CTA_TIMEOUT, htonl(600));
	return nlh->nlmsg_len;
}

/* Reads what the kernel sent back (errors only: no ACKs asked for). */
static unsigned long drain(struct mnl_socket *nl, char *buf, size_t size)
{
	static bool told;
	unsigned long errors = 0;
	struct nlmsghdr *nlh;
	int n, err;

	while ((n = recv(mnl_socket_get_fd(nl), buf, size, MSG_DONTWAIT)) > 0)
		for (nlh = (void *)buf; mnl_nlmsg_ok(nlh, n);
		     nlh = mnl_nlmsg_next(nlh, &n)) {
			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			err = ((struct nlmsgerr *)mnl_nlmsg_get_payload(nlh))->error;
			if (!err)
				continue;
			if (!told)
				fprintf(stderr, "ctfill: first refusal: %s\n",
					strerror(-err));
			told = true;
			errors++;
		}
	return errors;
}

int main(int argc, char **argv)
{
	static char buf[SEND_BYTES + 4096], rbuf[1 << 16];
	unsigned long count, every, i, errors = 0;
	int size = 32 << 20, fd;
	struct mnl_socket *nl;
	struct timespec a, b;
	size_t len = 0;
	unsigned pools;
	in_addr_t gw;

	if (argc != 5 || (gw = inet_addr(argv[3])) == INADDR_NONE) {
		fprintf(stderr, "usage: ctfill COUNT EVERY GATEWAY POOLS\n");
		return 2;
	}
	count = strtoul(argv[1], NULL, 10);
	every = strtoul(argv[2], NULL, 10);
	pools = atoi(argv[4]) ?: 1;
	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("ctfill: netlink");
		return 1;
	}
	fd = mnl_socket_get_fd(nl);
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < count; i++) {
		len += put_entry(buf + len, i, every, gw, pools, i);
		if (len > SEND_BYTES || i + 1 == count) {
			if (mnl_socket_sendto(nl, buf, len) < 0) {
				perror("ctfill: send");
				return 1;
			}
			len = 0;
			errors += drain(nl, rbuf, sizeof(rbuf));
		}
		memset(buf + len, 0, 512);
	}
	errors += drain(nl, rbuf, sizeof(rbuf));
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("ctfill: %lu entries sent, %lu refused, in %.2f s\n", count,
	       errors, (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
	mnl_socket_close(nl);
	return 0;
}
