// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * softwire: one end of a DS-Lite softwire (RFC 6333: IPv4 in IPv6, next
 * header 4, no extension header) for kernels without ip6tnl. The IPv4 side
 * is a TUN interface NAME, the IPv6 side a raw socket bound to LOCAL and
 * connected to REMOTE, so it gets only REMOTE's packets: on the wire the
 * same as `ip -6 tunnel add NAME mode ipip6 local LOCAL remote REMOTE
 * encaplimit none'. Prints "ready" once both sides are open.
 * Usage: softwire NAME LOCAL REMOTE
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int open_tun(const char *name)
{
	struct ifreq ifr = { .ifr_flags = IFF_TUN | IFF_NO_PI };
	int fd = open("/dev/net/tun", O_RDWR);

	if (fd < 0)
		return -1;
	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int open_raw(const char *local, const char *remote)
{
	struct sockaddr_in6 l = { .sin6_family = AF_INET6 };
	struct sockaddr_in6 r = { .sin6_family = AF_INET6 };
	int fd;

	if (inet_pton(AF_INET6, local, &l.sin6_addr) != 1 ||
	    inet_pton(AF_INET6, remote, &r.sin6_addr) != 1) {
		errno = EINVAL;
		return -1;
	}
	fd = socket(AF_INET6, SOCK_RAW, IPPROTO_IPIP);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&l, sizeof(l)) < 0 ||
	    connect(fd, (struct sockaddr *)&r, sizeof(r)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	struct pollfd pfd[2];
	unsigned char buf[65536];
	ssize_t n;

	if (argc != 4 || strlen(argv[1]) >= IFNAMSIZ) {
		fprintf(stderr, "usage: softwire NAME LOCAL REMOTE\n");
		return 2;
	}
	pfd[0].fd = open_tun(argv[1]);
	if (pfd[0].fd < 0) {
		fprintf(stderr, "softwire: tun %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	pfd[1].fd = open_raw(argv[2], argv[3]);
	if (pfd[1].fd < 0) {
		fprintf(stderr, "softwire: %s -> %s: %s\n", argv[2], argv[3],
			strerror(errno));
		return 1;
	}
	pfd[0].events = pfd[1].events = POLLIN;
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		/* IPv4 from the TUN: the kernel puts the IPv6 header on */
		if (pfd[0].revents & POLLIN) {
			n = read(pfd[0].fd, buf, sizeof(buf));
			if (n > 0)
				send(pfd[1].fd, buf, n, 0);
		}
		/* an IPv6 raw socket reads the payload only: the IPv4 packet */
		if (pfd[1].revents & POLLIN) {
			n = recv(pfd[1].fd, buf, sizeof(buf), 0);
			if (n > 0 && (buf[0] >> 4) == 4)
				n = write(pfd[0].fd, buf, n);
		}
	}
}
