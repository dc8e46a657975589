/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The virtio-blk device: image, configuration space, features and queues.
 * Transports drive it through these calls and never touch the queues'
 * workers directly.
 */
#ifndef VB_BLK_DEV_H
#define VB_BLK_DEV_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/blk/blk_queue.h"
#include "devices/blk/blk_state.h"
#include "core/dirty_log.h"
#include "core/mem.h"

#define BLK_MAX_QUEUES 16

struct blk_opts {
	const char *image;
	const char *image_id; /* operator-set identity checked by state loads */
	unsigned int num_queues;
	unsigned int queue_size;
	bool read_only;
	bool direct;
	uint32_t logical_block_size;
	unsigned int io_delay_ms; /* fault injection: a slow disk */
	char serial[BLK_SERIAL_LEN + 1];
};

struct blk_dev {
	struct blk_opts opts;
	int fd;
	struct blk_limits limits;
	char serial[BLK_SERIAL_LEN];

	char image_id[BLK_IMAGE_ID_MAX + 1];
	uint64_t features; /* negotiated */
	uint8_t driver_status; /* as the driver last set it */
	atomic_uchar wce;
	atomic_uchar status; /* device-raised bits: NEEDS_RESET */
	uint64_t counter_base[BLK_CNT_MAX]; /* from stopped queues and loaded state */
	struct vb_mem mem;
	struct vb_dirty_log log;
	/*
	 * Interrupts of a transport without call eventfds (VDUSE): called
	 * from the queue's worker for a queue that has no call fd.
	 */
	void (*notify)(void *opaque, unsigned int queue);
	void *notify_opaque;
	struct blk_queue queues[BLK_MAX_QUEUES];
};

int blk_dev_open(struct blk_dev *dev, const struct blk_opts *opts);
void blk_dev_close(struct blk_dev *dev);

/* Device features the transport may offer (virtio bits only). */
uint64_t blk_dev_features(const struct blk_dev *dev);

/* Fill len bytes of the configuration space from offset; beyond it reads as 0. */
void blk_dev_get_config(const struct blk_dev *dev, uint32_t offset, uint8_t *buf, uint32_t len);
/* Only the writeback byte is writable. Return: 0 or -EINVAL. */
int blk_dev_set_config(struct blk_dev *dev, uint32_t offset, const uint8_t *buf, uint32_t len);

/*
 * Stop every started queue (completing their requests) and return the set
 * that ran, so a reconfiguration can restart exactly those.
 */
uint32_t blk_dev_pause(struct blk_dev *dev);
int blk_dev_unpause(struct blk_dev *dev, uint32_t mask);

/* Stop all queues, forget memory, log, features and status. */
void blk_dev_reset(struct blk_dev *dev);

/* Totals of all queues since the device first served, loaded state included. */
void blk_dev_counters(const struct blk_dev *dev, uint64_t out[BLK_CNT_MAX]);

/* Whether no queue is started: the device writes nothing and can be saved. */
bool blk_dev_suspended(const struct blk_dev *dev);

/* The device hit a guest error it cannot continue from on some queue. */
void blk_dev_needs_reset(struct blk_dev *dev);

#endif
