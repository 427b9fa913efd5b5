// SPDX-License-Identifier: GPL-2.0-or-later
/* Netlink socket set-up shared by queue, ct and nftmap. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <linux/netlink.h>

#include "netlink.h"

void nl_set_buffers(struct mnl_socket *nl, int bytes)
{
	int fd = mnl_socket_get_fd(nl);

	/* FORCE needs CAP_NET_ADMIN, which we have; else the sysctl cap */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof(bytes)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes));
}

int nl_open(int bus, struct mnl_socket **nlp, uint32_t *portid)
{
	struct timeval tv = {
		.tv_sec = NL_TIMEOUT_MS / 1000,
		.tv_usec = NL_TIMEOUT_MS % 1000 * 1000,
	};
	struct mnl_socket *nl;
	int one = 1, ret;

	nl = mnl_socket_open(bus);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto err_close;
	/* errors then name the offending attribute, and stay short */
	mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
	if (setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv,
		       sizeof(tv)))
		goto err_close;
	nl_set_buffers(nl, NL_BUFFER_BYTES);
	*portid = mnl_socket_get_portid(nl);
	*nlp = nl;
	return 0;

err_close:
	ret = -errno;
	mnl_socket_close(nl);
	return ret;
}

int nl_error(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(e->error)))
		return -EBADMSG;
	return e->error;
}

int nl_reserve(char **buf, size_t *size, size_t need)
{
	char *p;

	if (need <= *size)
		return 0;
	p = realloc(*buf, need);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*size = need;
	return 0;
}

/* Answers are small: the receive buffer is cut into slots for recvmmsg. */
#define NL_SLOT 4096

int nl_collect(struct mnl_socket *nl, uint32_t portid, char *rbuf,
	       size_t rsize, size_t n,
	       size_t (*take)(const struct nlmsghdr *nlh, void *data),
	       void *data)
{
	struct mmsghdr mm[NL_RECV_SIZE / NL_SLOT];
	struct iovec iov[NL_RECV_SIZE / NL_SLOT];
	size_t slots = rsize / NL_SLOT, answered = 0;
	const struct nlmsghdr *nlh;
	int got, i, len;

	if (slots > NL_RECV_SIZE / NL_SLOT)
		slots = NL_RECV_SIZE / NL_SLOT;
	while (answered < n) {
		memset(mm, 0, sizeof(mm));
		for (i = 0; i < (int)slots; i++) {
			iov[i].iov_base = rbuf + i * NL_SLOT;
			iov[i].iov_len = NL_SLOT;
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
		}
		/* one syscall for all the answers already queued */
		got = recvmmsg(mnl_socket_get_fd(nl), mm, slots, MSG_WAITFORONE,
			       NULL);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (i = 0; i < got; i++) {
			if (mm[i].msg_hdr.msg_flags & MSG_TRUNC)
				return -EMSGSIZE;
			len = mm[i].msg_len;
			nlh = iov[i].iov_base;
			for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len))
				if (nlh->nlmsg_pid == portid)
					answered += take(nlh, data);
		}
	}
	return 0;
}

int nl_request(struct mnl_socket *nl, uint32_t portid, struct nlmsghdr *req,
	       char *rbuf, size_t rsize, mnl_cb_t cb, void *data)
{
	uint32_t seq = req->nlmsg_seq;
	int n;

	if (mnl_socket_sendto(nl, req, req->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(nl, rbuf, rsize);
		if (n < 0)
			return -errno;
		n = mnl_cb_run(rbuf, n, seq, portid, cb, data);
	} while (n > 0);
	return n < 0 ? -errno : 0;
}
