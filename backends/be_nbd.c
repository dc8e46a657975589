// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * NBD through libnbd: one connection per queue, driven by its worker. The
 * socket is polled on the ring's io_uring (POLLIN always, POLLOUT while
 * libnbd has bytes to send); a poll completion runs libnbd's state machine,
 * whose command callbacks only collect finished requests, handed to the
 * device after libnbd returns. A request spanning several guest buffers is
 * one NBD command per buffer: no copy.
 *
 * A connection that dies fails what it carried with -EIO (libnbd retires
 * those commands with ENOTCONN); the next request connects again, at most
 * once a second, and is failed while the server is away.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libnbd.h>

#include "backends/backend.h"
#include "backends/backend_module.h"
#include "core/log.h"

struct nbd_queue;

/* One libnbd handle, freed once no poll on its socket is left on the io_uring. */
struct nbd_conn {
	struct vb_ring_event rd, wr;
	struct nbd_handle *h;
	struct nbd_queue *q;
	bool rd_armed, wr_armed;
	bool dead;
	struct nbd_conn *next_dead;
};

struct nbd_queue {
	struct nbd_backend *nb;
	struct nbd_conn *conn; /* NULL while the server is away */
	struct nbd_conn *dead; /* waiting for their polls to come back */
	struct vb_bio *done; /* finished, not yet handed to the device */
	struct timespec next_try;
	bool warned;
};

struct nbd_backend {
	struct vb_backend b;
	const char *uri;
	bool can_flush, can_fua;
	unsigned int nq;
	struct nbd_queue q[];
};

static struct nbd_backend *nbd_of(struct vb_backend *b)
{
	return (struct nbd_backend *)b;
}

static void on_poll_rd(struct vb_ring *r, struct vb_ring_event *ev, int res);
static void on_poll_wr(struct vb_ring *r, struct vb_ring_event *ev, int res);

static void conn_free(struct nbd_conn *c)
{
	nbd_close(c->h);
	free(c);
}

/* A connection (blocking): 0, or -errno with libnbd's message in *why. */
static int conn_open(struct nbd_queue *q, const char *uri, struct nbd_conn **out, const char **why)
{
	struct nbd_conn *c = calloc(1, sizeof(*c));
	int ret;

	if (!c)
		return -ENOMEM;
	c->h = nbd_create();
	if (!c->h) {
		*why = nbd_get_error();
		free(c);
		return -ENOMEM;
	}
	if (nbd_connect_uri(c->h, uri)) {
		*why = nbd_get_error();
		ret = nbd_get_errno() ? -nbd_get_errno() : -EIO;
		conn_free(c);
		return ret;
	}
	c->q = q;
	c->rd.fn = on_poll_rd;
	c->wr.fn = on_poll_wr;
	*out = c;
	return 0;
}

static void cancel_poll(struct vb_ring *r, struct vb_ring_event *ev)
{
	struct io_uring_sqe *sqe;

	if (vb_ring_get_sqes(r, &sqe, 1))
		return; /* it completes by itself: the socket is closed */
	io_uring_prep_cancel64(sqe, VB_RING_UD_EVENT(ev), 0);
	io_uring_sqe_set_data64(sqe, VB_RING_UD_IGNORE);
}

/* The server went away: its connection is kept until its polls come back. */
static void conn_lost(struct nbd_queue *q, struct vb_ring *r)
{
	struct nbd_conn *c = q->conn;

	vb_err("vq %u: NBD server %s: connection lost: %s", r->index, q->nb->uri,
	       nbd_get_error() ?: "closed");
	q->conn = NULL;
	c->dead = true;
	if (!c->rd_armed && !c->wr_armed) {
		conn_free(c);
		return;
	}
	if (c->rd_armed)
		cancel_poll(r, &c->rd);
	if (c->wr_armed)
		cancel_poll(r, &c->wr);
	c->next_dead = q->dead;
	q->dead = c;
}

static void unlink_dead(struct nbd_queue *q, struct nbd_conn *c)
{
	for (struct nbd_conn **p = &q->dead; *p; p = &(*p)->next_dead)
		if (*p == c) {
			*p = c->next_dead;
			return;
		}
}

