// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Capabilities after set-up. vhost-user needs none: the sockets listen, the
 * image is open, and what comes later arrives as fds. VDUSE needs only
 * CAP_NET_ADMIN, for the vdpa netlink DEV_DEL on exit; re-attaching to a
 * device a previous vblkd left happens at set-up, and the VDUSE fds it
 * uses later (the device, the control fd for VDUSE_DESTROY_DEV) stay open.
 */
#include "vblkd_sandbox.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/log.h"

int vblkd_caps_drop(bool vduse)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = { 0 };
	uint64_t keep = vduse ? 1ull << CAP_NET_ADMIN : 0;
	uint64_t permitted;
	int ret;

	if (syscall(SYS_capget, &hdr, data))
		goto err;
	permitted = data[0].permitted | (uint64_t)data[1].permitted << 32;
	keep &= permitted;
	/* The bounding set, so no execve can bring a capability back. */
	if (permitted & (1ull << CAP_SETPCAP)) {
		for (int cap = 0; cap < 64 && prctl(PR_CAPBSET_READ, cap) >= 0; cap++)
			if (!(keep & (1ull << cap)) && prctl(PR_CAPBSET_DROP, cap))
				goto err;
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL)
		goto err;
	memset(data, 0, sizeof(data));
	data[0].permitted = data[0].effective = (uint32_t)keep;
	data[1].permitted = data[1].effective = (uint32_t)(keep >> 32);
	if (syscall(SYS_capset, &hdr, data))
		goto err;
	vb_info("capabilities: %s", keep ? "kept CAP_NET_ADMIN only" : "none kept");
	return 0;

err:
	ret = -errno;
	vb_err("capabilities: cannot drop them: %s", strerror(-ret));
	return ret;
}
