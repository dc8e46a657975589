// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * VDUSE device lifetime: API and feature negotiation, creation or
 * re-attachment, and the message thread. The requests it answers, and the
 * compatibility endpoint's ring control, are in vduse_req.c.
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
		vduse_driver_ok(v);
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

int vduse_dev_config_changed(void *opaque)
{
	struct vduse_dev *v = opaque;
	uint32_t len = v->dev->ops->config_size;
	struct vduse_config_data *c = calloc(1, sizeof(*c) + len);
	int ret = 0;

	if (!c)
		return -ENOMEM;
	c->length = len;
	/* The kernel keeps its own copy of the config space: refresh it, then tell the driver. */
	vb_dev_lock(v->dev);
	vb_dev_get_config(v->dev, 0, c->buffer, len);
	vb_dev_unlock(v->dev);
	if (ioctl(v->fd, VDUSE_DEV_SET_CONFIG, c) || ioctl(v->fd, VDUSE_DEV_INJECT_CONFIG_IRQ)) {
		ret = -errno;
		vb_err("vduse %s: updating the config space: %s", v->name, strerror(-ret));
	}
	free(c);
	return ret;
}
