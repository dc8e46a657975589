// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Block I/O through a real vblkd: read/write on two queues, flush, discard,
 * write-zeroes, GET_ID, read-only and out-of-range requests. The io tests
 * run with workers sleeping on the kick (--poll-us 0), polling up to a long
 * cap, and adaptive polling at its default, with and without EVENT_IDX
 * (kicks suppressed through avail_event, or VRING_USED_F_NO_NOTIFY).
 */
#include "kselftest_harness.h"

#include "host_test.h"

#define IO_SERIAL "vblkd-selftest-42"

FIXTURE(io) {
	struct vd_proc vd;
	struct fe_blk blk;
};

FIXTURE_VARIANT(io) {
	const char *poll_us;
	bool no_event_idx;
};

FIXTURE_VARIANT_ADD(io, kick) {
	.poll_us = "0",
};

FIXTURE_VARIANT_ADD(io, polling) {
	.poll_us = "200",
};

FIXTURE_VARIANT_ADD(io, adaptive) {
	.poll_us = "auto",
};

FIXTURE_VARIANT_ADD(io, adaptive_no_event_idx) {
	.poll_us = "auto",
	.no_event_idx = true,
};

FIXTURE_SETUP(io)
{
	const char *const extra[] = {
		"--num-queues", "2", "--queue-size", "128", "--serial", IO_SERIAL,
		"--poll-us", variant->poll_us, NULL,
	};
	struct fe_blk_opts opts = {
		.num_queues = 2,
		.queue_size = 128,
		.drop_features = variant->no_event_idx ? 1ull << VIRTIO_RING_F_EVENT_IDX : 0,
	};

	HOST_UP(&self->vd, &self->blk, extra, &opts);
}

FIXTURE_TEARDOWN(io)
{
	host_down(_metadata, &self->vd, &self->blk);
}

TEST_F(io, config_reports_capacity_and_two_queues)
{
	EXPECT_EQ(HOST_SECTORS, le64toh(self->blk.config.capacity));
	EXPECT_TRUE(self->blk.features & (1ull << VIRTIO_BLK_F_MQ));
	EXPECT_EQ(2, le16toh(self->blk.config.num_queues));
}

TEST_F(io, writes_on_two_queues_read_back_on_either_queue)
{
	enum { LEN = 8192, NREQ = 8 };
	struct fe_blk_req *req[2][NREQ];
	uint8_t want[LEN], got[LEN];

	/* Several writes in flight on both queues at once. */
	for (unsigned int q = 0; q < 2; q++) {
		for (unsigned int i = 0; i < NREQ; i++) {
			uint64_t sector = (q * NREQ + i) * (LEN / FE_BLK_SECTOR);

			host_pattern(want, LEN, (uint32_t)sector);
			ASSERT_EQ(0, fe_blk_submit_write(&self->blk, q, sector, want, LEN,
							 &req[q][i]));
		}
	}
	for (unsigned int q = 0; q < 2; q++) {
		for (unsigned int i = 0; i < NREQ; i++) {
			ASSERT_EQ(0, fe_blk_wait(&self->blk, req[q][i], HOST_IO_TIMEOUT_MS));
			EXPECT_EQ(VIRTIO_BLK_S_OK, req[q][i]->status);
			fe_blk_req_free(&self->blk, req[q][i]);
		}
	}
	/* Read each block back on the other queue. */
	for (unsigned int q = 0; q < 2; q++) {
		for (unsigned int i = 0; i < NREQ; i++) {
			uint64_t sector = (q * NREQ + i) * (LEN / FE_BLK_SECTOR);

			host_pattern(want, LEN, (uint32_t)sector);
			memset(got, 0, LEN);
			ASSERT_EQ(VIRTIO_BLK_S_OK,
				  fe_blk_read(&self->blk, 1 - q, sector, got, LEN));
			EXPECT_EQ(0, memcmp(want, got, LEN)) TH_LOG("sector %ju", (uintmax_t)sector);
		}
	}
}

