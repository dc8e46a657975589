// SPDX-License-Identifier: GPL-2.0-or-later
/* Descriptor walking and ring bookkeeping against hostile rings. */
#include "kselftest_harness.h"

#include "vq_test_mem.h"

#define D(off) (TM_GPA + TM_DATA + (off))

FIXTURE(vq) {
	struct test_mem t;
	struct vb_chain chain;
};

FIXTURE_SETUP(vq)
{
	ASSERT_EQ(0, test_mem_init(&self->t));
}

FIXTURE_TEARDOWN(vq)
{
	test_mem_fini(&self->t);
}

TEST_F(vq, a_two_descriptor_chain_becomes_readable_then_writable_iovecs)
{
	uint16_t head;

	tm_set_desc(&self->t, 0, D(0), 16, VRING_DESC_F_NEXT, 1);
	tm_set_desc(&self->t, 1, D(512), 513, VRING_DESC_F_WRITE, 0);
	tm_publish(&self->t, 0);
	ASSERT_EQ(1, vb_vq_pop(&self->t.vq, &head));
	EXPECT_EQ(0, head);
	ASSERT_EQ(0, vb_vq_walk(&self->t.vq, head, &self->chain));
	EXPECT_EQ(2, self->chain.niov);
	EXPECT_EQ(1, self->chain.nout);
	EXPECT_EQ(513, self->chain.iov[1].iov_len);
	EXPECT_EQ(D(512), self->chain.gpa[1]);
	EXPECT_EQ(0, vb_vq_pop(&self->t.vq, &head));
}

TEST_F(vq, a_descriptor_loop_is_rejected)
{
	tm_set_desc(&self->t, 0, D(0), 16, VRING_DESC_F_NEXT, 1);
	tm_set_desc(&self->t, 1, D(16), 16, VRING_DESC_F_NEXT, 0);
	EXPECT_EQ(-EBADMSG, vb_vq_walk(&self->t.vq, 0, &self->chain));
}

TEST_F(vq, a_chain_longer_than_the_ring_is_rejected)
{
	for (unsigned int i = 0; i < TM_NUM; i++)
		tm_set_desc(&self->t, i, D(i * 16), 16, VRING_DESC_F_NEXT, (i + 1) % TM_NUM);
	EXPECT_EQ(-EBADMSG, vb_vq_walk(&self->t.vq, 3, &self->chain));
}

TEST_F(vq, an_address_outside_every_region_is_rejected)
{
	tm_set_desc(&self->t, 0, 0x10, 16, 0, 0);
	EXPECT_EQ(-EBADMSG, vb_vq_walk(&self->t.vq, 0, &self->chain));
	tm_set_desc(&self->t, 0, TM_GPA + TM_SIZE - 8, 16, 0, 0);
	EXPECT_EQ(-EBADMSG, vb_vq_walk(&self->t.vq, 0, &self->chain));
}

TEST_F(vq, a_wrapping_length_is_rejected)
{
	tm_set_desc(&self->t, 0, UINT64_MAX - 4, 16, 0, 0);
	EXPECT_EQ(-EBADMSG, vb_vq_walk(&self->t.vq, 0, &self->chain));
}

