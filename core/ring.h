/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One ring lifecycle for every device and transport (DESIGN.md "Three
 * seams"). A ring has two independent bits, started and enabled
 * (vhost-user.rst "Ring states"). While started, a worker thread with its
 * own io_uring owns the ring: it pops heads, walks their chains, hands each
 * to the device (struct vb_device_ops), pushes used entries and notifies.
 *
 * Settings change only while the ring is stopped. The setters a transport
 * may send while the ring runs (addresses, call and err fds) pause the ring
 * around the change themselves, so no transport stops rings by hand. The
 * ring's lock orders lifecycle calls from different threads (the main loop,
 * the VDUSE message thread); the worker never takes it.
 */
#ifndef VB_RING_H
#define VB_RING_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <liburing.h>

#include "core/ring_stats.h"
#include "core/virtq.h"

struct vb_device;

/*
 * The head of every device request: a device's request type embeds it as
 * its first member, and the ring keeps one request per ring slot.
 */
struct vb_req {
	struct vb_chain chain;
	bool busy; /* handed to the device and not completed yet */
	uint64_t seq; /* when it was handed over: a capture keeps this order */
	uint64_t start_ns; /* when it was handed over: its latency */
};

/*
 * How a ring stops with requests in flight. Drain waits for each to
 * complete; capture cancels what has not reached the disk yet, waits only
 * for I/O already executing, and keeps the rest as carried heads, never
 * completed by this process (docs/inflight-migration.md).
 */
enum vb_suspend_mode { VB_SUSPEND_DRAIN, VB_SUSPEND_CAPTURE };

/* How long a capture waits for I/O already executing before it says so. */
#define VB_CAPTURE_WARN_MS 500

/* Which notification fd a transport hands over. */
enum vb_ring_fd { VB_RING_KICK, VB_RING_CALL, VB_RING_ERR };

/*
 * Where a stopped ring stands, as a device-state section carries it: the
 * heads still owed to the driver travel as "carried" and are submitted
 * first when the ring starts again.
 */
struct vb_ring_position {
	uint16_t num;
	bool enabled;
	uint16_t last_avail;
	uint16_t used;
	uint16_t ncarried;
	uint16_t carried[VB_VQ_MAX_SIZE];
};

struct vb_ring {
	struct vb_device *dev;
	unsigned int index;
	pthread_mutex_t lock; /* lifecycle: settings, start, stop */

	/* Settings from the transport. */
	uint16_t num;
	bool addr_set;
	struct vb_vq_addrs addrs;
	int kick_fd;
	int call_fd;
	int err_fd;
	struct vb_inflight_queue *inflight_region;
	uint16_t inflight_capacity; /* ring size the region was made for */

	/* Ring position: kept across stop and start. */
	struct vb_vq vq;
	uint16_t carried[VB_VQ_MAX_SIZE];
	uint16_t ncarried;
	/* Start at the used index: nothing else says where a dead back-end got to. */
	bool avail_from_used;

	bool has_thread; /* a worker was created and is not joined yet */
	atomic_int stop_mode; /* enum vb_suspend_mode of the stop in progress */
	atomic_bool started; /* cleared by a worker that ends by itself */
	atomic_bool enabled;
	atomic_bool stopping;
	atomic_bool broken;
	pthread_t thread;
	int wake_fd;

	/* Worker-owned while started. */
	struct io_uring uring;
	uint8_t *reqs; /* num requests of the device's req_size, indexed by head */
	unsigned int io_pending;
	uint16_t notified_used;
	uint64_t kick_buf;
	uint64_t wake_buf;
	uint16_t *resubmit;
	int nresubmit;
	uint64_t next_seq;
	uint64_t poll_ns; /* adaptive polling: the next poll's length */
	uint64_t poll_max_ns; /* its cap, from the device's poll_us */
	bool cancelled; /* a capture asked the device to cancel what it can */
	unsigned int sigbus_deaths; /* vb_sigbus_deaths() when last looked at */
	bool mem_lost; /* memory it used went away: it completes nothing more */

	/* Written by the worker, read by anyone; kept across stops and resets. */
	struct vb_ring_stats stats;
};

/*
 * io_uring user_data the worker ignores: any odd value (requests are
 * aligned pointers). A device tags its helper entries (a linked timeout, a
 * cancel) with VB_RING_UD_IGNORE, or with VB_RING_UD_TAG(req) to be able to
 * cancel them by request.
 */
#define VB_RING_UD_IGNORE 3ull
#define VB_RING_UD_TAG(req) ((uint64_t)(uintptr_t)(req) | 1ull)

/*
 * An event source on the worker's io_uring that is not a request: a storage
 * back-end polls its socket or eventfd (IORING_OP_POLL_ADD) with
 * VB_RING_UD_EVENT(ev), and the worker calls ev->fn with the result on the
 * worker's own thread. The event must stay allocated until it completes.
 */