TEST_F(io, read_reports_the_bytes_it_wrote_in_the_used_length)
{
	struct fe_blk_req *req;

	ASSERT_EQ(0, fe_blk_submit_read(&self->blk, 0, 0, 4096, &req));
	ASSERT_EQ(0, fe_blk_wait(&self->blk, req, HOST_IO_TIMEOUT_MS));
	EXPECT_EQ(VIRTIO_BLK_S_OK, req->status);
	EXPECT_EQ(4096 + 1, req->used_len);
	EXPECT_TRUE(host_all_bytes(req->data, 4096, 0xa5));
	fe_blk_req_free(&self->blk, req);
}

TEST_F(io, flush_completes_with_ok)
{
	uint8_t buf[4096];
	struct fe_blk_req *req;

	ASSERT_TRUE(self->blk.features & (1ull << VIRTIO_BLK_F_FLUSH));
	host_pattern(buf, sizeof(buf), 7);
	ASSERT_EQ(VIRTIO_BLK_S_OK, fe_blk_write(&self->blk, 0, 64, buf, sizeof(buf)));
	ASSERT_EQ(0, fe_blk_submit_flush(&self->blk, 1, &req));
	ASSERT_EQ(0, fe_blk_wait(&self->blk, req, HOST_IO_TIMEOUT_MS));
	EXPECT_EQ(VIRTIO_BLK_S_OK, req->status);
	fe_blk_req_free(&self->blk, req);
}

/* Write data, zero a range with @type (and @unmap), expect zeros only there. */
static void zero_range_check(struct __test_metadata *_metadata, struct fe_blk *blk,
			     uint32_t type, bool unmap)
{
	enum { LEN = 64 * 1024 };
	static uint8_t want[LEN], got[LEN];
	const uint64_t sector = 2048;
	const uint32_t zs = 16, zn = 32; /* sectors 16..47 of the range */
	struct fe_blk_req *req;

	host_pattern(want, LEN, 99);
	ASSERT_EQ(VIRTIO_BLK_S_OK, fe_blk_write(blk, 0, sector, want, LEN));

	if (type == VIRTIO_BLK_T_DISCARD) {
		ASSERT_EQ(0, fe_blk_submit_discard(blk, 1, sector + zs, zn, &req));
	} else {
		ASSERT_EQ(0, fe_blk_submit_write_zeroes(blk, 1, sector + zs, zn, unmap, &req));
	}
	ASSERT_EQ(0, fe_blk_wait(blk, req, HOST_IO_TIMEOUT_MS));
	EXPECT_EQ(VIRTIO_BLK_S_OK, req->status);
	fe_blk_req_free(blk, req);

	memset(want + zs * FE_BLK_SECTOR, 0, zn * FE_BLK_SECTOR);
	ASSERT_EQ(VIRTIO_BLK_S_OK, fe_blk_read(blk, 0, sector, got, LEN));
	EXPECT_TRUE(host_all_bytes(got + zs * FE_BLK_SECTOR, zn * FE_BLK_SECTOR, 0));
	EXPECT_EQ(0, memcmp(want, got, LEN)) TH_LOG("data outside the zeroed range changed");
}

TEST_F(io, discarded_range_reads_back_as_zeros)
{
	ASSERT_TRUE(self->blk.features & (1ull << VIRTIO_BLK_F_DISCARD));
	zero_range_check(_metadata, &self->blk, VIRTIO_BLK_T_DISCARD, false);
}

TEST_F(io, write_zeroes_reads_back_as_zeros)
{
	ASSERT_TRUE(self->blk.features & (1ull << VIRTIO_BLK_F_WRITE_ZEROES));
	zero_range_check(_metadata, &self->blk, VIRTIO_BLK_T_WRITE_ZEROES, false);
}

TEST_F(io, write_zeroes_with_unmap_reads_back_as_zeros)
{
	ASSERT_TRUE(self->blk.features & (1ull << VIRTIO_BLK_F_WRITE_ZEROES));
	zero_range_check(_metadata, &self->blk, VIRTIO_BLK_T_WRITE_ZEROES, true);
}

