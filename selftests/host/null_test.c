// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vblkd on null:SIZE: the capacity is SIZE, every read returns zeroes,
 * writes, flushes, discards and write-zeroes succeed and change nothing.
 */
#include "kselftest_harness.h"

#include "host_test.h"

FIXTURE(null) {
	struct vd_proc vd;
	struct fe_blk blk;
};

FIXTURE_SETUP(null)
{
	static const char *const extra[] = { "--num-queues", "2", "--image", "null:3G", NULL };
	struct fe_blk_opts opts = { .num_queues = 2 };

	HOST_UP(&self->vd, &self->blk, extra, &opts);
}

FIXTURE_TEARDOWN(null)
{
	host_down(_metadata, &self->vd, &self->blk);
}

TEST_F(null, capacity_is_the_size_given)
{
	EXPECT_EQ(3ull << 30 >> 9, le64toh(self->blk.config.capacity));
	EXPECT_TRUE(self->blk.features & (1ull << VIRTIO_BLK_F_DISCARD));
}

TEST_F(null, writes_succeed_and_reads_return_zeroes)
{
	enum { LEN = 65536 };
	static uint8_t buf[LEN];
	struct fe_blk_req *req;

	for (unsigned int q = 0; q < 2; q++) {
		host_pattern(buf, LEN, q + 1);
		EXPECT_EQ(VIRTIO_BLK_S_OK, fe_blk_write(&self->blk, q, q * 128, buf, LEN));
		memset(buf, 0xa5, LEN);
		ASSERT_EQ(VIRTIO_BLK_S_OK, fe_blk_read(&self->blk, 1 - q, q * 128, buf, LEN));
		EXPECT_TRUE(host_all_bytes(buf, LEN, 0)) TH_LOG("queue %u", q);
	}
	/* The last sector of 3 GiB: offsets past 32 bits. */
	ASSERT_EQ(VIRTIO_BLK_S_OK,
		  fe_blk_read(&self->blk, 0, (3ull << 30 >> 9) - 1, buf, FE_BLK_SECTOR));
	ASSERT_EQ(0, fe_blk_submit_flush(&self->blk, 0, &req));
	ASSERT_EQ(0, fe_blk_wait(&self->blk, req, HOST_IO_TIMEOUT_MS));
	EXPECT_EQ(VIRTIO_BLK_S_OK, req->status);
	fe_blk_req_free(&self->blk, req);
	ASSERT_EQ(0, fe_blk_submit_discard(&self->blk, 1, 0, 8, &req));
	ASSERT_EQ(0, fe_blk_wait(&self->blk, req, HOST_IO_TIMEOUT_MS));
	EXPECT_EQ(VIRTIO_BLK_S_OK, req->status);
	fe_blk_req_free(&self->blk, req);
}

TEST_HARNESS_MAIN
