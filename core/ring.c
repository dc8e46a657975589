// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Ring lifecycle: settings, start, stop (drain or capture), recovery and
 * position. The worker that runs a started ring is in ring_worker.c.
 */
#include "core/ring.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <linux/virtio_ring.h>

#include "core/device.h"
#include "core/failpoint.h"
#include "core/inflight.h"
#include "core/log.h"
#include "core/ring_int.h"
#include "core/sigbus_guard.h"

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int vb_ring_signal_fd(int fd)
{
	int ret;

	if (!eventfd_write(fd, 1))
		return 0;
	ret = -errno;
	vb_err_rl("eventfd %d: cannot signal: %s", fd, strerror(-ret));
	return ret;
}

void vb_ring_init(struct vb_ring *r, struct vb_device *dev, unsigned int index)
{
	memset(r, 0, sizeof(*r));
	r->dev = dev;
	r->index = index;
	r->kick_fd = r->call_fd = r->err_fd = r->wake_fd = -1;
	pthread_mutex_init(&r->lock, NULL);
}

/* Stop with the lock held. */
static uint16_t stop_locked(struct vb_ring *r);
static uint16_t stop_locked_mode(struct vb_ring *r, enum vb_suspend_mode mode);

void vb_ring_reset(struct vb_ring *r, bool keep_position)
{
	struct vb_inflight_queue *region;
	uint16_t capacity;

	pthread_mutex_lock(&r->lock);
	stop_locked(r);
	close_fd(&r->kick_fd);
	close_fd(&r->call_fd);
	close_fd(&r->err_fd);
	atomic_store(&r->enabled, false);
	atomic_store(&r->broken, false);
	r->addr_set = false;
	if (!keep_position) {
		region = r->inflight_region;
		capacity = r->inflight_capacity;
		r->num = 0;
		memset(&r->addrs, 0, sizeof(r->addrs));
		memset(&r->vq, 0, sizeof(r->vq));
		r->ncarried = 0;
		r->avail_from_used = false;
		r->inflight_region = region;
		r->inflight_capacity = capacity;
	}
	pthread_mutex_unlock(&r->lock);
}

void vb_ring_fini(struct vb_ring *r)
{
	vb_ring_reset(r, false);
	pthread_mutex_destroy(&r->lock);
}

int vb_ring_set_num(struct vb_ring *r, uint32_t num)
{
	int ret = 0;

	if (!num || num > r->dev->queue_size || (num & (num - 1))) {
		vb_err("vring %u: size %u is not a power of two up to %u", r->index, num,
		       r->dev->queue_size);
		return -EINVAL;
	}
	pthread_mutex_lock(&r->lock);
	if (atomic_load(&r->started))
		ret = -EBUSY;
	else
		r->num = (uint16_t)num;
	pthread_mutex_unlock(&r->lock);
	if (ret)
		vb_err("vring %u: size change while started", r->index);
	return ret;
}

int vb_ring_set_addrs(struct vb_ring *r, const struct vb_vq_addrs *addrs)
{
	bool was;

	/* virtio 1.x 2.7: descriptor table 16, avail ring 2, used ring 4. */
	if ((addrs->desc_uva & 15) || (addrs->avail_uva & 1) || (addrs->used_uva & 3)) {
		vb_err("vring %u: misaligned ring (desc 0x%llx, avail 0x%llx, used 0x%llx)",
		       r->index, (unsigned long long)addrs->desc_uva,
		       (unsigned long long)addrs->avail_uva, (unsigned long long)addrs->used_uva);
		return -EINVAL;
	}
	was = vb_ring_pause(r);

	pthread_mutex_lock(&r->lock);
	r->addrs = *addrs;
	r->addr_set = true;
	pthread_mutex_unlock(&r->lock);
	return vb_ring_resume(r, was);
}