TEST_F(io, get_id_returns_the_serial)
{
	char want[VIRTIO_BLK_ID_BYTES] = { 0 };
	struct fe_blk_req *req;

	strncpy(want, IO_SERIAL, sizeof(want));
	ASSERT_EQ(0, fe_blk_submit_get_id(&self->blk, 0, &req));
	ASSERT_EQ(0, fe_blk_wait(&self->blk, req, HOST_IO_TIMEOUT_MS));
	EXPECT_EQ(VIRTIO_BLK_S_OK, req->status);
	EXPECT_EQ(0, memcmp(want, req->data, sizeof(want)))
		TH_LOG("id: '%.20s'", (char *)req->data);
	fe_blk_req_free(&self->blk, req);
}

TEST_F(io, read_past_the_capacity_fails_with_ioerr)
{
	uint8_t buf[4096];

	EXPECT_EQ(VIRTIO_BLK_S_IOERR, fe_blk_read(&self->blk, 0, HOST_SECTORS, buf, 512));
	/* Starts inside, ends outside. */
	EXPECT_EQ(VIRTIO_BLK_S_IOERR,
		  fe_blk_read(&self->blk, 0, HOST_SECTORS - 1, buf, sizeof(buf)));
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, fe_blk_read(&self->blk, 1, UINT64_MAX, buf, 512));
	/* The device still works. */
	EXPECT_EQ(VIRTIO_BLK_S_OK, fe_blk_read(&self->blk, 0, HOST_SECTORS - 1, buf, 512));
}

TEST_F(io, write_past_the_capacity_fails_with_ioerr)
{
	uint8_t buf[4096];

	host_pattern(buf, sizeof(buf), 5);
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, fe_blk_write(&self->blk, 0, HOST_SECTORS, buf, 512));
	EXPECT_EQ(VIRTIO_BLK_S_IOERR,
		  fe_blk_write(&self->blk, 1, HOST_SECTORS - 1, buf, sizeof(buf)));
}

FIXTURE(read_only) {
	struct vd_proc vd;
	struct fe_blk blk;
};

FIXTURE_SETUP(read_only)
{
	static const char *const extra[] = { "--read-only", NULL };

	HOST_UP(&self->vd, &self->blk, extra, NULL);
}

FIXTURE_TEARDOWN(read_only)
{
	host_down(_metadata, &self->vd, &self->blk);
}

TEST_F(read_only, device_offers_the_ro_feature)
{
	EXPECT_TRUE(self->blk.features & (1ull << VIRTIO_BLK_F_RO));
}

TEST_F(read_only, write_is_refused_with_ioerr_and_leaves_data_alone)
{
	uint8_t buf[4096];

	host_pattern(buf, sizeof(buf), 11);
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, fe_blk_write(&self->blk, 0, 8, buf, sizeof(buf)));
	ASSERT_EQ(VIRTIO_BLK_S_OK, fe_blk_read(&self->blk, 0, 8, buf, sizeof(buf)));
	EXPECT_TRUE(host_all_bytes(buf, sizeof(buf), 0xa5));
}

TEST_F(read_only, write_zeroes_and_discard_are_refused)
{
	struct fe_blk_req *req;

	ASSERT_EQ(0, fe_blk_submit_write_zeroes(&self->blk, 0, 0, 8, false, &req));
	ASSERT_EQ(0, fe_blk_wait(&self->blk, req, HOST_IO_TIMEOUT_MS));
	EXPECT_NE(VIRTIO_BLK_S_OK, req->status);
	fe_blk_req_free(&self->blk, req);

	ASSERT_EQ(0, fe_blk_submit_discard(&self->blk, 0, 0, 8, &req));
	ASSERT_EQ(0, fe_blk_wait(&self->blk, req, HOST_IO_TIMEOUT_MS));
	EXPECT_NE(VIRTIO_BLK_S_OK, req->status);
	fe_blk_req_free(&self->blk, req);
}

TEST_HARNESS_MAIN
