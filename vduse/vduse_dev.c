// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * VDUSE device lifetime: API and feature negotiation, creation or
 * re-attachment, the message thread, and the ring control the
 * compatibility endpoint uses on kernels without VDUSE_SUSPEND.
 */
#include "vduse/vduse_dev.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>

#include "core/log.h"

#define VDUSE_CONTROL "/dev/vduse/control"

static int negotiate(struct vduse_dev *v)
{
	uint64_t kver, ver, kfeat = 0, feat = 0;

	if (ioctl(v->ctl_fd, VDUSE_GET_API_VERSION, &kver)) {
		vb_err("vduse: VDUSE_GET_API_VERSION: %s", strerror(errno));
		return -errno;
	}
	ver = kver < VDUSE_API_VERSION_1 ? kver : VDUSE_API_VERSION_1;
	if (ioctl(v->ctl_fd, VDUSE_SET_API_VERSION, &ver)) {
		vb_err("vduse: VDUSE_SET_API_VERSION %llu: %s", (unsigned long long)ver,
		       strerror(errno));
		return -errno;
	}
	v->api_version = ver;
	/* VDUSE features exist from API version 1 on (7.x kernels). */
	if (ver >= VDUSE_API_VERSION_1 && !ioctl(v->ctl_fd, VDUSE_GET_FEATURES, &kfeat)) {
		feat = kfeat & (1ull << VDUSE_F_QUEUE_READY | 1ull << VDUSE_F_SUSPEND);
		if (feat && ioctl(v->ctl_fd, VDUSE_SET_FEATURES, &feat)) {
			vb_warn("vduse: VDUSE_SET_FEATURES 0x%llx: %s; going on without",
				(unsigned long long)feat, strerror(errno));
			feat = 0;
		}
	}
	v->vduse_features = feat;
	vb_info("vduse: API version %llu (kernel %llu), VDUSE features 0x%llx (kernel 0x%llx)%s",
		(unsigned long long)ver, (unsigned long long)kver, (unsigned long long)feat,
		(unsigned long long)kfeat,
		feat & (1ull << VDUSE_F_SUSPEND) ? ": kernel suspend" :
						   ": suspend through the control socket");
	return 0;
}

uint64_t vduse_dev_features(const struct blk_dev *blk)
{
	return (blk_dev_features(blk) & ~(1ull << VIRTIO_BLK_F_CONFIG_WCE)) |
	       1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_F_ACCESS_PLATFORM;
}

/* Return: 0 created, 1 it already existed, -errno. */
static int create(struct vduse_dev *v)
{
	size_t cfg_len = sizeof(struct virtio_blk_config);
	struct vduse_dev_config *c = calloc(1, sizeof(*c) + cfg_len);
	int ret = 0;

	if (!c)
		return -ENOMEM;
	snprintf(c->name, sizeof(c->name), "%s", v->name);
	c->device_id = VIRTIO_ID_BLOCK;
	c->features = vduse_dev_features(v->blk);
	c->vq_num = v->blk->opts.num_queues;
	c->vq_align = (uint32_t)sysconf(_SC_PAGESIZE);
	if (v->api_version >= VDUSE_API_VERSION_1) {
		c->reserved[VB_VDUSE_CONFIG_NGROUPS] = 1;
		c->reserved[VB_VDUSE_CONFIG_NAS] = 1;
	}
	c->config_size = (uint32_t)cfg_len;
	blk_dev_get_config(v->blk, 0, c->config, (uint32_t)cfg_len);
	if (ioctl(v->ctl_fd, VDUSE_CREATE_DEV, c)) {
		ret = -errno;
		if (ret == -EEXIST)
			ret = 1;
		else
			vb_err("vduse %s: VDUSE_CREATE_DEV: %s", v->name, strerror(-ret));
	}
	free(c);
	return ret;
}

static int setup_queues(struct vduse_dev *v)
{
	for (unsigned int i = 0; i < v->blk->opts.num_queues; i++) {
		struct vduse_vq_config vc = { .index = i, .max_size = v->blk->opts.queue_size };

		if (ioctl(v->fd, VDUSE_VQ_SETUP, &vc)) {
			vb_err("vduse %s: VDUSE_VQ_SETUP %u: %s", v->name, i, strerror(errno));
			return -errno;
		}
	}
	return 0;
}