int vb_ring_set_base(struct vb_ring *r, uint16_t base)
{
	int ret = 0;

	pthread_mutex_lock(&r->lock);
	if (atomic_load(&r->started))
		ret = -EBUSY;
	else
		__atomic_store_n(&r->vq.last_avail_idx, base, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&r->lock);
	if (ret)
		vb_err("vring %u: base change while started", r->index);
	return ret;
}

static const char *const fd_names[] = { "kick", "call", "err" };

/*
 * A notification fd must be an eventfd: a kick fd that is a file or a
 * device (/dev/zero) always reads and would spin the worker; a call or err
 * fd that is a pipe can fill up. Writes must never block a worker or the
 * main loop (an eventfd at its maximum count would): call and err fds are
 * made non-blocking; a signal that does not fit is dropped with a log line.
 * Return: 0 or -errno (logged).
 */
static int check_notify_fd(struct vb_ring *r, enum vb_ring_fd which, int fd)
{
	char path[48], target[32];
	ssize_t n;
	int flags;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0) {
		/* No /proc to tell: the kernel's eventfd check below still applies. */
		vb_dbg("vring %u: cannot tell what the %s fd is: %s", r->index, fd_names[which],
		       strerror(errno));
	} else {
		target[n] = '\0';
		if (strcmp(target, "anon_inode:[eventfd]")) {
			vb_err("vring %u: the %s fd is %s, not an eventfd", r->index,
			       fd_names[which], target);
			return -EINVAL;
		}
	}
	if (which == VB_RING_KICK)
		return 0;
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || (!(flags & O_NONBLOCK) && fcntl(fd, F_SETFL, flags | O_NONBLOCK))) {
		int ret = -errno;

		vb_err("vring %u: cannot make the %s fd non-blocking: %s", r->index,
		       fd_names[which], strerror(-ret));
		return ret;
	}
	return 0;
}

int vb_ring_set_fd_take(struct vb_ring *r, enum vb_ring_fd which, int fd)
{
	int *slot = which == VB_RING_KICK ? &r->kick_fd :
		    which == VB_RING_CALL ? &r->call_fd :
					    &r->err_fd;
	bool was;
	int ret;

	if (fd >= 0) {
		ret = check_notify_fd(r, which, fd);
		if (ret) {
			close(fd); /* refused: the ring keeps the fd it had */
			return ret;
		}
	}
	was = vb_ring_pause(r);

	pthread_mutex_lock(&r->lock);
	close_fd(slot);
	*slot = fd;
	pthread_mutex_unlock(&r->lock);
	if (which == VB_RING_CALL && fd >= 0)
		vb_ring_signal_fd(fd);
	/* A new kick fd arms the ring anew: the caller starts it. */
	return which == VB_RING_KICK ? 0 : vb_ring_resume(r, was);
}

void vb_ring_set_inflight(struct vb_ring *r, struct vb_inflight_queue *region, uint16_t capacity)
{
	pthread_mutex_lock(&r->lock);
	r->inflight_region = region;
	r->inflight_capacity = region ? capacity : 0;
	pthread_mutex_unlock(&r->lock);
}

void vb_ring_set_start_from_used(struct vb_ring *r)
{
	pthread_mutex_lock(&r->lock);
	r->avail_from_used = true;
	pthread_mutex_unlock(&r->lock);
}

void vb_ring_enable(struct vb_ring *r, bool on)
{
	pthread_mutex_lock(&r->lock);
	atomic_store(&r->enabled, on);
	if (atomic_load(&r->started))
		vb_ring_signal_fd(r->wake_fd);
	pthread_mutex_unlock(&r->lock);
}

bool vb_ring_ready(const struct vb_ring *r)
{
	return r->num && r->addr_set && r->kick_fd >= 0;
}

bool vb_ring_is_started(const struct vb_ring *r)
{
	return atomic_load(&r->started);
}

uint16_t vb_ring_avail_idx(const struct vb_ring *r)
{
	return __atomic_load_n(&r->vq.last_avail_idx, __ATOMIC_RELAXED);
}

