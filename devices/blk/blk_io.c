// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtio-blk requests on a ring's worker: decode a chain, submit its I/O on
 * the ring's io_uring, complete it with a status, count it.
 */
#include <errno.h>
#include <string.h>
#include <linux/virtio_blk.h>

#include "core/failpoint.h"
#include "core/log.h"
#include "devices/blk/blk_dev.h"

static struct blk_req *req_of(struct vb_req *req)
{
	return (struct blk_req *)req; /* vreq is the first member */
}

/* Single writer per queue: a plain load and store, no locked instruction per request. */
static void count(struct blk_dev *dev, unsigned int queue, enum blk_counter c, uint64_t n)
{
	_Atomic uint64_t *p = &dev->counters[queue][c];

	atomic_store_explicit(p, atomic_load_explicit(p, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

static int counter_of_type(uint32_t type)
{
	switch (type) {
	case VIRTIO_BLK_T_IN:
		return BLK_CNT_READ;
	case VIRTIO_BLK_T_OUT:
		return BLK_CNT_WRITE;
	case VIRTIO_BLK_T_FLUSH:
		return BLK_CNT_FLUSH;
	case VIRTIO_BLK_T_GET_ID:
		return BLK_CNT_GET_ID;
	case VIRTIO_BLK_T_DISCARD:
		return BLK_CNT_DISCARD;
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return BLK_CNT_WRITE_ZEROES;
	default:
		return BLK_CNT_UNSUPP;
	}
}

static void count_request(struct blk_dev *dev, unsigned int queue, const struct blk_req *r,
			  uint8_t status)
{
	int c = status == VIRTIO_BLK_S_UNSUPP ? BLK_CNT_UNSUPP : counter_of_type(r->type);

	count(dev, queue, c, 1);
	if (c == BLK_CNT_UNSUPP)
		return;
	if (status != VIRTIO_BLK_S_OK)
		count(dev, queue, BLK_CNT_ERRORS, 1);
	else if (r->io.op == VB_BIO_READ)
		count(dev, queue, BLK_CNT_READ_BYTES, r->io.len);
	else if (r->io.op == VB_BIO_WRITE)
		count(dev, queue, BLK_CNT_WRITE_BYTES, r->io.len);
}

static void complete(struct vb_ring *r, struct blk_req *req, uint8_t status)
{
	/* Guest memory another queue may reuse: never a plain store TSan cannot order. */
	/*
	 * The driver reuses guest memory across queues: this byte may have been
	 * a write's data that another queue's back-end read with a system call
	 * TSan sees (be_file.c's pwritev), or become one next. Ordered through
	 * the rings, in another process: made visible to TSan (backend.h).
	 */
	vb_backend_order_acquire();
	__atomic_store_n(req->status, status, __ATOMIC_RELAXED);
	vb_backend_order_release();
	vb_ring_log_write(r, req->status_gpa, 1);
	/* Reads and GET_ID wrote into the data buffers. */
	if (status == VIRTIO_BLK_S_OK &&
	    (req->io.op == VB_BIO_READ || req->type == VIRTIO_BLK_T_GET_ID))
		for (unsigned int i = 0; i < req->io.niov; i++)
			vb_ring_log_write(r, req->data_gpa[i], req->data[i].iov_len);
	count_request(blk_of(r->dev), r->index, req, status);
	vb_ring_complete(r, &req->vreq, status == VIRTIO_BLK_S_OK ? req->written : 1);
}

/* Hand the request to the storage back-end: one call through its ops. */
static void start_io(struct vb_ring *r, struct blk_dev *dev, struct blk_req *req)
{
	int ret;

	req->io.fua = req->io.op == VB_BIO_WRITE && !atomic_load(&dev->wce);
	ret = dev->be->ops->submit(dev->be, r, &req->io);
	if (ret) {
		vb_err_rl("vq %u: %s I/O not started: %s", r->index, dev->be->ops->kind,
			  strerror(-ret));
		complete(r, req, VIRTIO_BLK_S_IOERR);
	}
}

/*
 * A request that must wait (the throttle's debt, or --io-delay-ms emulating
 * a slow disk) first waits on a timeout on the ring's io_uring, whatever
 * the back-end: the wait costs nothing, and a capture cancels it. Its
 * completion comes to blk_io_done(), which then starts the I/O.
 */
static void submit_io(struct vb_ring *r, struct blk_req *req)
{
	struct blk_dev *dev = blk_of(r->dev);
	uint64_t bytes = req->io.op == VB_BIO_READ || req->io.op == VB_BIO_WRITE ? req->io.len : 0;
	uint64_t wait = blk_throttle_take(&dev->thr, bytes) + dev->delay_ns;
	struct io_uring_sqe *sqe;

	req->waiting = false;
	if (!wait || vb_ring_get_sqes(r, &sqe, 1)) {
		start_io(r, dev, req); /* undelayed when the queue is full */
		return;
	}
	req->wait_ts.tv_sec = (long long)(wait / 1000000000ull);
	req->wait_ts.tv_nsec = (long long)(wait % 1000000000ull);
	io_uring_prep_timeout(sqe, &req->wait_ts, 0, IORING_TIMEOUT_ETIME_SUCCESS);
	req->waiting = true;
	vb_ring_submitted(r, sqe, &req->vreq);
}

void blk_io_handle(struct vb_ring *r, struct vb_req *vreq)
{
	struct blk_req *req = req_of(vreq);
	int ret = blk_req_parse(req, &blk_of(r->dev)->limits);

	if (ret < 0) {
		vreq->busy = false;
		vb_ring_fail(r);
		return;
	}
	if (ret != VIRTIO_BLK_S_OK || req->io.op == VB_BIO_NONE) {
		complete(r, req, (uint8_t)ret);
		return;
	}
	submit_io(r, req);
}

void blk_io_done(struct vb_ring *r, struct vb_req *vreq, int res)
{
	struct blk_req *req = req_of(vreq);
	uint8_t status = VIRTIO_BLK_S_OK;

	if (req->waiting) {
		req->waiting = false;
		if (!res || res == -ETIME) {
			start_io(r, blk_of(r->dev), req);
			return;
		}
		vb_err_rl("vq %u: wait before I/O failed: %s", r->index, strerror(-res));
		complete(r, req, VIRTIO_BLK_S_IOERR);
		return;
	}
	if (req->io.op == VB_BIO_READ || req->io.op == VB_BIO_WRITE)
		res = vb_fault_io_res(req->io.op == VB_BIO_WRITE, res);
	if (res == -EOPNOTSUPP &&
	    (req->io.op == VB_BIO_DISCARD || req->io.op == VB_BIO_WRITE_ZEROES)) {
		status = VIRTIO_BLK_S_UNSUPP;
	} else if (res < 0) {
		vb_err_rl("vq %u: I/O at offset %llu failed: %s", r->index,
			  (unsigned long long)req->io.offset, strerror(-res));
		status = VIRTIO_BLK_S_IOERR;
	} else if ((req->io.op == VB_BIO_READ || req->io.op == VB_BIO_WRITE) &&
		   (uint64_t)res != req->io.len) {
		vb_err_rl("vq %u: short %s at offset %llu: %d of %llu bytes", r->index,
			  req->io.op == VB_BIO_READ ? "read" : "write",
			  (unsigned long long)req->io.offset, res, (unsigned long long)req->io.len);
		status = VIRTIO_BLK_S_IOERR;
	}
	complete(r, req, status);
}

void blk_io_cancel(struct vb_ring *r, struct vb_req *vreq)
{
	struct blk_req *req = req_of(vreq);
	struct io_uring_sqe *sqe;

	if (vb_ring_get_sqes(r, &sqe, 1)) {
		vb_err_rl("vq %u: no room to cancel head %u; it completes instead", r->index,
			  vreq->chain.head);
		return;
	}
	/*
	 * A request still waiting: its timeout. Otherwise its I/O when it is
	 * on the io_uring (files), which fails to cancel once it executes in
	 * the kernel; the ring then waits for it, as for a network back-end's.
	 */
	io_uring_prep_cancel64(sqe, (uint64_t)(uintptr_t)req, 0);
	io_uring_sqe_set_data64(sqe, VB_RING_UD_IGNORE);
}

int blk_io_queue_start(struct vb_ring *r)
{
	struct vb_backend *be = blk_of(r->dev)->be;

	return be->ops->queue_start ? be->ops->queue_start(be, r) : 0;
}

void blk_io_queue_stop(struct vb_ring *r)
{
	struct vb_backend *be = blk_of(r->dev)->be;

	if (be->ops->queue_stop)
		be->ops->queue_stop(be, r);
}