static void inject_irq(void *opaque, unsigned int index)
{
	struct vduse_dev *v = opaque;
	uint32_t i = index;

	if (ioctl(v->fd, VDUSE_VQ_INJECT_IRQ, &i))
		vb_err_rl("vduse %s: vq %u: VDUSE_VQ_INJECT_IRQ: %s", v->name, index,
			  strerror(errno));
}

/* A ring the driver made ready: its settings from the kernel, then run it. */
static int queue_start(struct vduse_dev *v, unsigned int i)
{
	struct blk_queue *q = &v->blk->queues[i];
	struct vduse_vq_info info = { .index = i };

	if (q->started)
		return 0;
	if (ioctl(v->fd, VDUSE_VQ_GET_INFO, &info)) {
		vb_err("vduse %s: VDUSE_VQ_GET_INFO %u: %s", v->name, i, strerror(errno));
		return -errno;
	}
	if (!info.ready && !v->ready[i])
		return 0;
	if (info.num > v->blk->opts.queue_size) {
		vb_err("vduse %s: vq %u: the driver set %u entries, more than the %u offered",
		       v->name, i, info.num, v->blk->opts.queue_size);
		return -EINVAL;
	}
	q->num = (uint16_t)info.num;
	q->addrs = (struct vb_vq_addrs){
		.desc_uva = info.desc_addr,
		.avail_uva = info.driver_addr,
		.used_uva = info.device_addr,
	};
	q->addr_set = true;
	if (!(v->positioned & (1u << i))) {
		/*
		 * First start since DRIVER_OK: the driver's avail index, or for a
		 * device that outlived a vblkd, where that one got to (the
		 * in-flight log, or without one, the used ring).
		 */
		if (v->reattached)
			q->avail_from_used = !v->log || !vduse_log_queue(v, i)->version;
		else
			q->vq.last_avail_idx = info.split.avail_index;
		v->positioned |= 1u << i;
	}
	if (q->kick_fd < 0) {
		struct vduse_vq_eventfd e = { .index = i };

		e.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (e.fd < 0 || ioctl(v->fd, VDUSE_VQ_SETUP_KICKFD, &e)) {
			int err = errno;

			vb_err("vduse %s: vq %u: kick eventfd: %s", v->name, i, strerror(err));
			if (e.fd >= 0)
				close(e.fd);
			return -err;
		}
		q->kick_fd = e.fd;
	}
	if (v->log) {
		q->inflight_region = vduse_log_queue(v, i);
		q->inflight_capacity = v->blk->opts.queue_size;
	}
	/* Rings live in coherent IOTLB entries; map them before the core looks. */
	vduse_iotlb_miss(v, info.desc_addr);
	vduse_iotlb_miss(v, info.driver_addr);
	vduse_iotlb_miss(v, info.device_addr);
	blk_queue_set_enabled(q, true);
	/* Stopped (a migration in progress, maybe by a vblkd that died): position only. */
	if ((v->held & (1u << i)) || v->suspended)
		return v->reattached ? blk_queue_recover(q) : 0;
	return blk_queue_start(q);
}

static void driver_ok(struct vduse_dev *v)
{
	uint64_t features;

	if (ioctl(v->fd, VDUSE_DEV_GET_FEATURES, &features)) {
		vb_err("vduse %s: VDUSE_DEV_GET_FEATURES: %s", v->name, strerror(errno));
		return;
	}
	v->blk->features = features;
	v->blk->driver_status = v->status;
	if (vduse_iotlb_map_all(v))
		vb_warn("vduse %s: mapping the IOTLB failed; trying again on first use", v->name);
	for (unsigned int i = 0; i < v->blk->opts.num_queues; i++)
		if (queue_start(v, i))
			vb_err("vduse %s: vq %u does not start; the device needs a reset", v->name,
			       i);
	v->ran = true;
	v->reattached = false;
	vduse_log_record(v);
	vb_info("vduse %s: driver ready, features 0x%llx", v->name, (unsigned long long)features);
}

