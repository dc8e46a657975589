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
#include <linux/virtio_config.h>

#include "core/failpoint.h"
#include "core/log.h"
#include "vduse/vduse_int.h"

#define VDUSE_CONTROL "/dev/vduse/control"

static int negotiate(struct vduse_dev *v)
{
	uint64_t kver, ver, kfeat = 0, feat = 0;
	int ret;

	if (vb_failpoint("vduse: get api version") ||
	    ioctl(v->ctl_fd, VDUSE_GET_API_VERSION, &kver)) {
		ret = -errno;
		vb_err("vduse: VDUSE_GET_API_VERSION: %s", strerror(-ret));
		return ret;
	}
	ver = kver < VDUSE_API_VERSION_1 ? kver : VDUSE_API_VERSION_1;
	if (vb_failpoint("vduse: set api version") ||
	    ioctl(v->ctl_fd, VDUSE_SET_API_VERSION, &ver)) {
		ret = -errno;
		vb_err("vduse: VDUSE_SET_API_VERSION %llu: %s", (unsigned long long)ver,
		       strerror(-ret));
		return ret;
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

uint64_t vduse_dev_extra_features(void *opaque)
{
	return 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_F_ACCESS_PLATFORM;
}

/* Return: 0 created, 1 it already existed, -errno. */
static int create(struct vduse_dev *v)
{
	struct vb_device *dev = v->dev;
	uint32_t cfg_len = dev->ops->config_size;
	struct vduse_dev_config *c =
		vb_failpoint("vduse: calloc config") ? NULL : calloc(1, sizeof(*c) + cfg_len);
	int ret = 0;

	if (!c)
		return -ENOMEM;
	snprintf(c->name, sizeof(c->name), "%s", v->name);
	c->device_id = dev->ops->type;
	c->features = vb_dev_features(dev) | vduse_dev_extra_features(v);
	c->vq_num = dev->num_queues;
	c->vq_align = (uint32_t)sysconf(_SC_PAGESIZE);
	if (v->api_version >= VDUSE_API_VERSION_1) {
		c->reserved[VB_VDUSE_CONFIG_NGROUPS] = 1;
		c->reserved[VB_VDUSE_CONFIG_NAS] = 1;
	}
	c->config_size = cfg_len;
	vb_dev_get_config(dev, 0, c->config, cfg_len);
	if (vb_failpoint("vduse: create") || ioctl(v->ctl_fd, VDUSE_CREATE_DEV, c)) {
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
	for (unsigned int i = 0; i < v->dev->num_queues; i++) {
		struct vduse_vq_config vc = { .index = i, .max_size = v->dev->queue_size };

		if (vb_failpoint("vduse: vq setup") || ioctl(v->fd, VDUSE_VQ_SETUP, &vc)) {
			int ret = -errno;

			vb_err("vduse %s: VDUSE_VQ_SETUP %u: %s", v->name, i, strerror(-ret));
			return ret;
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

static const struct vb_transport_ops vduse_transport_ops = {
	.notify = inject_irq,
};

/* A kick eventfd the kernel signals for ring @i. Return: 0 or -errno (logged). */
static int setup_kick(struct vduse_dev *v, struct vb_ring *r)
{
	struct vduse_vq_eventfd e = { .index = r->index };
	int ret;

	e.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (e.fd < 0) {
		ret = -errno;
		goto err;
	}
	if (ioctl(v->fd, VDUSE_VQ_SETUP_KICKFD, &e)) {
		ret = -errno;
		close(e.fd);
		goto err;
	}
	return vb_ring_set_fd_take(r, VB_RING_KICK, e.fd);
err:
	vb_err("vduse %s: vq %u: kick eventfd: %s", v->name, r->index, strerror(-ret));
	return ret;
}

/*
 * A ring the driver made ready: its settings from the kernel, then run it.
 * Called with the device's lock held; starts, never drains.
 */
static int queue_start(struct vduse_dev *v, unsigned int i)
{
	struct vb_ring *r = &v->dev->rings[i];
	struct vduse_vq_info info = { .index = i };
	struct vb_vq_addrs addrs = { 0 };
	int ret;

	if (vb_ring_is_started(r))
		return 0;
	if (ioctl(v->fd, VDUSE_VQ_GET_INFO, &info)) {
		ret = -errno;
		vb_err("vduse %s: VDUSE_VQ_GET_INFO %u: %s", v->name, i, strerror(-ret));
		return ret;
	}
	if (!info.ready && !v->ready[i])
		return 0;
	ret = vb_ring_set_num(r, info.num);
	if (ret)
		return ret;
	addrs.desc_uva = info.desc_addr;
	addrs.avail_uva = info.driver_addr;
	addrs.used_uva = info.device_addr;
	ret = vb_ring_set_addrs(r, &addrs);
	if (ret)
		return ret;
	if (!(v->positioned & (1u << i))) {
		/*
		 * First start since DRIVER_OK: the driver's avail index, or for a
		 * device that outlived a vblkd, where that one got to (the
		 * in-flight file, or without one, the used ring).
		 */
		if (!v->reattached)
			vb_ring_set_base(r, info.split.avail_index);
		else if (!v->inflight || !vduse_inflight_queue(v, i)->version)
			vb_ring_set_start_from_used(r);
		v->positioned |= 1u << i;
	}
	if (r->kick_fd < 0) {
		ret = setup_kick(v, r);
		if (ret)
			return ret;
	}
	if (v->inflight)
		vb_ring_set_inflight(r, vduse_inflight_queue(v, i), (uint16_t)v->dev->queue_size);
	/* Rings live in coherent IOTLB entries; map them before the core looks. */
	vduse_iotlb_miss(v, info.desc_addr);
	vduse_iotlb_miss(v, info.driver_addr);
	vduse_iotlb_miss(v, info.device_addr);
	vb_ring_enable(r, true);
	/* Stopped (a migration in progress, maybe by a vblkd that died): position only. */
	if ((v->held & (1u << i)) || v->suspended)
		return v->reattached ? vb_ring_recover(r) : 0;
	return vb_ring_start(r);
}

static void driver_ok(struct vduse_dev *v)
{
	uint64_t features;

	if (ioctl(v->fd, VDUSE_DEV_GET_FEATURES, &features)) {
		vb_err("vduse %s: VDUSE_DEV_GET_FEATURES: %s", v->name, strerror(errno));
		return;
	}
	vb_dev_set_features(v->dev, features, false);
	v->dev->driver_status = v->status;
	if (vduse_iotlb_map_all(v))
		vb_warn("vduse %s: mapping the IOTLB failed; trying again on first use", v->name);
	for (unsigned int i = 0; i < v->dev->num_queues; i++)
		if (queue_start(v, i))
			vb_err("vduse %s: vq %u does not start; the device needs a reset", v->name,
			       i);
	v->ran = true;
	v->reattached = false;
	vduse_inflight_record(v);
	vb_info("vduse %s: driver ready, features 0x%llx", v->name, (unsigned long long)features);
}

/*
 * Status 0. The rings drain with the lock released: a control client waiting
 * for it sees the status already 0, so it cannot restart one meanwhile.
 */
static void dev_reset(struct vduse_dev *v)
{
	struct vb_device *dev = v->dev;
	bool ran = v->ran;

	v->status = 0;
	vb_dev_unlock(dev);
	vb_dev_pause(dev);
	vb_dev_lock(dev);
	if (ran) {
		vb_dev_reset(dev, VB_RESET_ALL);
		vduse_inflight_reset(v);
	} else {
		/* Nothing ran since a state load: keep the loaded ring positions. */
		vb_dev_reset(dev, VB_RESET_KEEP_RINGS);
	}
	vduse_iotlb_clear(v); /* a ring may move */
	v->ran = false;
	v->suspended = false;
	v->reattached = false;
	v->held = 0;
	v->positioned = 0;
	memset(v->ready, 0, sizeof(v->ready));
	vduse_inflight_record(v);
	vb_info("vduse %s: reset", v->name);
}

/*
 * Transitions follow v->status, not the device's driver status, which a
 * loaded state overwrites with the source's.
 */
static int set_status(struct vduse_dev *v, uint8_t status)
{
	uint8_t old = v->status;

	vb_dbg("vduse %s: status 0x%x -> 0x%x", v->name, old, status);
	if (!status) {
		dev_reset(v);
		return 0;
	}
	v->status = v->dev->driver_status = status;
	if ((status & VIRTIO_CONFIG_S_DRIVER_OK) && !(old & VIRTIO_CONFIG_S_DRIVER_OK))
		driver_ok(v);
	vduse_inflight_record(v);
	return 0;
}

/*
 * No worker may touch memory that is about to go. The rings drain with the
 * lock released; a control client that restarts a ring meanwhile is served
 * when the new mappings are in.
 */
static int update_iotlb(struct vduse_dev *v, uint64_t start, uint64_t last)
{
	struct vb_device *dev = v->dev;
	uint32_t mask;
	int ret = 0;

	if (last < start) {
		vb_err("vduse %s: IOTLB update of an empty range", v->name);
		return -EINVAL;
	}
	v->remapping = true;
	vb_dev_unlock(dev);
	mask = vb_dev_pause(dev);
	vb_dev_lock(dev);
	vduse_iotlb_drop(v, start, last);
	mask |= v->start_after_remap;
	v->start_after_remap = 0;
	v->remapping = false;
	if (mask && vduse_iotlb_map_all(v))
		vb_warn("vduse %s: remapping the IOTLB failed; trying again on first use", v->name);
	if (vb_dev_resume(dev, mask)) {
		vb_err("vduse %s: rings do not restart after an IOTLB update", v->name);
		ret = -EIO;
	}
	return ret;
}

static int set_vq_ready(struct vduse_dev *v, const struct vb_vduse_vq_ready *r)
{
	if (r->num >= v->dev->num_queues) {
		vb_err("vduse %s: SET_VQ_READY for vq %u of %u", v->name, r->num,
		       v->dev->num_queues);
		return -EINVAL;
	}
	v->ready[r->num] = r->ready;
	if (!r->ready) {
		vb_dev_unlock(v->dev);
		vb_ring_stop(&v->dev->rings[r->num]);
		vb_dev_lock(v->dev);
		return 0;
	}
	if (!(v->status & VIRTIO_CONFIG_S_DRIVER_OK))
		return 0;
	return queue_start(v, r->num);
}

/* Marked first: no ring restarts while the rest drain, lock released. */
static void suspend(struct vduse_dev *v)
{
	v->suspended = true;
	vduse_inflight_record(v);
	vb_dev_unlock(v->dev);
	/* Drains what was taken from the rings, or captures it (--suspend-mode). */
	vb_dev_suspend(v->dev, v->dev->suspend_mode);
	vb_dev_lock(v->dev);
	vb_info("vduse %s: suspended", v->name);
}

static int get_vq_state(struct vduse_dev *v, const struct vduse_vq_state *q,
			struct vduse_dev_response *resp)
{
	if (q->index >= v->dev->num_queues) {
		vb_err("vduse %s: GET_VQ_STATE for vq %u of %u", v->name, q->index,
		       v->dev->num_queues);
		return -EINVAL;
	}
	resp->vq_state.index = q->index;
	/* Stable only while the ring is stopped, as vhost-vdpa reads it. */
	resp->vq_state.split.avail_index = vb_ring_avail_idx(&v->dev->rings[q->index]);
	return 0;
}

static int set_vq_group_asid(struct vduse_dev *v, const uint32_t *group_asid)
{
	/* One group, one address space. */
	if (!group_asid[0] && !group_asid[1])
		return 0;
	vb_err("vduse %s: group %u to address space %u: only 0 to 0 exists", v->name, group_asid[0],
	       group_asid[1]);
	return -EINVAL;
}

static int handle_locked(struct vduse_dev *v, const struct vduse_dev_request *req,
			 struct vduse_dev_response *resp)
{
	switch (req->type) {
	case VDUSE_GET_VQ_STATE:
		return get_vq_state(v, &req->vq_state, resp);
	case VDUSE_SET_STATUS:
		return set_status(v, req->s.status);
	case VDUSE_UPDATE_IOTLB:
		return update_iotlb(v, req->iova.start, req->iova.last);
	case VB_VDUSE_SET_VQ_READY:
		return set_vq_ready(v, (const struct vb_vduse_vq_ready *)&req->vq_state);
	case VB_VDUSE_SUSPEND:
		suspend(v);
		return 0;
	case VB_VDUSE_SET_VQ_GROUP_ASID:
		return set_vq_group_asid(v, (const uint32_t *)&req->vq_state);
	default:
		vb_err("vduse %s: unknown request type %u", v->name, req->type);
		return -EOPNOTSUPP;
	}
}

static const char *request_name(uint32_t type)
{
	switch (type) {
	case VDUSE_GET_VQ_STATE:
		return "kernel GET_VQ_STATE";
	case VDUSE_SET_STATUS:
		return "kernel SET_STATUS";
	case VDUSE_UPDATE_IOTLB:
		return "kernel UPDATE_IOTLB";
	case VB_VDUSE_SET_VQ_READY:
		return "kernel SET_VQ_READY";
	case VB_VDUSE_SUSPEND:
		return "kernel SUSPEND";
	case VB_VDUSE_SET_VQ_GROUP_ASID:
		return "kernel SET_VQ_GROUP_ASID";
	default:
		return "kernel request";
	}
}

void vduse_dev_handle(struct vduse_dev *v, const struct vduse_dev_request *req,
		      struct vduse_dev_response *resp)
{
	int ret;

	memset(resp, 0, sizeof(*resp));
	resp->request_id = req->request_id;
	vb_log_context(request_name(req->type));
	vb_dev_lock(v->dev);
	ret = handle_locked(v, req, resp);
	vb_dev_unlock(v->dev);
	/* One line per failure: where it was decided, or here. */
	if (ret && !vb_log_context_errors())
		vb_err("failed: %s", strerror(-ret));
	vb_log_context(NULL);
	resp->result = ret ? VDUSE_REQ_RESULT_FAILED : VDUSE_REQ_RESULT_OK;
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
		vduse_dev_handle(v, &req, &resp);
		n = write(v->fd, &resp, sizeof(resp));
		if (n != sizeof(resp))
			vb_err("vduse %s: replying to request %u: %s", v->name, req.type,
			       n < 0 ? strerror(errno) : "short write");
	}
	return NULL;
}

static int open_dev(struct vduse_dev *v)
{
	char path[sizeof("/dev/vduse/") + VDUSE_NAME_MAX];
	int ret;

	snprintf(path, sizeof(path), "/dev/vduse/%s", v->name);
	v->fd = vb_failpoint("vduse: open dev") ? -1 : open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (v->fd < 0) {
		ret = -errno;
		vb_err("vduse %s: cannot open %s: %s%s", v->name, path, strerror(-ret),
		       ret == -EBUSY ? " (another vblkd serves it)" : "");
		return ret;
	}
	return 0;
}

/* A device that outlived a vblkd: rebuild what the previous one had running. */
static void reattach(struct vduse_dev *v)
{
	uint8_t status = v->inflight ? v->inflight->driver_status : 0;
	bool any_ready = false;

	/* A migration's suspend outlives the vblkd that did it. */
	if (v->inflight) {
		v->suspended = v->inflight->suspended;
		v->held = v->inflight->held & ((1u << v->dev->num_queues) - 1);
	}

	for (unsigned int i = 0; i < v->dev->num_queues; i++) {
		struct vduse_vq_info info = { .index = i };

		if (!ioctl(v->fd, VDUSE_VQ_GET_INFO, &info) && info.ready)
			any_ready = v->ready[i] = true;
	}
	/* No file, or a new one (missing or unfit): it knows nothing of the rings. */
	if (!status && any_ready) {
		status = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
			 VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK;
		vb_warn("vduse %s: %s: requests the previous vblkd had in flight are lost", v->name,
			v->inflight ? "the in-flight file is new" : "no --state-dir");
	}
	vb_info("vduse %s: re-attached to the existing device (driver status 0x%x%s)", v->name,
		status,
		v->suspended ? ", suspended" :
		v->held	     ? ", rings held" :
			       "");
	v->status = v->dev->driver_status = status;
	if (status & VIRTIO_CONFIG_S_DRIVER_OK)
		driver_ok(v);
	else
		v->reattached = false;
}

static struct vduse_dev *handle_new(struct vb_device *dev, const struct vduse_dev_opts *o)
{
	struct vduse_dev *v = vb_failpoint("vduse: calloc handle") ? NULL : calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->dev = dev;
	v->ctl_fd = v->fd = v->stop_fd = -1;
	v->state_dir = o->state_dir;
	snprintf(v->name, sizeof(v->name), "%s", o->name);
	pthread_mutex_init(&v->iotlb_lock, NULL);
	/* The kernel's config space is read-only to the driver. */
	dev->config_readonly = true;
	dev->transport = &vduse_transport_ops;
	dev->transport_opaque = v;
	dev->mem.miss = vduse_iotlb_miss;
	dev->mem.miss_opaque = v;
	return v;
}

static void handle_free(struct vduse_dev *v)
{
	v->dev->config_readonly = false;
	v->dev->transport = NULL;
	v->dev->transport_opaque = NULL;
	v->dev->mem.miss = NULL;
	v->dev->mem.miss_opaque = NULL;
	pthread_mutex_destroy(&v->iotlb_lock);
	free(v);
}

int vduse_dev_create(struct vb_device *dev, const struct vduse_dev_opts *o, struct vduse_dev **out)
{
	struct vduse_dev *v = handle_new(dev, o);
	int ret;

	if (!v)
		return -ENOMEM;
	v->ctl_fd =
		vb_failpoint("vduse: open control") ? -1 : open(VDUSE_CONTROL, O_RDWR | O_CLOEXEC);
	if (v->ctl_fd < 0) {
		ret = -errno;
		vb_err("vduse: cannot open %s: %s (is the vduse module loaded?)", VDUSE_CONTROL,
		       strerror(-ret));
		goto err_free;
	}
	ret = negotiate(v);
	if (ret)
		goto err_close;
	ret = create(v);
	if (ret < 0)
		goto err_close;
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
		ret = vb_failpoint("vduse: in-flight file") ? -ENOMEM :
							      vduse_inflight_open(v, v->reattached);
		if (ret)
			goto err_destroy;
	}
	v->stop_fd = vb_failpoint("vduse: eventfd") ? -1 : eventfd(0, EFD_CLOEXEC);
	if (v->stop_fd < 0) {
		ret = -errno;
		vb_err("vduse %s: eventfd: %s", v->name, strerror(-ret));
		goto err_destroy;
	}
	vb_dev_lock(dev);
	if (v->reattached)
		reattach(v);
	else
		vb_info("vduse %s: created (%u queue(s) of up to %u)", v->name, dev->num_queues,
			dev->queue_size);
	vb_dev_unlock(dev);
	*out = v;
	return 0;

err_destroy:
	if (v->fd >= 0)
		close(v->fd);
	v->fd = -1;
	/* Only what this vblkd created: a device we failed to re-attach to stays. */
	if (!v->reattached && ioctl(v->ctl_fd, VDUSE_DESTROY_DEV, v->name))
		vb_err("vduse %s: VDUSE_DESTROY_DEV: %s", v->name, strerror(errno));
	vduse_inflight_close(v, false);
err_close:
	close(v->ctl_fd);
err_free:
	handle_free(v);
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

void vduse_dev_destroy(struct vduse_dev *v, bool remove)
{
	if (!v)
		return;
	if (v->thread_running) {
		if (eventfd_write(v->stop_fd, 1))
			vb_err("vduse %s: cannot stop the message thread: %s", v->name,
			       strerror(errno));
		pthread_join(v->thread, NULL);
		v->thread_running = false;
	}
	/* Workers raise interrupts through the device fd: stop them first. */
	vb_dev_pause(v->dev);
	if (v->fd >= 0)
		close(v->fd);
	v->fd = -1;
	if (remove && v->ctl_fd >= 0) {
		if (ioctl(v->ctl_fd, VDUSE_DESTROY_DEV, v->name)) {
			vb_err("vduse %s: VDUSE_DESTROY_DEV: %s", v->name, strerror(errno));
			remove = false; /* the device stays, and so does its in-flight file */
		} else {
			vb_info("vduse %s: destroyed", v->name);
		}
	}
	vduse_inflight_close(v, remove);
	if (v->ctl_fd >= 0)
		close(v->ctl_fd);
	if (v->stop_fd >= 0)
		close(v->stop_fd);
	handle_free(v);
}

int vduse_dev_ring_stop(void *opaque, unsigned int index, enum vb_suspend_mode mode,
			uint16_t *base)
{
	struct vduse_dev *v = opaque;

	vb_dev_lock(v->dev);
	v->held |= 1u << index;
	v->start_after_remap &= ~(1u << index);
	vduse_inflight_record(v);
	vb_dev_unlock(v->dev);
	/* Marked held first: nothing restarts it while it drains. */
	*base = vb_ring_stop_mode(&v->dev->rings[index], mode);
	vb_info("vduse %s: vq %u stopped at avail index %u (control socket)", v->name, index,
		*base);
	return 0;
}

int vduse_dev_ring_start(void *opaque, unsigned int index)
{
	struct vduse_dev *v = opaque;
	int ret = 0;

	vb_dev_lock(v->dev);
	if (!(v->held & (1u << index)))
		goto out;
	v->held &= ~(1u << index);
	vduse_inflight_record(v);
	vb_info("vduse %s: vq %u restarted (control socket)", v->name, index);
	if (v->remapping)
		v->start_after_remap |= 1u << index;
	else if (v->status & VIRTIO_CONFIG_S_DRIVER_OK)
		ret = queue_start(v, index);
out:
	vb_dev_unlock(v->dev);
	return ret;
}
