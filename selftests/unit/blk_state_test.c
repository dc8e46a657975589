// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The virtio-blk state's in-flight heads (the QUEUE section's list, what a
 * capture carries): a good list reaches the destination's ring in order; a
 * hostile one (a head out of range, a head twice, more heads than the ring
 * holds) is refused while it decodes, and the destination is left untouched.
 */
#include "kselftest_harness.h"

#include <stdlib.h>
#include <unistd.h>

#include "core/log.h"
#include "devices/blk/blk_dev.h"
#include "state/state.h"
#include "unit_dev.h"

#define QUEUE_HDR 12 /* index, num, enabled, pad, last_avail, used, count */

static const uint16_t heads[] = { 5, 9, 2 };

FIXTURE(carried) {
	char src_image[64], dst_image[64];
	struct blk_dev *src, *dst;
	struct state_writer w;
	uint8_t *queue0; /* ring 0's QUEUE section payload inside w.buf */
};

/* The payload of the first section of @type in a blob, or NULL. */
static uint8_t *find_section(uint8_t *buf, size_t len, uint16_t type)
{
	size_t off = STATE_HEADER_SIZE;

	while (off + STATE_SECTION_HDR_SIZE <= len) {
		uint16_t t = state_get_le16(buf + off);
		uint32_t n = state_get_le32(buf + off + 4);

		if (t == type)
			return buf + off + STATE_SECTION_HDR_SIZE;
		off += STATE_SECTION_HDR_SIZE + n;
	}
	return NULL;
}

FIXTURE_SETUP(carried)
{
	struct vb_ring_position pos = { .num = 64, .enabled = true, .last_avail = 40,
					.used = 37, .ncarried = 3 };

	vb_log_level = VB_LOG_ERR - 1; /* the refusals below are expected */
	ASSERT_EQ(0, unit_blk_open(self->src_image, 2, &self->src));
	ASSERT_EQ(0, unit_blk_open(self->dst_image, 2, &self->dst));
	memcpy(pos.carried, heads, sizeof(heads));
	vb_ring_set_position(&self->src->vdev.rings[0], &pos);
	state_writer_init(&self->w);
	ASSERT_EQ(0, blk_state_save(&self->src->vdev, &self->w));
	self->queue0 = find_section(self->w.buf, self->w.len, BLK_SEC_QUEUE);
	ASSERT_NE(NULL, self->queue0);
	ASSERT_EQ(0, state_get_le16(self->queue0)); /* ring 0 comes first */
	ASSERT_EQ(3, state_get_le16(self->queue0 + 10));
}

FIXTURE_TEARDOWN(carried)
{
	state_writer_fini(&self->w);
	EXPECT_EQ(0, blk_dev_close(self->src));
	EXPECT_EQ(0, blk_dev_close(self->dst));
	unlink(self->src_image);
	unlink(self->dst_image);
}

/* Decode self->w into the destination; apply only when everything checks. */
static int load(FIXTURE_DATA(carried) *self)
{
	struct vb_device *d = &self->dst->vdev;
	struct state_reader r;
	void *l = blk_state_load_new(d);
	int err;

	if (!l || state_reader_init(&r, BLK_STATE_DEVICE_TYPE, blk_state_on_section, l)) {
		blk_state_load_free(l);
		return -1;
	}
	err = state_reader_feed(&r, self->w.buf, self->w.len);
	if (!err)
		err = state_reader_finish(&r);
	if (!err)
		err = blk_state_load_check(l);
	if (!err)
		blk_state_apply(d, l);
	state_reader_fini(&r);
	blk_state_load_free(l);
	return err;
}

/* The destination's ring 0 is as a fresh device's: nothing carried, position 0. */
static void expect_untouched(struct __test_metadata *_metadata, FIXTURE_DATA(carried) *self)
{
	struct vb_ring_position pos;

	vb_ring_get_position(&self->dst->vdev.rings[0], &pos);
	EXPECT_EQ(0, pos.ncarried);
	EXPECT_EQ(0, pos.last_avail);
	EXPECT_EQ(0, pos.num);
}

TEST_F(carried, the_heads_reach_the_destination_ring_in_their_order)
{
	struct vb_ring_position pos;

	ASSERT_EQ(STATE_OK, load(self));
	vb_ring_get_position(&self->dst->vdev.rings[0], &pos);
	EXPECT_EQ(64, pos.num);
	EXPECT_EQ(40, pos.last_avail);
	ASSERT_EQ(3, pos.ncarried);
	for (unsigned int i = 0; i < 3; i++)
		EXPECT_EQ(heads[i], pos.carried[i]);
}

TEST_F(carried, a_head_beyond_the_ring_is_refused_and_nothing_applies)
{
	state_put_le16(self->queue0 + QUEUE_HDR + 2, 64);
	EXPECT_EQ(STATE_E_CONTENT, load(self));
	expect_untouched(_metadata, self);
}

TEST_F(carried, a_head_listed_twice_is_refused_and_nothing_applies)
{
	state_put_le16(self->queue0 + QUEUE_HDR + 2, heads[0]);
	EXPECT_EQ(STATE_E_CONTENT, load(self));
	expect_untouched(_metadata, self);
}

TEST_F(carried, more_heads_than_the_ring_holds_are_refused_and_nothing_applies)
{
	state_put_le16(self->queue0 + 10, 65);
	EXPECT_EQ(STATE_E_CONTENT, load(self));
	expect_untouched(_metadata, self);
}

TEST_HARNESS_MAIN
