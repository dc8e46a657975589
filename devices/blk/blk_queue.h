/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One virtqueue of the block device: its ring settings, and while started,
 * a worker thread with its own io_uring that pops, submits and completes
 * requests in batches. Settings change only while the queue is stopped;
 * the worker owns the ring while it runs.
 */
#ifndef VB_BLK_QUEUE_H
#define VB_BLK_QUEUE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <liburing.h>

#include "devices/blk/blk_req.h"
#include "core/virtq.h"

struct blk_dev;

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

struct blk_queue {
	struct blk_dev *dev;
	unsigned int index;

	/* Settings from the transport. */
	uint16_t num;
	bool addr_set;
	struct vb_vq_addrs addrs;
	int kick_fd;
	int call_fd;
	int err_fd;
	struct vb_inflight_queue *inflight_region;
	uint16_t inflight_capacity; /* ring size the region was made for */

	/* Ring position: kept across stop/start. */
	struct vb_vq vq;
	/* Heads a loaded state says are in flight: submitted first at start. */
	uint16_t carried[VB_VQ_MAX_SIZE];
	uint16_t ncarried;
	/* Start at the used index: nothing else says where a dead back-end got to. */
	bool avail_from_used;

	bool started;
	atomic_bool enabled;
	atomic_bool stopping;
	atomic_bool broken;
	pthread_t thread;
	int wake_fd;

	/* Worker-owned while started. */
	struct io_uring ring;
	struct blk_req *reqs; /* indexed by head */
	unsigned int io_pending;
	uint16_t notified_used;
	struct __kernel_timespec delay;
	uint64_t kick_buf;
	uint64_t wake_buf;
	uint16_t *resubmit;
	int nresubmit;

	/* Written by the worker only; read by anyone (relaxed). */
	_Atomic uint64_t counters[BLK_CNT_MAX];
};

void blk_queue_init(struct blk_queue *q, struct blk_dev *dev, unsigned int index);
/* Stop if started, close fds: back to the state after init. */
void blk_queue_reset(struct blk_queue *q);

/* Whether the transport gave everything a start needs. */
bool blk_queue_ready(const struct blk_queue *q);

/**
 * blk_queue_start() - map the ring, recover in-flight requests, run the worker
 * Return: 0 or -errno (the queue stays stopped).
 */
int blk_queue_start(struct blk_queue *q);

/**
 * blk_queue_recover() - where a stopped ring stands, without starting it
 * For a ring a dead back-end had stopped (suspended for a migration): maps
 * it, takes the position from the in-flight region (or the used ring) and
 * keeps the heads still in flight as carried, so a state save or
 * GET_VRING_BASE sees what a start would. Return: 0 or -errno.
 */
int blk_queue_recover(struct blk_queue *q);

/* Finish in-flight requests, join the worker. Returns the next avail index. */
uint16_t blk_queue_stop(struct blk_queue *q);

void blk_queue_set_enabled(struct blk_queue *q, bool on);

#endif
