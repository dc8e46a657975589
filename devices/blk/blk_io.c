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
	else if (r->op == BLK_OP_READ)
		count(dev, queue, BLK_CNT_READ_BYTES, r->len);
	else if (r->op == BLK_OP_WRITE)
		count(dev, queue, BLK_CNT_WRITE_BYTES, r->len);
}

static void complete(struct vb_ring *r, struct blk_req *req, uint8_t status)
{
	/* Guest memory another queue may reuse: never a plain store TSan cannot order. */
	__atomic_store_n(req->status, status, __ATOMIC_RELAXED);
	vb_ring_log_write(r, req->status_gpa, 1);
	/* Reads and GET_ID wrote into the data buffers. */
	if (status == VIRTIO_BLK_S_OK &&
	    (req->op == BLK_OP_READ || req->type == VIRTIO_BLK_T_GET_ID))
		for (unsigned int i = 0; i < req->ndata; i++)
			vb_ring_log_write(r, req->data_gpa[i], req->data[i].iov_len);
	count_request(blk_of(r->dev), r->index, req, status);
	vb_ring_complete(r, &req->vreq, status == VIRTIO_BLK_S_OK ? req->written : 1);
}

/*
 * Submission entries for one request. A request that must wait (the
 * throttle's debt, or --io-delay-ms emulating a slow disk) gets a timeout
 * linked in front of its I/O: the wait costs nothing, and a capture cancels
 * the timeout, which cancels the I/O behind it. Return: the I/O's entry, or
 * NULL.
 */
static struct io_uring_sqe *get_io_sqe(struct vb_ring *r, struct blk_dev *dev,
				       struct blk_req *req)
{
	uint64_t bytes = req->op == BLK_OP_READ || req->op == BLK_OP_WRITE ? req->len : 0;
	uint64_t wait = blk_throttle_take(&dev->thr, bytes) + dev->delay_ns;
	struct io_uring_sqe *sqes[2];

	req->timed = false;
	if (!wait)
		return vb_ring_get_sqes(r, sqes, 1) ? NULL : sqes[0];
	/* A link must not be split across submissions. */
	if (vb_ring_get_sqes(r, sqes, 2))
		return vb_ring_get_sqes(r, sqes, 1) ? NULL : sqes[0]; /* undelayed */
	req->wait_ts.tv_sec = (long long)(wait / 1000000000ull);
	req->wait_ts.tv_nsec = (long long)(wait % 1000000000ull);
	io_uring_prep_timeout(sqes[0], &req->wait_ts, 0, IORING_TIMEOUT_ETIME_SUCCESS);
	sqes[0]->flags |= IOSQE_IO_LINK;
	io_uring_sqe_set_data64(sqes[0], VB_RING_UD_TAG(req));
	req->timed = true;
	return sqes[1];
}

static void submit_io(struct vb_ring *r, struct blk_req *req)
{
	struct blk_dev *dev = blk_of(r->dev);
	struct io_uring_sqe *sqe = get_io_sqe(r, dev, req);

	if (!sqe) {
		vb_err_rl("vq %u: io_uring submission queue unavailable", r->index);
		complete(r, req, VIRTIO_BLK_S_IOERR);
		return;
	}
	switch (req->op) {
	case BLK_OP_READ:
		io_uring_prep_readv(sqe, dev->fd, req->data, req->ndata, req->offset);
		break;
	case BLK_OP_WRITE:
		io_uring_prep_writev(sqe, dev->fd, req->data, req->ndata, req->offset);
		if (!atomic_load(&dev->wce))
			sqe->rw_flags = RWF_DSYNC; /* writethrough */
		break;
	case BLK_OP_FLUSH:
		io_uring_prep_fsync(sqe, dev->fd, IORING_FSYNC_DATASYNC);
		break;
	case BLK_OP_FALLOCATE:
		io_uring_prep_fallocate(sqe, dev->fd, req->falloc_mode, req->offset, req->len);
		break;
	case BLK_OP_NONE:
		io_uring_prep_nop(sqe);
		break;
	}
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
	if (ret != VIRTIO_BLK_S_OK || req->op == BLK_OP_NONE) {
		complete(r, req, (uint8_t)ret);
		return;
	}
	submit_io(r, req);
}

void blk_io_done(struct vb_ring *r, struct vb_req *vreq, int res)
{
	struct blk_req *req = req_of(vreq);
	uint8_t status = VIRTIO_BLK_S_OK;

	if (req->op == BLK_OP_READ || req->op == BLK_OP_WRITE)
		res = vb_fault_io_res(req->op == BLK_OP_WRITE, res);
	if (res == -EOPNOTSUPP && req->op == BLK_OP_FALLOCATE) {
		status = VIRTIO_BLK_S_UNSUPP;
	} else if (res < 0) {
		vb_err_rl("vq %u: I/O at offset %llu failed: %s", r->index,
			  (unsigned long long)req->offset, strerror(-res));
		status = VIRTIO_BLK_S_IOERR;
	} else if ((req->op == BLK_OP_READ || req->op == BLK_OP_WRITE) &&
		   (uint64_t)res != req->len) {
		vb_err_rl("vq %u: short %s at offset %llu: %d of %llu bytes", r->index,
			  req->op == BLK_OP_READ ? "read" : "write",
			  (unsigned long long)req->offset, res, (unsigned long long)req->len);
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
	 * A request still waiting: cancelling its timeout cancels the I/O
	 * linked behind it. Otherwise the I/O itself, which fails to cancel
	 * once it executes in the kernel; the ring then waits for it.
	 */
	io_uring_prep_cancel64(sqe, req->timed ? VB_RING_UD_TAG(req) : (uint64_t)(uintptr_t)req,
			       0);
	io_uring_sqe_set_data64(sqe, VB_RING_UD_IGNORE);
}
