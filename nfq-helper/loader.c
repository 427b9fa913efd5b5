// SPDX-License-Identifier: GPL-2.0-or-later
/* The ruleset's loader as the daemon's child: fork, capability, pidfd, reap. */
#define _GNU_SOURCE
#include <errno.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "loader.h"
#include "log.h"
#include "priv.h"

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
		/* the daemon keeps only CAP_NET_ADMIN; the loader needs it */
		priv_pass_net_admin();
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