static void dev_reset(struct vduse_dev *v)
{
	struct blk_dev *blk = v->blk;

	if (v->ran) {
		blk_dev_reset(blk);
		vduse_log_reset(v);
	} else {
		/* Nothing ran since a state load: keep the loaded ring positions. */
		blk_dev_pause(blk);
		blk->features = 0;
		blk->driver_status = 0;
		atomic_store(&blk->status, 0);
	}
	pthread_mutex_lock(&v->iotlb_lock);
	vb_mem_clear(&blk->mem); /* a ring may move */
	pthread_mutex_unlock(&v->iotlb_lock);
	v->status = 0;
	v->ran = false;
	v->suspended = false;
	v->reattached = false;
	v->held = 0;
	v->positioned = 0;
	memset(v->ready, 0, sizeof(v->ready));
	vduse_log_record(v);
	vb_info("vduse %s: reset", v->name);
}

/*
 * Transitions follow v->status, not blk->driver_status, which a loaded state
 * overwrites with the source's.
 */
static int set_status(struct vduse_dev *v, uint8_t status)
{
	uint8_t old = v->status;

	vb_dbg("vduse %s: status 0x%x -> 0x%x", v->name, old, status);
	if (!status) {
		dev_reset(v);
		return 0;
	}
	v->status = v->blk->driver_status = status;
	if ((status & VIRTIO_CONFIG_S_DRIVER_OK) && !(old & VIRTIO_CONFIG_S_DRIVER_OK))
		driver_ok(v);
	vduse_log_record(v);
	return 0;
}

static void update_iotlb(struct vduse_dev *v, uint64_t start, uint64_t last)
{
	uint32_t mask;

	if (last < start) {
		vb_err("vduse %s: IOTLB update of an empty range", v->name);
		return;
	}
	/* No worker may touch memory that is about to go. */
	mask = blk_dev_pause(v->blk);
	vduse_iotlb_drop(v, start, last);
	if (mask && vduse_iotlb_map_all(v))
		vb_warn("vduse %s: remapping the IOTLB failed", v->name);
	if (blk_dev_unpause(v->blk, mask))
		vb_err("vduse %s: rings do not restart after an IOTLB update", v->name);
}

static int set_vq_ready(struct vduse_dev *v, const struct vb_vduse_vq_ready *r)
{
	if (r->num >= v->blk->opts.num_queues)
		return -EINVAL;
	v->ready[r->num] = r->ready;
	if (!r->ready) {
		blk_queue_stop(&v->blk->queues[r->num]);
		return 0;
	}
	if (!(v->status & VIRTIO_CONFIG_S_DRIVER_OK))
		return 0;
	return queue_start(v, r->num);
}

static void suspend(struct vduse_dev *v)
{
	blk_dev_pause(v->blk); /* drains: what was taken from the rings completes */
	v->suspended = true;
	vduse_log_record(v);
	vb_info("vduse %s: suspended", v->name);
}

void vduse_dev_handle(struct vduse_dev *v, const struct vduse_dev_request *req,
		      struct vduse_dev_response *resp)
{
	unsigned int nq = v->blk->opts.num_queues;
	int ret = 0;

	memset(resp, 0, sizeof(*resp));
	resp->request_id = req->request_id;
	switch (req->type) {
	case VDUSE_GET_VQ_STATE: {
		uint32_t i = req->vq_state.index;

		if (i >= nq) {
			ret = -EINVAL;
			break;
		}
		resp->vq_state.index = i;
		resp->vq_state.split.avail_index =
			__atomic_load_n(&v->blk->queues[i].vq.last_avail_idx, __ATOMIC_RELAXED);
		break;
	}
	case VDUSE_SET_STATUS:
		ret = set_status(v, req->s.status);
		break;
	case VDUSE_UPDATE_IOTLB:
		update_iotlb(v, req->iova.start, req->iova.last);
		break;
	case VB_VDUSE_SET_VQ_READY:
		ret = set_vq_ready(v, (const struct vb_vduse_vq_ready *)&req->vq_state);
		break;
	case VB_VDUSE_SUSPEND:
		suspend(v);
		break;
	case VB_VDUSE_SET_VQ_GROUP_ASID: {
		const uint32_t *ga = (const uint32_t *)&req->vq_state;

		/* One group, one address space. */
		ret = ga[0] || ga[1] ? -EINVAL : 0;
		break;
	}
	default:
		vb_err("vduse %s: unknown request type %u", v->name, req->type);
		ret = -EOPNOTSUPP;
	}
	if (ret) {
		vb_warn("vduse %s: request %u failed: %s", v->name, req->type, strerror(-ret));
		resp->result = VDUSE_REQ_RESULT_FAILED;
	} else {
		resp->result = VDUSE_REQ_RESULT_OK;
	}
}

