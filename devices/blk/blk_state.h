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

/**
 * blk_state_save() - blk_dev_ops.save: serialise a suspended device
 * @d:		the device, every ring stopped
 * @w:		an empty writer
 *
 * Writes the header, the DEVICE, DISK and one QUEUE section per queue, the
 * optional COUNTERS section, and the trailer.
 * Return: 0, or the error state_write_trailer() reports.
 */
int blk_state_save(struct vb_device *d, struct state_writer *w);

/**
 * blk_state_load_new() - blk_dev_ops.load_new: an empty staging area
 * @d:		the device the state is for: sections are vetted against it
 *
 * Return: the staging area, or NULL (out of memory).
 */
void *blk_state_load_new(struct vb_device *d);

/**
 * blk_state_load_free() - blk_dev_ops.load_free: free a staging area
 * @load:	what blk_state_load_new() returned, or NULL
 */
void blk_state_load_free(void *load);

/**
 * blk_state_on_section() - blk_dev_ops.load_section: decode and vet a section
 * @load:	the staging area
 * @type:	an enum blk_state_section
 * @flags:	the section's flags (unused: unknown types say no)
 * @payload:	@len bytes from the source (hostile)
 * @len:	bytes
 *
 * Only stages what it decodes; nothing reaches the device before
 * blk_state_apply(). A source whose queues, block size or read-only flag
 * differ from this device's is refused as STATE_E_CONTENT.
 * Return: 0, -ENOENT for an unknown type, STATE_E_CAPACITY or
 * STATE_E_IDENTITY for another disk, or STATE_E_CONTENT for a malformed or
 * repeated section.
 */
int blk_state_on_section(void *load, uint16_t type, uint16_t flags, const uint8_t *payload,
			 uint32_t len);

/**
 * blk_state_load_check() - blk_dev_ops.load_check: every mandatory section came
 * @load:	the staging area, after a verified trailer
 *
 * Return: STATE_OK, or STATE_E_MISSING when the DEVICE or DISK section or
 * a queue's section is missing.
 */
int blk_state_load_check(const void *load);

/**
 * blk_state_load_features() - blk_dev_ops.load_features
 * @load:	a checked staging area
 *
 * Return: the feature bits the source had negotiated, for the transport
 * to vet against what it offers.
 */
uint64_t blk_state_load_features(const void *load);

/**
 * blk_state_apply() - blk_dev_ops.apply: continue where the source stopped
 * @d:		the device, suspended
 * @load:	a staging area blk_state_load_check() passed
 *
 * Sets features, driver status, write cache and every ring's position;
 * with a COUNTERS section, the statistics continue the source's.
 */
void blk_state_apply(struct vb_device *d, const void *load);

#endif