/*
 * Requests to submit before anything new from the ring: heads the in-flight
 * region says a dead back-end had taken but not completed, then heads a
 * loaded state carried over from another back-end.
 */
static int collect_resubmits(struct vb_ring *r)
{
	struct vb_inflight_queue *inf = r->vq.inflight;
	bool recorded;
	int ret;

	r->nresubmit = 0;
	if (inf && r->num > r->inflight_capacity) {
		vb_err("vq %u: ring of %u does not fit its in-flight region (made for %u)",
		       r->index, r->num, r->inflight_capacity);
		return -EINVAL;
	}
	if (inf) {
		/* A fresh region knows nothing: the ring position is SET_VRING_BASE's. */
		recorded = inf->version;
		ret = vb_inflight_recover(inf, r->num, r->vq.used_idx, r->resubmit,
					  &r->vq.inflight_counter);
		if (ret < 0) {
			vb_err("vq %u: in-flight region does not match a ring of %u", r->index,
			       r->num);
			return ret;
		}
		r->nresubmit = ret;
		/* Every head taken from the ring is either used or still in flight. */
		if (recorded)
			__atomic_store_n(&r->vq.last_avail_idx, (uint16_t)(r->vq.used_idx + ret),
					 __ATOMIC_RELAXED);
	}
	for (unsigned int i = 0; i < r->ncarried; i++) {
		uint16_t head = r->carried[i];

		if (head >= r->num) {
			vb_err("vq %u: carried head %u does not fit a ring of %u", r->index, head,
			       r->num);
			return -EINVAL;
		}
		/* Already recovered from the region: one submission only. */
		if (inf && inf->desc[head].inflight)
			continue;
		if (r->nresubmit == r->num)
			return -EINVAL;
		r->resubmit[r->nresubmit++] = head;
		vb_vq_track(&r->vq, head);
	}
	return 0;
}

/* Resolve the ring through guest memory and read where the driver stands. */
static int map_ring(struct vb_ring *r)
{
	struct vb_device *dev = r->dev;
	int ret;

	r->vq.max_chain = (uint16_t)dev->queue_size;
	ret = vb_vq_map(&r->vq, &dev->mem, r->num, &r->addrs);
	if (ret)
		return ret;
	r->vq.used_idx = __atomic_load_n(&r->vq.used->idx, __ATOMIC_ACQUIRE);
	if (r->avail_from_used) {
		__atomic_store_n(&r->vq.last_avail_idx, r->vq.used_idx, __ATOMIC_RELAXED);
		r->avail_from_used = false;
	}
	return 0;
}

static void free_worker_state(struct vb_ring *r)
{
	free(r->reqs);
	free(r->resubmit);
	r->reqs = NULL;
	r->resubmit = NULL;
}

