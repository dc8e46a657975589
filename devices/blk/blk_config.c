// SPDX-License-Identifier: GPL-2.0-or-later
/* virtio-blk feature bits and configuration space. */
#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "devices/blk/blk_dev.h"

/*
 * A request may hold as many descriptors as the largest ring (as QEMU's
 * seg-max-adjust does), and no more than a chain can carry; header and
 * status take two.
 */
static uint32_t seg_max(const struct blk_dev *dev)
{
	uint32_t n = dev->opts.queue_size < VB_MAX_SEGS ? dev->opts.queue_size : VB_MAX_SEGS;

	return n > 2 ? n - 2 : 1;
}

uint64_t blk_dev_features(const struct vb_device *d)
{
	const struct blk_dev *dev = blk_of(d);
	uint64_t f = 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_RING_F_INDIRECT_DESC |
		     1ull << VIRTIO_RING_F_EVENT_IDX | 1ull << VIRTIO_BLK_F_SEG_MAX |
		     1ull << VIRTIO_BLK_F_SIZE_MAX | 1ull << VIRTIO_BLK_F_BLK_SIZE |
		     1ull << VIRTIO_BLK_F_TOPOLOGY | 1ull << VIRTIO_BLK_F_FLUSH |
		     1ull << VIRTIO_BLK_F_CONFIG_WCE | 1ull << VIRTIO_BLK_F_MQ;

	/* What the storage back-end can do. */
	if (dev->be->can_discard)
		f |= 1ull << VIRTIO_BLK_F_DISCARD;
	if (dev->be->can_write_zeroes)
		f |= 1ull << VIRTIO_BLK_F_WRITE_ZEROES;
	if (dev->opts.read_only)
		f |= 1ull << VIRTIO_BLK_F_RO;
	/* Writeback can be switched only through a writable config space. */
	if (d->config_readonly)
		f &= ~(1ull << VIRTIO_BLK_F_CONFIG_WCE);
	return f;
}

static void build_config(const struct blk_dev *dev, struct virtio_blk_config *cfg)
{
	uint32_t lbs = dev->opts.logical_block_size;
	uint32_t lbs_sectors = lbs / 512;

	memset(cfg, 0, sizeof(*cfg));
	cfg->capacity = htole64(dev->limits.capacity);
	cfg->size_max = htole32(1u << 20);
	cfg->seg_max = htole32(seg_max(dev));
	cfg->blk_size = htole32(lbs);
	cfg->physical_block_exp = 0;
	cfg->min_io_size = htole16(1);
	cfg->opt_io_size = htole32(0);
	cfg->wce = atomic_load(&dev->wce);
	cfg->num_queues = htole16((uint16_t)dev->opts.num_queues);
	cfg->max_discard_sectors = htole32(BLK_MAX_DISCARD_SECTORS);
	cfg->max_discard_seg = htole32(1);
	cfg->discard_sector_alignment = htole32(lbs_sectors);
	cfg->max_write_zeroes_sectors = htole32(BLK_MAX_DISCARD_SECTORS);
	cfg->max_write_zeroes_seg = htole32(1);
	cfg->write_zeroes_may_unmap = 1;
}

void blk_dev_get_config(const struct vb_device *d, uint32_t offset, uint8_t *buf, uint32_t len)
{
	struct virtio_blk_config cfg;

	build_config(blk_of(d), &cfg);
	memset(buf, 0, len);
	if (offset >= sizeof(cfg))
		return;
	memcpy(buf, (uint8_t *)&cfg + offset,
	       len < sizeof(cfg) - offset ? len : sizeof(cfg) - offset);
}

int blk_dev_set_config(struct vb_device *d, uint32_t offset, const uint8_t *buf, uint32_t len)
{
	struct blk_dev *dev = blk_of(d);

	if (offset != offsetof(struct virtio_blk_config, wce) || len != 1)
		return -EINVAL;
	atomic_store(&dev->wce, buf[0] ? 1 : 0);
	return 0;
}
