// SPDX-License-Identifier: GPL-2.0-or-later
/* The generic device: its rings and memory, and the device-wide operations transports use. */
#include "core/device.h"

#include <errno.h>
#include <string.h>
#include <linux/virtio_config.h>

#include "core/log.h"

int vb_dev_init(struct vb_device *d, const struct vb_device_ops *ops, unsigned int num_queues,
		unsigned int queue_size)
{
	if (!num_queues || num_queues > VB_MAX_QUEUES || !queue_size ||
	    queue_size > VB_VQ_MAX_SIZE || ops->req_size < sizeof(struct vb_req))
		return -EINVAL;
	memset(d, 0, sizeof(*d));
	d->ops = ops;
	d->num_queues = num_queues;
	d->queue_size = queue_size;
	pthread_mutex_init(&d->lock, NULL);
	vb_mem_init(&d->mem);
	for (unsigned int i = 0; i < VB_MAX_QUEUES; i++)
		vb_ring_init(&d->rings[i], d, i);
	return 0;
}

void vb_dev_fini(struct vb_device *d)
{
	vb_dev_reset(d, VB_RESET_ALL);
	for (unsigned int i = 0; i < VB_MAX_QUEUES; i++)
		vb_ring_fini(&d->rings[i]);
	pthread_mutex_destroy(&d->lock);
}

void vb_dev_lock(struct vb_device *d)
{
	pthread_mutex_lock(&d->lock);
}

void vb_dev_unlock(struct vb_device *d)
{
	pthread_mutex_unlock(&d->lock);
}

struct vb_ring *vb_dev_ring(struct vb_device *d, uint32_t index)
{
	if (index >= d->num_queues) {
		vb_err("vring index %u out of range (%u queues)", index, d->num_queues);
		return NULL;
	}
	return &d->rings[index];
}

uint64_t vb_dev_features(const struct vb_device *d)
{
	return d->ops->features(d);
}

void vb_dev_get_config(const struct vb_device *d, uint32_t offset, uint8_t *buf, uint32_t len)
{
	d->ops->get_config(d, offset, buf, len);
}

int vb_dev_set_config(struct vb_device *d, uint32_t offset, const uint8_t *buf, uint32_t len)
{
	return d->ops->set_config(d, offset, buf, len);
}

int vb_dev_set_features(struct vb_device *d, uint64_t features, bool log_all)
{
	uint32_t mask = vb_dev_pause(d);

	d->features = features;
	d->log_all = log_all;
	return vb_dev_resume(d, mask);
}

void vb_dev_set_driver_status(struct vb_device *d, uint8_t status)
{
	d->driver_status = status;
	if (!status)
		atomic_store(&d->status, 0); /* a driver reset clears NEEDS_RESET */
}

uint8_t vb_dev_status(const struct vb_device *d)
{
	return d->driver_status | atomic_load(&d->status);
}

void vb_dev_needs_reset(struct vb_device *d)
{
	atomic_fetch_or(&d->status, VIRTIO_CONFIG_S_NEEDS_RESET);
}

uint32_t vb_dev_pause(struct vb_device *d)
{
	uint32_t mask = 0;

	for (unsigned int i = 0; i < d->num_queues; i++)
		if (vb_ring_pause(&d->rings[i]))
			mask |= 1u << i;
	return mask;
}

uint32_t vb_dev_suspend(struct vb_device *d, enum vb_suspend_mode mode)
{
	uint32_t mask = 0;

	for (unsigned int i = 0; i < d->num_queues; i++) {
		struct vb_ring *r = &d->rings[i];

		if (!vb_ring_is_started(r))
			continue;
		vb_ring_stop_mode(r, mode);
		mask |= 1u << i;
	}
	return mask;
}

int vb_dev_set_throttle(struct vb_device *d, const struct vb_throttle_limits *l)
{
	if (!d->ops->set_throttle)
		return -EOPNOTSUPP;
	return d->ops->set_throttle(d, l);
}

void vb_dev_get_throttle(const struct vb_device *d, struct vb_throttle_limits *l)
{
	memset(l, 0, sizeof(*l));
	if (d->ops->get_throttle)
		d->ops->get_throttle(d, l);
}

int vb_dev_resume(struct vb_device *d, uint32_t mask)
{
	int ret = 0;

	for (unsigned int i = 0; i < d->num_queues; i++) {
		int r;

		if (!(mask & (1u << i)))
			continue;
		r = vb_ring_resume(&d->rings[i], true);
		if (r && !ret)
			ret = r;
	}
	return ret;
}

void vb_dev_reset(struct vb_device *d, enum vb_reset how)
{
	for (unsigned int i = 0; i < VB_MAX_QUEUES; i++)
		vb_ring_reset(&d->rings[i], how == VB_RESET_KEEP_RINGS);
	if (how == VB_RESET_ALL) {
		vb_mem_clear(&d->mem);
		vb_dirty_log_unmap(&d->dirty);
	}
	d->features = 0;
	d->log_all = false;
	vb_dev_set_driver_status(d, 0);
	if (d->ops->reset)
		d->ops->reset(d);
}

bool vb_dev_suspended(const struct vb_device *d)
{
	for (unsigned int i = 0; i < VB_MAX_QUEUES; i++)
		if (vb_ring_is_started(&d->rings[i]))
			return false;
	return true;
}
