// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The in-flight file: DIR/NAME.inflight holds a header and one in-flight
 * region per queue (proto/inflight.h layout), mapped MAP_SHARED so what the
 * workers record survives a kill -9 of vblkd in the page cache.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "vduse/vduse_int.h"

#define VDUSE_INFLIGHT_MAGIC 0x676f6c2d6b6c6276ull /* "vblk-log" */
#define VDUSE_INFLIGHT_VERSION 2

_Static_assert(sizeof(struct vduse_inflight_header) == 64, "the header is one cache line");

static size_t file_len(const struct vb_device *dev)
{
	return sizeof(struct vduse_inflight_header) +
	       dev->num_queues * vb_inflight_queue_size((uint16_t)dev->queue_size);
}

static bool header_matches(const struct vduse_inflight_header *h, const struct vb_device *dev)
{
	return h->magic == VDUSE_INFLIGHT_MAGIC && h->version == VDUSE_INFLIGHT_VERSION &&
	       h->num_queues == dev->num_queues && h->queue_size == dev->queue_size;
}

int vduse_inflight_open(struct vduse_dev *v, bool keep)
{
	char path[PATH_MAX];
	size_t len = file_len(v->dev);
	struct stat st;
	void *base;
	int fd, ret;

	if (snprintf(path, sizeof(path), "%s/%s.inflight", v->state_dir, v->name) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		ret = -errno;
		vb_err("vduse %s: cannot open the in-flight file %s: %s", v->name, path,
		       strerror(-ret));
		return ret;
	}
	if (keep && (fstat(fd, &st) || (size_t)st.st_size != len)) {
		vb_warn("vduse %s: %s does not fit this device; starting an empty file", v->name,
			path);
		keep = false;
	}
	/* A new device starts from nothing: zero the file by truncating it. */
	if (!keep && (ftruncate(fd, 0) || ftruncate(fd, (off_t)len))) {
		ret = -errno;
		goto err;
	}
	base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED) {
		ret = -errno;
		goto err;
	}
	close(fd);
	v->inflight = base;
	v->inflight_len = len;
	if (keep && !header_matches(v->inflight, v->dev)) {
		vb_warn("vduse %s: %s belongs to another geometry; starting an empty file", v->name,
			path);
		memset(base, 0, len);
		keep = false;
	}
	if (!keep) {
		v->inflight->magic = VDUSE_INFLIGHT_MAGIC;
		v->inflight->version = VDUSE_INFLIGHT_VERSION;
		v->inflight->num_queues = (uint16_t)v->dev->num_queues;
		v->inflight->queue_size = (uint16_t)v->dev->queue_size;
	}
	vb_info("vduse %s: in-flight file %s%s", v->name, path, keep ? " (kept)" : "");
	return 0;
err:
	vb_err("vduse %s: cannot set up the in-flight file %s: %s", v->name, path, strerror(-ret));
	close(fd);
	return ret;
}

struct vb_inflight_queue *vduse_inflight_queue(struct vduse_dev *v, unsigned int index)
{
	uint8_t *p = (uint8_t *)(v->inflight + 1);

	return (struct vb_inflight_queue *)(p + index * vb_inflight_queue_size(
								(uint16_t)v->dev->queue_size));
}

void vduse_inflight_record(struct vduse_dev *v)
{
	if (!v->inflight)
		return;
	v->inflight->features = v->dev->features;
	v->inflight->driver_status = v->status;
	v->inflight->suspended = v->suspended;
	v->inflight->held = v->held;
}

void vduse_inflight_reset(struct vduse_dev *v)
{
	if (!v->inflight)
		return;
	memset(v->inflight + 1, 0, v->inflight_len - sizeof(*v->inflight));
}

void vduse_inflight_close(struct vduse_dev *v, bool remove)
{
	char path[PATH_MAX];

	if (!v->inflight)
		return;
	munmap(v->inflight, v->inflight_len);
	v->inflight = NULL;
	if (remove && snprintf(path, sizeof(path), "%s/%s.inflight", v->state_dir, v->name) <
			      (int)sizeof(path))
		unlink(path);
}
