// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Ring sizes a front-end asks for: a vblkd with its default --queue-size
 * serves every power of two up to 1024 (QEMU's largest queue-size, libblkio's
 * 256), refuses 2048 and sizes that are not a power of two, and a lower
 * --queue-size lowers the largest ring it accepts.
 */
#include "kselftest_harness.h"

#include "host_test.h"

FIXTURE(qsize) {
	struct vd_proc vd;
	struct fe_blk blk;
};

FIXTURE_VARIANT(qsize) {
	unsigned int ring; /* ring size the front-end asks for */
};

FIXTURE_VARIANT_ADD(qsize, ring_of_1024) {
	.ring = 1024,
};
FIXTURE_VARIANT_ADD(qsize, ring_of_256) {
	.ring = 256,
};
FIXTURE_VARIANT_ADD(qsize, ring_of_4) {
	.ring = 4, /* the smallest that holds a write: 3 descriptors */
};

FIXTURE_SETUP(qsize)
{
	struct fe_blk_opts opts = { .num_queues = 1, .queue_size = variant->ring };

	HOST_UP(&self->vd, &self->blk, NULL, &opts);
}

FIXTURE_TEARDOWN(qsize)
{
	host_down(_metadata, &self->vd, &self->blk);
}

TEST_F (qsize, default_daemon_serves_the_ring_with_more_requests_than_it_holds) {
	enum { LEN = 4096 };
	uint8_t want[LEN], got[LEN];
	unsigned int n = 2 * variant->ring + 3; /* wraps the ring twice */

	for (unsigned int i = 0; i < n; i++) {
		host_pattern(want, LEN, i);
		ASSERT_EQ(VIRTIO_BLK_S_OK,
			  fe_blk_write(&self->blk, 0, i * (LEN / FE_BLK_SECTOR), want, LEN))
		TH_LOG("write %u", i);
	}
	for (unsigned int i = 0; i < n; i += 97) {
		host_pattern(want, LEN, i);
		ASSERT_EQ(VIRTIO_BLK_S_OK,
			  fe_blk_read(&self->blk, 0, i * (LEN / FE_BLK_SECTOR), got, LEN));
		EXPECT_EQ(0, memcmp(want, got, LEN)) TH_LOG("block %u", i);
	}
}

/* A raw connection that negotiated REPLY_ACK, so a refused SET_VRING_NUM shows. */
FIXTURE(refused) {
	struct vd_proc vd;
	struct fe_vu vu;
};

FIXTURE_VARIANT(refused) {
	const char *queue_size; /* --queue-size, NULL for the default */
	unsigned int largest; /* the largest ring that must be accepted */
	unsigned int ring; /* a ring that must be refused */
};

FIXTURE_VARIANT_ADD(refused, ring_of_2048_by_default) {
	.largest = 1024,
	.ring = 2048,
};
FIXTURE_VARIANT_ADD(refused, ring_of_384_by_default) {
	.largest = 1024,
	.ring = 384,
};
FIXTURE_VARIANT_ADD(refused, ring_of_0_by_default) {
	.largest = 1024,
	.ring = 0,
};
FIXTURE_VARIANT_ADD(refused, ring_of_256_under_queue_size_128) {
	.queue_size = "128",
	.largest = 128,
	.ring = 256,
};

FIXTURE_SETUP(refused)
{
	const char *const extra[] = { "--queue-size", variant->queue_size, NULL };
	const uint64_t proto = 1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK;
	int ret;

	self->vu.sock = -1;
	if (!vd_binary())
		SKIP(return, "VBLKD is not set: no daemon to test");
	ret = vd_start(&self->vd, HOST_IMAGE_SIZE, variant->queue_size ? extra : NULL);
	ASSERT_EQ(0, ret) TH_LOG("vd_start: %s", strerror(-ret));
	ret = fe_vu_connect(&self->vu, self->vd.sock, 5000);
	ASSERT_EQ(0, ret) TH_LOG("connect: %s", strerror(-ret));
	ASSERT_EQ(0, fe_vu_negotiate(&self->vu, 0, proto, NULL));
	ASSERT_TRUE(self->vu.reply_ack) TH_LOG("REPLY_ACK not offered");
}

FIXTURE_TEARDOWN(refused)
{
	fe_vu_disconnect(&self->vu);
	host_down(_metadata, &self->vd, NULL);
}

TEST_F (refused, set_vring_num_is_refused_and_the_largest_ring_is_not) {
	EXPECT_NE(0, fe_vu_set_vring_num(&self->vu, 0, variant->ring))
	TH_LOG("ring of %u accepted", variant->ring);
	EXPECT_EQ(0, fe_vu_set_vring_num(&self->vu, 0, variant->largest))
	TH_LOG("ring of %u refused", variant->largest);
	EXPECT_TRUE(vd_alive(&self->vd));
}

TEST_HARNESS_MAIN
