// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vblkd on null:SIZE: the capacity is SIZE, every read returns zeroes,
 * writes, flushes, discards and write-zeroes succeed and change nothing;
 * an online resize (vblkctl resize on --mgmt-socket) takes any size.
 */
#include "kselftest_harness.h"

#include "host_test.h"

FIXTURE(null) {
	struct vd_proc vd;
	struct fe_blk blk;
	char mgmt[64];
};

FIXTURE_SETUP(null)
{
	const char *extra[] = { "--num-queues", "2", "--image", "null:3G", "--mgmt-socket",
				self->mgmt, NULL };
	struct fe_blk_opts opts = { .num_queues = 2 };

	snprintf(self->mgmt, sizeof(self->mgmt), "/tmp/vblkd-null-mgmt-%d.sock", getpid());
	HOST_UP(&self->vd, &self->blk, extra, &opts);
}

FIXTURE_TEARDOWN(null)
{
	host_down(_metadata, &self->vd, &self->blk);
	unlink(self->mgmt);
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

TEST_F(null, resize_serves_the_new_size_at_once)
{
	uint64_t past = 3ull << 30 >> 9; /* the first sector beyond 3 GiB */
	uint8_t buf[FE_BLK_SECTOR];

	if (!getenv("VBLKCTL"))
		SKIP(return, "VBLKCTL is not set");
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, fe_blk_read(&self->blk, 0, past, buf, sizeof(buf)));
	ASSERT_EQ(0, vd_vblkctl("resize --socket %s --size 4G", self->mgmt));
	EXPECT_EQ(VIRTIO_BLK_S_OK, fe_blk_read(&self->blk, 0, past, buf, sizeof(buf)));
	EXPECT_TRUE(host_all_bytes(buf, sizeof(buf), 0));
	EXPECT_EQ(VIRTIO_BLK_S_IOERR,
		  fe_blk_read(&self->blk, 1, 4ull << 30 >> 9, buf, sizeof(buf)));
}

TEST_HARNESS_MAIN
