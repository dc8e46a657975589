// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtio-blk state sections: written from a suspended device, decoded into a
 * staging area while bytes arrive, applied only once the trailer verified.
 * Layouts: docs/state-format.md. Every field is encoded explicitly.
 */
#include "devices/blk/blk_state.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/blk/blk_dev.h"
#include "core/log.h"

#define PRODUCER_VERSION (0u << 16 | 1u << 8 | 0u)
#define DEVICE_LEN 20
#define DISK_FIXED_LEN (8 + BLK_SERIAL_LEN + 2)
#define QUEUE_FIXED_LEN 12

struct blk_state_queue {
	bool seen;
	struct vb_ring_position pos;
};

struct blk_state_load {
	struct blk_dev *dev;
	bool seen_device;
	bool seen_disk;
	uint64_t features;
	uint8_t status;
	uint8_t wce;
	bool have_counters;
	uint64_t counters[BLK_CNT_MAX];
	struct blk_state_queue queues[VB_MAX_QUEUES];
};

static void save_device(struct blk_dev *dev, struct state_writer *w)
{
	uint8_t p[DEVICE_LEN] = { 0 };

	state_put_le64(p, dev->vdev.features);
	p[8] = dev->vdev.driver_status;
	p[9] = atomic_load(&dev->wce);
	p[10] = dev->opts.read_only;
	state_put_le32(p + 12, dev->opts.num_queues);
	state_put_le32(p + 16, dev->opts.logical_block_size);
	state_write_section(w, BLK_SEC_DEVICE, 0, p, sizeof(p));
}

static void save_disk(struct blk_dev *dev, struct state_writer *w)
{
	uint8_t p[DISK_FIXED_LEN + BLK_IMAGE_ID_MAX];
	size_t id_len = strlen(dev->image_id);

	state_put_le64(p, dev->limits.capacity);
	memcpy(p + 8, dev->serial, BLK_SERIAL_LEN);
	state_put_le16(p + 8 + BLK_SERIAL_LEN, (uint16_t)id_len);
	memcpy(p + DISK_FIXED_LEN, dev->image_id, id_len);
	state_write_section(w, BLK_SEC_DISK, 0, p, (uint32_t)(DISK_FIXED_LEN + id_len));
}

static void save_queue(const struct vb_ring *r, struct state_writer *w)
{
	uint8_t p[QUEUE_FIXED_LEN + 2 * VB_VQ_MAX_SIZE] = { 0 };
	struct vb_ring_position pos;

	vb_ring_get_position(r, &pos);
	state_put_le16(p, (uint16_t)r->index);
	state_put_le16(p + 2, pos.num);
	p[4] = pos.enabled;
	state_put_le16(p + 6, pos.last_avail);
	state_put_le16(p + 8, pos.used);
	state_put_le16(p + 10, pos.ncarried);
	for (unsigned int i = 0; i < pos.ncarried; i++)
		state_put_le16(p + QUEUE_FIXED_LEN + 2 * i, pos.carried[i]);
	state_write_section(w, BLK_SEC_QUEUE, 0, p, QUEUE_FIXED_LEN + 2u * pos.ncarried);
}

static void save_counters(struct blk_dev *dev, struct state_writer *w)
{
	uint8_t p[4 + 8 * BLK_CNT_MAX];
	uint64_t c[BLK_CNT_MAX];

	blk_dev_counters(dev, c);
	state_put_le32(p, BLK_CNT_MAX);
	for (int i = 0; i < BLK_CNT_MAX; i++)
		state_put_le64(p + 4 + 8 * i, c[i]);
	state_write_section(w, BLK_SEC_COUNTERS, STATE_SECTION_OPTIONAL, p, sizeof(p));
}

int blk_state_save(struct vb_device *d, struct state_writer *w)
{
	struct blk_dev *dev = blk_of(d);

	state_write_header(w, BLK_STATE_DEVICE_TYPE, PRODUCER_VERSION);
	save_device(dev, w);
	save_disk(dev, w);
	for (unsigned int i = 0; i < dev->opts.num_queues; i++)
		save_queue(&d->rings[i], w);
	save_counters(dev, w);
	return state_write_trailer(w);
}

void *blk_state_load_new(struct vb_device *d)
{
	struct blk_state_load *l = calloc(1, sizeof(*l));

	if (l)
		l->dev = blk_of(d);
	return l;
}

void blk_state_load_free(void *load)
{
	free(load);
}

static int load_device(struct blk_state_load *l, const uint8_t *p, uint32_t len)
{
	const struct blk_opts *o = &l->dev->opts;

	if (len != DEVICE_LEN || l->seen_device)
		return STATE_E_CONTENT;
	if (p[10] != o->read_only || state_get_le32(p + 12) != o->num_queues ||
	    state_get_le32(p + 16) != o->logical_block_size) {
		vb_err("state: source has %u queue(s), %u-byte blocks%s; this device %u, %u%s",
		       state_get_le32(p + 12), state_get_le32(p + 16), p[10] ? ", read-only" : "",
		       o->num_queues, o->logical_block_size, o->read_only ? ", read-only" : "");
		return STATE_E_CONTENT;
	}
	l->features = state_get_le64(p);
	l->status = p[8];
	l->wce = p[9] ? 1 : 0;
	l->seen_device = true;
	return 0;
}

