// SPDX-License-Identifier: GPL-2.0-or-later
/* The checksum test device: a struct vb_device_ops with no I/O of its own. */
#include "selftests/host/testdev.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "core/device.h"
#include "core/log.h"
#include "state/state.h"

#define TESTDEV_PRODUCER_VERSION 1

struct testdev {
	struct vb_device vdev;
};

/* Decoded state, held until the trailer verifies. */
struct testdev_load {
	const struct vb_device *dev;
	bool seen_device;
	uint64_t features;
	uint8_t status;
};

static uint64_t testdev_features(const struct vb_device *d)
{
	return 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_RING_F_INDIRECT_DESC |
	       1ull << VIRTIO_RING_F_EVENT_IDX;
}

static void testdev_get_config(const struct vb_device *d, uint32_t offset, uint8_t *buf,
			       uint32_t len)
{
	uint8_t cfg[TESTDEV_CFG_SIZE];

	state_put_le32(cfg + TESTDEV_CFG_MAGIC, TESTDEV_MAGIC);
	state_put_le32(cfg + TESTDEV_CFG_QUEUES, d->num_queues);
	memset(buf, 0, len);
	if (offset >= sizeof(cfg))
		return;
	memcpy(buf, cfg + offset, len < sizeof(cfg) - offset ? len : sizeof(cfg) - offset);
}

static int testdev_set_config(struct vb_device *d, uint32_t offset, const uint8_t *buf,
			      uint32_t len)
{
	return -EINVAL; /* nothing is writable */
}

static void testdev_reset(struct vb_device *d)
{
}

/* Copy @len bytes into the chain's writable iovecs, which hold at least that many. */
static void put_writable(struct vb_ring *r, const struct vb_chain *c, const uint8_t *src,
			 size_t len)
{
	for (unsigned int i = c->nout; i < c->niov && len; i++) {
		size_t n = c->iov[i].iov_len < len ? c->iov[i].iov_len : len;

		memcpy(c->iov[i].iov_base, src, n);
		vb_ring_log_write(r, c->gpa[i], n);
		src += n;
		len -= n;
	}
}

static void testdev_handle(struct vb_ring *r, struct vb_req *req)
{
	const struct vb_chain *c = &req->chain;
	uint8_t sum[TESTDEV_SUM_LEN];
	size_t in = 0, out = 0;
	uint32_t crc = 0;

	for (unsigned int i = 0; i < c->nout; i++) {
		crc = state_crc32c(crc, c->iov[i].iov_base, c->iov[i].iov_len);
		in += c->iov[i].iov_len;
	}
	for (unsigned int i = c->nout; i < c->niov; i++)
		out += c->iov[i].iov_len;
	if (!in || out < sizeof(sum)) {
		vb_err_rl("vq %u: head %u has %zu readable and %zu writable bytes; a checksum "
			  "request needs 1 and %zu",
			  r->index, c->head, in, out, sizeof(sum));
		vb_ring_fail(r);
		return;
	}
	state_put_le32(sum, crc);
	put_writable(r, c, sum, sizeof(sum));
	vb_ring_complete(r, req, sizeof(sum));
}

/* Never called: handle() submits no I/O. */
static void testdev_io_done(struct vb_ring *r, struct vb_req *req, int res)
{
	vb_err_rl("vq %u: an I/O completion the checksum device never submitted", r->index);
	vb_ring_fail(r);
}

static int testdev_save(struct vb_device *d, struct state_writer *w)
{
	uint8_t p[TESTDEV_SEC_DEVICE_LEN];

	state_put_le64(p, d->features);
	p[8] = d->driver_status;
	state_put_le32(p + 9, d->num_queues);
	state_write_header(w, TESTDEV_ID, TESTDEV_PRODUCER_VERSION);
	state_write_section(w, TESTDEV_SEC_DEVICE, 0, p, sizeof(p));
	return state_write_trailer(w);
}

static void *testdev_load_new(struct vb_device *d)
{
	struct testdev_load *l = calloc(1, sizeof(*l));

	if (l)
		l->dev = d;
	return l;
}

static void testdev_load_free(void *load)
{
	free(load);
}

static int testdev_load_section(void *load, uint16_t type, uint16_t flags, const uint8_t *payload,
				uint32_t len)
{
	struct testdev_load *l = load;

	if (type != TESTDEV_SEC_DEVICE)
		return -ENOENT;
	if (len != TESTDEV_SEC_DEVICE_LEN || l->seen_device ||
	    state_get_le32(payload + 9) != l->dev->num_queues)
		return STATE_E_CONTENT;
	l->features = state_get_le64(payload);
	l->status = payload[8];
	l->seen_device = true;
	return 0;
}

static int testdev_load_check(const void *load)
{
	const struct testdev_load *l = load;

	return l->seen_device ? STATE_OK : STATE_E_MISSING;
}

static uint64_t testdev_load_features(const void *load)
{
	return ((const struct testdev_load *)load)->features;
}

static void testdev_apply(struct vb_device *d, const void *load)
{
	const struct testdev_load *l = load;

	d->features = l->features;
	d->driver_status = l->status;
}

static const struct vb_device_ops testdev_ops = {
	.type = TESTDEV_ID,
	.req_size = sizeof(struct vb_req),
	.config_size = TESTDEV_CFG_SIZE,
	.features = testdev_features,
	.get_config = testdev_get_config,
	.set_config = testdev_set_config,
	.reset = testdev_reset,
	.handle = testdev_handle,
	.io_done = testdev_io_done,
	.save = testdev_save,
	.load_new = testdev_load_new,
	.load_free = testdev_load_free,
	.load_section = testdev_load_section,
	.load_check = testdev_load_check,
	.load_features = testdev_load_features,
	.apply = testdev_apply,
};

struct vb_device *testdev_new(unsigned int num_queues, unsigned int queue_size)
{
	struct testdev *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	if (vb_dev_init(&t->vdev, &testdev_ops, num_queues, queue_size)) {
		free(t);
		return NULL;
	}
	return &t->vdev;
}

void testdev_free(struct vb_device *d)
{
	if (!d)
		return;
	vb_dev_fini(d);
	free((struct testdev *)((char *)d - offsetof(struct testdev, vdev)));
}