struct vb_ring_event {
	void (*fn)(struct vb_ring *r, struct vb_ring_event *ev, int res);
};

#define VB_RING_UD_EVENT(ev) ((uint64_t)(uintptr_t)(ev) | 2ull)

/**
 * vb_ring_init() - a stopped, disabled ring with no settings
 * @r:		the ring
 * @dev:	the device it belongs to
 * @index:	its queue index
 */
void vb_ring_init(struct vb_ring *r, struct vb_device *dev, unsigned int index);

/**
 * vb_ring_fini() - stop the ring, close its fds, free its lock
 * @r:		the ring
 */
void vb_ring_fini(struct vb_ring *r);

/**
 * vb_ring_reset() - back to the state after vb_ring_init()
 * @r:		the ring
 * @keep_position: keep the position and carried heads (a device reset before
 *		anything ran since a state load)
 *
 * Stops the ring and closes its fds. The in-flight region stays attached:
 * it belongs to the transport's connection, not to the ring.
 */
void vb_ring_reset(struct vb_ring *r, bool keep_position);

/**
 * vb_ring_set_num() - set the ring size
 * @r:		the ring
 * @num:	a power of two up to the device's queue size
 *
 * Return: 0, -EINVAL for a bad size, -EBUSY while started.
 */
int vb_ring_set_num(struct vb_ring *r, uint32_t num);

/**
 * vb_ring_set_addrs() - set the ring addresses
 * @r:		the ring
 * @addrs:	descriptor, avail and used addresses, and used-ring logging
 *
 * Also sent while running (vhost-user switches used-ring logging for a
 * migration): a started ring is paused around the change.
 * Return: 0, -EINVAL for addresses virtio's alignment forbids (descriptors
 * 16, avail 2, used 4), or the error of restarting the ring.
 */
int vb_ring_set_addrs(struct vb_ring *r, const struct vb_vq_addrs *addrs);

/**
 * vb_ring_set_base() - set the next avail index to process
 * @r:		the ring
 * @base:	the index
 *
 * Return: 0, or -EBUSY while started.
 */
int vb_ring_set_base(struct vb_ring *r, uint16_t base);

/**
 * vb_ring_set_fd_take() - hand over a notification fd; the fd is consumed
 * @r:		the ring
 * @which:	kick, call or err
 * @fd:		the eventfd, or -1 for none
 *
 * Only an eventfd is taken; a call or err fd is made non-blocking, so a
 * signal never blocks (one that does not fit is dropped, logged). A started
 * ring is paused around a call or err change; a kick change leaves the ring
 * stopped (vb_ring_start() arms it). A refused fd is closed and the ring
 * keeps what it had. A new call fd is
 * signalled once: completions made before it existed (resubmitted
 * requests) were signalled to no one, and a spurious interrupt is harmless.
 * Return: 0, -EINVAL for an fd that is not an eventfd, or the error of
 * making it non-blocking or of restarting the ring.
 */
int vb_ring_set_fd_take(struct vb_ring *r, enum vb_ring_fd which, int fd);

/**
 * vb_ring_set_inflight() - attach a region of in-flight records (or detach)
 * @r:		the ring, stopped
 * @region:	the queue's region, or NULL
 * @capacity:	ring size the region was laid out for
 */
void vb_ring_set_inflight(struct vb_ring *r, struct vb_inflight_queue *region, uint16_t capacity);

/**
 * vb_ring_set_start_from_used() - take the next position from the used ring
 * @r:		the ring
 *
 * For a ring whose previous back-end died with no record of its position.
 */
void vb_ring_set_start_from_used(struct vb_ring *r);

/**
 * vb_ring_enable() - set the enabled bit
 * @r:		the ring
 * @on:		enabled
 *
 * A started but disabled ring processes nothing new.
 */
void vb_ring_enable(struct vb_ring *r, bool on);

/**
 * vb_ring_ready() - whether the ring has everything a start needs
 * @r:		the ring
 *
 * Return: true with a size, addresses and a kick fd.
 */
bool vb_ring_ready(const struct vb_ring *r);

/**
 * vb_ring_start() - map the ring, recover in-flight requests, run the worker
 * @r:		the ring
 *
 * Return: 0 (also when already started), -EINVAL when not ready, or
 * -errno (logged; the ring stays stopped).
 */
int vb_ring_start(struct vb_ring *r);

/**
 * vb_ring_stop() - finish what is in flight, join the worker
 * @r:		the ring
 *
 * Return: the next avail index, where a later start goes on.
 */
uint16_t vb_ring_stop(struct vb_ring *r);

/**
 * vb_ring_stop_mode() - stop the ring, draining or capturing what is in flight
 * @r:		the ring
 * @mode:	VB_SUSPEND_DRAIN waits for every request; VB_SUSPEND_CAPTURE
 *		cancels what the device can cancel, waits for I/O already
 *		executing, and keeps the rest as carried heads (still marked in
 *		the in-flight region) for a later start, here or on a destination
 *
 * Return: the next avail index; the captured heads count as taken.
 */
