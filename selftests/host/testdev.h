/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A checksum device for the host tests: proof that a transport drives any
 * struct vb_device_ops. Each request is one chain: the device reads every
 * readable byte and writes their CRC32C (state_crc32c(0, ...)) as le32 into
 * the first four writable bytes. Its config space is read-only: a le32
 * magic and a le32 queue count.
 */
#ifndef VB_TESTDEV_H
#define VB_TESTDEV_H

#include <stdint.h>

#define TESTDEV_ID 0xfff0 /* no virtio device has this id */
#define TESTDEV_MAGIC 0x7e57c5a1u
#define TESTDEV_SUM_LEN 4 /* bytes the device writes per request */

/* Configuration space layout, little-endian. */
#define TESTDEV_CFG_MAGIC 0
#define TESTDEV_CFG_QUEUES 4
#define TESTDEV_CFG_SIZE 8

/* State sections (docs/state-format.md framing). */
#define TESTDEV_SEC_DEVICE 1 /* le64 features, u8 status, le32 queues */
#define TESTDEV_SEC_DEVICE_LEN 13

struct vb_device;

/**
 * testdev_new() - a checksum device, rings stopped
 * @num_queues:	queues offered, 1 to VB_MAX_QUEUES
 * @queue_size:	largest ring accepted, up to VB_VQ_MAX_SIZE
 *
 * Return: the device, or NULL when out of memory or a size is out of range.
 */
struct vb_device *testdev_new(unsigned int num_queues, unsigned int queue_size);

/**
 * testdev_free() - stop the device and free it
 * @d:		a device from testdev_new(), or NULL
 */
void testdev_free(struct vb_device *d);

#endif