/* Poll what libnbd waits for: replies always, the socket's room while it sends. */
static void arm(struct nbd_queue *q, struct vb_ring *r)
{
	struct nbd_conn *c = q->conn;
	int fd;

	if (!c)
		return;
	fd = nbd_aio_get_fd(c->h);
	if (fd < 0)
		return;
	if (!c->rd_armed && !vb_backend_arm_poll(r, &c->rd, fd, POLLIN))
		c->rd_armed = true;
	if (!c->wr_armed && nbd_aio_get_direction(c->h) & LIBNBD_AIO_DIRECTION_WRITE &&
	    !vb_backend_arm_poll(r, &c->wr, fd, POLLOUT))
		c->wr_armed = true;
}

/* Hand finished requests to the device, oldest first is not promised. */
static void hand_over(struct nbd_queue *q, struct vb_ring *r)
{
	if (q->done)
		vb_backend_order_release();
	while (q->done) {
		struct vb_bio *bio = q->done;
		int res = bio->err ? -EIO : 0;

		q->done = bio->next;
		if (!res && (bio->op == VB_BIO_READ || bio->op == VB_BIO_WRITE))
			res = (int)bio->len;
		vb_ring_io_done(r, bio->req, res);
	}
}

static void on_poll(struct vb_ring *r, struct nbd_conn *c, int res)
{
	struct nbd_queue *q = c->q;
	int ret = 0;

	if (c->dead) {
		if (!c->rd_armed && !c->wr_armed) {
			unlink_dead(q, c);
			conn_free(c);
		}
		return;
	}
	if (res < 0 && res != -ECANCELED)
		ret = -1;
	else if (res > 0 && res & (POLLIN | POLLHUP | POLLERR))
		ret = nbd_aio_notify_read(c->h);
	if (!ret && res > 0 && res & POLLOUT)
		ret = nbd_aio_notify_write(c->h);
	if (ret || nbd_aio_is_dead(c->h) || nbd_aio_is_closed(c->h))
		conn_lost(q, r);
	hand_over(q, r);
	arm(q, r);
}

static void on_poll_rd(struct vb_ring *r, struct vb_ring_event *ev, int res)
{
	struct nbd_conn *c = (struct nbd_conn *)((char *)ev - offsetof(struct nbd_conn, rd));

	c->rd_armed = false;
	on_poll(r, c, res);
}

static void on_poll_wr(struct vb_ring *r, struct vb_ring_event *ev, int res)
{
	struct nbd_conn *c = (struct nbd_conn *)((char *)ev - offsetof(struct nbd_conn, wr));

	c->wr_armed = false;
	on_poll(r, c, res);
}

static void part_done(struct nbd_queue *q, struct vb_bio *bio, int err)
{
	if (err && !bio->err)
		bio->err = err;
	if (--bio->parts)
		return;
	bio->next = q->done;
	q->done = bio;
}

/* libnbd's command callback: runs inside libnbd, so it only collects. */
static int on_command(void *opaque, int *error)
{
	struct vb_bio *bio = opaque;

	if (*error && !bio->err)
		bio->err = *error;
	return 1; /* retire the command */
}

/*
 * Called exactly once per command, whether libnbd retired it, aborted it
 * with the connection or refused to issue it: the only safe count.
 */
static void on_command_free(void *opaque)
{
	struct vb_bio *bio = opaque;

	part_done(bio->owner, bio, 0);
}

