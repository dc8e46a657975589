// SPDX-License-Identifier: GPL-2.0-or-later
/* Which back-end a disk name selects, and what every back-end shares. */
#include "backends/backend.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend_module.h"
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

/*
 * The back-ends by how a disk name starts, QEMU's block-module table in
 * small: a name that matches none is a file. Those that bring heavy
 * libraries are modules (.module), loaded only when a disk names them.
 */
struct be_kind {
	const char *prefix;
	int (*open)(struct vb_backend **out, const char *spec, const struct vb_backend_opts *o);
	const char *module;
};

static const struct be_kind be_kinds[] = {
	{ .prefix = "null:", .open = vb_null_open }, /* null:SIZE */
	{ .prefix = "nbd:", .module = "nbd" }, /* nbd://HOST[:PORT]/EXPORT */
	{ .prefix = "nbd+", .module = "nbd" }, /* nbd+unix:///EXPORT?socket=PATH */
	{ .prefix = "nbds:", .module = "nbd" }, /* the same over TLS */
	{ .prefix = "nbds+", .module = "nbd" },
	{ .prefix = "rbd:", .module = "rbd" }, /* rbd:POOL/IMAGE[@SNAP][:conf=PATH][:id=USER] */
};

static int open_kind(const struct be_kind *k, struct vb_backend **out, const char *spec,
		     const struct vb_backend_opts *o)
{
	const struct vb_backend_module *m;
	int ret;

	if (k->open)
		return k->open(out, spec, o);
	ret = vb_backend_module_load(k->module, &m);
	if (ret)
		return ret;
	return m->open(out, spec, o);
}

int vb_backend_open(struct vb_backend **out, const char *spec, const struct vb_backend_opts *o)
{
	const struct be_kind *k = NULL;
	int ret;

	for (size_t i = 0; i < sizeof(be_kinds) / sizeof(be_kinds[0]) && !k; i++)
		if (!strncmp(spec, be_kinds[i].prefix, strlen(be_kinds[i].prefix)))
			k = &be_kinds[i];
	ret = k ? open_kind(k, out, spec, o) : vb_file_open(out, spec, o);
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
