// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The ring worker: one thread and one io_uring per started ring. Kicks and
 * wake-ups are reads on eventfds submitted through the same io_uring as the
 * device's I/O, so a loop iteration costs one io_uring_enter for any number
 * of requests. A capture cancels what the device can cancel and keeps what
 * comes back cancelled as carried heads.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <linux/virtio_ring.h>

#include "core/device.h"
#include "core/failpoint.h"
#include "core/log.h"
#include "core/ring_int.h"
#include "core/sigbus_guard.h"

#define UD_KICK 1ull
#define UD_WAKE 2ull

/* Stop taking requests: the driver must reset the device to recover. */
static void ring_break(struct vb_ring *r, const char *why)
{
	if (atomic_exchange(&r->broken, true))
		return;
	vb_err("vq %u: %s; queue stopped, device needs reset", r->index, why);
	vb_dev_needs_reset(r->dev);
	vb_ring_signal_err(r);
}

void vb_ring_signal_err(struct vb_ring *r)
{
	/* A lost err signal still leaves NEEDS_RESET in the status. */
	if (r->err_fd >= 0 && !vb_fault(VB_FAULT_ERR))
		vb_ring_signal_fd(r->err_fd);
}

static void notify(struct vb_ring *r)
{
	struct vb_device *dev = r->dev;
	int ret;

	if (r->call_fd < 0 && !dev->transport)
		return;
	if (!vb_vq_should_notify(&r->vq))
		return;
	if (r->call_fd < 0) {
		dev->transport->notify(dev->transport_opaque, r->index);
		return;
	}
	/*
	 * A full counter (EAGAIN) already wakes the driver: dropping one is
	 * harmless. Any other failure loses completions the driver waits for.
	 */
	ret = vb_fault(VB_FAULT_CALL) ? -EIO : vb_ring_signal_fd(r->call_fd);
	if (ret && ret != -EAGAIN)
		ring_break(r, "its call fd cannot be signalled");
}

void vb_ring_fail(struct vb_ring *r)
{
	ring_break(r, "malformed request from the driver");
}

bool vb_ring_mem_dead(const struct vb_ring *r)
{
	const struct vb_vq *vq = &r->vq;

	return vb_sigbus_addr_dead(vq->desc) || vb_sigbus_addr_dead(vq->avail) ||
	       vb_sigbus_addr_dead(vq->used) || vb_sigbus_addr_dead(vq->inflight) ||
	       (vq->log && vb_sigbus_addr_dead(vq->log->bitmap));
}

static struct vb_req *req_at(struct vb_ring *r, uint16_t head)
{
	return (struct vb_req *)(r->reqs + (size_t)head * r->dev->ops->req_size);
}

/* Whether a request still in flight has a buffer in a mapping that died. */
static bool busy_req_in_dead_mem(struct vb_ring *r)
{
	for (unsigned int h = 0; h < r->num; h++) {
		const struct vb_req *req = req_at(r, (uint16_t)h);

		for (unsigned int i = 0; req->busy && i < req->chain.niov; i++)
			if (vb_sigbus_addr_dead(req->chain.iov[i].iov_base))
				return true;
	}
	return false;
}

/*
 * Whether memory this ring uses went away: this thread touched a page the
 * front-end truncated, or another thread's touch killed a mapping the ring
 * reads or a request of the ring holds. New buffers are checked as they are
 * translated (a dead region translates to nothing). Per request: a
 * thread-local and a global load; the scan runs once per death.
 */
static bool mem_gone(struct vb_ring *r)
{
	unsigned int deaths = vb_sigbus_deaths();
	bool gone = vb_sigbus_take_fault();

	if (deaths != r->sigbus_deaths) {
		r->sigbus_deaths = deaths;
		gone = gone || vb_ring_mem_dead(r) || busy_req_in_dead_mem(r);
	}
	return gone;
}

/*
 * From here on nothing the ring completes can be trusted (its data may
 * have come from, or gone to, the zero pages that replaced the memory): no
 * more used entries, only NEEDS_RESET.
 */
static void lose_mem(struct vb_ring *r, const char *why)
{
	r->mem_lost = true;
	ring_break(r, why);
}

