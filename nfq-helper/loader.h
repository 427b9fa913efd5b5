/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The ruleset's loader (natt-pin-load) as the daemon's child: started with
 * the daemon's CAP_NET_ADMIN passed on, its end seen through a pidfd in the
 * caller's epoll set, reaped. Functions return 0 or -errno.
 */
#ifndef NFQH_LOADER_H
#define NFQH_LOADER_H

#include <stdbool.h>
#include <sys/types.h>

struct loader {
	pid_t pid;	/* running, or 0 */
	int pidfd;	/* in epfd while it runs, or -1 */
	int epfd;
};

/* Whether path can be run and file read: 0 or -errno. */
int loader_usable(const char *path, const char *file);

/* Runs `path file`, stdout to stderr; its end makes epfd readable. */
int loader_start(struct loader *l, int epfd, const char *path,
		 const char *file);

bool loader_running(const struct loader *l);

/*
 * Whether it ended: 0 not yet, 1 with its wait status in *status, or
 * -errno from waitpid(). Waits for the end if wait is set, or if there is
 * no pidfd to tell of it (before Linux 5.3): the loader is short.
 */
int loader_reap(struct loader *l, bool wait, int *status);

#endif
