// SPDX-License-Identifier: GPL-2.0-or-later
/* Capabilities with capget/capset and prctl: no libcap needed. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <linux/capability.h>

#include "priv.h"

static int caps_get(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};

	return syscall(SYS_capget, &hdr, d) ? -errno : 0;
}

static int caps_set(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};

	return syscall(SYS_capset, &hdr, d) ? -errno : 0;
}

/* Every capability but CAP_NET_ADMIN out of the bounding set. */
static int drop_bounding(void)
{
	int cap;

	/* PR_CAPBSET_READ fails (EINVAL) past the kernel's last capability */
	for (cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
		if (cap != CAP_NET_ADMIN &&
		    prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			return -errno;
	return 0;
}

static bool caps_are(const struct __user_cap_data_struct d[2], uint32_t keep)
{
	return d[0].effective == keep && d[0].permitted == keep &&
	       d[0].inheritable == keep && !d[1].effective &&
	       !d[1].permitted && !d[1].inheritable;
}

int priv_drop(bool *bounding)
{
	const uint32_t keep = CAP_TO_MASK(CAP_NET_ADMIN);
	struct __user_cap_data_struct d[2] = { { 0 } };
	int ret;

	ret = caps_get(d);
	if (ret < 0)
		return ret;
	if (!(d[CAP_TO_INDEX(CAP_NET_ADMIN)].permitted & keep))
		return -EPERM;
	*bounding = d[CAP_TO_INDEX(CAP_SETPCAP)].effective &
		    CAP_TO_MASK(CAP_SETPCAP);
	if (*bounding) {
		ret = drop_bounding();
		if (ret < 0)
			return ret;
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL)
		return -errno;
	if (!caps_are(d, keep)) {
		d[0].effective = d[0].permitted = d[0].inheritable = keep;
		d[1].effective = d[1].permitted = d[1].inheritable = 0;
		ret = caps_set(d);
		if (ret < 0)
			return ret;
	}
	/* ambient needs it permitted and inheritable, as set just above */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_ADMIN, 0, 0) < 0)
		return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return 0;
}

int priv_pass_net_admin(void)
{
	const uint32_t bit = CAP_TO_MASK(CAP_NET_ADMIN);
	struct __user_cap_data_struct d[2] = { { 0 } };
	int ret;

	ret = caps_get(d);
	if (ret < 0)
		return ret;
	if (!(d[CAP_TO_INDEX(CAP_NET_ADMIN)].effective & bit))
		return -EPERM;
	d[CAP_TO_INDEX(CAP_NET_ADMIN)].inheritable |= bit;
	ret = caps_set(d);
	if (ret < 0)
		return ret;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_ADMIN, 0, 0) < 0)
		return -errno;
	return 0;
}
