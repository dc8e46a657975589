/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A block device on a temporary image, and a ring of it set up in memfd
 * guest memory, for unit tests that drive core/ and a transport without
 * a daemon.
 */
#ifndef VB_UNIT_DEV_H
#define VB_UNIT_DEV_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/virtio_ring.h>

#include "devices/blk/blk_dev.h"

#define UNIT_RING_GPA 0x10000ull /* desc, then avail +0x1000, used +0x2000 */

/**
 * unit_blk_open() - a block device of @nq queues of 64 on a 1 MiB temp image
 * @image:	out: the image path (64 bytes), to unlink afterwards
 * @nq:		queues
 * @blk:	out: the device
 *
 * Return: 0 or -errno.
 */
static inline int unit_blk_open(char image[64], unsigned int nq, struct blk_dev **blk)
{
	struct blk_opts o = { .num_queues = nq, .queue_size = 64, .logical_block_size = 512 };
	int fd, ret;

	snprintf(image, 64, "/tmp/vblkd-unit-XXXXXX");
	fd = mkstemp(image);
	if (fd < 0)
		return -errno;
	ret = ftruncate(fd, 1 << 20) ? -errno : 0;
	close(fd);
	if (ret)
		return ret;
	o.image = image;
	return blk_dev_open(blk, &o);
}

/**
 * unit_ring_setup() - ring @index of 64 in fresh memfd memory, with a kick fd
 * @dev:	the device; its memory map must not hold UNIT_RING_GPA yet
 * @index:	the ring
 * @base:	where the driver stands: avail and used index, and the ring's base
 *
 * The ring is enabled and ready, not started. Return: 0 or -errno.
 */
static inline int unit_ring_setup(struct vb_device *dev, unsigned int index, uint16_t base)
{
	struct vb_vq_addrs addrs = { .desc_uva = UNIT_RING_GPA,
				     .avail_uva = UNIT_RING_GPA + 0x1000,
				     .used_uva = UNIT_RING_GPA + 0x2000 };
	struct vb_ring *r = &dev->rings[index];
	int mfd = memfd_create("vblkd-unit", MFD_CLOEXEC);
	int kick, ret;
	uint8_t *host;

	if (mfd < 0)
		return -errno;
	if (ftruncate(mfd, 0x10000)) {
		close(mfd);
		return -errno;
	}
	ret = vb_mem_add_take_fd(&dev->mem, UNIT_RING_GPA, 0x10000, UNIT_RING_GPA, 0, mfd);
	if (ret)
		return ret;
	host = dev->mem.regions[dev->mem.nregions - 1].host;
	((struct vring_avail *)(host + 0x1000))->idx = base;
	((struct vring_used *)(host + 0x2000))->idx = base;
	kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (kick < 0)
		return -errno;
	ret = vb_ring_set_num(r, 64) ?: vb_ring_set_addrs(r, &addrs) ?: vb_ring_set_base(r, base);
	if (ret) {
		close(kick);
		return ret;
	}
	ret = vb_ring_set_fd_take(r, VB_RING_KICK, kick);
	if (!ret)
		vb_ring_enable(r, true);
	return ret;
}

#endif
