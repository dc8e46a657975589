// SPDX-License-Identifier: GPL-2.0-or-later
/* Which back-end a disk name selects, and what every back-end shares. */
#include "backends/backend.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

#ifdef __SANITIZE_THREAD__
_Atomic unsigned long vb_backend_order_clock;
#endif

int vb_backend_parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'T':
	case 't':
		shift += 10; /* fall through */
	case 'G':
	case 'g':
		shift += 10; /* fall through */
	case 'M':
	case 'm':
		shift += 10; /* fall through */
	case 'K':
	case 'k':
		shift += 10;
		end++;
		break;
	}
	if (*end || !v || v > UINT64_MAX >> shift)
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

int vb_backend_open(struct vb_backend **out, const char *spec, const struct vb_backend_opts *o)
{
	int ret;

	if (!strncmp(spec, "null:", 5))
		ret = vb_null_open(out, spec, o);
	else if (!strncmp(spec, "nbd:", 4) || !strncmp(spec, "nbd+", 4) ||
		 !strncmp(spec, "nbds:", 5) || !strncmp(spec, "nbds+", 5))
		ret = vb_nbd_open(out, spec, o);
	else if (!strncmp(spec, "rbd:", 4))
		ret = vb_rbd_open(out, spec, o);
	else
		ret = vb_file_open(out, spec, o);
	if (ret)
		return ret;
	(*out)->spec = spec;
	if (o->read_only)
		(*out)->read_only = true;
	return 0;
}

int vb_backend_resize(struct vb_backend *b, uint64_t bytes)
{
	if (b->ops->resize)
		return b->ops->resize(b, bytes);
	/* NBD and RBD: the export or image keeps its size; less of it is served. */
	return bytes <= b->size ? 0 : -ENOSPC;
}

int vb_backend_close(struct vb_backend *b)
{
	int ret;

	if (!b)
		return 0;
	ret = b->read_only ? 0 : b->ops->flush_sync(b);
	if (ret)
		vb_err("flushing image %s: %s", b->spec, strerror(-ret));
	b->ops->close(b);
	return ret;
}

int vb_backend_arm_poll(struct vb_ring *r, struct vb_ring_event *ev, int fd, unsigned int events)
{
	struct io_uring_sqe *sqe;

	if (vb_ring_get_sqes(r, &sqe, 1))
		return -EBUSY;
	io_uring_prep_poll_add(sqe, fd, events);
	io_uring_sqe_set_data64(sqe, VB_RING_UD_EVENT(ev));
	return 0;
}
