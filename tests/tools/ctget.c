// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ctget: asks ctnetlink for the UDP entry with the given reply tuple, as the
 * daemon does, and prints the kernel's answer as a C array (for the unit
 * tests' data). Usage: ctget SRC SPORT DST DPORT [ZONE]
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>

#include <libmnl/libmnl.h>

#include "ct.h"

int main(int argc, char **argv)
{
	static char buf[65536];
	struct ct_tuple t = { .proto = IPPROTO_UDP };
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	int n, i;

	if ((argc != 5 && argc != 6) || inet_pton(AF_INET, argv[1], &t.src) != 1 ||
	    inet_pton(AF_INET, argv[3], &t.dst) != 1) {
		fprintf(stderr, "usage: ctget SRC SPORT DST DPORT [ZONE]\n");
		return 2;
	}
	t.sport = atoi(argv[2]);
	t.dport = atoi(argv[4]);
	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("netlink");
		return 1;
	}
	nlh = ct_build_get(buf, &t, argc == 6 ? atoi(argv[5]) : 0, 1);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		perror("send");
		return 1;
	}
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0) {
		perror("recv");
		return 1;
	}
	nlh = (struct nlmsghdr *)buf;
	if (nlh->nlmsg_type == NLMSG_ERROR) {
		fprintf(stderr, "ctget: no such entry\n");
		return 1;
	}
	for (i = 0; i < (int)nlh->nlmsg_len; i++)
		printf("0x%02x,%s", (unsigned char)buf[i],
		       (i + 1) % 12 ? " " : "\n");
	printf("\n");
	mnl_socket_close(nl);
	return 0;
}
