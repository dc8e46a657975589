// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Protocol strictness (issue 10, item 5), as a hostile front-end attacks:
 * rings that break virtio's alignment, a base wider than a ring index,
 * messages of a protocol feature never negotiated, and a memory table that
 * takes a running ring's memory away. Each is refused or raises
 * NEEDS_RESET, and the daemon serves a well-behaved front-end afterwards.
 */
#include "kselftest_harness.h"

#include <linux/virtio_config.h>

#include "host_test.h"

HOST_SOLO_FIXTURE();

TEST_F (solo, ring_addresses_that_break_virtio_alignment_are_refused) {
	struct fe_vq *vq;
	uint64_t desc, avail, used;

	HOST_UP(&self->vd, &self->blk, NULL, NULL);
	self->blk_open = true;
	vq = fe_blk_vq(&self->blk, 0);
	desc = fe_mem_uaddr(vq->desc);
	avail = fe_mem_uaddr(vq->avail);
	used = fe_mem_uaddr(vq->used);
	EXPECT_EQ(-EREMOTEIO, fe_vu_set_vring_addr(&self->blk.vu, 0, desc + 8, avail, used));
	EXPECT_EQ(-EREMOTEIO, fe_vu_set_vring_addr(&self->blk.vu, 0, desc, avail + 1, used));
	EXPECT_EQ(-EREMOTEIO, fe_vu_set_vring_addr(&self->blk.vu, 0, desc, avail, used + 2));
	EXPECT_TRUE(vd_log_contains(&self->vd, "misaligned ring"));
	/* Refused before anything changed: the ring runs on. */
	host_expect_next_served(_metadata, &self->vd, &self->blk, &self->blk_open);
}

TEST_F (solo, a_base_wider_than_a_ring_index_is_refused) {
	HOST_UP(&self->vd, &self->blk, NULL, NULL);
	self->blk_open = true;
	ASSERT_EQ(0, fe_blk_suspend(&self->blk));
	EXPECT_EQ(-EREMOTEIO, fe_vu_set_vring_base(&self->blk.vu, 0, 0x10005));
	EXPECT_TRUE(vd_log_contains(&self->vd, "wider than a ring index"));
	host_expect_next_served(_metadata, &self->vd, &self->blk, &self->blk_open);
}

TEST_F (solo, messages_of_a_protocol_feature_never_negotiated_are_refused) {
	struct fe_vu vu = { .sock = -1 };
	uint8_t cfg[8];

	if (!vd_binary())
		SKIP(return, "VBLKD is not set: no daemon to test");
	ASSERT_EQ(0, vd_start(&self->vd, HOST_IMAGE_SIZE, NULL));
	ASSERT_EQ(0, fe_vu_connect(&vu, self->vd.sock, 5000));
	/* REPLY_ACK only: no STATUS, CONFIG, INFLIGHT_SHMFD or DEVICE_STATE. */
	ASSERT_EQ(0, fe_vu_negotiate(&vu, 0, 1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK, NULL));
	EXPECT_EQ(-EREMOTEIO, fe_vu_set_status(&vu, VIRTIO_CONFIG_S_ACKNOWLEDGE));
	EXPECT_TRUE(vd_log_contains(&self->vd, "SET_STATUS without negotiating protocol feature"));
	/* A request that waits for a reply it cannot have: the connection goes. */
	EXPECT_NE(0, fe_vu_get_config(&vu, 0, cfg, sizeof(cfg)));
	EXPECT_TRUE(vd_log_contains(&self->vd, "GET_CONFIG without negotiating protocol feature"));
	fe_vu_disconnect(&vu);
	EXPECT_TRUE(vd_alive(&self->vd));
	host_expect_next_served(_metadata, &self->vd, &self->blk, &self->blk_open);
}

TEST_F (solo, a_memory_table_that_takes_a_running_ring_away_raises_needs_reset) {
	struct fe_mem other;
	uint8_t status = 0;

	HOST_UP(&self->vd, &self->blk, NULL, NULL);
	self->blk_open = true;
	ASSERT_TRUE(self->blk.vu.protocol_features & (1ull << VHOST_USER_PROTOCOL_F_STATUS));
	/* Memory elsewhere: the rings' addresses are in none of it. */
	ASSERT_EQ(0, fe_mem_init(&other, 1 << 20, FE_MEM_GPA_BASE + (64ull << 20)));
	EXPECT_EQ(-EREMOTEIO, fe_vu_set_mem_table(&self->blk.vu, &other));
	fe_mem_fini(&other);
	ASSERT_EQ(0, fe_vu_get_status(&self->blk.vu, &status));
	EXPECT_NE(0, status & VIRTIO_CONFIG_S_NEEDS_RESET) TH_LOG("status 0x%x", status);
	EXPECT_NE(0, host_wait_broken(&self->blk, 0, HOST_IO_TIMEOUT_MS));
	host_expect_next_served(_metadata, &self->vd, &self->blk, &self->blk_open);
}

TEST_HARNESS_MAIN
