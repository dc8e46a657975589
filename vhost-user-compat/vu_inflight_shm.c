// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The in-flight region shared with the front-end (INFLIGHT_SHMFD): created
 * by GET_INFLIGHT_FD, handed back by SET_INFLIGHT_FD after a reconnect.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/device.h"
#include "core/log.h"
#include "vhost-user-compat/vu_int.h"

/* Rings larger than --queue-size would be refused at SET_VRING_NUM anyway. */
static int check_geometry(const struct vu_server *s, uint16_t num_queues, uint16_t queue_size)
{
	if (!num_queues || num_queues > s->dev->num_queues || !queue_size ||
	    queue_size > s->dev->queue_size) {
		vb_err("in-flight region for %u queues of %u is not possible here (max %u of %u)",
		       num_queues, queue_size, s->dev->num_queues, s->dev->queue_size);
		return -EINVAL;
	}
	return 0;
}

/* Hand the queues their slices of the mapping, while none is running. */
static int attach(struct vu_server *s, struct vb_map *map, uint16_t nq, uint16_t qs)
{
	uint64_t per_queue = vb_inflight_queue_size(qs);
	uint32_t mask;

	/* A ring the region cannot track is refused here, leaving everything as it was. */
	for (uint16_t i = 0; i < nq; i++) {
		if (s->dev->rings[i].num > qs) {
			vb_err("in-flight region for rings of %u, but vring %u holds %u", qs, i,
			       s->dev->rings[i].num);
			vb_unmap(map);
			return -EINVAL;
		}
	}
	mask = vb_dev_pause(s->dev);

	vu_inflight_release(s);
	s->inflight = (struct vu_inflight_shm){ *map, nq, qs };
	for (uint16_t i = 0; i < nq; i++)
		vb_ring_set_inflight(&s->dev->rings[i],
				     (struct vb_inflight_queue *)(map->at + i * per_queue), qs);
	return vb_dev_resume(s->dev, mask);
}

int vu_inflight_create(struct vu_server *s, struct vu_inflight *req, int *fd_out)
{
	struct vb_map map;
	uint64_t len;
	int fd, ret;

	ret = check_geometry(s, req->num_queues, req->queue_size);
	if (ret)
		return ret;
	len = vb_inflight_queue_size(req->queue_size) * req->num_queues;
	fd = memfd_create("vblkd-inflight", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)len)) {
		ret = -errno;
		goto err_close;
	}
	/* The region must keep its size for as long as anyone maps it. */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL)) {
		ret = -errno;
		vb_err("cannot seal the in-flight region: %s", strerror(-ret));
		goto err_close;
	}
	ret = vb_map_fd(&map, fd, 0, len, "in-flight region");
	if (ret)
		goto err_close;
	ret = attach(s, &map, req->num_queues, req->queue_size);
	req->mmap_size = len;
	req->mmap_offset = 0;
	if (ret) {
		close(fd);
		return ret;
	}
	*fd_out = fd;
	return 0;

err_close:
	close(fd);
	return ret;
}

int vu_inflight_attach_take_fd(struct vu_server *s, const struct vu_inflight *req, int fd)
{
	struct vb_map map;
	uint64_t want;
	int ret;

	ret = check_geometry(s, req->num_queues, req->queue_size);
	if (ret)
		goto out_close;
	want = vb_inflight_queue_size(req->queue_size) * req->num_queues;
	if (req->mmap_size != want || req->mmap_offset > SIZE_MAX - want) {
		vb_err("in-flight region of %llu bytes, expected %llu",
		       (unsigned long long)req->mmap_size, (unsigned long long)want);
		ret = -EINVAL;
		goto out_close;
	}
	ret = vb_map_fd(&map, fd, req->mmap_offset, want, "in-flight region");
	if (ret) {
		vb_err("cannot map the in-flight region: %s", strerror(-ret));
		goto out_close;
	}
	ret = attach(s, &map, req->num_queues, req->queue_size);
out_close:
	close(fd);
	return ret;
}

void vu_inflight_release(struct vu_server *s)
{
	for (unsigned int i = 0; i < VB_MAX_QUEUES; i++)
		vb_ring_set_inflight(&s->dev->rings[i], NULL, 0);
	vb_unmap(&s->inflight.map);
	s->inflight.num_queues = 0;
	s->inflight.queue_size = 0;
}
