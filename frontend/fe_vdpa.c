// SPDX-License-Identifier: GPL-2.0-or-later
/* vhost-vdpa client: device ioctls and IOTLB messages. */
#include "frontend/fe_vdpa.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/virtio_config.h>

#include "frontend/fe_mem.h"
#include "proto/vduse_abi.h"

#define FE_VDPA_CONFIG_MAX 4096u

/* The one place an ioctl's errno becomes a return value. */
static int fe_vdpa_ioctl(struct fe_vdpa *v, unsigned long req, void *arg)
{
	if (v->fd < 0)
		return -EBADF;
	if (ioctl(v->fd, req, arg) < 0)
		return -errno;
	return 0;
}

static int fe_vdpa_backend_setup(struct fe_vdpa *v)
{
	const uint64_t optional = 1ull << VHOST_BACKEND_F_IOTLB_BATCH |
				  1ull << VHOST_BACKEND_F_SUSPEND | 1ull << VHOST_BACKEND_F_RESUME;
	const uint64_t required = 1ull << VHOST_BACKEND_F_IOTLB_MSG_V2;
	uint64_t ack;
	int ret;

	ret = fe_vdpa_ioctl(v, VHOST_GET_BACKEND_FEATURES, &v->backend_offered);
	if (ret)
		return ret;
	if ((v->backend_offered & required) != required)
		return -EPROTO;
	ack = v->backend_offered & (required | optional);
	ret = fe_vdpa_ioctl(v, VHOST_SET_BACKEND_FEATURES, &ack);
	if (ret)
		return ret;
	v->backend_acked = ack;
	return 0;
}

/* What the device offers: features, queues, config size, IOVA range. */
static int fe_vdpa_probe(struct fe_vdpa *v)
{
	struct vhost_vdpa_iova_range range;
	int ret;

	ret = fe_vdpa_ioctl(v, VHOST_VDPA_GET_DEVICE_ID, &v->device_id);
	if (ret)
		return ret;
	ret = fe_vdpa_ioctl(v, VHOST_GET_FEATURES, &v->features);
	if (ret)
		return ret;
	ret = fe_vdpa_ioctl(v, VHOST_VDPA_GET_VQS_COUNT, &v->nvqs);
	if (ret)
		return ret;
	ret = fe_vdpa_ioctl(v, VHOST_VDPA_GET_VRING_NUM, &v->vring_max);
	if (ret)
		return ret;
	/* Both came later than the rest; without them, assume no limits. */
	if (fe_vdpa_ioctl(v, VHOST_VDPA_GET_CONFIG_SIZE, &v->config_size))
		v->config_size = 0;
	if (fe_vdpa_ioctl(v, VHOST_VDPA_GET_IOVA_RANGE, &range)) {
		range.first = 0;
		range.last = UINT64_MAX;
	}
	v->iova_first = range.first;
	v->iova_last = range.last;
	return 0;
}

int fe_vdpa_open(struct fe_vdpa *v, const char *path)
{
	int ret;

	memset(v, 0, sizeof(*v));
	v->fd = open(path, O_RDWR | O_CLOEXEC);
	if (v->fd < 0) {
		ret = -errno;
		v->fd = -1;
		return ret;
	}
	ret = fe_vdpa_ioctl(v, VHOST_SET_OWNER, NULL);
	if (ret)
		goto err_close;
	ret = fe_vdpa_backend_setup(v);
	if (ret)
		goto err_close;
	ret = fe_vdpa_probe(v);
	if (ret)
		goto err_close;
	return 0;

err_close:
	fe_vdpa_close(v);
	return ret;
}

void fe_vdpa_close(struct fe_vdpa *v)
{
	if (v->fd >= 0)
		close(v->fd);
	v->fd = -1;
	v->map_size = 0;
	v->suspended = false;
}

int fe_vdpa_get_status(struct fe_vdpa *v, uint8_t *status)
{
	return fe_vdpa_ioctl(v, VHOST_VDPA_GET_STATUS, status);
}

int fe_vdpa_set_status(struct fe_vdpa *v, uint8_t status)
{
	return fe_vdpa_ioctl(v, VHOST_VDPA_SET_STATUS, &status);
}

