/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Kernel ABI newer than the build host's uapi headers (bookworm ships 6.1):
 * the VDUSE API version 1 additions of 7.x kernels and vhost-vdpa's
 * suspend/resume. Each value is the kernel's, defined only when the
 * installed headers lack it; what a running kernel offers is detected at
 * run time (VDUSE_GET_API_VERSION, VDUSE_GET_FEATURES, backend features).
 */
#ifndef VB_VDUSE_ABI_H
#define VB_VDUSE_ABI_H

#include <linux/types.h>
#include <linux/vduse.h>
#include <linux/vhost.h>
#include <linux/vhost_types.h>

#ifndef VDUSE_API_VERSION_1
#define VDUSE_API_VERSION_1 1
#endif

/* Feature bits of VDUSE_GET_FEATURES / VDUSE_SET_FEATURES (API version 1). */
#ifndef VDUSE_F_QUEUE_READY
#define VDUSE_F_QUEUE_READY 0
#endif
#ifndef VDUSE_F_SUSPEND
#define VDUSE_F_SUSPEND 1
#endif

#ifndef VDUSE_GET_FEATURES
#define VDUSE_GET_FEATURES _IOR(VDUSE_BASE, 0x04, __u64)
#endif
#ifndef VDUSE_SET_FEATURES
#define VDUSE_SET_FEATURES _IOW(VDUSE_BASE, 0x05, __u64)
#endif

/*
 * Request types after VDUSE_UPDATE_IOTLB (2), in the kernel's enum order;
 * plain numbers because the 6.1 header's enum stops at 2.
 */
#define VB_VDUSE_SET_VQ_GROUP_ASID 3
#define VB_VDUSE_SET_VQ_READY 4
#define VB_VDUSE_SUSPEND 5

/* Payload of VB_VDUSE_SET_VQ_READY, at the start of the request union. */
struct vb_vduse_vq_ready {
	__u32 num;
	__u32 ready;
};

/*
 * API version 1 splits vduse_dev_config.reserved: ngroups and nas take the
 * first two words (0 is not accepted by every kernel, so set 1 and 1).
 */
#define VB_VDUSE_CONFIG_NGROUPS 0
#define VB_VDUSE_CONFIG_NAS 1

#ifndef VHOST_BACKEND_F_SUSPEND
#define VHOST_BACKEND_F_SUSPEND 0x4
#endif
#ifndef VHOST_BACKEND_F_RESUME
#define VHOST_BACKEND_F_RESUME 0x5
#endif
#ifndef VHOST_BACKEND_F_ENABLE_AFTER_DRIVER_OK
#define VHOST_BACKEND_F_ENABLE_AFTER_DRIVER_OK 0x6
#endif
#ifndef VHOST_VDPA_SUSPEND
#define VHOST_VDPA_SUSPEND _IO(VHOST_VIRTIO, 0x7D)
#endif
#ifndef VHOST_VDPA_RESUME
#define VHOST_VDPA_RESUME _IO(VHOST_VIRTIO, 0x7E)
#endif

#endif