static int start_locked(struct vb_ring *r)
{
	struct vb_device *dev = r->dev;
	unsigned int entries = 4;
	int ret;

	if (atomic_load(&r->started))
		return 0;
	/* A worker that ended by itself is joined before a new one starts. */
	stop_locked(r);
	if (!vb_ring_ready(r))
		return -EINVAL;
	vb_sigbus_take_fault();
	r->sigbus_deaths = vb_sigbus_deaths();
	ret = map_ring(r);
	if (ret) {
		vb_err("vq %u: ring outside guest memory or misaligned in it, or size %u invalid",
		       r->index, r->num);
		return ret;
	}
	r->vq.event_idx = dev->features & (1ull << VIRTIO_RING_F_EVENT_IDX);
	r->vq.indirect = dev->features & (1ull << VIRTIO_RING_F_INDIRECT_DESC);
	r->vq.log = dev->dirty.bitmap && dev->log_all ? &dev->dirty : NULL;
	r->vq.signalled_used_valid = false;
	r->notified_used = r->vq.used_idx;
	r->vq.inflight = r->inflight_region;

	r->reqs = vb_failpoint("ring: calloc reqs") ? NULL : calloc(r->num, dev->ops->req_size);
	r->resubmit =
		vb_failpoint("ring: calloc resubmit") ? NULL : calloc(r->num, sizeof(*r->resubmit));
	if (!r->reqs || !r->resubmit) {
		ret = -ENOMEM;
		vb_err("vq %u: no memory for %u requests", r->index, r->num);
		goto err_free;
	}
	ret = collect_resubmits(r);
	if (ret)
		goto err_free;
	/* This thread read the ring and the in-flight region: were they still there? */
	if (vb_sigbus_take_fault() || vb_ring_mem_dead(r)) {
		vb_err("vq %u: memory the front-end shared shrank under it (SIGBUS caught)",
		       r->index);
		ret = -EFAULT;
		goto err_free;
	}

	while (entries < 2u * r->num + 2)
		entries <<= 1;
	ret = vb_failpoint("ring: io_uring") ? -ENOMEM : io_uring_queue_init(entries, &r->uring, 0);
	if (ret) {
		vb_err("vq %u: io_uring unavailable: %s", r->index, strerror(-ret));
		goto err_free;
	}
	r->wake_fd = vb_failpoint("ring: eventfd") ? -1 : eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->wake_fd < 0) {
		ret = -errno;
		vb_err("vq %u: wake eventfd: %s", r->index, strerror(-ret));
		goto err_ring;
	}
	atomic_store(&r->stopping, false);
	atomic_store(&r->broken, false);
	atomic_store(&r->stop_mode, VB_SUSPEND_DRAIN);
	r->cancelled = false;
	r->mem_lost = false;
	r->next_seq = 0;
	r->io_pending = 0;
	/* Before the thread exists: a worker that fails at once clears it. */
	atomic_store(&r->started, true);
	ret = vb_failpoint("ring: thread") ? -EAGAIN :
					     -pthread_create(&r->thread, NULL, vb_ring_worker, r);
	if (ret) {
		atomic_store(&r->started, false);
		vb_err("vq %u: cannot start its worker: %s", r->index, strerror(-ret));
		goto err_wake;
	}
	r->has_thread = true;
	r->ncarried = 0; /* handed to the worker */
	vb_dbg("vq %u: started at avail %u used %u", r->index, r->vq.last_avail_idx,
	       r->vq.used_idx);
	return 0;

err_wake:
	close_fd(&r->wake_fd);
err_ring:
	io_uring_queue_exit(&r->uring);
err_free:
	free_worker_state(r);
	return ret;
}

int vb_ring_start(struct vb_ring *r)
{
	int ret;

	pthread_mutex_lock(&r->lock);
	ret = start_locked(r);
	pthread_mutex_unlock(&r->lock);
	return ret;
}

static uint16_t stop_locked(struct vb_ring *r)
{
	return stop_locked_mode(r, VB_SUSPEND_DRAIN);
}

static uint16_t stop_locked_mode(struct vb_ring *r, enum vb_suspend_mode mode)
{
	struct timespec t0, t1;

	if (!r->has_thread)
		return r->vq.last_avail_idx;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	atomic_store(&r->stop_mode, mode);
	atomic_store(&r->stopping, true);
	vb_ring_signal_fd(r->wake_fd);
	pthread_join(r->thread, NULL);
	r->has_thread = false;
	atomic_store(&r->started, false);
	io_uring_queue_exit(&r->uring);
	close_fd(&r->wake_fd);
	free_worker_state(r);
	if (mode == VB_SUSPEND_CAPTURE) {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		vb_info("vq %u: stopped at avail %u with %u request(s) captured in %lld us",
			r->index, r->vq.last_avail_idx, r->ncarried,
			(long long)(t1.tv_sec - t0.tv_sec) * 1000000 +
				(t1.tv_nsec - t0.tv_nsec) / 1000);
	} else {
		vb_dbg("vq %u: stopped at avail %u", r->index, r->vq.last_avail_idx);
	}
	return r->vq.last_avail_idx;
}

