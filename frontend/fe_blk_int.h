/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Inside the virtio-blk test driver: what fe_blk.c (bring-up, vhost-user)
 * and fe_blk_vdpa.c (vhost-vdpa) share; fe_blk_req.c (requests) needs
 * none of it. Not for users of fe_blk.h.
 */
#ifndef VB_FE_BLK_INT_H
#define VB_FE_BLK_INT_H

#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "frontend/fe_blk.h"

/* Device features the driver understands, whatever the transport. */
#define FE_BLK_FEATURES                                                            \
	(1ull << VIRTIO_BLK_F_SIZE_MAX | 1ull << VIRTIO_BLK_F_SEG_MAX |           \
	 1ull << VIRTIO_BLK_F_GEOMETRY | 1ull << VIRTIO_BLK_F_RO |                \
	 1ull << VIRTIO_BLK_F_BLK_SIZE | 1ull << VIRTIO_BLK_F_FLUSH |             \
	 1ull << VIRTIO_BLK_F_TOPOLOGY | 1ull << VIRTIO_BLK_F_CONFIG_WCE |        \
	 1ull << VIRTIO_BLK_F_MQ | 1ull << VIRTIO_BLK_F_DISCARD |                 \
	 1ull << VIRTIO_BLK_F_WRITE_ZEROES | 1ull << VIRTIO_RING_F_INDIRECT_DESC | \
	 1ull << VIRTIO_F_VERSION_1)

/*
 * What differs between transports once a device is up; bring-up itself is
 * per transport (fe_blk_open(), fe_blk_open_vdpa(), ...).
 */
struct fe_blk_ops {
	int (*suspend)(struct fe_blk *blk);	/* fills blk->bases */
	int (*resume)(struct fe_blk *blk);	/* restarts from blk->bases */
	void (*detach)(struct fe_blk *blk);	/* drops the connection or device */
};

extern const struct fe_blk_ops fe_blk_vdpa_ops;

/**
 * fe_blk_init() - a driver that holds nothing yet
 * @blk:	zeroed here, every fd -1
 * @opts:	kept in blk->opts; may be NULL
 * @ops:	the transport
 */
void fe_blk_init(struct fe_blk *blk, const struct fe_blk_opts *opts,
		 const struct fe_blk_ops *ops);

/**
 * fe_blk_fini_queues() - free every queue the driver set up
 * @blk:	the driver; blk->num_queues is 0 afterwards
 */
void fe_blk_fini_queues(struct fe_blk *blk);

/**
 * fe_blk_opt_queues() - the number of queues, defaults applied
 * @opts:	the options
 *
 * Return: opts->num_queues, or 1 when 0.
 */
static inline unsigned int fe_blk_opt_queues(const struct fe_blk_opts *opts)
{
	return opts->num_queues ? opts->num_queues : 1;
}

/**
 * fe_blk_opt_qsize() - the ring size, defaults applied
 * @opts:	the options
 *
 * Return: opts->queue_size, or 128 when 0.
 */
static inline unsigned int fe_blk_opt_qsize(const struct fe_blk_opts *opts)
{
	return opts->queue_size ? opts->queue_size : 128;
}

/**
 * fe_blk_opt_mem() - the guest memory size, defaults applied
 * @opts:	the options
 *
 * Return: opts->mem_size, or 16 MiB when 0.
 */
static inline uint64_t fe_blk_opt_mem(const struct fe_blk_opts *opts)
{
	return opts->mem_size ? opts->mem_size : 16 << 20;
}

#endif
