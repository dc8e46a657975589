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

struct blk_dev;

/* Serialise a suspended device. Return: 0 or -ENOMEM. */
int blk_state_save(struct blk_dev *dev, struct state_writer *w);

/* Decoded state, held aside until the trailer verifies. */
struct blk_state_load;

struct blk_state_load *blk_state_load_new(struct blk_dev *dev);
void blk_state_load_free(struct blk_state_load *l);
/* state_section_fn for state_reader_init(). */
int blk_state_on_section(void *opaque, uint16_t type, uint16_t flags, const uint8_t *payload,
			 uint32_t len);
/* After a verified trailer: STATE_OK or STATE_E_MISSING / STATE_E_CONTENT. */
int blk_state_load_check(const struct blk_state_load *l);
/* Feature bits the state claims were negotiated (the transport vets them). */
uint64_t blk_state_load_features(const struct blk_state_load *l);
/* Apply to a suspended device; cannot fail once checked. */
void blk_state_apply(struct blk_dev *dev, const struct blk_state_load *l);

#endif
