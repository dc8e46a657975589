// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Queue worker: one thread and one io_uring per started virtqueue. Kicks
 * and wake-ups are reads on eventfds submitted through the same ring, so a
 * loop iteration costs one io_uring_enter for any number of requests.
 */
#include "devices/blk/blk_queue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ring.h>

#include "devices/blk/blk_dev.h"
#include "core/log.h"

#define UD_KICK 1ull
#define UD_WAKE 2ull
#define UD_DELAY 3ull

void blk_queue_init(struct blk_queue *q, struct blk_dev *dev, unsigned int index)
{
	memset(q, 0, sizeof(*q));
	q->dev = dev;
	q->index = index;
	q->kick_fd = q->call_fd = q->err_fd = q->wake_fd = -1;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void blk_queue_reset(struct blk_queue *q)
{
	struct blk_dev *dev = q->dev;
	unsigned int index = q->index;

	if (q->started)
		blk_queue_stop(q);
	/* Statistics outlive the rings. */
	for (int c = 0; c < BLK_CNT_MAX; c++)
		dev->counter_base[c] += atomic_load(&q->counters[c]);
	close_fd(&q->kick_fd);
	close_fd(&q->call_fd);
	close_fd(&q->err_fd);
	blk_queue_init(q, dev, index);
}

bool blk_queue_ready(const struct blk_queue *q)
{
	return q->num && q->addr_set && q->kick_fd >= 0;
}

static struct io_uring_sqe *get_sqe(struct blk_queue *q)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&q->ring);

	if (!sqe) {
		/* Submission queue full: hand the batch to the kernel and go on. */
		io_uring_submit(&q->ring);
		sqe = io_uring_get_sqe(&q->ring);
	}
	return sqe;
}

static int arm_read(struct blk_queue *q, int fd, uint64_t *buf, uint64_t tag)
{
	struct io_uring_sqe *sqe = get_sqe(q);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_read(sqe, fd, buf, sizeof(*buf), 0);
	io_uring_sqe_set_data64(sqe, tag);
	return 0;
}

static void notify(struct blk_queue *q)
{
	struct blk_dev *dev = q->dev;

	if (q->call_fd < 0 && !dev->notify)
		return;
	if (!vb_vq_should_notify(&q->vq))
		return;
	if (q->call_fd >= 0)
		eventfd_write(q->call_fd, 1);
	else
		dev->notify(dev->notify_opaque, q->index);
}

static void fail_queue(struct blk_queue *q)
{
	if (atomic_exchange(&q->broken, true))
		return;
	vb_err("vq %u: malformed request from the driver; queue stopped, device needs reset",
	       q->index);
	blk_dev_needs_reset(q->dev);
	if (q->err_fd >= 0)
		eventfd_write(q->err_fd, 1);
}