static void check_mem(struct vb_ring *r)
{
	if (mem_gone(r))
		lose_mem(r, "memory the front-end shared shrank under it (SIGBUS caught)");
}

void vb_ring_complete(struct vb_ring *r, struct vb_req *req, uint32_t written)
{
	req->busy = false;
	/* This very request may have run on memory that just went away. */
	if (!r->mem_lost && vb_sigbus_faulted())
		check_mem(r);
	if (r->mem_lost)
		return;
	vb_vq_push(&r->vq, req->chain.head, written);
	vb_ring_stats_done(&r->stats, req->start_ns);
}

int vb_ring_get_sqes(struct vb_ring *r, struct io_uring_sqe **sqes, unsigned int n)
{
	if (io_uring_sq_space_left(&r->uring) < n) {
		/* Hand the batch to the kernel and go on. */
		int ret = io_uring_submit(&r->uring);

		if (ret < 0)
			vb_err_rl("vq %u: io_uring_submit: %s", r->index, strerror(-ret));
	}
	if (io_uring_sq_space_left(&r->uring) < n)
		return -EBUSY;
	for (unsigned int i = 0; i < n; i++)
		sqes[i] = io_uring_get_sqe(&r->uring);
	return 0;
}

void vb_ring_submitted(struct vb_ring *r, struct io_uring_sqe *sqe, struct vb_req *req)
{
	io_uring_sqe_set_data(sqe, req);
	r->io_pending++;
}

static int arm_read(struct vb_ring *r, int fd, uint64_t *buf, uint64_t tag)
{
	struct io_uring_sqe *sqe;

	if (vb_ring_get_sqes(r, &sqe, 1))
		return -EBUSY;
	io_uring_prep_read(sqe, fd, buf, sizeof(*buf), 0);
	io_uring_sqe_set_data64(sqe, tag);
	return 0;
}

static void keep_unfinished(struct vb_ring *r, struct vb_req *req);

void vb_ring_io_done(struct vb_ring *r, struct vb_req *req, int res)
{
	r->io_pending--;
	if (r->cancelled && res == -ECANCELED) {
		keep_unfinished(r, req);
		return;
	}
	r->dev->ops->io_done(r, req, res);
	/* The kernel met a truncated buffer: no SIGBUS, an -EFAULT. */
	if (res == -EFAULT)
		lose_mem(r, "its I/O met memory the front-end shrank (EFAULT)");
}

/* Start the request at head, which the ring (or the in-flight region) handed us. */
static void start_request(struct vb_ring *r, uint16_t head)
{
	struct vb_req *req = req_at(r, head);

	if (req->busy) {
		vb_err_rl("vq %u: head %u made available again while in flight", r->index, head);
		vb_ring_fail(r);
		return;
	}
	if (vb_vq_walk(&r->vq, head, &req->chain)) {
		vb_ring_fail(r);
		return;
	}
	req->busy = true;
	req->seq = r->next_seq++;
	req->start_ns = vb_now_ns();
	vb_stat_add(&r->stats.started, 1);
	r->dev->ops->handle(r, req);
}

/*
 * Take every request the driver made available. Kicks stay suppressed while
 * the worker is awake (vb_vq_quiet()): it looks at the ring before it
 * sleeps anyway, and arm_before_sleep() asks for them again.
 */
static void process_avail(struct vb_ring *r)
{
	uint16_t head;
	int ret;

	while (!atomic_load(&r->broken) && (ret = vb_vq_pop(&r->vq, &head)) == 1) {
		vb_vq_quiet(&r->vq);
		start_request(r, head);
		check_mem(r);
	}
	if (ret < 0)
		vb_ring_fail(r);
}

/*
 * Ask for a kick before sleeping on it. Return: true when the driver added
 * requests meanwhile, which must be taken instead of sleeping.
 */
static bool arm_before_sleep(struct vb_ring *r)
{
	if (atomic_load(&r->broken) || !atomic_load(&r->enabled))
		return false;
	return vb_vq_arm(&r->vq);
}

/*
 * A capture begins: ask the device to cancel every request it holds. What
 * it cancels comes back with -ECANCELED and is kept (keep_unfinished()).
 */
