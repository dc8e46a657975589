/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Split virtqueue, device side: pop heads from the avail ring, walk
 * descriptor chains into host iovecs, publish used entries, decide on
 * notifications (EVENT_IDX aware). Everything the guest wrote is hostile.
 * Pure memory operations: no fds, no threads, so it can be fuzzed directly.
 */
#ifndef VB_VIRTQ_H
#define VB_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include <linux/virtio_ring.h>

#include "core/dirty_log.h"
#include "core/inflight.h"
#include "core/mem.h"

#define VB_VQ_MAX_SIZE 1024
#define VB_MAX_SEGS 256 /* descriptors per request, headers included */
/* A descriptor spanning adjacent regions takes one iovec per region. */
#define VB_MAX_IOV (VB_MAX_SEGS + VB_MEM_MAX_REGIONS)

struct vb_vq {
	uint16_t num;
	uint16_t max_chain; /* descriptors per request, indirect ones included */
	bool event_idx;
	bool indirect;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint64_t used_gpa; /* for the dirty log; UINT64_MAX when not logged */
	uint16_t last_avail_idx;
	uint16_t used_idx;
	uint16_t signalled_used;
	bool signalled_used_valid;
	bool quiet; /* kicks are suppressed (vb_vq_quiet()) and not re-armed yet */
	const struct vb_mem *mem;
	const struct vb_dirty_log *log; /* NULL unless VHOST_F_LOG_ALL */
	struct vb_inflight_queue *inflight; /* NULL without INFLIGHT_SHMFD */
	uint64_t inflight_counter;
};

struct vb_vq_addrs {
	uint64_t desc_uva;
	uint64_t avail_uva;
	uint64_t used_uva;
	uint64_t log_gpa;
	bool log_used;
};

/* A walked descriptor chain: readable iovecs first, then writable ones. */
struct vb_chain {
	uint16_t head;
	uint16_t niov;
	uint16_t nout; /* readable iovecs: iov[0, nout) */
	struct iovec iov[VB_MAX_IOV];
	uint64_t gpa[VB_MAX_IOV]; /* guest address of each iovec, for the dirty log */
};

/**
 * vb_vq_map() - resolve the ring addresses through the memory table
 * @vq:		the virtqueue; its position is left as it is
 * @mem:	the memory table, kept for walking chains
 * @num:	ring size
 * @addrs:	front-end virtual addresses of the three parts, and where the
 *		used ring is logged
 *
 * Raises max_chain to @num when it is lower.
 * Return: 0, -EINVAL for a size that is not a power of two up to
 * VB_VQ_MAX_SIZE or a ring part that lands misaligned in this process (a
 * region whose address and file offset disagree in alignment), -EFAULT for
 * a ring outside guest memory.
 */
int vb_vq_map(struct vb_vq *vq, const struct vb_mem *mem, uint16_t num,
	      const struct vb_vq_addrs *addrs);

/**
 * vb_vq_pop() - take the next available head
 * @vq:		the virtqueue
 * @head:	out: the head
 *
 * A head taken is marked in flight in the shared region (vb_vq_track()).
 * Return: 1 with *head set, 0 when the ring is empty, -EBADMSG when the
 * guest published an impossible index or head.
 */
int vb_vq_pop(struct vb_vq *vq, uint16_t *head);

/**
 * vb_vq_track() - mark a head in flight in the shared region
 * @vq:		the virtqueue
 * @head:	the head
 *
 * vb_vq_pop() does it for new heads; a ring calls it for heads it
 * resubmits. Each head gets the next submission counter, so a later
 * back-end resubmits in order. Nothing without a region.
 */
void vb_vq_track(struct vb_vq *vq, uint16_t head);

/**
 * vb_vq_walk() - translate the chain that starts at head
 * @vq:		the virtqueue
 * @head:	a head from vb_vq_pop()
 * @chain:	out: readable iovecs first, then writable ones
 *
 * Descriptors are copied before use: the guest may change them meanwhile.
 * Return: 0, or -EBADMSG for a loop, a chain longer than allowed, a bad
 * indirect table, a readable descriptor after a writable one, an address
 * outside guest memory or a wrapping length.
 */
int vb_vq_walk(const struct vb_vq *vq, uint16_t head, struct vb_chain *chain);

/**
 * vb_vq_push() - publish one used entry
 * @vq:		the virtqueue
 * @head:	the finished head
 * @len:	bytes the device wrote into the chain
 *
 * While used-ring logging is on, the used entry and index it writes are
 * marked dirty; the @len bytes of payload are not (vb_vq_log_write()).
 * The head leaves the in-flight region after the used index is published.
 */
void vb_vq_push(struct vb_vq *vq, uint16_t head, uint32_t len);

/**
 * vb_vq_should_notify() - whether the driver wants an interrupt now
 * @vq:		the virtqueue
 *
 * For what was pushed since the last call: with EVENT_IDX the call
 * records what it answered for, so call it once per notification decision.
 * Return: true to signal the driver.
 */
bool vb_vq_should_notify(struct vb_vq *vq);

/**
 * vb_vq_quiet() - ask the driver not to kick: the device is looking anyway
 * @vq:		the virtqueue
 *
 * Without EVENT_IDX, sets VRING_USED_F_NO_NOTIFY; with it, leaves
 * avail_event behind, which asks for no kick. Only a hint to the driver:
 * a kick may still come. vb_vq_arm() undoes it.
 */
void vb_vq_quiet(struct vb_vq *vq);

/**
 * vb_vq_arm() - ask for a kick at the next avail entry
 * @vq:		the virtqueue
 *
 * With EVENT_IDX, publishes avail_event; without, clears the
 * VRING_USED_F_NO_NOTIFY that vb_vq_quiet() set. Call before sleeping on
 * the kick fd.
 * Return: true when entries arrived meanwhile and must be processed now.
 */
bool vb_vq_arm(struct vb_vq *vq);

/**
 * vb_vq_log_write() - log a guest write that did not go through vb_vq_push()
 * @vq:		the virtqueue
 * @gpa:	first guest byte written (request payloads, status bytes)
 * @len:	bytes
 *
 * Nothing unless the transport logs (VHOST_F_LOG_ALL).
 */
void vb_vq_log_write(const struct vb_vq *vq, uint64_t gpa, uint64_t len);

#endif
