// SPDX-License-Identifier: GPL-2.0-or-later
/* vblkd: what each transport lends the management socket. */
#include "vblkd_mgmt.h"

static int vu_config_changed(void *opaque)
{
	return vu_server_config_changed(opaque);
}

static bool vu_connected(void *opaque)
{
	return vu_server_fe_connected(opaque);
}

int vblkd_mgmt_start_vu(const char *path, struct blk_dev *blk, struct vu_server *vu,
			struct mgmt_server **out)
{
	const struct mgmt_ops ops = {
		.transport = "vhost-user",
		.opaque = vu,
		.config_changed = vu_config_changed,
		.connected = vu_connected,
	};

	*out = NULL;
	return path ? mgmt_server_start(blk, path, &ops, out) : 0;
}

int vblkd_mgmt_start_vduse(const char *path, struct blk_dev *blk, struct vduse_dev *v,
			   struct mgmt_server **out)
{
	const struct mgmt_ops ops = {
		.transport = "vduse",
		.opaque = v,
		.ring_stop = vduse_dev_ring_stop,
		.ring_start = vduse_dev_ring_start,
		.config_changed = vduse_dev_config_changed,
	};

	*out = NULL;
	return path ? mgmt_server_start(blk, path, &ops, out) : 0;
}