static void cancel_all(struct vb_ring *r)
{
	if (!r->dev->ops->cancel)
		return;
	for (unsigned int h = 0; h < r->num; h++) {
		struct vb_req *req = req_at(r, (uint16_t)h);

		if (req->busy)
			r->dev->ops->cancel(r, req);
	}
}

/* A request cancelled by a capture: owed to the driver, by whoever runs the ring next. */
static void keep_unfinished(struct vb_ring *r, struct vb_req *req)
{
	uint16_t i = r->ncarried++;

	/* Insertion by hand-over order: a handful, and the order is the driver's. */
	while (i && req_at(r, r->carried[i - 1])->seq > req->seq) {
		r->carried[i] = r->carried[i - 1];
		i--;
	}
	r->carried[i] = req->chain.head;
	req->busy = false;
	vb_stat_add(&r->stats.carried, 1);
}

/* The worker cannot go on: the driver must reset the device to recover. */
static void worker_ends(struct vb_ring *r, const char *why)
{
	vb_err("vq %u: %s; the ring stops and the device needs reset", r->index, why);
	vb_dev_needs_reset(r->dev);
	atomic_store(&r->started, false);
}

/* One completion of the kick or wake read. Return: false when the worker must end. */
static bool rearm(struct vb_ring *r, uint64_t ud, int res)
{
	bool kick = ud == UD_KICK;

	if (res < 0 && res != -EAGAIN && res != -EINTR) {
		vb_err("vq %u: %s eventfd read failed: %s", r->index, kick ? "kick" : "wake",
		       strerror(-res));
		return false;
	}
	if (kick ? arm_read(r, r->kick_fd, &r->kick_buf, UD_KICK) :
		   arm_read(r, r->wake_fd, &r->wake_buf, UD_WAKE)) {
		vb_err("vq %u: cannot re-arm the %s read", r->index, kick ? "kick" : "wake");
		return false;
	}
	return true;
}

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __builtin_ia32_pause()
#else
#define cpu_relax() __atomic_signal_fence(__ATOMIC_SEQ_CST)
#endif

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * Adaptive polling (--poll-us caps it). After a round of work the worker
 * spins on the avail index and its completion queue for up to poll_ns
 * before it sleeps: a request that follows soon is found by looking, with
 * kicks suppressed, instead of through an eventfd write, a wake-up across
 * CPUs and a read. poll_ns follows what the last waits took, the way QEMU's
 * AioContext polling does: a wait that ended within the cap doubles it (from
 * VB_POLL_START_NS), a longer one turns polling off until waits are short
 * again. So an idle ring sleeps at once, and costs no CPU.
 */
#define VB_POLL_START_NS 4000u

enum poll_result { POLL_NOTHING, POLL_AVAIL, POLL_CQE };

static enum poll_result poll_for_work(struct vb_ring *r, uint64_t deadline)
{
	if (io_uring_submit(&r->uring) < 0)
		return POLL_NOTHING;
	do {
		if (io_uring_cq_ready(&r->uring))
			return POLL_CQE;
		if (atomic_load(&r->stopping) || !atomic_load(&r->enabled) ||
		    atomic_load(&r->broken))
			return POLL_NOTHING;
		if (__atomic_load_n(&r->vq.avail->idx, __ATOMIC_ACQUIRE) != r->vq.last_avail_idx)
			return POLL_AVAIL;
		cpu_relax();
	} while (now_ns() < deadline);
	return POLL_NOTHING;
}

/* The last wait took @waited_ns, polling included: the next poll's length. */
static void poll_adjust(struct vb_ring *r, uint64_t waited_ns)
{
	if (waited_ns <= r->poll_ns)
		return; /* polling found it */
	if (waited_ns > r->poll_max_ns)
		r->poll_ns = 0;
	else if (r->poll_ns < r->poll_max_ns)
		r->poll_ns = r->poll_ns ? r->poll_ns * 2 : VB_POLL_START_NS;
	if (r->poll_ns > r->poll_max_ns)
		r->poll_ns = r->poll_max_ns;
}

/* io_uring_submit_and_wait(); the "uring_submit" fault counts only submissions of guest I/O. */
static int submit_and_wait(struct vb_ring *r)
{
	if (io_uring_sq_ready(&r->uring) && r->io_pending && vb_fault(VB_FAULT_URING_SUBMIT))
		return -ENOMEM;
	return io_uring_submit_and_wait(&r->uring, 1);
}

