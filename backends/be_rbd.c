// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Ceph RBD through librbd: rbd:POOL/IMAGE[@SNAP][:conf=PATH][:id=USER], one
 * image handle for all queues (two handles would pass the exclusive lock
 * back and forth). librbd completes I/O on its own finisher thread; the
 * completion callback only puts the request on its queue's list and wakes
 * that queue's eventfd (once per batch), which the queue's worker polls on
 * its io_uring and empties. rbd_set_image_notification() offers one eventfd
 * per image, so with several queues a worker would reap the others'
 * completions; a list per queue keeps each completion on its own worker.
 *
 * The librbd cache is off: a write that completes is on the OSDs, which is
 * what writethrough (FUA) needs and what a kill -9 must not lose.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <rados/librados.h>
#include <rbd/librbd.h>

#include "backends/backend.h"
#include "backends/backend_module.h"
#include "core/log.h"

struct rbd_queue {
	struct vb_ring_event ev;
	int efd;
	bool armed;
	pthread_mutex_t lock; /* done: librbd's thread adds, the worker takes */
	struct vb_bio *done;
};

struct rbd_backend {
	struct vb_backend b;
	rados_t cluster;
	rados_ioctx_t io;
	rbd_image_t image;
	unsigned int nq;
	struct rbd_queue q[];
};

static struct rbd_backend *rbd_of(struct vb_backend *b)
{
	return (struct rbd_backend *)b;
}

/* librbd's finisher thread: hand the request to its queue's worker. */
static void on_complete(rbd_completion_t c, void *arg)
{
	struct vb_bio *bio = arg;
	struct rbd_queue *q;
	uint64_t one = 1;
	bool wake;

	vb_backend_order_acquire();
	q = bio->owner;
	bio->err = (int)rbd_aio_get_return_value(c);
	rbd_aio_release(c);
	pthread_mutex_lock(&q->lock);
	wake = !q->done;
	bio->next = q->done;
	q->done = bio;
	pthread_mutex_unlock(&q->lock);
	if (wake && write(q->efd, &one, sizeof(one)) != sizeof(one))
		vb_err_rl("rbd: completion eventfd: %s", strerror(errno));
}

static void arm(struct rbd_queue *q, struct vb_ring *r)
{
	if (!q->armed && !vb_backend_arm_poll(r, &q->ev, q->efd, POLLIN))
		q->armed = true;
}

