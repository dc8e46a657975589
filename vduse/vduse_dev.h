/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * VDUSE transport: any device (core/device.h) as a kernel virtio device.
 * vblkd creates (or re-attaches to) /dev/vduse/NAME, answers the kernel's
 * requests on a thread of its own, maps IOVAs through VDUSE_IOTLB_GET_FD
 * and raises interrupts with VDUSE_VQ_INJECT_IRQ. Adding the device to the
 * vdpa bus (netlink) is the caller's step, after vduse_dev_serve().
 */
#ifndef VB_VDUSE_DEV_H
#define VB_VDUSE_DEV_H

#include <stdbool.h>
#include <stdint.h>

#include "core/ring.h"

struct vb_device;
struct vduse_dev;

struct vduse_dev_opts {
	const char *name;
	const char *state_dir; /* NULL: no in-flight file, no recovery after a crash */
};

/**
 * vduse_dev_create() - create /dev/vduse/NAME, or re-attach to it
 * @dev:	the device to carry
 * @o:		name and state directory
 * @out:	the transport's handle
 *
 * Negotiates the API version and VDUSE features, creates the device with
 * the device's type, features and configuration, sets up its queues and
 * opens it. A device that already exists (a previous vblkd died) is
 * re-attached: its rings are rebuilt from VQ_GET_INFO and the in-flight file.
 * Return: 0 or -errno (logged).
 */
int vduse_dev_create(struct vb_device *dev, const struct vduse_dev_opts *o,
		     struct vduse_dev **out);

/**
 * vduse_dev_serve() - start the message thread
 * @v:		the handle
 *
 * Return: 0 or -errno (logged).
 */
int vduse_dev_serve(struct vduse_dev *v);

/**
 * vduse_dev_destroy() - stop the thread, quiesce the device, free the handle
 * @v:		the handle, or NULL
 * @remove:	destroy the device in the kernel, and its in-flight file
 *
 * Without @remove the device stays in the kernel for a later vblkd to
 * re-attach to. When the kernel refuses to destroy it, the in-flight file
 * stays too (logged).
 */
void vduse_dev_destroy(struct vduse_dev *v, bool remove);

/**
 * vduse_dev_extra_features() - virtio bits the transport adds to the device's
 * @opaque:	the handle
 *
 * Return: VERSION_1 and ACCESS_PLATFORM (the IOVAs are the kernel's).
 */
uint64_t vduse_dev_extra_features(void *opaque);

/**
 * vduse_dev_ring_stop() - the compatibility endpoint's GET_VRING_BASE
 * @opaque:	the handle
 * @index:	a queue index the caller checked
 * @mode:	drain what is in flight, or capture it (carried in the state)
 * @base:	out: where the ring stopped
 *
 * The ring stays stopped (held) until vduse_dev_ring_start() or a reset,
 * also across a restart of vblkd when the in-flight file records it.
 * Return: 0.
 */
int vduse_dev_ring_stop(void *opaque, unsigned int index, enum vb_suspend_mode mode,
			uint16_t *base);

/**
 * vduse_dev_ring_start() - the compatibility endpoint's SET_VRING_ENABLE 1
 * @opaque:	the handle
 * @index:	a queue index the caller checked
 *
 * Only a ring vduse_dev_ring_stop() holds is released. It starts at once
 * when the driver is ready and the device is not suspended; during an
 * IOTLB update, when the new mappings are in; before DRIVER_OK, when the
 * driver gets there.
 * Return: 0 (also for a ring not held) or the start error.
 */
int vduse_dev_ring_start(void *opaque, unsigned int index);

/**
 * vduse_dev_config_changed() - the config space changed (an online resize)
 * @opaque:	the handle
 *
 * Copies the device's config space into the kernel (VDUSE_DEV_SET_CONFIG)
 * and raises a config interrupt (VDUSE_DEV_INJECT_CONFIG_IRQ).
 * Return: 0 or -errno (logged).
 */
int vduse_dev_config_changed(void *opaque);

#endif
