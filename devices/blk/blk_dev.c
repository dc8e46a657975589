// SPDX-License-Identifier: GPL-2.0-or-later
/* Device object: the image, and the queue-wide operations transports use. */
#include "devices/blk/blk_dev.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>
#include <linux/virtio_config.h>

#include "core/log.h"

static int image_size(int fd, uint64_t *size)
{
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	if (S_ISBLK(st.st_mode))
		return ioctl(fd, BLKGETSIZE64, size) ? -errno : 0;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	*size = (uint64_t)st.st_size;
	return 0;
}

int blk_dev_open(struct blk_dev *dev, const struct blk_opts *opts)
{
	/* No lock: during migration the destination opens the same image. */
	int flags = (opts->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	uint64_t size;
	int ret;

	memset(dev, 0, sizeof(*dev));
	dev->opts = *opts;
	dev->fd = -1;
	if (opts->direct)
		flags |= O_DIRECT;
	dev->fd = open(opts->image, flags);
	if (dev->fd < 0) {
		ret = -errno;
		vb_err("cannot open image %s: %s", opts->image, strerror(-ret));
		return ret;
	}
	ret = image_size(dev->fd, &size);
	if (ret) {
		vb_err("cannot size image %s: %s", opts->image, strerror(-ret));
		goto err_close;
	}
	if (size % opts->logical_block_size)
		vb_warn("image size %llu is not a multiple of the %u-byte block; the tail is unused",
			(unsigned long long)size, opts->logical_block_size);
	memcpy(dev->serial, opts->serial, strnlen(opts->serial, BLK_SERIAL_LEN));
	if (opts->image_id)
		snprintf(dev->image_id, sizeof(dev->image_id), "%s", opts->image_id);
	dev->limits = (struct blk_limits){
		.capacity = size / opts->logical_block_size * (opts->logical_block_size / BLK_SECTOR),
		.lbs_sectors = opts->logical_block_size / BLK_SECTOR,
		.read_only = opts->read_only,
		.serial = dev->serial,
	};
	atomic_store(&dev->wce, 1);
	vb_mem_init(&dev->mem);
	for (unsigned int i = 0; i < BLK_MAX_QUEUES; i++)
		blk_queue_init(&dev->queues[i], dev, i);
	return 0;

err_close:
	close(dev->fd);
	dev->fd = -1;
	return ret;
}

void blk_dev_reset(struct blk_dev *dev)
{
	for (unsigned int i = 0; i < BLK_MAX_QUEUES; i++)
		blk_queue_reset(&dev->queues[i]);
	vb_mem_clear(&dev->mem);
	vb_dirty_log_unmap(&dev->log);
	dev->features = 0;
	dev->driver_status = 0;
	atomic_store(&dev->status, 0);
}

void blk_dev_close(struct blk_dev *dev)
{
	blk_dev_reset(dev);
	if (dev->fd >= 0) {
		/* Nothing is lost on exit: what the guest wrote reaches the disk. */
		fdatasync(dev->fd);
		close(dev->fd);
	}
	dev->fd = -1;
}

uint32_t blk_dev_pause(struct blk_dev *dev)
{
	uint32_t mask = 0;

	for (unsigned int i = 0; i < dev->opts.num_queues; i++) {
		if (!dev->queues[i].started)
			continue;
		blk_queue_stop(&dev->queues[i]);
		mask |= 1u << i;
	}
	return mask;
}

int blk_dev_unpause(struct blk_dev *dev, uint32_t mask)
{
	int ret = 0;

	for (unsigned int i = 0; i < dev->opts.num_queues; i++) {
		int r;

		if (!(mask & (1u << i)))
			continue;
		r = blk_queue_start(&dev->queues[i]);
		if (r && !ret)
			ret = r;
	}
	return ret;
}

void blk_dev_counters(const struct blk_dev *dev, uint64_t out[BLK_CNT_MAX])
{
	for (int c = 0; c < BLK_CNT_MAX; c++) {
		out[c] = dev->counter_base[c];
		for (unsigned int i = 0; i < dev->opts.num_queues; i++)
			out[c] += atomic_load_explicit(&dev->queues[i].counters[c],
						       memory_order_relaxed);
	}
}

bool blk_dev_suspended(const struct blk_dev *dev)
{
	for (unsigned int i = 0; i < BLK_MAX_QUEUES; i++)
		if (dev->queues[i].started)
			return false;
	return true;
}

void blk_dev_needs_reset(struct blk_dev *dev)
{
	atomic_fetch_or(&dev->status, VIRTIO_CONFIG_S_NEEDS_RESET);
}