static void on_event(struct vb_ring *r, struct vb_ring_event *ev, int res)
{
	struct rbd_queue *q = (struct rbd_queue *)ev;
	struct vb_bio *bio;
	uint64_t n;

	q->armed = false;
	if (read(q->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		vb_err_rl("vq %u: rbd completion eventfd: %s", r->index, strerror(errno));
	pthread_mutex_lock(&q->lock);
	bio = q->done;
	q->done = NULL;
	pthread_mutex_unlock(&q->lock);
	if (bio)
		vb_backend_order_release();
	while (bio) {
		struct vb_bio *next = bio->next;
		int ret = bio->err;

		if (ret < 0) {
			vb_err_rl("vq %u: rbd I/O at offset %llu failed: %s", r->index,
				  (unsigned long long)bio->offset, strerror(-ret));
			ret = -EIO; /* never -ECANCELED: that is a capture's */
		} else if (bio->op == VB_BIO_READ || bio->op == VB_BIO_WRITE) {
			ret = (int)bio->len;
		}
		vb_ring_io_done(r, bio->req, ret);
		bio = next;
	}
	arm(q, r);
}

static int rbd_submit(struct vb_backend *b, struct vb_ring *r, struct vb_bio *bio)
{
	struct rbd_backend *rb = rbd_of(b);
	struct rbd_queue *q = &rb->q[r->index];
	rbd_completion_t c;
	int ret;

	vb_backend_order_acquire();
	bio->owner = q;
	vb_backend_order_release(); /* for on_complete() on librbd's thread */
	ret = rbd_aio_create_completion(bio, on_complete, &c);
	if (ret)
		return ret;
	switch (bio->op) {
	case VB_BIO_READ:
		ret = rbd_aio_readv(rb->image, bio->iov, bio->niov, bio->offset, c);
		break;
	case VB_BIO_WRITE:
		ret = rbd_aio_writev(rb->image, bio->iov, bio->niov, bio->offset, c);
		break;
	case VB_BIO_FLUSH:
		ret = rbd_aio_flush(rb->image, c);
		break;
	case VB_BIO_DISCARD:
		ret = rbd_aio_discard(rb->image, bio->offset, bio->len, c);
		break;
	case VB_BIO_WRITE_ZEROES:
		ret = rbd_aio_write_zeroes(rb->image, bio->offset, bio->len, c, 0, 0);
		break;
	default:
		ret = -EINVAL;
	}
	if (ret < 0) {
		rbd_aio_release(c);
		return ret;
	}
	vb_ring_io_started(r);
	arm(q, r);
	return 0;
}

static int rbd_queue_start(struct vb_backend *b, struct vb_ring *r)
{
	struct rbd_queue *q = &rbd_of(b)->q[r->index];

	q->armed = false; /* a new io_uring */
	arm(q, r);
	return q->armed ? 0 : -EBUSY;
}

static int rbd_flush_sync(struct vb_backend *b)
{
	return rbd_flush(rbd_of(b)->image);
}

static void rbd_close_all(struct vb_backend *b)
{
	struct rbd_backend *rb = rbd_of(b);

	if (rb->image)
		rbd_close(rb->image);
	if (rb->io)
		rados_ioctx_destroy(rb->io);
	if (rb->cluster)
		rados_shutdown(rb->cluster);
	for (unsigned int i = 0; i < rb->nq; i++) {
		if (rb->q[i].efd >= 0)
			close(rb->q[i].efd);
		pthread_mutex_destroy(&rb->q[i].lock);
	}
	free(rb);
}

static const struct vb_backend_ops rbd_ops = {
	.kind = "rbd",
	.queue_start = rbd_queue_start,
	.submit = rbd_submit,
	.flush_sync = rbd_flush_sync,
	.close = rbd_close_all,
};

struct rbd_spec {
	char buf[1024];
	const char *pool, *image, *snap, *conf, *id;
};

/* rbd:POOL/IMAGE[@SNAP][:conf=PATH][:id=USER] (QEMU's legacy syntax, without escapes). */
static int parse_spec(const char *spec, struct rbd_spec *s)
{
	char *p, *opt, *save = NULL;

	if ((size_t)snprintf(s->buf, sizeof(s->buf), "%s", spec + strlen("rbd:")) >= sizeof(s->buf))
		return -EINVAL;
	p = strtok_r(s->buf, ":", &save);
	if (!p)
		return -EINVAL;
	s->pool = p;
	p = strchr(p, '/');
	if (!p)
		return -EINVAL;
	*p++ = '\0';
	s->image = p;
	p = strchr(p, '@');
	if (p) {
		*p++ = '\0';
		s->snap = p;
	}
	if (!*s->pool || !*s->image || (s->snap && !*s->snap) || strchr(s->image, '/'))
		return -EINVAL;
	while ((opt = strtok_r(NULL, ":", &save))) {
		if (!strncmp(opt, "conf=", 5) && opt[5])
			s->conf = opt + 5;
		else if (!strncmp(opt, "id=", 3) && opt[3])
			s->id = opt + 3;
		else
			return -EINVAL;
	}
	return 0;
}

/* Settings before the configuration file, which may override them. */
static const char *const rados_defaults[][2] = {
	{ "log_to_stderr", "false" }, /* vblkd logs one line per failure itself */
	{ "err_to_stderr", "false" },
	{ "client_mount_timeout", "10" }, /* a cluster that is not there: fail at start */
};

static int connect_cluster(struct rbd_backend *rb, const struct rbd_spec *s, const char *spec)
{
	int ret = rados_create(&rb->cluster, s->id);

	if (ret) {
		vb_err("image %s: rados_create: %s", spec, strerror(-ret));
		return ret;
	}
	for (size_t i = 0; i < sizeof(rados_defaults) / sizeof(rados_defaults[0]); i++)
		rados_conf_set(rb->cluster, rados_defaults[i][0], rados_defaults[i][1]);
	ret = rados_conf_read_file(rb->cluster, s->conf);
	if (ret) {
		vb_err("image %s: cannot read Ceph configuration %s: %s", spec,
		       s->conf ?: "(default search path)", strerror(-ret));
		return ret;
	}
	rados_conf_parse_env(rb->cluster, NULL); /* CEPH_ARGS */
	rados_conf_set(rb->cluster, "rbd_cache", "false"); /* whatever the file says */
	ret = rados_connect(rb->cluster);
	if (ret) {
		vb_err("image %s: cannot connect to the Ceph cluster: %s", spec, strerror(-ret));
		return ret;
	}
	ret = rados_ioctx_create(rb->cluster, s->pool, &rb->io);
	if (ret) {
		vb_err("image %s: pool %s: %s", spec, s->pool, strerror(-ret));
		rb->io = NULL;
	}
	return ret;
}

/*
 * --rbd-break-lock: a vblkd killed with -9 leaves its exclusive lock, and the
 * next writer waits ~30 s for the dead client's watch to time out. Breaking
 * the lock blocklists the dead client (rbd_blocklist_on_break_lock), so it
 * cannot write after us even if it was only stalled.
 */
static void break_stale_lock(struct rbd_backend *rb, const char *spec)
{
	char *owners[8];
	size_t n = 8;
	rbd_lock_mode_t mode;
	int ret = rbd_lock_get_owners(rb->image, &mode, owners, &n);

	if (ret) {
		if (ret != -ENOENT)
			vb_warn("image %s: cannot read the lock owners: %s", spec, strerror(-ret));
		return;
	}
	for (size_t i = 0; i < n; i++) {
		ret = rbd_lock_break(rb->image, mode, owners[i]);
		if (ret)
			vb_warn("image %s: cannot break the lock of %s: %s", spec, owners[i],
				strerror(-ret));
		else
			vb_info("image %s: broke the lock of %s (blocklisted)", spec, owners[i]);
	}
	rbd_lock_get_owners_cleanup(owners, n);
}

static int open_image(struct rbd_backend *rb, const struct rbd_spec *s, const char *spec,
		      const struct vb_backend_opts *o)
{
	uint64_t size;
	int ret;

	if (o->read_only || s->snap)
		ret = rbd_open_read_only(rb->io, s->image, &rb->image, s->snap);
	else
		ret = rbd_open(rb->io, s->image, &rb->image, NULL);
	if (ret) {
		rb->image = NULL;
		vb_err("image %s: cannot open %s/%s%s%s: %s", spec, s->pool, s->image,
		       s->snap ? "@" : "", s->snap ?: "", strerror(-ret));
		return ret;
	}
	ret = rbd_get_size(rb->image, &size);
	if (ret) {
		vb_err("image %s: cannot size it: %s", spec, strerror(-ret));
		return ret;
	}
	rb->b.size = size;
	rb->b.read_only = o->read_only || s->snap;
	if (o->rbd_break_lock && !rb->b.read_only)
		break_stale_lock(rb, spec);
	return 0;
}

static int rbd_backend_open(struct vb_backend **out, const char *spec,
			    const struct vb_backend_opts *o)
{
	unsigned int nq = o->num_queues ? o->num_queues : 1;
	struct rbd_backend *rb;
	struct rbd_spec s = { 0 };
	int ret;

	if (parse_spec(spec, &s)) {
		vb_err("image %s: expected rbd:POOL/IMAGE[@SNAP][:conf=PATH][:id=USER]", spec);
		return -EINVAL;
	}
	rb = calloc(1, sizeof(*rb) + nq * sizeof(rb->q[0]));
	if (!rb)
		return -ENOMEM;
	rb->b.ops = &rbd_ops;
	rb->nq = nq;
	for (unsigned int i = 0; i < nq; i++) {
		rb->q[i].ev.fn = on_event;
		rb->q[i].efd = -1;
		pthread_mutex_init(&rb->q[i].lock, NULL);
	}
	for (unsigned int i = 0; i < nq; i++) {
		rb->q[i].efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (rb->q[i].efd < 0) {
			ret = -errno;
			vb_err("image %s: eventfd: %s", spec, strerror(-ret));
			goto err;
		}
	}
	ret = connect_cluster(rb, &s, spec);
	if (ret)
		goto err;
	ret = open_image(rb, &s, spec, o);
	if (ret)
		goto err;
	rb->b.can_discard = true;
	rb->b.can_write_zeroes = true;
	rb->b.align = 512;
	snprintf(rb->b.id, sizeof(rb->b.id), "rbd:%s/%s%s%s", s.pool, s.image, s.snap ? "@" : "",
		 s.snap ?: "");
	*out = &rb->b;
	return 0;

err:
	rbd_close_all(&rb->b);
	return ret;
}

/* vblkd-backend-rbd.so: loaded when a disk names RBD (backends/backend_module.h). */
VB_BACKEND_MODULE_EXPORT const struct vb_backend_module vb_backend_module = {
	.abi = VB_BACKEND_MODULE_ABI,
	.name = "rbd",
	.open = rbd_backend_open,
};
