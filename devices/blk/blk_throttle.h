/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A token bucket per device, shared by its queues: requests per second and
 * bytes per second, each with a burst. A request takes its tokens when it
 * arrives, into debt if need be; the debt is how long its I/O waits (a
 * timeout linked in front of it on the ring's io_uring), so a waiting
 * request costs nothing and a capture can cancel it.
 */
#ifndef VB_BLK_THROTTLE_H
#define VB_BLK_THROTTLE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "core/device.h"

struct blk_throttle {
	pthread_mutex_t lock;
	uint64_t iops;
	uint64_t bps;
	uint64_t burst_ns;
	/* Credit in nanoseconds of each rate: up to burst_ns, below 0 is debt. */
	int64_t iops_credit;
	int64_t bps_credit;
	uint64_t last_ns;
	_Atomic uint64_t throttled;
	_Atomic uint64_t throttled_ns;
};

/**
 * blk_throttle_init() - a throttle with no limits
 * @t:		the throttle
 */
void blk_throttle_init(struct blk_throttle *t);

/**
 * blk_throttle_fini() - free the throttle's lock
 * @t:		the throttle
 */
void blk_throttle_fini(struct blk_throttle *t);

/**
 * blk_throttle_set() - new limits, applying from now on
 * @t:		the throttle
 * @l:		requests and bytes per second (0: unlimited), burst in ms
 *
 * Return: 0, or -EINVAL for a burst over a minute.
 */
int blk_throttle_set(struct blk_throttle *t, const struct vb_throttle_limits *l);

/**
 * blk_throttle_get() - the limits and what they cost so far
 * @t:		the throttle
 * @l:		out
 */
void blk_throttle_get(struct blk_throttle *t, struct vb_throttle_limits *l);

/**
 * blk_throttle_take() - take the tokens of one request
 * @t:		the throttle
 * @bytes:	the bytes it moves (0 for a flush)
 *
 * Return: how long the request must wait, in nanoseconds (0: go now).
 */
uint64_t blk_throttle_take(struct blk_throttle *t, uint64_t bytes);

#endif