void *vb_ring_worker(void *arg)
{
	struct vb_ring *r = arg;
	bool failed = false;

	r->poll_max_ns = (uint64_t)r->dev->poll_us * 1000;
	r->poll_ns = 0;
	/* A predecessor (a dead back-end, a migration's source) may have left kicks off. */
	r->vq.quiet = true;
	if (arm_read(r, r->kick_fd, &r->kick_buf, UD_KICK) ||
	    arm_read(r, r->wake_fd, &r->wake_buf, UD_WAKE)) {
		worker_ends(r, "cannot arm the kick");
		return NULL;
	}
	if (r->dev->ops->queue_start && r->dev->ops->queue_start(r)) {
		worker_ends(r, "its storage back-end cannot start");
		return NULL;
	}
	if (r->nresubmit)
		vb_info("vq %u: resubmitting %d in-flight request(s)", r->index, r->nresubmit);
	for (int i = 0; i < r->nresubmit; i++)
		start_request(r, r->resubmit[i]);

	for (;;) {
		struct io_uring_cqe *cqe;
		unsigned int head_idx, seen = 0;
		bool stopping = failed || atomic_load(&r->stopping);
		uint64_t wait_start = 0;
		int ret;

		if (stopping && !r->cancelled && atomic_load(&r->stop_mode) == VB_SUSPEND_CAPTURE) {
			r->cancelled = true;
			cancel_all(r);
		}
		/*
		 * Every round looks at the ring, kicked or not: while kicks are
		 * suppressed, a wake-up for a completion may be all there is.
		 */
		if (!stopping && atomic_load(&r->enabled))
			process_avail(r);
		/* One notification for everything completed in this round. */
		if (r->vq.used_idx != r->notified_used) {
			r->notified_used = r->vq.used_idx;
			notify(r);
		}
		if (stopping && !r->io_pending)
			break;

		if (r->poll_max_ns && !stopping) {
			enum poll_result p = POLL_NOTHING;

			wait_start = now_ns();
			if (r->poll_ns)
				p = poll_for_work(r, wait_start + r->poll_ns);
			if (p == POLL_AVAIL) {
				poll_adjust(r, now_ns() - wait_start);
				continue;
			}
		}
		/* Completions ready: the wait below returns at once, kicks can stay off. */
		if (!stopping && !io_uring_cq_ready(&r->uring) && arm_before_sleep(r))
			continue;
		/* Nothing to submit and completions waiting (a poll found them): no system call. */
		ret = io_uring_sq_ready(&r->uring) || !io_uring_cq_ready(&r->uring) ?
			      submit_and_wait(r) :
			      0;
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY) {
			/* Nothing more can complete: what is in flight is lost to us. */
			vb_err("vq %u: io_uring_submit_and_wait: %s", r->index, strerror(-ret));
			r->io_pending = 0;
			failed = true;
			continue;
		}
		if (wait_start)
			poll_adjust(r, now_ns() - wait_start);
		io_uring_for_each_cqe(&r->uring, head_idx, cqe)
		{
			uint64_t ud = cqe->user_data;

			seen++;
			if (ud == UD_KICK || ud == UD_WAKE) {
				if (!rearm(r, ud, cqe->res))
					failed = true;
				continue;
			}
			if (ud & 1)
				continue; /* VB_RING_UD_IGNORE, VB_RING_UD_TAG() */
			if (ud & 2) {
				struct vb_ring_event *ev = (void *)(uintptr_t)(ud & ~3ull);

				ev->fn(r, ev, cqe->res);
				continue;
			}
			vb_ring_io_done(r, io_uring_cqe_get_data(cqe), cqe->res);
		}
		io_uring_cq_advance(&r->uring, seen);
		check_mem(r);
	}
	/* Whoever runs the ring next relies on kicks: ask for them again. */
	if (!r->mem_lost)
		vb_vq_arm(&r->vq);
	if (r->dev->ops->queue_stop)
		r->dev->ops->queue_stop(r);
	if (failed)
		worker_ends(r, "its event loop failed");
	return NULL;
}
