// SPDX-License-Identifier: GPL-2.0-or-later
/* The ruleset's loader as the daemon's child: fork, capability, pidfd, reap. */
#define _GNU_SOURCE
#include <errno.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/capability.h>

#include "loader.h"
#include "log.h"

/* The daemon keeps only CAP_NET_ADMIN; the loader (nft, iptables) needs it. */
static void pass_net_admin(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &hdr, d))
		return;
	if (!(d[CAP_TO_INDEX(CAP_NET_ADMIN)].effective &
	      CAP_TO_MASK(CAP_NET_ADMIN)))
		return;
	d[CAP_TO_INDEX(CAP_NET_ADMIN)].inheritable |=
		CAP_TO_MASK(CAP_NET_ADMIN);
	if (syscall(SYS_capset, &hdr, d) == 0)
		prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_ADMIN, 0,
		      0);
}

int loader_usable(const char *path, const char *file)
{
	if (access(path, X_OK) || access(file, R_OK))
		return -errno;
	return 0;
}

int loader_start(struct loader *l, int epfd, const char *path,
		 const char *file)
{
	struct epoll_event ev = { .events = EPOLLIN };
	pid_t pid;
	int fd, ret;

	ret = loader_usable(path, file);
	if (ret < 0)
		return ret;
	log_flush();
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		pass_net_admin();
		dup2(STDERR_FILENO, STDOUT_FILENO);
		close_range(3, ~0U, 0);
		execl(path, path, file, (char *)NULL);
		_exit(127);
	}
	l->pid = pid;
	l->epfd = epfd;
	fd = syscall(SYS_pidfd_open, pid, 0);
	ev.data.fd = fd;
	if (fd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev)) {
		/* no pidfd (before Linux 5.3): wait here, it is short */
		if (fd >= 0)
			close(fd);
		l->pidfd = -1;
		return 0;
	}
	l->pidfd = fd;
	return 0;
}

bool loader_running(const struct loader *l)
{
	return l->pid != 0;
}

int loader_reap(struct loader *l, bool wait, int *status)
{
	pid_t pid;
	int err;

	pid = waitpid(l->pid, status, wait || l->pidfd < 0 ? 0 : WNOHANG);
	if (pid == 0 || (pid < 0 && errno == EINTR))
		return 0;
	err = errno;
	if (l->pidfd >= 0) {
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, l->pidfd, NULL);
		close(l->pidfd);
		l->pidfd = -1;
	}
	l->pid = 0;
	return pid < 0 ? -err : 1;
}
