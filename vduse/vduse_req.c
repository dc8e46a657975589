// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The kernel's requests to a VDUSE device (GET_VQ_STATE, SET_STATUS,
 * UPDATE_IOTLB, SET_VQ_READY, SUSPEND, SET_VQ_GROUP_ASID), each answered
 * with the device's lock held except while rings drain, and the ring
 * control the compatibility endpoint uses on kernels without VDUSE_SUSPEND.
 */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/virtio_config.h>

#include "core/log.h"
#include "vduse/vduse_int.h"

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

void vduse_driver_ok(struct vduse_dev *v)
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
		vduse_driver_ok(v);
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

int vduse_dev_ring_stop(void *opaque, unsigned int index, enum vb_suspend_mode mode, uint16_t *base)
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
