/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vblkd: the management socket wired to the transport that carries the device. */
#ifndef VB_VBLKD_MGMT_H
#define VB_VBLKD_MGMT_H

#include "devices/blk/blk_dev.h"
#include "mgmt/mgmt.h"
#include "vduse/vduse_dev.h"
#include "vhost-user-compat/vu_server.h"

/**
 * vblkd_mgmt_start_vu() - serve --mgmt-socket for a vhost-user device
 * @path:	the socket, or NULL for none (then *@out is NULL)
 * @blk:	the device
 * @vu:		its vhost-user server (config changes, front-end presence)
 * @out:	the management server
 *
 * Return: 0 or -errno (logged).
 */
int vblkd_mgmt_start_vu(const char *path, struct blk_dev *blk, struct vu_server *vu,
			struct mgmt_server **out);

/**
 * vblkd_mgmt_start_vduse() - serve --mgmt-socket for a VDUSE device
 * @path:	the socket, or NULL for none (then *@out is NULL)
 * @blk:	the device
 * @v:		its VDUSE handle (ring control, config interrupt)
 * @out:	the management server
 *
 * Return: 0 or -errno (logged).
 */
int vblkd_mgmt_start_vduse(const char *path, struct blk_dev *blk, struct vduse_dev *v,
			   struct mgmt_server **out);

#endif