static bool reconnect(struct nbd_queue *q, struct vb_ring *r)
{
	struct timespec now;
	const char *why = "";
	struct nbd_conn *c;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec < q->next_try.tv_sec ||
	    (now.tv_sec == q->next_try.tv_sec && now.tv_nsec < q->next_try.tv_nsec))
		return false;
	q->next_try = now;
	q->next_try.tv_sec++;
	ret = conn_open(q, q->nb->uri, &c, &why);
	if (ret) {
		if (!q->warned)
			vb_err("vq %u: NBD server %s: cannot reconnect: %s", r->index, q->nb->uri,
			       why);
		q->warned = true;
		return false;
	}
	if (nbd_get_size(c->h) < (int64_t)q->nb->b.size) {
		vb_err("vq %u: NBD export %s shrank to %lld bytes; not used", r->index, q->nb->uri,
		       (long long)nbd_get_size(c->h));
		conn_free(c);
		return false;
	}
	vb_info("vq %u: NBD server %s: reconnected", r->index, q->nb->uri);
	q->warned = false;
	q->conn = c;
	return true;
}

/* One command for one guest buffer (or for the whole range). Return: 0 or -1. */
static int64_t issue(struct nbd_backend *nb, struct nbd_handle *h, struct vb_bio *bio, void *buf,
		     size_t len, uint64_t off)
{
	nbd_completion_callback cb = { .callback = on_command,
				       .user_data = bio,
				       .free = on_command_free };
	uint32_t flags = 0;

	switch (bio->op) {
	case VB_BIO_READ:
		return nbd_aio_pread(h, buf, len, off, cb, 0);
	case VB_BIO_WRITE:
		if (bio->fua && nb->can_fua)
			flags = LIBNBD_CMD_FLAG_FUA;
		return nbd_aio_pwrite(h, buf, len, off, cb, flags);
	case VB_BIO_FLUSH:
		return nbd_aio_flush(h, cb, 0);
	case VB_BIO_DISCARD:
		return nbd_aio_trim(h, len, off, cb, 0);
	case VB_BIO_WRITE_ZEROES:
		return nbd_aio_zero(h, len, off, cb, bio->unmap ? 0 : LIBNBD_CMD_FLAG_NO_HOLE);
	default:
		on_command_free(bio); /* as libnbd would for a refused command */
		return -1;
	}
}

static int nbd_submit(struct vb_backend *b, struct vb_ring *r, struct vb_bio *bio)
{
	struct nbd_backend *nb = nbd_of(b);
	struct nbd_queue *q = &nb->q[r->index];
	uint64_t off = bio->offset;

	if (!q->conn && !reconnect(q, r))
		return -ENOTCONN;
	bio->owner = q;
	bio->err = 0;
	bio->parts = 1; /* held until every command is issued */
	vb_backend_order_acquire();
	vb_ring_io_started(r);
	if (bio->op == VB_BIO_FLUSH && !nb->can_flush) {
		/* nothing to make stable */
	} else if (bio->op == VB_BIO_READ || bio->op == VB_BIO_WRITE) {
		for (unsigned int i = 0; i < bio->niov && !bio->err; i++) {
			bio->parts++; /* on_command_free() comes in every case */
			if (issue(nb, q->conn->h, bio, bio->iov[i].iov_base, bio->iov[i].iov_len,
				  off) < 0)
				bio->err = EIO;
			off += bio->iov[i].iov_len;
		}
	} else {
		bio->parts++;
		if (issue(nb, q->conn->h, bio, NULL, bio->len, off) < 0)
			bio->err = EIO;
	}
	if (bio->err)
		vb_err_rl("vq %u: NBD command not sent: %s", r->index, nbd_get_error());
	part_done(q, bio, 0);
	if (nbd_aio_is_dead(q->conn->h) || nbd_aio_is_closed(q->conn->h))
		conn_lost(q, r);
	hand_over(q, r);
	arm(q, r);
	return 0;
}

static int nbd_queue_start(struct vb_backend *b, struct vb_ring *r)
{
	struct nbd_queue *q = &nbd_of(b)->q[r->index];

	/* A new io_uring: nothing of the last one is armed any more. */
	if (q->conn)
		q->conn->rd_armed = q->conn->wr_armed = false;
	arm(q, r);
	return 0;
}

static void nbd_queue_stop(struct vb_backend *b, struct vb_ring *r)
{
	struct nbd_queue *q = &nbd_of(b)->q[r->index];

	/* Their polls go with the io_uring; nothing will come back for them. */
	while (q->dead) {
		struct nbd_conn *c = q->dead;

		q->dead = c->next_dead;
		conn_free(c);
	}
}

