/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Netlink socket set-up shared by the I/O modules. Returns 0 or -errno. */
#ifndef NFQH_NETLINK_H
#define NFQH_NETLINK_H

#include <stddef.h>
#include <stdint.h>

#include <libmnl/libmnl.h>

/* One request or small answer; one receive of many answers. */
#define NL_MSG_SIZE 8192
#define NL_RECV_SIZE 65536
/* Room for the answers to the largest batch the daemon sends. */
#define NL_BUFFER_BYTES (8 << 20)
/* Request/answer sockets wait this long for the kernel, then give up. */
#define NL_TIMEOUT_MS 2000

/* Opens and binds a blocking request/answer socket on the given bus. */
int nl_open(int bus, struct mnl_socket **nl, uint32_t *portid);

/* Asks for socket buffers of the given size, beyond rmem_max when allowed. */
void nl_set_buffers(struct mnl_socket *nl, int bytes);

/* The errno an NLMSG_ERROR message carries (0 for an ACK), negative. */
int nl_error(const struct nlmsghdr *nlh);

/*
 * Sends one request (a GET, or a dump) and hands every answer to cb until
 * the kernel's final ACK or NLMSG_DONE; rbuf receives. 0 or -errno.
 */
int nl_request(struct mnl_socket *nl, uint32_t portid, struct nlmsghdr *req,
	       char *rbuf, size_t rsize, mnl_cb_t cb, void *data);

/* Grows *buf (*size bytes) to hold at least need bytes. */
int nl_reserve(char **buf, size_t *size, size_t need);

/*
 * Receives answers into rbuf until take() has counted n of them, handing it
 * each message addressed to portid. -EAGAIN when the socket's timeout passed
 * first (answers lost), else 0 or -errno.
 */
int nl_collect(struct mnl_socket *nl, uint32_t portid, char *rbuf,
	       size_t rsize, size_t n,
	       size_t (*take)(const struct nlmsghdr *nlh, void *data),
	       void *data);

#endif
