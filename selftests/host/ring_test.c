// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Ring life cycle through vhost-user messages: GET_VRING_BASE stops a ring
 * and reports its position, SET_VRING_KICK starts it again; device status
 * and the inflight region.
 */
#include "kselftest_harness.h"

#include "host_test.h"

FIXTURE(ring) {
	struct vd_proc vd;
	struct fe_blk blk;
};

FIXTURE_SETUP(ring)
{
	static const char *const extra[] = { "--num-queues", "2", NULL };
	struct fe_blk_opts opts = { .num_queues = 2 };

	HOST_UP(&self->vd, &self->blk, extra, &opts);
}

FIXTURE_TEARDOWN(ring)
{
	host_down(_metadata, &self->vd, &self->blk);
}

TEST_F(ring, get_vring_base_reports_the_next_avail_index)
{
	uint8_t buf[512];
	unsigned int base = 0;

	for (int i = 0; i < 5; i++)
		ASSERT_EQ(VIRTIO_BLK_S_OK, fe_blk_read(&self->blk, 0, (uint64_t)i, buf, 512));
	ASSERT_EQ(0, fe_vu_get_vring_base(&self->blk.vu, 0, &base));
	EXPECT_EQ(5, base);
}

TEST_F(ring, get_vring_base_stops_the_ring_until_set_vring_kick)
{
	struct fe_vq *vq = fe_blk_vq(&self->blk, 0);
	struct fe_blk_req *req;
	uint8_t buf[512];
	unsigned int base = 0;

	ASSERT_EQ(VIRTIO_BLK_S_OK, fe_blk_read(&self->blk, 0, 0, buf, sizeof(buf)));
	ASSERT_EQ(0, fe_vu_get_vring_base(&self->blk.vu, 0, &base));
	EXPECT_EQ(1, base);

	/* Stopped: a new request and a kick get nothing back. */
	ASSERT_EQ(0, fe_blk_submit_read(&self->blk, 0, 1, 512, &req));
	EXPECT_EQ(-ETIMEDOUT, fe_blk_reap(&self->blk, 0, HOST_QUIET_MS));
	EXPECT_FALSE(req->done);
	EXPECT_EQ(1, le16toh(__atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE)));

	/* The other queue is independent. */
	EXPECT_EQ(VIRTIO_BLK_S_OK, fe_blk_read(&self->blk, 1, 0, buf, sizeof(buf)));

	/* Restart as a front-end does after a stop: base, then kick fd. */
	ASSERT_EQ(0, fe_vu_set_vring_base(&self->blk.vu, 0, base));
	ASSERT_EQ(0, fe_vu_set_vring_kick(&self->blk.vu, 0, vq->kick_fd));
	EXPECT_EQ(0, fe_blk_wait(&self->blk, req, HOST_IO_TIMEOUT_MS))
		TH_LOG("the pending request did not complete after SET_VRING_KICK");
	EXPECT_EQ(VIRTIO_BLK_S_OK, req->status);
	fe_blk_req_free(&self->blk, req);

	/* And the ring keeps working. */
	EXPECT_EQ(VIRTIO_BLK_S_OK, fe_blk_read(&self->blk, 0, 2, buf, sizeof(buf)));
}

TEST_F(ring, get_vring_base_of_every_ring_then_restart_keeps_data)
{
	uint8_t want[4096], got[4096];
	unsigned int base[2];

	host_pattern(want, sizeof(want), 3);
	ASSERT_EQ(VIRTIO_BLK_S_OK, fe_blk_write(&self->blk, 1, 40, want, sizeof(want)));
	for (unsigned int q = 0; q < 2; q++)
		ASSERT_EQ(0, fe_vu_get_vring_base(&self->blk.vu, q, &base[q]));
	EXPECT_EQ(0, base[0]);
	EXPECT_EQ(1, base[1]);
	for (unsigned int q = 0; q < 2; q++) {
		struct fe_vq *vq = fe_blk_vq(&self->blk, q);

		ASSERT_EQ(0, fe_vu_set_vring_base(&self->blk.vu, q, base[q]));
		ASSERT_EQ(0, fe_vu_set_vring_kick(&self->blk.vu, q, vq->kick_fd));
	}
	EXPECT_EQ(VIRTIO_BLK_S_OK, fe_blk_read(&self->blk, 0, 40, got, sizeof(got)));
	EXPECT_EQ(0, memcmp(want, got, sizeof(got)));
}

TEST_F(ring, get_status_reads_back_driver_ok)
{
	uint8_t status = 0;

	ASSERT_TRUE(self->blk.vu.protocol_features & (1ull << VHOST_USER_PROTOCOL_F_STATUS));
	ASSERT_EQ(0, fe_vu_get_status(&self->blk.vu, &status));
	EXPECT_TRUE(status & VIRTIO_CONFIG_S_DRIVER_OK) TH_LOG("status 0x%x", status);
	EXPECT_FALSE(status & VIRTIO_CONFIG_S_NEEDS_RESET);
}

TEST_F(ring, get_queue_num_reports_the_queue_count)
{
	uint64_t num = 0;

	ASSERT_EQ(0, fe_vu_get_queue_num(&self->blk.vu, &num));
	EXPECT_EQ(2, num);
}

TEST_F(ring, front_end_with_an_inflight_region_does_io)
{
	struct fe_blk_opts opts = { .num_queues = 2, .inflight = true };
	uint8_t want[4096], got[4096];
	int ret;

	ASSERT_TRUE(self->blk.vu.protocol_features &
		    (1ull << VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD));
	/* Reconnect the way QEMU's vhost-user-blk does. */
	fe_blk_close(&self->blk);
	ret = fe_blk_open(&self->blk, self->vd.sock, &opts);
	ASSERT_EQ(0, ret) TH_LOG("open with inflight: %s", strerror(-ret));
	EXPECT_LT(0, self->blk.inflight.mmap_size);

	host_pattern(want, sizeof(want), 8);
	EXPECT_EQ(VIRTIO_BLK_S_OK, fe_blk_write(&self->blk, 0, 16, want, sizeof(want)));
	EXPECT_EQ(VIRTIO_BLK_S_OK, fe_blk_read(&self->blk, 1, 16, got, sizeof(got)));
	EXPECT_EQ(0, memcmp(want, got, sizeof(got)));
}

TEST_HARNESS_MAIN