/* Single writer: a plain load and store, no locked instruction per request. */
static void count(struct blk_queue *q, enum blk_counter c, uint64_t n)
{
	atomic_store_explicit(&q->counters[c],
			      atomic_load_explicit(&q->counters[c], memory_order_relaxed) + n,
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

static void count_request(struct blk_queue *q, const struct blk_req *r, uint8_t status)
{
	int c = status == VIRTIO_BLK_S_UNSUPP ? BLK_CNT_UNSUPP : counter_of_type(r->type);

	count(q, c, 1);
	if (c == BLK_CNT_UNSUPP)
		return;
	if (status != VIRTIO_BLK_S_OK)
		count(q, BLK_CNT_ERRORS, 1);
	else if (r->op == BLK_OP_READ)
		count(q, BLK_CNT_READ_BYTES, r->len);
	else if (r->op == BLK_OP_WRITE)
		count(q, BLK_CNT_WRITE_BYTES, r->len);
}

static void complete(struct blk_queue *q, struct blk_req *r, uint8_t status)
{
	*r->status = status;
	if (q->vq.log) {
		vb_vq_log_write(&q->vq, r->status_gpa, 1);
		/* Reads and GET_ID wrote into the data buffers. */
		if (status == VIRTIO_BLK_S_OK &&
		    (r->op == BLK_OP_READ || r->type == VIRTIO_BLK_T_GET_ID))
			for (unsigned int i = 0; i < r->ndata; i++)
				vb_vq_log_write(&q->vq, r->data_gpa[i], r->data[i].iov_len);
	}
	count_request(q, r, status);
	r->busy = false;
	vb_vq_push(&q->vq, r->chain.head, status == VIRTIO_BLK_S_OK ? r->written : 1);
}

/*
 * --io-delay-ms: a timeout linked in front of the I/O holds it in the kernel,
 * emulating a slow disk without any cost when off.
 */
static void prep_delay(struct blk_queue *q)
{
	struct io_uring_sqe *sqe;

	if (io_uring_sq_space_left(&q->ring) < 2)
		io_uring_submit(&q->ring); /* a link must not be split across submits */
	if (io_uring_sq_space_left(&q->ring) < 2)
		return; /* no room for the pair: the I/O goes undelayed */
	sqe = io_uring_get_sqe(&q->ring);
	io_uring_prep_timeout(sqe, &q->delay, 0, IORING_TIMEOUT_ETIME_SUCCESS);
	sqe->flags |= IOSQE_IO_LINK;
	io_uring_sqe_set_data64(sqe, UD_DELAY);
}

static void submit_io(struct blk_queue *q, struct blk_req *r)
{
	struct io_uring_sqe *sqe;
	int fd = q->dev->fd;

	if (q->delay.tv_nsec || q->delay.tv_sec)
		prep_delay(q);
	sqe = get_sqe(q);

	if (!sqe) {
		vb_err_rl("vq %u: io_uring submission queue unavailable", q->index);
		complete(q, r, VIRTIO_BLK_S_IOERR);
		return;
	}
	switch (r->op) {
	case BLK_OP_READ:
		io_uring_prep_readv(sqe, fd, r->data, r->ndata, r->offset);
		break;
	case BLK_OP_WRITE:
		io_uring_prep_writev(sqe, fd, r->data, r->ndata, r->offset);
		if (!atomic_load(&q->dev->wce))
			sqe->rw_flags = RWF_DSYNC; /* writethrough */
		break;
	case BLK_OP_FLUSH:
		io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
		break;
	case BLK_OP_FALLOCATE:
		io_uring_prep_fallocate(sqe, fd, r->falloc_mode, r->offset, r->len);
		break;
	case BLK_OP_NONE:
		break;
	}
	io_uring_sqe_set_data(sqe, r);
	q->io_pending++;
}

/* Start the request at head, which the ring (or the in-flight region) handed us. */
static void start_request(struct blk_queue *q, uint16_t head)
{
	struct blk_req *r = &q->reqs[head];
	int ret;

	if (r->busy) {
		vb_err_rl("vq %u: head %u made available again while in flight", q->index, head);
		fail_queue(q);
		return;
	}
	if (vb_vq_walk(&q->vq, head, &r->chain)) {
		fail_queue(q);
		return;
	}
	ret = blk_req_parse(r, &q->dev->limits);
	if (ret < 0) {
		fail_queue(q);
		return;
	}
	r->busy = true;
	if (ret != VIRTIO_BLK_S_OK || r->op == BLK_OP_NONE) {
		complete(q, r, (uint8_t)ret);
		return;
	}
	submit_io(q, r);
}

static void finish_io(struct blk_queue *q, struct blk_req *r, int res)
{
	uint8_t status = VIRTIO_BLK_S_OK;

	q->io_pending--;
	if (res == -EOPNOTSUPP && r->op == BLK_OP_FALLOCATE) {
		status = VIRTIO_BLK_S_UNSUPP;
	} else if (res < 0) {
		vb_err_rl("vq %u: I/O at offset %llu failed: %s", q->index,
			  (unsigned long long)r->offset, strerror(-res));
		status = VIRTIO_BLK_S_IOERR;
	} else if ((r->op == BLK_OP_READ || r->op == BLK_OP_WRITE) && (uint64_t)res != r->len) {
		vb_err_rl("vq %u: short %s at offset %llu: %d of %llu bytes", q->index,
			  r->op == BLK_OP_READ ? "read" : "write", (unsigned long long)r->offset,
			  res, (unsigned long long)r->len);
		status = VIRTIO_BLK_S_IOERR;
	}
	complete(q, r, status);
}

static void process_avail(struct blk_queue *q)
{
	uint16_t head;
	int ret = 0;

	do {
		while (!atomic_load(&q->broken) && (ret = vb_vq_pop(&q->vq, &head)) == 1)
			start_request(q, head);
		if (ret < 0) {
			fail_queue(q);
			return;
		}
	} while (!atomic_load(&q->broken) && vb_vq_arm(&q->vq));
}

static void *worker(void *arg)
{
	struct blk_queue *q = arg;
	bool kicked = true; /* the driver may have kicked before we started */

	if (arm_read(q, q->kick_fd, &q->kick_buf, UD_KICK) ||
	    arm_read(q, q->wake_fd, &q->wake_buf, UD_WAKE)) {
		vb_err("vq %u: cannot arm the kick", q->index);
		return NULL;
	}
	if (q->nresubmit)
		vb_info("vq %u: resubmitting %d in-flight request(s)", q->index, q->nresubmit);
	for (int i = 0; i < q->nresubmit; i++)
		start_request(q, q->resubmit[i]);

	for (;;) {
		struct io_uring_cqe *cqe;
		unsigned int head_idx, seen = 0;
		bool stopping = atomic_load(&q->stopping);

		if (kicked && !stopping && atomic_load(&q->enabled))
			process_avail(q);
		kicked = false;
		/* One notification for everything completed in this round. */
		if (q->vq.used_idx != q->notified_used) {
			q->notified_used = q->vq.used_idx;
			notify(q);
		}
		if (stopping && !q->io_pending)
			break;

		io_uring_submit_and_wait(&q->ring, 1);
		io_uring_for_each_cqe(&q->ring, head_idx, cqe) {
			uint64_t ud = cqe->user_data;

			seen++;
			if (ud == UD_DELAY)
				continue;
			if (ud == UD_KICK || ud == UD_WAKE) {
				if (cqe->res < 0 && cqe->res != -EAGAIN && cqe->res != -EINTR) {
					vb_err("vq %u: %s eventfd read failed: %s", q->index,
					       ud == UD_KICK ? "kick" : "wake", strerror(-cqe->res));
					atomic_store(&q->stopping, true);
					continue;
				}
				kicked = true;
				if (ud == UD_KICK)
					arm_read(q, q->kick_fd, &q->kick_buf, UD_KICK);
				else
					arm_read(q, q->wake_fd, &q->wake_buf, UD_WAKE);
				continue;
			}
			finish_io(q, io_uring_cqe_get_data(cqe), cqe->res);
		}
		io_uring_cq_advance(&q->ring, seen);
	}
	return NULL;
}

/*
 * Requests to submit before anything new from the ring: heads the in-flight
 * region says a dead back-end had taken but not completed, then heads a
 * loaded state carried over from another back-end.
 */
static int collect_resubmits(struct blk_queue *q)
{
	struct vb_inflight_queue *inf = q->vq.inflight;
	bool recorded;
	int ret;

	q->nresubmit = 0;
	if (inf && q->num > q->inflight_capacity) {
		vb_err("vq %u: ring of %u does not fit its in-flight region (made for %u)",
		       q->index, q->num, q->inflight_capacity);
		return -EINVAL;
	}
	if (inf) {
		/* A fresh region knows nothing: the ring position is SET_VRING_BASE's. */
		recorded = inf->version;
		ret = vb_inflight_recover(inf, q->num, q->vq.used_idx, q->resubmit,
					  &q->vq.inflight_counter);
		if (ret < 0) {
			vb_err("vq %u: in-flight region does not match a ring of %u", q->index,
			       q->num);
			return ret;
		}
		q->nresubmit = ret;
		/* Every head taken from the ring is either used or still in flight. */
		if (recorded)
			q->vq.last_avail_idx = (uint16_t)(q->vq.used_idx + ret);
	}
	for (unsigned int i = 0; i < q->ncarried; i++) {
		uint16_t head = q->carried[i];

		if (head >= q->num) {
			vb_err("vq %u: carried head %u does not fit a ring of %u", q->index, head,
			       q->num);
			return -EINVAL;
		}
		/* Already recovered from the region: one submission only. */
		if (inf && inf->desc[head].inflight)
			continue;
		if (q->nresubmit == q->num)
			return -EINVAL;
		q->resubmit[q->nresubmit++] = head;
		vb_vq_track(&q->vq, head);
	}
	return 0;
}

int blk_queue_start(struct blk_queue *q)
{
	struct blk_dev *dev = q->dev;
	unsigned int entries = 4;
	int ret;

	if (q->started)
		return 0;
	if (!blk_queue_ready(q))
		return -EINVAL;
	q->vq.max_chain = (uint16_t)dev->opts.queue_size;
	ret = vb_vq_map(&q->vq, &dev->mem, q->num, &q->addrs);
	if (ret) {
		vb_err("vq %u: ring addresses are outside guest memory or size %u is invalid",
		       q->index, q->num);
		return ret;
	}
	q->vq.event_idx = dev->features & (1ull << VIRTIO_RING_F_EVENT_IDX);
	q->vq.indirect = dev->features & (1ull << VIRTIO_RING_F_INDIRECT_DESC);
	q->vq.log = dev->log.bitmap && (dev->features & (1ull << 26)) ? &dev->log : NULL;
	q->vq.used_idx = __atomic_load_n(&q->vq.used->idx, __ATOMIC_ACQUIRE);
	if (q->avail_from_used) {
		q->vq.last_avail_idx = q->vq.used_idx;
		q->avail_from_used = false;
	}
	q->vq.signalled_used_valid = false;
	q->notified_used = q->vq.used_idx;
	q->vq.inflight = q->inflight_region;

	q->reqs = calloc(q->num, sizeof(*q->reqs));
	q->resubmit = calloc(q->num, sizeof(*q->resubmit));
	if (!q->reqs || !q->resubmit) {
		ret = -ENOMEM;
		goto err_free;
	}
	ret = collect_resubmits(q);
	if (ret)
		goto err_free;

	q->delay.tv_sec = dev->opts.io_delay_ms / 1000;
	q->delay.tv_nsec = (long long)(dev->opts.io_delay_ms % 1000) * 1000000;
	while (entries < 2u * q->num + 2)
		entries <<= 1;
	ret = io_uring_queue_init(entries, &q->ring, 0);
	if (ret) {
		vb_err("vq %u: io_uring unavailable: %s", q->index, strerror(-ret));
		goto err_free;
	}
	q->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->wake_fd < 0) {
		ret = -errno;
		goto err_ring;
	}
	atomic_store(&q->stopping, false);
	atomic_store(&q->broken, false);
	q->io_pending = 0;
	ret = -pthread_create(&q->thread, NULL, worker, q);
	if (ret)
		goto err_wake;
	q->started = true;
	q->ncarried = 0; /* handed to the worker */
	vb_dbg("vq %u: started at avail %u used %u", q->index, q->vq.last_avail_idx,
	       q->vq.used_idx);
	return 0;

err_wake:
	close_fd(&q->wake_fd);
err_ring:
	io_uring_queue_exit(&q->ring);
err_free:
	free(q->reqs);
	free(q->resubmit);
	q->reqs = NULL;
	q->resubmit = NULL;
	return ret;
}

int blk_queue_recover(struct blk_queue *q)
{
	struct vb_inflight_queue *inf = q->inflight_region;
	uint16_t heads[VB_VQ_MAX_SIZE];
	int ret;

	if (q->started)
		return 0;
	ret = vb_vq_map(&q->vq, &q->dev->mem, q->num, &q->addrs);
	if (ret)
		return ret;
	q->vq.used_idx = __atomic_load_n(&q->vq.used->idx, __ATOMIC_ACQUIRE);
	if (q->avail_from_used) {
		q->vq.last_avail_idx = q->vq.used_idx;
		q->avail_from_used = false;
	}
	if (!inf || !inf->version)
		return 0;
	if (q->num > q->inflight_capacity)
		return -EINVAL;
	ret = vb_inflight_recover(inf, q->num, q->vq.used_idx, heads, &q->vq.inflight_counter);
	if (ret < 0)
		return ret;
	/* A start recovers the same heads from the region and submits each once. */
	memcpy(q->carried, heads, (size_t)ret * sizeof(heads[0]));
	q->ncarried = (uint16_t)ret;
	q->vq.last_avail_idx = (uint16_t)(q->vq.used_idx + ret);
	vb_info("vq %u: stopped at avail %u with %d in flight (recovered)", q->index,
		q->vq.last_avail_idx, ret);
	return 0;
}

uint16_t blk_queue_stop(struct blk_queue *q)
{
	if (!q->started)
		return q->vq.last_avail_idx;
	atomic_store(&q->stopping, true);
	eventfd_write(q->wake_fd, 1);
	pthread_join(q->thread, NULL);
	io_uring_queue_exit(&q->ring);
	close_fd(&q->wake_fd);
	free(q->reqs);
	free(q->resubmit);
	q->reqs = NULL;
	q->resubmit = NULL;
	q->started = false;
	vb_dbg("vq %u: stopped at avail %u", q->index, q->vq.last_avail_idx);
	return q->vq.last_avail_idx;
}

void blk_queue_set_enabled(struct blk_queue *q, bool on)
{
	atomic_store(&q->enabled, on);
	if (q->started)
		eventfd_write(q->wake_fd, 1);
}