TEST_F(vq, a_readable_descriptor_after_a_writable_one_is_rejected)
{
	tm_set_desc(&self->t, 0, D(0), 16, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	tm_set_desc(&self->t, 1, D(16), 16, 0, 0);
	EXPECT_EQ(-EBADMSG, vb_vq_walk(&self->t.vq, 0, &self->chain));
}

TEST_F(vq, an_indirect_table_is_walked_when_negotiated)
{
	struct vring_desc *table = (struct vring_desc *)(self->t.host + TM_DATA + 4096);

	table[0] = (struct vring_desc){ D(0), 16, VRING_DESC_F_NEXT, 1 };
	table[1] = (struct vring_desc){ D(512), 1, VRING_DESC_F_WRITE, 0 };
	tm_set_desc(&self->t, 0, D(4096), 2 * sizeof(*table), VRING_DESC_F_INDIRECT, 0);
	EXPECT_EQ(-EBADMSG, vb_vq_walk(&self->t.vq, 0, &self->chain));
	self->t.vq.indirect = true;
	ASSERT_EQ(0, vb_vq_walk(&self->t.vq, 0, &self->chain));
	EXPECT_EQ(2, self->chain.niov);
}

TEST_F(vq, an_indirect_table_with_a_bad_length_is_rejected)
{
	self->t.vq.indirect = true;
	tm_set_desc(&self->t, 0, D(4096), 17, VRING_DESC_F_INDIRECT, 0);
	EXPECT_EQ(-EBADMSG, vb_vq_walk(&self->t.vq, 0, &self->chain));
	tm_set_desc(&self->t, 0, D(4096), 0, VRING_DESC_F_INDIRECT, 0);
	EXPECT_EQ(-EBADMSG, vb_vq_walk(&self->t.vq, 0, &self->chain));
}

TEST_F(vq, an_indirect_loop_is_rejected)
{
	struct vring_desc *table = (struct vring_desc *)(self->t.host + TM_DATA + 4096);

	self->t.vq.indirect = true;
	table[0] = (struct vring_desc){ D(0), 16, VRING_DESC_F_NEXT, 1 };
	table[1] = (struct vring_desc){ D(16), 16, VRING_DESC_F_NEXT, 0 };
	tm_set_desc(&self->t, 0, D(4096), 2 * sizeof(*table), VRING_DESC_F_INDIRECT, 0);
	EXPECT_EQ(-EBADMSG, vb_vq_walk(&self->t.vq, 0, &self->chain));
}

TEST_F(vq, an_avail_index_too_far_ahead_is_rejected)
{
	struct vring_avail *av = (struct vring_avail *)(self->t.host + TM_AVAIL);
	uint16_t head;

	av->idx = TM_NUM + 1;
	EXPECT_EQ(-EBADMSG, vb_vq_pop(&self->t.vq, &head));
}

TEST_F(vq, a_head_outside_the_ring_is_rejected)
{
	uint16_t head;

	tm_publish(&self->t, TM_NUM);
	EXPECT_EQ(-EBADMSG, vb_vq_pop(&self->t.vq, &head));
}

TEST_F(vq, push_publishes_used_entries_and_event_idx_limits_notifications)
{
	struct vring_used *used = (struct vring_used *)(self->t.host + TM_USED);
	struct vring_avail *av = (struct vring_avail *)(self->t.host + TM_AVAIL);

	self->t.vq.event_idx = true;
	vb_vq_push(&self->t.vq, 5, 100);
	EXPECT_EQ(1, used->idx);
	EXPECT_EQ(5, used->ring[0].id);
	EXPECT_EQ(100, used->ring[0].len);
	EXPECT_TRUE(vb_vq_should_notify(&self->t.vq)); /* first one always */
	av->ring[TM_NUM] = 5; /* used_event: wake me after entry 5 */
	vb_vq_push(&self->t.vq, 6, 1);
	EXPECT_FALSE(vb_vq_should_notify(&self->t.vq));
	for (int i = 0; i < 4; i++)
		vb_vq_push(&self->t.vq, 1, 1);
	EXPECT_TRUE(vb_vq_should_notify(&self->t.vq));
}

TEST_F(vq, in_flight_region_records_heads_until_they_are_used)
{
	size_t len = vb_inflight_queue_size(TM_NUM);
	struct vb_inflight_queue *inf = calloc(1, len);
	uint16_t heads[TM_NUM], head;
	uint64_t counter;

	ASSERT_NE(NULL, inf);
	ASSERT_EQ(0, vb_inflight_recover(inf, TM_NUM, 0, heads, &counter));
	self->t.vq.inflight = inf;
	self->t.vq.inflight_counter = counter;
	tm_publish(&self->t, 3);
	tm_publish(&self->t, 1);
	tm_publish(&self->t, 6);
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(1, vb_vq_pop(&self->t.vq, &head));
	vb_vq_push(&self->t.vq, 1, 1);

	/* A new back-end finds 3 and 6 still in flight, in submission order. */
	EXPECT_EQ(2, vb_inflight_recover(inf, TM_NUM, 1, heads, &counter));
	EXPECT_EQ(3, heads[0]);
	EXPECT_EQ(6, heads[1]);

	/* Died after publishing 6 but before clearing its flag: 6 is done. */
	inf->last_batch_head = 6;
	EXPECT_EQ(1, vb_inflight_recover(inf, TM_NUM, 2, heads, &counter));
	EXPECT_EQ(3, heads[0]);
	EXPECT_EQ(-EINVAL, vb_inflight_recover(inf, TM_NUM * 2, 2, heads, &counter));
	free(inf);
}

/*
 * Ring addresses aligned as the front-end sees them, in a region whose
 * address is one byte off its file offset's alignment: the rings would be
 * read misaligned here, so the map is refused.
 */
TEST(a_ring_that_lands_misaligned_in_this_process_is_refused)
{
	struct vb_vq_addrs a = {
		.desc_uva = TM_UVA + 0x10, .avail_uva = TM_UVA + 0x1000, .used_uva = TM_UVA + 0x2000
	};
	struct vb_mem mem;
	struct vb_vq vq = { 0 };

	for (uint64_t skew = 0; skew < 2; skew++) {
		int fd = memfd_create("vq-test", MFD_CLOEXEC);

		ASSERT_LE(0, fd);
		ASSERT_EQ(0, ftruncate(fd, TM_SIZE));
		vb_mem_init(&mem);
		ASSERT_EQ(0, vb_mem_add_take_fd(&mem, TM_GPA, TM_SIZE - 16, TM_UVA - skew, 0, fd));
		EXPECT_EQ(skew ? -EINVAL : 0, vb_vq_map(&vq, &mem, TM_NUM, &a));
		vb_mem_clear(&mem);
	}
}

TEST_HARNESS_MAIN