uint16_t vb_ring_stop(struct vb_ring *r)
{
	return vb_ring_stop_mode(r, VB_SUSPEND_DRAIN);
}

uint16_t vb_ring_stop_mode(struct vb_ring *r, enum vb_suspend_mode mode)
{
	uint16_t base;

	pthread_mutex_lock(&r->lock);
	base = stop_locked_mode(r, mode);
	pthread_mutex_unlock(&r->lock);
	return base;
}

bool vb_ring_pause(struct vb_ring *r)
{
	bool was;

	pthread_mutex_lock(&r->lock);
	was = atomic_load(&r->started);
	stop_locked(r);
	pthread_mutex_unlock(&r->lock);
	return was;
}

int vb_ring_resume(struct vb_ring *r, bool was_started)
{
	int ret;

	if (!was_started)
		return 0;
	pthread_mutex_lock(&r->lock);
	ret = vb_ring_ready(r) ? start_locked(r) : 0;
	pthread_mutex_unlock(&r->lock);
	if (ret) {
		/* It ran, the driver thinks it runs: only a reset can tell it otherwise. */
		vb_err("vring %u: cannot restart: %s; the device needs reset", r->index,
		       strerror(-ret));
		vb_dev_needs_reset(r->dev);
		vb_ring_signal_err(r);
	}
	return ret;
}

int vb_ring_recover(struct vb_ring *r)
{
	struct vb_inflight_queue *inf;
	uint16_t heads[VB_VQ_MAX_SIZE];
	int ret = 0, n;

	pthread_mutex_lock(&r->lock);
	inf = r->inflight_region;
	if (r->has_thread)
		goto out;
	vb_sigbus_take_fault();
	ret = map_ring(r);
	if (ret || !inf || !inf->version)
		goto out_mem;
	ret = -EINVAL;
	if (r->num > r->inflight_capacity)
		goto out;
	n = vb_inflight_recover(inf, r->num, r->vq.used_idx, heads, &r->vq.inflight_counter);
	if (n < 0) {
		ret = n;
		goto out;
	}
	ret = 0;
	/* A start recovers the same heads from the region and submits each once. */
	memcpy(r->carried, heads, (size_t)n * sizeof(heads[0]));
	r->ncarried = (uint16_t)n;
	__atomic_store_n(&r->vq.last_avail_idx, (uint16_t)(r->vq.used_idx + n), __ATOMIC_RELAXED);
	vb_info("vq %u: stopped at avail %u with %d in flight (recovered)", r->index,
		r->vq.last_avail_idx, n);
out_mem:
	/* What this thread read of the ring and the region: was it still there? */
	if (!ret && vb_sigbus_take_fault()) {
		vb_err("vq %u: memory the front-end shared shrank under it (SIGBUS caught)",
		       r->index);
		ret = -EFAULT;
	}
out:
	pthread_mutex_unlock(&r->lock);
	return ret;
}

void vb_ring_get_position(const struct vb_ring *r, struct vb_ring_position *pos)
{
	pos->num = r->num;
	pos->enabled = atomic_load(&r->enabled);
	pos->last_avail = r->vq.last_avail_idx;
	pos->used = r->vq.used_idx;
	/* Heads still owed by this back-end: none once the rings drained. */
	pos->ncarried = r->ncarried;
	memcpy(pos->carried, r->carried, r->ncarried * sizeof(r->carried[0]));
}

void vb_ring_set_position(struct vb_ring *r, const struct vb_ring_position *pos)
{
	pthread_mutex_lock(&r->lock);
	r->num = pos->num;
	atomic_store(&r->enabled, pos->enabled);
	__atomic_store_n(&r->vq.last_avail_idx, pos->last_avail, __ATOMIC_RELAXED);
	r->vq.used_idx = pos->used;
	memcpy(r->carried, pos->carried, pos->ncarried * sizeof(pos->carried[0]));
	r->ncarried = pos->ncarried;
	pthread_mutex_unlock(&r->lock);
}