int fe_vdpa_add_status(struct fe_vdpa *v, uint8_t bits)
{
	uint8_t status;
	int ret;

	ret = fe_vdpa_get_status(v, &status);
	if (ret)
		return ret;
	ret = fe_vdpa_set_status(v, status | bits);
	if (ret)
		return ret;
	ret = fe_vdpa_get_status(v, &status);
	if (ret)
		return ret;
	return (status & bits) == bits ? 0 : -EIO;
}

int fe_vdpa_reset(struct fe_vdpa *v)
{
	int ret;

	ret = fe_vdpa_set_status(v, 0);
	if (!ret)
		v->suspended = false;
	return ret;
}

int fe_vdpa_negotiate(struct fe_vdpa *v, uint64_t want, uint64_t *acked)
{
	const uint64_t required = 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_F_ACCESS_PLATFORM;
	uint64_t ack;
	int ret;

	if ((v->features & required) != required)
		return -EPROTO;
	ret = fe_vdpa_add_status(v, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	if (ret)
		return ret;
	ack = v->features & (want | required);
	ret = fe_vdpa_ioctl(v, VHOST_SET_FEATURES, &ack);
	if (ret)
		return ret;
	ret = fe_vdpa_add_status(v, VIRTIO_CONFIG_S_FEATURES_OK);
	if (ret)
		return ret == -EIO ? -EPROTO : ret;
	v->acked = ack;
	if (acked)
		*acked = ack;
	return 0;
}

int fe_vdpa_get_config(struct fe_vdpa *v, uint32_t offset, void *buf, uint32_t len)
{
	struct vhost_vdpa_config *c;
	int ret;

	if (!len || len > FE_VDPA_CONFIG_MAX)
		return -EINVAL;
	if (v->config_size && (offset > v->config_size || len > v->config_size - offset))
		return -E2BIG;
	c = calloc(1, sizeof(*c) + len);
	if (!c)
		return -ENOMEM;
	c->off = offset;
	c->len = len;
	ret = fe_vdpa_ioctl(v, VHOST_VDPA_GET_CONFIG, c);
	if (!ret)
		memcpy(buf, c->buf, len);
	free(c);
	return ret;
}

/* One IOTLB message; the kernel takes a whole message per write() or none. */
static int fe_vdpa_iotlb(struct fe_vdpa *v, uint8_t type, uint64_t iova, uint64_t size,
			 uint64_t uaddr, uint8_t perm)
{
	struct vhost_msg_v2 msg;
	ssize_t n;

	if (v->fd < 0)
		return -EBADF;
	memset(&msg, 0, sizeof(msg));
	msg.type = VHOST_IOTLB_MSG_V2;
	msg.iotlb.type = type;
	msg.iotlb.iova = iova;
	msg.iotlb.size = size;
	msg.iotlb.uaddr = uaddr;
	msg.iotlb.perm = perm;
	do {
		n = write(v->fd, &msg, sizeof(msg));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == (ssize_t)sizeof(msg) ? 0 : -EIO;
}

static int fe_vdpa_check_range(const struct fe_vdpa *v, uint64_t iova, uint64_t size)
{
	if (!size || iova + size - 1 < iova)
		return -EINVAL;
	if (iova < v->iova_first || iova + size - 1 > v->iova_last)
		return -ERANGE;
	return 0;
}

int fe_vdpa_map(struct fe_vdpa *v, uint64_t iova, uint64_t size, uint64_t uaddr, uint8_t perm)
{
	int ret;

	ret = fe_vdpa_check_range(v, iova, size);
	if (ret)
		return ret;
	return fe_vdpa_iotlb(v, VHOST_IOTLB_UPDATE, iova, size, uaddr, perm);
}

int fe_vdpa_unmap(struct fe_vdpa *v, uint64_t iova, uint64_t size)
{
	if (!size || iova + size - 1 < iova)
		return -EINVAL;
	return fe_vdpa_iotlb(v, VHOST_IOTLB_INVALIDATE, iova, size, 0, 0);
}

int fe_vdpa_map_mem(struct fe_vdpa *v, const struct fe_mem *mem)
{
	bool batch = fe_vdpa_backend_has(v, VHOST_BACKEND_F_IOTLB_BATCH);
	int ret, end;

	ret = fe_vdpa_check_range(v, mem->gpa, mem->size);
	if (ret)
		return ret;
	if (batch) {
		ret = fe_vdpa_iotlb(v, VHOST_IOTLB_BATCH_BEGIN, 0, 0, 0, 0);
		if (ret)
			return ret;
	}
	/*
	 * Only what we mapped before: an invalidate ahead of the first update
	 * finds no address space and fails.
	 */
	if (v->map_size)
		ret = fe_vdpa_unmap(v, v->map_iova, v->map_size);
	if (!ret) {
		v->map_size = 0;
		ret = fe_vdpa_map(v, mem->gpa, mem->size, fe_mem_uaddr(mem->va), VHOST_ACCESS_RW);
	}
	if (!ret) {
		v->map_iova = mem->gpa;
		v->map_size = mem->size;
	}
	if (!batch)
		return ret;
	/* End the batch even after a failure, or the device never sees a map again. */
	end = fe_vdpa_iotlb(v, VHOST_IOTLB_BATCH_END, 0, 0, 0, 0);
	return ret ? ret : end;
}

static int fe_vdpa_vring_state(struct fe_vdpa *v, unsigned long req, unsigned int index,
			       unsigned int num)
{
	struct vhost_vring_state s = { .index = index, .num = num };

	return fe_vdpa_ioctl(v, req, &s);
}

static int fe_vdpa_vring_file(struct fe_vdpa *v, unsigned long req, unsigned int index, int fd)
{
	struct vhost_vring_file f = { .index = index, .fd = fd };

	return fe_vdpa_ioctl(v, req, &f);
}

int fe_vdpa_set_vring_num(struct fe_vdpa *v, unsigned int index, unsigned int num)
{
	if (v->vring_max && num > v->vring_max)
		return -ERANGE;
	return fe_vdpa_vring_state(v, VHOST_SET_VRING_NUM, index, num);
}

int fe_vdpa_set_vring_addr(struct fe_vdpa *v, unsigned int index, uint64_t desc, uint64_t avail,
			   uint64_t used)
{
	struct vhost_vring_addr a = {
		.index = index,
		.desc_user_addr = desc,
		.avail_user_addr = avail,
		.used_user_addr = used,
	};

	return fe_vdpa_ioctl(v, VHOST_SET_VRING_ADDR, &a);
}

int fe_vdpa_set_vring_base(struct fe_vdpa *v, unsigned int index, uint16_t base)
{
	return fe_vdpa_vring_state(v, VHOST_SET_VRING_BASE, index, base);
}

int fe_vdpa_get_vring_base(struct fe_vdpa *v, unsigned int index, uint16_t *base)
{
	struct vhost_vring_state s = { .index = index };
	int ret;

	ret = fe_vdpa_ioctl(v, VHOST_GET_VRING_BASE, &s);
	if (ret)
		return ret;
	if (s.index != index || s.num > UINT16_MAX)
		return -EPROTO;
	*base = (uint16_t)s.num;
	return 0;
}

int fe_vdpa_set_vring_kick(struct fe_vdpa *v, unsigned int index, int fd)
{
	return fe_vdpa_vring_file(v, VHOST_SET_VRING_KICK, index, fd);
}

int fe_vdpa_set_vring_call(struct fe_vdpa *v, unsigned int index, int fd)
{
	return fe_vdpa_vring_file(v, VHOST_SET_VRING_CALL, index, fd);
}

int fe_vdpa_set_vring_enable(struct fe_vdpa *v, unsigned int index, bool enable)
{
	return fe_vdpa_vring_state(v, VHOST_VDPA_SET_VRING_ENABLE, index, enable);
}

int fe_vdpa_suspend(struct fe_vdpa *v)
{
	uint8_t status;
	int ret;

	if (!fe_vdpa_backend_has(v, VHOST_BACKEND_F_SUSPEND))
		return -EOPNOTSUPP;
	ret = fe_vdpa_get_status(v, &status);
	if (ret)
		return ret;
	if (!(status & VIRTIO_CONFIG_S_DRIVER_OK))
		return -EINVAL;
	ret = fe_vdpa_ioctl(v, VHOST_VDPA_SUSPEND, NULL);
	if (!ret)
		v->suspended = true;
	return ret;
}

int fe_vdpa_resume(struct fe_vdpa *v)
{
	int ret;

	if (!fe_vdpa_backend_has(v, VHOST_BACKEND_F_RESUME))
		return -EOPNOTSUPP;
	ret = fe_vdpa_ioctl(v, VHOST_VDPA_RESUME, NULL);
	if (!ret)
		v->suspended = false;
	return ret;
}
