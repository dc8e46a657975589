/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * In-flight request tracking in shared memory, with the split-ring layout of
 * vhost-user.rst "Inflight I/O tracking" (QueueRegionSplit / DescStateSplit).
 * The region outlives the back-end process, so a restarted back-end can
 * resubmit what the previous one had taken from the ring but not completed.
 */
#ifndef VB_INFLIGHT_H
#define VB_INFLIGHT_H

#include <stdint.h>

struct vb_inflight_desc {
	uint8_t inflight;
	uint8_t padding[5];
	uint16_t next;
	uint64_t counter;
};

struct vb_inflight_queue {
	uint64_t features;
	uint16_t version;
	uint16_t desc_num;
	uint16_t last_batch_head;
	uint16_t used_idx;
	struct vb_inflight_desc desc[];
};

#define VB_INFLIGHT_VERSION 1

/* Bytes one queue's region takes for a given ring size (64-byte aligned). */
uint64_t vb_inflight_queue_size(uint16_t queue_size);

/**
 * vb_inflight_recover() - make a region consistent with the used ring
 * @q:		the queue's region (hostile memory: validated here)
 * @num:	ring size
 * @used_idx:	used->idx as the guest sees it now
 * @heads:	out: in-flight heads sorted by submission order (>= num entries)
 * @counter:	out: next counter value to use
 *
 * A fresh (zeroed) region is initialised. Return: number of heads, or
 * -EINVAL when the region belongs to a ring of another size.
 */
int vb_inflight_recover(struct vb_inflight_queue *q, uint16_t num, uint16_t used_idx,
			uint16_t *heads, uint64_t *counter);

#endif
