// SPDX-License-Identifier: GPL-2.0-or-later
/* Device object: the image, the ops table, and the counters. */
#include "devices/blk/blk_dev.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>

#include "core/log.h"

static int blk_set_throttle(struct vb_device *d, const struct vb_throttle_limits *l)
{
	return blk_throttle_set(&blk_of(d)->thr, l);
}

static void blk_get_throttle(const struct vb_device *d, struct vb_throttle_limits *l)
{
	blk_throttle_get(&blk_of(d)->thr, l);
}

const struct vb_device_ops blk_dev_ops = {
	.type = VIRTIO_ID_BLOCK,
	.req_size = sizeof(struct blk_req),
	.config_size = sizeof(struct virtio_blk_config),
	.features = blk_dev_features,
	.get_config = blk_dev_get_config,
	.set_config = blk_dev_set_config,
	.handle = blk_io_handle,
	.io_done = blk_io_done,
	.cancel = blk_io_cancel,
	.queue_start = blk_io_queue_start,
	.queue_stop = blk_io_queue_stop,
	.set_throttle = blk_set_throttle,
	.get_throttle = blk_get_throttle,
	.save = blk_state_save,
	.load_new = blk_state_load_new,
	.load_free = blk_state_load_free,
	.load_section = blk_state_on_section,
	.load_check = blk_state_load_check,
	.load_features = blk_state_load_features,
	.apply = blk_state_apply,
};

int blk_dev_open(struct blk_dev **out, const struct blk_opts *opts)
{
	struct vb_backend_opts bo = {
		.read_only = opts->read_only,
		.direct = opts->direct,
		.rbd_break_lock = opts->rbd_break_lock,
		.num_queues = opts->num_queues,
	};
	struct blk_dev *dev;
	uint64_t size;
	int ret;

	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	ret = vb_dev_init(&dev->vdev, &blk_dev_ops, opts->num_queues, opts->queue_size);
	if (ret) {
		vb_err("%u queue(s) of %u entries cannot be served", opts->num_queues,
		       opts->queue_size);
		goto err_free;
	}
	dev->opts = *opts;
	ret = vb_backend_open(&dev->be, opts->image, &bo);
	if (ret)
		goto err_fini;
	size = dev->be->size;
	dev->opts.read_only = dev->be->read_only;
	if (size % opts->logical_block_size)
		vb_warn("image size %llu is not a multiple of the %u-byte block; the tail is unused",
			(unsigned long long)size, opts->logical_block_size);
	memcpy(dev->serial, opts->serial, strnlen(opts->serial, BLK_SERIAL_LEN));
	/* A network disk is known by its name: a state load refuses another. */
	snprintf(dev->image_id, sizeof(dev->image_id), "%s",
		 opts->image_id ? opts->image_id : dev->be->id);
	dev->limits = (struct blk_limits){
		.capacity =
			size / opts->logical_block_size * (opts->logical_block_size / BLK_SECTOR),
		.lbs_sectors = opts->logical_block_size / BLK_SECTOR,
		.read_only = dev->opts.read_only,
		.serial = dev->serial,
	};
	dev->delay_ns = (uint64_t)opts->io_delay_ms * 1000000ull;
	blk_throttle_init(&dev->thr);
	ret = blk_throttle_set(&dev->thr, &opts->throttle);
	if (ret) {
		vb_err("throttle burst of %llu ms is more than a minute",
		       (unsigned long long)opts->throttle.burst_ms);
		blk_throttle_fini(&dev->thr);
		goto err_close;
	}
	atomic_store(&dev->wce, 1);
	*out = dev;
	return 0;

err_close:
	vb_backend_close(dev->be);
err_fini:
	vb_dev_fini(&dev->vdev);
err_free:
	free(dev);
	return ret;
}

int blk_dev_close(struct blk_dev *dev)
{
	int ret = 0;

	if (!dev)
		return 0;
	vb_dev_fini(&dev->vdev);
	blk_throttle_fini(&dev->thr);
	/* Nothing is lost on exit: what the guest wrote reaches the disk. */
	ret = vb_backend_close(dev->be);
	free(dev);
	return ret;
}

void blk_dev_counters(const struct blk_dev *dev, uint64_t out[BLK_CNT_MAX])
{
	for (int c = 0; c < BLK_CNT_MAX; c++) {
		out[c] = dev->counter_base[c];
		for (unsigned int i = 0; i < VB_MAX_QUEUES; i++)
			out[c] += atomic_load_explicit(&dev->counters[i][c], memory_order_relaxed);
	}
}