uint16_t vb_ring_stop_mode(struct vb_ring *r, enum vb_suspend_mode mode);

/**
 * vb_ring_pause() - stop the ring for a change to what its worker reads
 * @r:		the ring
 *
 * Return: whether it ran, to hand to vb_ring_resume().
 */
bool vb_ring_pause(struct vb_ring *r);

/**
 * vb_ring_resume() - start the ring again if it ran before the pause
 * @r:		the ring
 * @was_started: what vb_ring_pause() returned
 *
 * A ring that ran and cannot start again (its memory went) raises
 * NEEDS_RESET and signals its err fd. Return: 0 or the start error.
 */
int vb_ring_resume(struct vb_ring *r, bool was_started);

/**
 * vb_ring_recover() - where a stopped ring stands, without starting it
 * @r:		the ring
 *
 * For a ring a dead back-end had stopped (suspended for a migration): maps
 * it, takes the position from the in-flight region (or the used ring) and
 * keeps the heads still in flight as carried, so a state save or a position
 * read sees what a start would. Return: 0 or -errno.
 */
int vb_ring_recover(struct vb_ring *r);

/**
 * vb_ring_is_started() - the started bit
 * @r:		the ring
 *
 * Return: false once stopped, or once the worker ended by itself.
 */
bool vb_ring_is_started(const struct vb_ring *r);

/**
 * vb_ring_avail_idx() - the next avail index, from any thread
 * @r:		the ring
 *
 * Stable only while the ring is stopped; while it runs, a snapshot.
 */
uint16_t vb_ring_avail_idx(const struct vb_ring *r);

/**
 * vb_ring_get_position() - where a stopped ring stands
 * @r:		the ring
 * @pos:	out
 */
void vb_ring_get_position(const struct vb_ring *r, struct vb_ring_position *pos);

/**
 * vb_ring_set_position() - continue where a source stopped (a state load)
 * @r:		the ring, stopped
 * @pos:	a position the device validated against its queue size
 */
void vb_ring_set_position(struct vb_ring *r, const struct vb_ring_position *pos);

/* The worker's side, for the device's handle() and io_done(). */

/**
 * vb_ring_complete() - publish a finished request to the driver
 * @r:		the ring
 * @req:	the request
 * @written:	bytes the device wrote into the chain
 *
 * Once memory the ring used went away (core/sigbus_guard.h), nothing is
 * published: the request may have run on the zero pages that replaced it.
 */
void vb_ring_complete(struct vb_ring *r, struct vb_req *req, uint32_t written);

/**
 * vb_ring_get_sqes() - submission entries for a request's I/O
 * @r:		the ring
 * @sqes:	out: @n entries, consecutive so that they may be linked
 * @n:		how many (1 or 2)
 *
 * Return: 0, or -EBUSY when the submission queue has no room even after
 * handing what it holds to the kernel.
 */
int vb_ring_get_sqes(struct vb_ring *r, struct io_uring_sqe **sqes, unsigned int n);

/**
 * vb_ring_submitted() - account one request's I/O as submitted
 * @r:		the ring
 * @sqe:	the entry whose completion calls the device's io_done()
 * @req:	the request
 */
void vb_ring_submitted(struct vb_ring *r, struct io_uring_sqe *sqe, struct vb_req *req);

/**
 * vb_ring_io_started() - account one request's I/O started outside io_uring
 * @r:		the ring, on its worker
 *
 * For a back-end whose completions come through an event
 * (struct vb_ring_event): the ring waits for vb_ring_io_done() before it
 * stops.
 */
static inline void vb_ring_io_started(struct vb_ring *r)
{
	r->io_pending++;
}

/**
 * vb_ring_io_done() - the result of I/O started with vb_ring_io_started()
 * @r:		the ring, on its worker
 * @req:	the request
 * @res:	bytes transferred or -errno (never -ECANCELED: that is a capture's)
 */
void vb_ring_io_done(struct vb_ring *r, struct vb_req *req, int res);

/**
 * vb_ring_fail() - a request the driver made malformed: stop processing
 * @r:		the ring
 *
 * The device is marked NEEDS_RESET and the err fd, if any, is signalled.
 */
void vb_ring_fail(struct vb_ring *r);

/**
 * vb_ring_log_write() - mark guest memory the device wrote as dirty
 * @r:		the ring
 * @gpa:	guest address
 * @len:	bytes
 *
 * Nothing while the transport does not log (VHOST_F_LOG_ALL): inline, so a
 * device's completion path pays one test per buffer, not a call.
 */
static inline void vb_ring_log_write(const struct vb_ring *r, uint64_t gpa, uint64_t len)
{
	if (r->vq.log)
		vb_vq_log_write(&r->vq, gpa, len);
}

#endif