static void *message_loop(void *arg)
{
	struct vduse_dev *v = arg;

	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = v->fd, .events = POLLIN },
			{ .fd = v->stop_fd, .events = POLLIN },
		};
		struct vduse_dev_request req;
		struct vduse_dev_response resp;
		ssize_t n;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			vb_err("vduse %s: poll: %s", v->name, strerror(errno));
			break;
		}
		if (pfd[1].revents)
			break;
		/*
		 * A reply came later than msg_timeout: the kernel failed every
		 * pending request and will send none again, but keeps the fd
		 * readable with POLLERR. Polling on would spin.
		 */
		if ((pfd[0].revents & POLLERR) && !(pfd[0].revents & POLLIN)) {
			vb_err("vduse %s: the kernel marked the device broken; it must be destroyed",
			       v->name);
			break;
		}
		n = read(v->fd, &req, sizeof(req));
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n != sizeof(req)) {
			vb_err("vduse %s: reading a request: %s", v->name,
			       n < 0 ? strerror(errno) : "short read");
			break;
		}
		pthread_mutex_lock(&v->lock);
		vduse_dev_handle(v, &req, &resp);
		pthread_mutex_unlock(&v->lock);
		if (write(v->fd, &resp, sizeof(resp)) != sizeof(resp))
			vb_err("vduse %s: replying to request %u: %s", v->name, req.type,
			       strerror(errno));
	}
	return NULL;
}

static int open_dev(struct vduse_dev *v)
{
	char path[sizeof("/dev/vduse/") + VDUSE_NAME_MAX];

	snprintf(path, sizeof(path), "/dev/vduse/%s", v->name);
	v->fd = open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (v->fd < 0) {
		int err = errno;

		vb_err("vduse %s: cannot open %s: %s%s", v->name, path, strerror(err),
		       err == EBUSY ? " (another vblkd serves it)" : "");
		return -err;
	}
	return 0;
}

/* A device that outlived a vblkd: rebuild what the previous one had running. */
static void reattach(struct vduse_dev *v)
{
	uint8_t status = v->log ? v->log->driver_status : 0;
	bool any_ready = false;

	/* A migration's suspend outlives the vblkd that did it. */
	if (v->log) {
		v->suspended = v->log->suspended;
		v->held = v->log->held & ((1u << v->blk->opts.num_queues) - 1);
	}

	for (unsigned int i = 0; i < v->blk->opts.num_queues; i++) {
		struct vduse_vq_info info = { .index = i };

		if (!ioctl(v->fd, VDUSE_VQ_GET_INFO, &info) && info.ready)
			any_ready = v->ready[i] = true;
	}
	/* No log, or a new one (missing or unfit file): it knows nothing of the rings. */
	if (!status && any_ready) {
		status = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
			 VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK;
		vb_warn("vduse %s: %s: requests the previous vblkd had in flight are lost", v->name,
			v->log ? "the in-flight log is new" : "no --state-dir");
	}
	vb_info("vduse %s: re-attached to the existing device (driver status 0x%x%s)", v->name,
		status, v->suspended ? ", suspended" : v->held ? ", rings held" : "");
	v->status = v->blk->driver_status = status;
	if (status & VIRTIO_CONFIG_S_DRIVER_OK)
		driver_ok(v);
	else
		v->reattached = false;
}