/* Every connection: without multi-conn a flush covers only its own. */
static int nbd_flush_sync(struct vb_backend *b)
{
	struct nbd_backend *nb = nbd_of(b);
	int ret = 0;

	for (unsigned int i = 0; nb->can_flush && i < nb->nq; i++)
		if (nb->q[i].conn && nbd_flush(nb->q[i].conn->h, 0))
			ret = -EIO;
	return ret;
}

static void nbd_close_all(struct vb_backend *b)
{
	struct nbd_backend *nb = nbd_of(b);

	for (unsigned int i = 0; i < nb->nq; i++) {
		if (nb->q[i].conn) {
			nbd_shutdown(nb->q[i].conn->h, 0);
			conn_free(nb->q[i].conn);
		}
		nbd_queue_stop(b, &(struct vb_ring){ .index = i });
	}
	free(nb);
}

static const struct vb_backend_ops nbd_ops = {
	.kind = "nbd",
	.queue_start = nbd_queue_start,
	.queue_stop = nbd_queue_stop,
	.submit = nbd_submit,
	.flush_sync = nbd_flush_sync,
	.close = nbd_close_all,
};

/* The disk's identity: the URI without its query (a socket path may differ per host). */
static void set_id(struct nbd_backend *nb)
{
	size_t n = strcspn(nb->uri, "?");

	snprintf(nb->b.id, sizeof(nb->b.id), "%.*s", (int)n, nb->uri);
}

static void caps_of(struct nbd_backend *nb, struct nbd_handle *h)
{
	int64_t min = nbd_get_block_size(h, LIBNBD_SIZE_MINIMUM);

	nb->b.size = (uint64_t)nbd_get_size(h);
	nb->b.read_only = nbd_is_read_only(h) == 1;
	nb->b.can_discard = nbd_can_trim(h) == 1;
	nb->b.can_write_zeroes = nbd_can_zero(h) == 1;
	nb->b.align = min > 0 ? (uint32_t)min : 1;
	nb->can_flush = nbd_can_flush(h) == 1;
	nb->can_fua = nbd_can_fua(h) == 1;
}

static int nbd_backend_open(struct vb_backend **out, const char *uri,
			    const struct vb_backend_opts *o)
{
	unsigned int nq = o->num_queues ? o->num_queues : 1;
	struct nbd_backend *nb = calloc(1, sizeof(*nb) + nq * sizeof(nb->q[0]));
	const char *why = "";
	int ret;

	if (!nb)
		return -ENOMEM;
	nb->uri = uri;
	nb->nq = nq;
	nb->b.ops = &nbd_ops;
	for (unsigned int i = 0; i < nq; i++) {
		struct nbd_queue *q = &nb->q[i];

		q->nb = nb;
		ret = conn_open(q, uri, &q->conn, &why);
		if (ret) {
			vb_err("image %s: cannot connect: %s", uri, why);
			nb->b.ops->close(&nb->b);
			return ret == -ENOMEM ? ret : -EINVAL;
		}
	}
	caps_of(nb, nb->q[0].conn->h);
	/* A guest's flush on one queue must cover the writes of all queues. */
	if (nq > 1 && nbd_can_multi_conn(nb->q[0].conn->h) != 1) {
		vb_err("image %s: the server does not allow several connections (multi-conn); "
		       "use --num-queues 1",
		       uri);
		nb->b.ops->close(&nb->b);
		return -EINVAL;
	}
	if (!nb->can_fua && !o->read_only)
		vb_warn("image %s: the server has no FUA; writethrough is not guaranteed", uri);
	set_id(nb);
	*out = &nb->b;
	return 0;
}

/* vblkd-backend-nbd.so: loaded when a disk names NBD (backends/backend_module.h). */
VB_BACKEND_MODULE_EXPORT const struct vb_backend_module vb_backend_module = {
	.abi = VB_BACKEND_MODULE_ABI,
	.name = "nbd",
	.open = nbd_backend_open,
};
