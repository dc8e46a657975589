// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Files and block devices: each I/O is one entry on the ring's own io_uring,
 * whose completion the worker hands straight to the device; except writes
 * into the page cache, which the worker makes itself (file_write_inline()).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <linux/fs.h>

#include "backends/backend.h"
#include "core/device.h"
#include "core/log.h"

/*
 * A page-cache write that takes longer than this blocked (dirty-page
 * throttling, a full journal): the queue's writes then go through io_uring
 * for VB_FILE_INLINE_BACKOFF_NS, and the worker serves its reads meanwhile.
 */
#define VB_FILE_INLINE_MAX_NS 1000000ull
#define VB_FILE_INLINE_BACKOFF_NS 1000000000ull

struct file_backend {
	struct vb_backend b;
	int fd;
	bool direct;
	/* Per queue, its worker's only: when page-cache writes may run inline again. */
	uint64_t inline_after_ns[VB_MAX_QUEUES];
};

static int file_of(const struct vb_backend *b)
{
	return ((const struct file_backend *)b)->fd;
}

/*
 * A buffered write costs about 3 us as a pwritev() into the page cache, but
 * io_uring cannot issue it without blocking (ext4 refuses RWF_NOWAIT for
 * buffered writes), so it would hand each one to an io-wq thread: a
 * wake-up, a thread switch and a task-work completion, 5x the write. The
 * worker writes it itself. The guest sees what it saw before: the write
 * completes once the page cache holds it, and a FLUSH (fdatasync on the
 * io_uring) covers every write completed before it, inline or not.
 * Return: true when the write was made (its result went to io_done()).
 */
static bool file_write_inline(struct file_backend *f, struct vb_ring *r, struct vb_bio *bio)
{
	uint64_t *after = &f->inline_after_ns[r->index % VB_MAX_QUEUES];
	uint64_t t0 = vb_now_ns(), took;
	ssize_t n;
	int res;

	if (f->direct || bio->fua || t0 < *after)
		return false;
	vb_backend_order_acquire();
	n = pwritev(f->fd, bio->iov, bio->niov, (off_t)bio->offset);
	res = n < 0 ? -errno : (int)n;
	vb_backend_order_release();
	took = vb_now_ns() - t0;
	if (took > VB_FILE_INLINE_MAX_NS) {
		*after = t0 + took + VB_FILE_INLINE_BACKOFF_NS;
		vb_info("vq %u: a page-cache write blocked for %llu us; writes go through io_uring for a second",
			r->index, (unsigned long long)(took / 1000));
	}
	vb_ring_io_started(r);
	vb_ring_io_done(r, bio->req, res);
	return true;
}

static int file_submit(struct vb_backend *b, struct vb_ring *r, struct vb_bio *bio)
{
	struct io_uring_sqe *sqe;
	int fd = file_of(b);

	if (bio->op == VB_BIO_WRITE && file_write_inline((struct file_backend *)b, r, bio))
		return 0;
	if (vb_ring_get_sqes(r, &sqe, 1))
		return -EBUSY;
	switch (bio->op) {
	case VB_BIO_READ:
		io_uring_prep_readv(sqe, fd, bio->iov, bio->niov, bio->offset);
		break;
	case VB_BIO_WRITE:
		io_uring_prep_writev(sqe, fd, bio->iov, bio->niov, bio->offset);
		if (bio->fua)
			sqe->rw_flags = RWF_DSYNC;
		break;
	case VB_BIO_FLUSH:
		io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
		break;
	case VB_BIO_DISCARD:
		io_uring_prep_fallocate(sqe, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					bio->offset, bio->len);
		break;
	case VB_BIO_WRITE_ZEROES:
		io_uring_prep_fallocate(sqe, fd,
					(bio->unmap ? FALLOC_FL_PUNCH_HOLE : FALLOC_FL_ZERO_RANGE) |
						FALLOC_FL_KEEP_SIZE,
					bio->offset, bio->len);
		break;
	case VB_BIO_NONE:
		io_uring_prep_nop(sqe);
		break;
	}
	vb_ring_submitted(r, sqe, bio->req);
	return 0;
}

static int file_flush_sync(struct vb_backend *b)
{
	return fdatasync(file_of(b)) ? -errno : 0;
}

static int image_size(int fd, uint64_t *size);

/* Grow a regular file (sparse); a block device only serves up to its end. */
static int file_resize(struct vb_backend *b, uint64_t bytes)
{
	int fd = file_of(b);
	struct stat st;
	uint64_t size;
	int ret;

	if (fstat(fd, &st))
		return -errno;
	ret = image_size(fd, &size);
	if (ret)
		return ret;
	if (bytes <= size || !S_ISREG(st.st_mode))
		return bytes <= size ? 0 : -ENOSPC;
	if (b->read_only)
		return -EROFS;
	if (bytes > (uint64_t)INT64_MAX)
		return -EFBIG;
	if (ftruncate(fd, (off_t)bytes))
		return -errno;
	b->size = bytes;
	return 0;
}

static void file_close(struct vb_backend *b)
{
	close(file_of(b));
	free(b);
}

static const struct vb_backend_ops file_ops = {
	.kind = "file",
	.submit = file_submit,
	.resize = file_resize,
	.flush_sync = file_flush_sync,
	.close = file_close,
};

static int image_size(int fd, uint64_t *size)
{
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	if (S_ISBLK(st.st_mode))
		return ioctl(fd, BLKGETSIZE64, size) ? -errno : 0;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	*size = (uint64_t)st.st_size;
	return 0;
}

int vb_file_open(struct vb_backend **out, const char *path, const struct vb_backend_opts *o)
{
	/* No lock: during migration the destination opens the same image. */
	int flags = (o->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC | (o->direct ? O_DIRECT : 0);
	struct file_backend *f = calloc(1, sizeof(*f));
	int ret;

	if (!f)
		return -ENOMEM;
	f->fd = open(path, flags);
	if (f->fd < 0) {
		ret = -errno;
		vb_err("cannot open image %s: %s", path, strerror(-ret));
		free(f);
		return ret;
	}
	ret = image_size(f->fd, &f->b.size);
	if (ret) {
		vb_err("cannot size image %s: %s", path, strerror(-ret));
		close(f->fd);
		free(f);
		return ret;
	}
	f->b.ops = &file_ops;
	f->direct = o->direct;
	f->b.can_discard = true;
	f->b.can_write_zeroes = true;
	f->b.align = 1;
	*out = &f->b;
	return 0;
}