static int load_disk(struct blk_state_load *l, const uint8_t *p, uint32_t len)
{
	const struct blk_dev *dev = l->dev;
	uint64_t capacity;
	uint16_t id_len;

	if (len < DISK_FIXED_LEN || l->seen_disk)
		return STATE_E_CONTENT;
	id_len = state_get_le16(p + 8 + BLK_SERIAL_LEN);
	if (id_len > BLK_IMAGE_ID_MAX || len != DISK_FIXED_LEN + (uint32_t)id_len)
		return STATE_E_CONTENT;
	capacity = state_get_le64(p);
	if (capacity != dev->limits.capacity) {
		vb_err("state: source disk has %llu sectors, this one %llu",
		       (unsigned long long)capacity, (unsigned long long)dev->limits.capacity);
		return STATE_E_CAPACITY;
	}
	if (id_len != strlen(dev->image_id) ||
	    memcmp(p + DISK_FIXED_LEN, dev->image_id, id_len)) {
		vb_err("state: source disk identity '%.*s' is not this disk's '%s'", id_len,
		       (const char *)p + DISK_FIXED_LEN, dev->image_id);
		return STATE_E_IDENTITY;
	}
	l->seen_disk = true;
	return 0;
}

static int load_queue(struct blk_state_load *l, const uint8_t *p, uint32_t len)
{
	const struct blk_opts *o = &l->dev->opts;
	struct blk_state_queue *sq;
	uint16_t index, num, n;
	uint8_t seen[VB_VQ_MAX_SIZE] = { 0 };

	if (len < QUEUE_FIXED_LEN)
		return STATE_E_CONTENT;
	index = state_get_le16(p);
	num = state_get_le16(p + 2);
	n = state_get_le16(p + 10);
	if (index >= o->num_queues || l->queues[index].seen || p[4] > 1 ||
	    num > o->queue_size || (num & (num - 1)) || n > num ||
	    len != QUEUE_FIXED_LEN + 2u * n) {
		vb_err("state: queue section %u is malformed (ring %u, %u in flight)", index, num,
		       n);
		return STATE_E_CONTENT;
	}
	sq = &l->queues[index];
	for (uint16_t i = 0; i < n; i++) {
		uint16_t head = state_get_le16(p + QUEUE_FIXED_LEN + 2 * i);

		if (head >= num || seen[head]++) {
			vb_err("state: queue %u in-flight head %u is out of range or repeated",
			       index, head);
			return STATE_E_CONTENT;
		}
		sq->pos.carried[i] = head;
	}
	sq->seen = true;
	sq->pos.num = num;
	sq->pos.enabled = p[4];
	sq->pos.last_avail = state_get_le16(p + 6);
	sq->pos.used = state_get_le16(p + 8);
	sq->pos.ncarried = n;
	return 0;
}

static int load_counters(struct blk_state_load *l, const uint8_t *p, uint32_t len)
{
	uint32_t n;

	if (len < 4)
		return STATE_E_CONTENT;
	n = state_get_le32(p);
	if (len != 4 + 8ull * n)
		return STATE_E_CONTENT;
	/* Newer writers append counters: take those we know. */
	for (uint32_t i = 0; i < n && i < BLK_CNT_MAX; i++)
		l->counters[i] = state_get_le64(p + 4 + 8 * i);
	l->have_counters = true;
	return 0;
}

int blk_state_on_section(void *load, uint16_t type, uint16_t flags, const uint8_t *payload,
			 uint32_t len)
{
	struct blk_state_load *l = load;

	switch (type) {
	case BLK_SEC_DEVICE:
		return load_device(l, payload, len);
	case BLK_SEC_DISK:
		return load_disk(l, payload, len);
	case BLK_SEC_QUEUE:
		return load_queue(l, payload, len);
	case BLK_SEC_COUNTERS:
		return load_counters(l, payload, len);
	default:
		return -ENOENT;
	}
}

int blk_state_load_check(const void *load)
{
	const struct blk_state_load *l = load;

	if (!l->seen_device || !l->seen_disk) {
		vb_err("state: the %s section is missing", l->seen_device ? "disk" : "device");
		return STATE_E_MISSING;
	}
	for (unsigned int i = 0; i < l->dev->opts.num_queues; i++) {
		if (!l->queues[i].seen) {
			vb_err("state: queue %u is missing", i);
			return STATE_E_MISSING;
		}
	}
	return STATE_OK;
}

uint64_t blk_state_load_features(const void *load)
{
	return ((const struct blk_state_load *)load)->features;
}

void blk_state_apply(struct vb_device *d, const void *load)
{
	const struct blk_state_load *l = load;
	struct blk_dev *dev = blk_of(d);

	d->features = l->features;
	d->driver_status = l->status;
	atomic_store(&dev->wce, l->wce);
	for (unsigned int i = 0; i < dev->opts.num_queues; i++)
		vb_ring_set_position(&d->rings[i], &l->queues[i].pos);
	if (l->have_counters) {
		/* The destination continues the source's statistics. */
		memcpy(dev->counter_base, l->counters, sizeof(dev->counter_base));
		for (unsigned int i = 0; i < VB_MAX_QUEUES; i++)
			for (int c = 0; c < BLK_CNT_MAX; c++)
				atomic_store(&dev->counters[i][c], 0);
	}
}
