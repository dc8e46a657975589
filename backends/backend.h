/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Storage back-ends behind one asynchronous interface (DESIGN.md "Three
 * seams"): a file or block device on the ring's io_uring, null, and, as
 * modules loaded when a disk names them, NBD (libnbd) and Ceph RBD
 * (librbd). A back-end is opened once per device; its I/O is started from
 * a ring's worker and its completions come back on that worker's loop,
 * either as io_uring completions or through an event the worker polls
 * (struct vb_ring_event), never on a thread per request.
 */
#ifndef VB_BACKEND_H
#define VB_BACKEND_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "core/ring.h"

#define VB_BACKEND_ID_MAX 256 /* the default disk identity (BLK_IMAGE_ID_MAX) */

enum vb_bio_op {
	VB_BIO_NONE,
	VB_BIO_READ,
	VB_BIO_WRITE,
	VB_BIO_FLUSH,
	VB_BIO_DISCARD,
	VB_BIO_WRITE_ZEROES
};

/*
 * One I/O, embedded in the device's request (no copy): its result goes to
 * the device's io_done() for @req, as bytes transferred or -errno.
 */
struct vb_bio {
	struct vb_req *req;
	enum vb_bio_op op;
	bool fua; /* a write that must be stable when it completes (writethrough) */
	bool unmap; /* write-zeroes may deallocate */
	uint16_t niov;
	const struct iovec *iov;
	uint64_t offset; /* bytes */
	uint64_t len; /* bytes */
	/* The back-end's, while the I/O runs. */
	void *owner;
	struct vb_bio *next;
	unsigned int parts;
	int err;
};

struct vb_backend_opts {
	bool read_only;
	bool direct; /* files: O_DIRECT */
	bool rbd_break_lock; /* RBD: break a dead client's exclusive lock at open */
	unsigned int num_queues;
};

struct vb_backend;

struct vb_backend_ops {
	const char *kind;
	/* On queue @r's worker: its loop begins or ends. Optional. */
	int (*queue_start)(struct vb_backend *b, struct vb_ring *r);
	void (*queue_stop)(struct vb_backend *b, struct vb_ring *r);
	/*
	 * Start @bio on @r's worker. Return: 0 when its result will come to
	 * io_done() (possibly before submit returns), or -errno when it was
	 * not started.
	 */
	int (*submit)(struct vb_backend *b, struct vb_ring *r, struct vb_bio *bio);
	/*
	 * Make the disk hold @bytes, for an online resize, under the device's
	 * lock; updates size. Optional: without it, a disk only serves up to
	 * the size it had at open (vb_backend_resize()).
	 */
	int (*resize)(struct vb_backend *b, uint64_t bytes);
	/* Make what was written stable (at exit): 0 or -errno. */
	int (*flush_sync)(struct vb_backend *b);
	void (*close)(struct vb_backend *b);
};

struct vb_backend {
	const struct vb_backend_ops *ops;
	const char *spec; /* as named on the command line: for messages */
	uint64_t size; /* bytes */
	bool can_discard;
	bool can_write_zeroes;
	bool read_only; /* asked for, or all the back-end allows */
	uint32_t align; /* smallest block the back-end serves unsplit, bytes */
	/* A stable identity for state checks, "" for none (files). */
	char id[VB_BACKEND_ID_MAX + 1];
};

/**
 * vb_backend_open() - open a disk named on the command line
 * @out:	the back-end
 * @spec:	a path, null:SIZE, nbd://..., nbd+unix://..., or rbd:POOL/IMAGE...
 * @o:		options
 *
 * Return: 0, -EINVAL for a malformed name, or -errno; one clear line logged.
 */
int vb_backend_open(struct vb_backend **out, const char *spec, const struct vb_backend_opts *o);

/**
 * vb_backend_close() - make writes stable and close
 * @b:		the back-end, or NULL
 *
 * Return: 0, or the -errno of the final flush (logged).
 */
int vb_backend_close(struct vb_backend *b);

/**
 * vb_backend_resize() - make the disk hold @bytes (an online resize)
 * @b:		the back-end, with the device's lock held
 * @bytes:	the new size
 *
 * A file grows (ftruncate) and a block device is refused beyond its end;
 * null takes any size; a disk without a resize op (NBD, RBD) serves any
 * size up to the one it had at open, and refuses more. Shrinking never
 * changes the disk itself.
 * Return: 0, -ENOSPC beyond a block device or a network disk, -EROFS to
 * grow a read-only file, or -errno. The caller logs.
 */
int vb_backend_resize(struct vb_backend *b, uint64_t bytes);

/**
 * vb_backend_parse_size() - a size with an optional K, M, G or T suffix
 * @s:		the text
 * @out:	bytes
 *
 * Return: 0 or -EINVAL.
 */
int vb_backend_parse_size(const char *s, uint64_t *out);

/*
 * The built-in back-ends, by file; each logs its own failure. NBD and RBD
 * are modules (backends/backend_module.h).
 */
int vb_file_open(struct vb_backend **out, const char *path, const struct vb_backend_opts *o);
int vb_null_open(struct vb_backend **out, const char *spec, const struct vb_backend_opts *o);

/**
 * vb_backend_arm_poll() - poll an fd once on the ring's io_uring
 * @r:		the ring, on its worker
 * @ev:		whose fn gets the poll result (revents or -errno)
 * @fd:		the fd
 * @events:	POLLIN, POLLOUT
 *
 * Return: 0, or -EBUSY when the submission queue is full.
 */
int vb_backend_arm_poll(struct vb_ring *r, struct vb_ring_event *ev, int fd, unsigned int events);

/*
 * Orders ThreadSanitizer cannot see, made visible to it (and costing nothing
 * outside a TSan build):
 * - a guest buffer one queue's back-end filled may be reused by another
 *   queue once the driver saw the completion: ordered through the rings, by
 *   a driver in another process;
 * - a request handed to a library's own thread (librbd's finisher) is
 *   ordered by that library's queues, which are not instrumented.
 * A back-end that touches guest data or requests outside io_uring calls
 * vb_backend_order_acquire() before it hands a buffer or request over and
 * after it receives one, and vb_backend_order_release() after it prepared
 * one and before it completes one.
 */
#ifdef __SANITIZE_THREAD__
extern _Atomic unsigned long vb_backend_order_clock;

static inline void vb_backend_order_acquire(void)
{
	(void)atomic_load_explicit(&vb_backend_order_clock, memory_order_acquire);
}

static inline void vb_backend_order_release(void)
{
	atomic_fetch_add_explicit(&vb_backend_order_clock, 1, memory_order_release);
}
#else
static inline void vb_backend_order_acquire(void)
{
}

static inline void vb_backend_order_release(void)
{
}
#endif

#endif
