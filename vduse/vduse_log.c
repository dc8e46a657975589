// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The in-flight log: DIR/NAME.inflight holds a header and one in-flight
 * region per queue (core/inflight.h layout), mapped MAP_SHARED so what the
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

#include "core/inflight.h"
#include "core/log.h"
#include "vduse/vduse_dev.h"

#define VDUSE_LOG_MAGIC 0x676f6c2d6b6c6276ull /* "vblk-log" */
#define VDUSE_LOG_VERSION 2

_Static_assert(sizeof(struct vduse_log_header) == 64, "log header is one cache line");

static size_t log_len(const struct blk_dev *blk)
{
	return sizeof(struct vduse_log_header) +
	       blk->opts.num_queues * vb_inflight_queue_size((uint16_t)blk->opts.queue_size);
}

static bool header_matches(const struct vduse_log_header *h, const struct blk_dev *blk)
{
	return h->magic == VDUSE_LOG_MAGIC && h->version == VDUSE_LOG_VERSION &&
	       h->num_queues == blk->opts.num_queues && h->queue_size == blk->opts.queue_size;
}

int vduse_log_open(struct vduse_dev *v, bool keep)
{
	char path[PATH_MAX];
	size_t len = log_len(v->blk);
	struct stat st;
	void *base;
	int fd, ret;

	if (snprintf(path, sizeof(path), "%s/%s.inflight", v->state_dir, v->name) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		ret = -errno;
		vb_err("vduse %s: cannot open the in-flight log %s: %s", v->name, path,
		       strerror(-ret));
		return ret;
	}
	if (keep && (fstat(fd, &st) || (size_t)st.st_size != len)) {
		vb_warn("vduse %s: %s does not fit this device; starting an empty log", v->name,
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
	v->log = base;
	v->log_len = len;
	if (keep && !header_matches(v->log, v->blk)) {
		vb_warn("vduse %s: %s belongs to another geometry; starting an empty log", v->name,
			path);
		memset(base, 0, len);
		keep = false;
	}
	if (!keep) {
		v->log->magic = VDUSE_LOG_MAGIC;
		v->log->version = VDUSE_LOG_VERSION;
		v->log->num_queues = (uint16_t)v->blk->opts.num_queues;
		v->log->queue_size = (uint16_t)v->blk->opts.queue_size;
	}
	vb_info("vduse %s: in-flight log %s%s", v->name, path, keep ? " (kept)" : "");
	return 0;
err:
	vb_err("vduse %s: cannot set up the in-flight log %s: %s", v->name, path, strerror(-ret));
	close(fd);
	return ret;
}

struct vb_inflight_queue *vduse_log_queue(struct vduse_dev *v, unsigned int index)
{
	uint8_t *p = (uint8_t *)(v->log + 1);

	return (struct vb_inflight_queue *)(p + index * vb_inflight_queue_size(
							    (uint16_t)v->blk->opts.queue_size));
}

void vduse_log_record(struct vduse_dev *v)
{
	if (!v->log)
		return;
	v->log->features = v->blk->features;
	v->log->driver_status = v->status;
	v->log->suspended = v->suspended;
	v->log->held = v->held;
}

void vduse_log_reset(struct vduse_dev *v)
{
	if (!v->log)
		return;
	memset(v->log + 1, 0, v->log_len - sizeof(*v->log));
}

void vduse_log_close(struct vduse_dev *v, bool remove)
{
	char path[PATH_MAX];

	if (!v->log)
		return;
	munmap(v->log, v->log_len);
	v->log = NULL;
	if (remove && snprintf(path, sizeof(path), "%s/%s.inflight", v->state_dir, v->name) <
			      (int)sizeof(path))
		unlink(path);
}
