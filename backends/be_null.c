// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * null:SIZE: reads return zeroes, writes are dropped. Every I/O completes
 * before submit returns: a disk that costs nothing, for benchmarks of the
 * rings themselves.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "core/log.h"

static int null_submit(struct vb_backend *b, struct vb_ring *r, struct vb_bio *bio)
{
	if (bio->op == VB_BIO_READ) {
		vb_backend_order_acquire();
		for (unsigned int i = 0; i < bio->niov; i++)
			memset(bio->iov[i].iov_base, 0, bio->iov[i].iov_len);
		vb_backend_order_release();
	}
	vb_ring_io_started(r);
	vb_ring_io_done(r, bio->req,
			bio->op == VB_BIO_READ || bio->op == VB_BIO_WRITE ? (int)bio->len : 0);
	return 0;
}

static int null_flush_sync(struct vb_backend *b)
{
	return 0;
}

static int null_resize(struct vb_backend *b, uint64_t bytes)
{
	b->size = bytes;
	return 0;
}

static void null_close(struct vb_backend *b)
{
	free(b);
}

static const struct vb_backend_ops null_ops = {
	.kind = "null",
	.submit = null_submit,
	.resize = null_resize,
	.flush_sync = null_flush_sync,
	.close = null_close,
};

int vb_null_open(struct vb_backend **out, const char *spec, const struct vb_backend_opts *o)
{
	struct vb_backend *b;
	uint64_t size;

	if (vb_backend_parse_size(spec + strlen("null:"), &size)) {
		vb_err("image %s: expected null:SIZE with an optional K, M, G or T suffix", spec);
		return -EINVAL;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->ops = &null_ops;
	b->size = size;
	b->can_discard = true;
	b->can_write_zeroes = true;
	b->align = 1;
	*out = b;
	return 0;
}
