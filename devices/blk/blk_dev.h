/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The virtio-blk device model: image, configuration space, features,
 * requests and state. It implements struct vb_device_ops; transports see
 * only the struct vb_device that blk_dev_vdev() returns.
 */
#ifndef VB_BLK_DEV_H
#define VB_BLK_DEV_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/time_types.h>

#include "core/device.h"
#include "backends/backend.h"
#include "devices/blk/blk_req.h"
#include "devices/blk/blk_state.h"
#include "devices/blk/blk_throttle.h"

/* Statistics, in the order of the state's COUNTERS section. */
enum blk_counter {
	BLK_CNT_READ,
	BLK_CNT_WRITE,
	BLK_CNT_FLUSH,
	BLK_CNT_DISCARD,
	BLK_CNT_WRITE_ZEROES,
	BLK_CNT_GET_ID,
	BLK_CNT_UNSUPP,
	BLK_CNT_READ_BYTES,
	BLK_CNT_WRITE_BYTES,
	BLK_CNT_ERRORS,
	BLK_CNT_MAX
};

struct blk_opts {
	const char *image;
	const char *image_id; /* operator-set identity checked by state loads */
	unsigned int num_queues;
	unsigned int queue_size;
	bool read_only;
	bool direct;
	bool rbd_break_lock; /* --rbd-break-lock */
	uint32_t logical_block_size;
	unsigned int io_delay_ms; /* fault injection: a slow disk */
	struct vb_throttle_limits throttle; /* --throttle-iops/-bps/-burst-ms */
	char serial[BLK_SERIAL_LEN + 1];
};

struct blk_dev {
	struct vb_device vdev;
	struct blk_opts opts;
	struct vb_backend *be;
	struct blk_limits limits;
	char serial[BLK_SERIAL_LEN];
	char image_id[BLK_IMAGE_ID_MAX + 1];
	atomic_uchar wce;
	uint64_t delay_ns; /* --io-delay-ms */
	struct blk_throttle thr;
	uint64_t counter_base[BLK_CNT_MAX]; /* from loaded state */
	/* Each written by its queue's worker only; read by anyone (relaxed). */
	_Atomic uint64_t counters[VB_MAX_QUEUES][BLK_CNT_MAX];
};

extern const struct vb_device_ops blk_dev_ops;

/**
 * blk_dev_open() - open the image and set up the device
 * @out:	the new device
 * @opts:	what the command line asked for
 *
 * Return: 0 or -errno (logged).
 */
int blk_dev_open(struct blk_dev **out, const struct blk_opts *opts);

/**
 * blk_dev_close() - stop the device, flush and close the image, free it
 * @dev:	the device, or NULL
 *
 * Return: 0, or the -errno of flushing what the guest wrote to the disk.
 */
int blk_dev_close(struct blk_dev *dev);

/**
 * blk_dev_vdev() - the generic device a transport drives
 * @dev:	the device
 */
static inline struct vb_device *blk_dev_vdev(struct blk_dev *dev)
{
	return &dev->vdev;
}

/**
 * blk_of() - the block device behind a generic one
 * @d:		a device whose ops are blk_dev_ops
 */
static inline struct blk_dev *blk_of(const struct vb_device *d)
{
	return (struct blk_dev *)((const char *)d - offsetof(struct blk_dev, vdev));
}

/**
 * blk_dev_counters() - totals of all queues, loaded state included
 * @dev:	the device
 * @out:	one total per enum blk_counter
 */
void blk_dev_counters(const struct blk_dev *dev, uint64_t out[BLK_CNT_MAX]);

/**
 * blk_dev_resize() - serve a new capacity (blk_resize.c)
 * @dev:	the device, with its lock held
 * @bytes:	new size, a multiple of the logical block size
 *
 * The back-end makes the disk hold @bytes (vb_backend_resize(): a regular
 * file grows, a block device or network disk is never served beyond its
 * end); shrinking leaves the image as it is. Rings keep running: each
 * request is checked against one size or the other. The caller raises the
 * transport's config-change interrupt.
 * Return: 0, -EINVAL for a bad size, -ENOSPC beyond a block device or a
 * network disk, -EROFS to grow a read-only image, or -errno (logged).
 */
int blk_dev_resize(struct blk_dev *dev, uint64_t bytes);

/* The ops table's entries, by file. blk_config.c: */

/**
 * blk_dev_features() - blk_dev_ops.features: the virtio-blk feature bits
 * @d:		the device
 *
 * RO for a read-only image; CONFIG_WCE only when the transport carries
 * config writes, the only way a driver switches the write cache.
 * Return: the device's virtio bits (transport bits are not included).
 */
uint64_t blk_dev_features(const struct vb_device *d);

/**
 * blk_dev_get_config() - blk_dev_ops.get_config: read struct virtio_blk_config
 * @d:		the device
 * @offset:	first byte
 * @buf:	out: @len bytes; those beyond the structure read 0
 * @len:	bytes
 */
void blk_dev_get_config(const struct vb_device *d, uint32_t offset, uint8_t *buf, uint32_t len);

/**
 * blk_dev_set_config() - blk_dev_ops.set_config: the driver sets writeback
 * @d:		the device
 * @offset:	must be that of the wce byte
 * @buf:	the byte; non-zero is writeback, 0 writethrough
 * @len:	must be 1
 *
 * Return: 0, or -EINVAL for any other field (none is writable).
 */
int blk_dev_set_config(struct vb_device *d, uint32_t offset, const uint8_t *buf, uint32_t len);

/* blk_io.c: */

/**
 * blk_io_handle() - blk_dev_ops.handle: decode one chain, start its I/O
 * @r:		the ring, on its worker
 * @req:	the request, whose chain the ring walked
 *
 * A request that needs no I/O, or that fails to decode, completes at once
 * with its status; one that cannot even carry a header and a status byte
 * fails the ring (vb_ring_fail()). When the submission queue has no room
 * the request completes with VIRTIO_BLK_S_IOERR.
 */
void blk_io_handle(struct vb_ring *r, struct vb_req *req);

/**
 * blk_io_done() - blk_dev_ops.io_done: complete a request from its I/O result
 * @r:		the ring, on its worker
 * @req:	the request
 * @res:	the io_uring result
 *
 * A short read or write is an I/O error; a discard or write-zeroes the
 * image's file system cannot do (-EOPNOTSUPP) is VIRTIO_BLK_S_UNSUPP.
 */
void blk_io_done(struct vb_ring *r, struct vb_req *req, int res);

/**
 * blk_io_cancel() - blk_dev_ops.cancel: cancel a request's I/O for a capture
 * @r:		the ring, on its worker
 * @req:	a request handed over and not completed
 *
 * A request waiting on the throttle or --io-delay-ms is cancelled with its
 * wait; one whose I/O executes in the kernel is not, and completes.
 */
void blk_io_cancel(struct vb_ring *r, struct vb_req *req);

/**
 * blk_io_queue_start() - blk_dev_ops.queue_start: the back-end arms its events
 * @r:		the ring, on its worker
 *
 * Return: 0 or -errno.
 */
int blk_io_queue_start(struct vb_ring *r);

/**
 * blk_io_queue_stop() - blk_dev_ops.queue_stop: the worker's loop ends
 * @r:		the ring, on its worker, with nothing in flight
 */
void blk_io_queue_stop(struct vb_ring *r);

#endif