int vduse_dev_create(struct vduse_dev *v, struct blk_dev *blk, const struct vduse_dev_opts *o)
{
	int ret;

	memset(v, 0, sizeof(*v));
	v->blk = blk;
	v->ctl_fd = v->fd = v->stop_fd = -1;
	v->state_dir = o->state_dir;
	snprintf(v->name, sizeof(v->name), "%s", o->name);
	pthread_mutex_init(&v->lock, NULL);
	pthread_mutex_init(&v->iotlb_lock, NULL);
	blk->notify = inject_irq;
	blk->notify_opaque = v;
	blk->mem.miss = vduse_iotlb_miss;
	blk->mem.miss_opaque = v;

	v->ctl_fd = open(VDUSE_CONTROL, O_RDWR | O_CLOEXEC);
	if (v->ctl_fd < 0) {
		ret = -errno;
		vb_err("vduse: cannot open %s: %s (is the vduse module loaded?)", VDUSE_CONTROL,
		       strerror(-ret));
		return ret;
	}
	ret = negotiate(v);
	if (ret)
		goto err;
	ret = create(v);
	if (ret < 0)
		goto err;
	v->reattached = ret == 1;
	ret = open_dev(v);
	if (ret)
		goto err_destroy;
	if (!v->reattached) {
		ret = setup_queues(v);
		if (ret)
			goto err_destroy;
	}
	if (v->state_dir) {
		ret = vduse_log_open(v, v->reattached);
		if (ret)
			goto err_destroy;
	}
	v->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (v->stop_fd < 0) {
		ret = -errno;
		goto err_destroy;
	}
	if (v->reattached)
		reattach(v);
	else
		vb_info("vduse %s: created (%u queue(s) of up to %u)", v->name,
			blk->opts.num_queues, blk->opts.queue_size);
	return 0;

err_destroy:
	if (v->fd >= 0)
		close(v->fd);
	v->fd = -1;
	/* Only what this vblkd created: a device we failed to re-attach to stays. */
	if (!v->reattached)
		ioctl(v->ctl_fd, VDUSE_DESTROY_DEV, v->name);
err:
	vduse_log_close(v, false);
	close(v->ctl_fd);
	v->ctl_fd = -1;
	blk->notify = NULL;
	blk->mem.miss = NULL;
	return ret;
}

int vduse_dev_serve(struct vduse_dev *v)
{
	int ret = -pthread_create(&v->thread, NULL, message_loop, v);

	if (ret) {
		vb_err("vduse %s: cannot start the message thread: %s", v->name, strerror(-ret));
		return ret;
	}
	v->thread_running = true;
	return 0;
}

void vduse_dev_close(struct vduse_dev *v, bool destroy)
{
	if (v->thread_running) {
		eventfd_write(v->stop_fd, 1);
		pthread_join(v->thread, NULL);
		v->thread_running = false;
	}
	/* Workers raise interrupts through the device fd: stop them first. */
	blk_dev_pause(v->blk);
	if (v->fd >= 0)
		close(v->fd);
	v->fd = -1;
	if (destroy && v->ctl_fd >= 0) {
		if (ioctl(v->ctl_fd, VDUSE_DESTROY_DEV, v->name)) {
			vb_err("vduse %s: VDUSE_DESTROY_DEV: %s", v->name, strerror(errno));
			destroy = false; /* the device stays, and so does its log */
		} else {
			vb_info("vduse %s: destroyed", v->name);
		}
	}
	vduse_log_close(v, destroy);
	if (v->ctl_fd >= 0)
		close(v->ctl_fd);
	if (v->stop_fd >= 0)
		close(v->stop_fd);
	v->ctl_fd = v->stop_fd = -1;
	v->blk->notify = NULL;
	v->blk->mem.miss = NULL;
}

int vduse_dev_ring_stop(void *opaque, unsigned int index, uint16_t *base)
{
	struct vduse_dev *v = opaque;

	*base = blk_queue_stop(&v->blk->queues[index]);
	v->held |= 1u << index;
	vduse_log_record(v);
	vb_info("vduse %s: vq %u stopped at avail index %u (control socket)", v->name, index,
		*base);
	return 0;
}

int vduse_dev_ring_start(void *opaque, unsigned int index)
{
	struct vduse_dev *v = opaque;

	if (!(v->held & (1u << index)))
		return 0;
	v->held &= ~(1u << index);
	vduse_log_record(v);
	vb_info("vduse %s: vq %u restarted (control socket)", v->name, index);
	if (!(v->status & VIRTIO_CONFIG_S_DRIVER_OK))
		return 0;
	return queue_start(v, index);
}
