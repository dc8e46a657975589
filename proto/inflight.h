/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The in-flight region's layout, as vhost-user.rst "Inflight I/O tracking"
 * defines it for split rings (QueueRegionSplit / DescStateSplit). Shared by
 * the back-end, which records into it, and the front-end, which hands it over.
 */
#ifndef VB_PROTO_INFLIGHT_H
#define VB_PROTO_INFLIGHT_H

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

/**
 * vb_inflight_queue_size() - bytes one queue's region takes
 * @queue_size:	ring size
 *
 * Return: the size, rounded up to 64 bytes as QEMU lays queues out.
 */
static inline uint64_t vb_inflight_queue_size(uint16_t queue_size)
{
	uint64_t n = sizeof(struct vb_inflight_queue) +
		     (uint64_t)queue_size * sizeof(struct vb_inflight_desc);

	return (n + 63) & ~63ull;
}

#endif
