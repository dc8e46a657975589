/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The virtio-blk device's own state sections (docs/state-format.md):
 * what a destination needs to continue exactly where the source stopped.
 */
#ifndef VB_BLK_STATE_H
#define VB_BLK_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "state/state.h"

#define BLK_STATE_DEVICE_TYPE 2 /* virtio device id of a block device */

enum blk_state_section {
	BLK_SEC_DEVICE = 1, /* mandatory */
	BLK_SEC_DISK = 2, /* mandatory */
	BLK_SEC_QUEUE = 3, /* mandatory, one per queue */
	BLK_SEC_COUNTERS = 4, /* optional */
};

#define BLK_IMAGE_ID_MAX 256

struct vb_device;

/* The state entries of blk_dev_ops (struct vb_device_ops says what each does). */
int blk_state_save(struct vb_device *d, struct state_writer *w);
void *blk_state_load_new(struct vb_device *d);
void blk_state_load_free(void *load);
int blk_state_on_section(void *load, uint16_t type, uint16_t flags, const uint8_t *payload,
			 uint32_t len);
int blk_state_load_check(const void *load);
uint64_t blk_state_load_features(const void *load);
void blk_state_apply(struct vb_device *d, const void *load);

#endif
