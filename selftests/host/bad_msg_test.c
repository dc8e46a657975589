// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Malformed vhost-user messages: each is answered with a non-zero REPLY_ACK
 * or a disconnect, and the daemon stays up and accepts the next front-end.
 */
#include "kselftest_harness.h"

#include "host_test.h"

FIXTURE(bad_msg) {
	struct vd_proc vd;
	struct fe_vu vu;
};

FIXTURE_VARIANT(bad_msg) {
	uint32_t request;
	uint32_t flags;		/* 0: VERSION | NEED_REPLY */
	uint32_t size;
	bool set_ring_first;	/* send mem table and ring layout before */
};

FIXTURE_VARIANT_ADD(bad_msg, set_vring_num_with_a_short_payload) {
	.request = VHOST_USER_SET_VRING_NUM, .size = 4,
};
FIXTURE_VARIANT_ADD(bad_msg, set_features_with_a_long_payload) {
	.request = VHOST_USER_SET_FEATURES, .size = 16,
};
FIXTURE_VARIANT_ADD(bad_msg, unknown_request_id) {
	.request = 200, .size = 8,
};
FIXTURE_VARIANT_ADD(bad_msg, request_id_zero) {
	.request = 0, .size = 0,
};
FIXTURE_VARIANT_ADD(bad_msg, wrong_version_in_flags) {
	.request = VHOST_USER_GET_QUEUE_NUM, .flags = 0x2 | VHOST_USER_NEED_REPLY_MASK,
	.size = 0,
};
FIXTURE_VARIANT_ADD(bad_msg, set_vring_kick_without_its_fd) {
	.request = VHOST_USER_SET_VRING_KICK, .size = 8, .set_ring_first = true,
};
FIXTURE_VARIANT_ADD(bad_msg, set_mem_table_without_its_fd) {
	.request = VHOST_USER_SET_MEM_TABLE, .size = 8 + sizeof(struct vu_mem_region),
};

FIXTURE_SETUP(bad_msg)
{
	int ret;

	self->vu.sock = -1;
	if (!vd_binary())
		SKIP(return, "VBLKD is not set: no daemon to test");
	ret = vd_start(&self->vd, HOST_IMAGE_SIZE, NULL);
	ASSERT_EQ(0, ret) TH_LOG("vd_start: %s", strerror(-ret));
	ret = fe_vu_connect(&self->vu, self->vd.sock, 5000);
	ASSERT_EQ(0, ret) TH_LOG("connect: %s", strerror(-ret));
}

FIXTURE_TEARDOWN(bad_msg)
{
	fe_vu_disconnect(&self->vu);
	host_down(_metadata, &self->vd, NULL);
}

TEST_F(bad_msg, is_refused_and_the_daemon_keeps_accepting_front_ends)
{
	const uint64_t proto = 1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK |
			       1ull << VHOST_USER_PROTOCOL_F_MQ |
			       1ull << VHOST_USER_PROTOCOL_F_CONFIG;
	struct fe_mem mem;
	struct fe_blk blk;
	struct vu_msg msg;
	uint8_t buf[4096];
	uint64_t features;
	int ret;

	ASSERT_EQ(0, fe_mem_init(&mem, 1 << 20, FE_MEM_GPA_BASE));
	ASSERT_EQ(0, fe_vu_negotiate(&self->vu, 0, proto, NULL));
	ASSERT_TRUE(self->vu.reply_ack) TH_LOG("REPLY_ACK not offered");
	if (variant->set_ring_first) {
		ASSERT_EQ(0, fe_vu_set_mem_table(&self->vu, &mem));
		ASSERT_EQ(0, fe_vu_set_vring_num(&self->vu, 0, 128));
		ASSERT_EQ(0, fe_vu_set_vring_addr(&self->vu, 0, fe_mem_uaddr(mem.va),
						  fe_mem_uaddr(mem.va + 2048),
						  fe_mem_uaddr(mem.va + 4096)));
	}

	memset(&msg, 0, sizeof(msg));
	msg.hdr.request = variant->request;
	msg.hdr.flags = variant->flags ? variant->flags :
			VHOST_USER_VERSION | VHOST_USER_NEED_REPLY_MASK;
	msg.hdr.size = variant->size;
	if (variant->request == VHOST_USER_SET_MEM_TABLE) {
		msg.payload.mem.nregions = 1;
		msg.payload.mem.regions[0] = (struct vu_mem_region){
			.guest_phys_addr = mem.gpa,
			.memory_size = mem.size,
			.userspace_addr = fe_mem_uaddr(mem.va),
		};
	}
	ASSERT_EQ(0, fe_vu_send_msg(&self->vu, &msg));

	self->vu.timeout_ms = 2000;
	ret = fe_vu_recv_reply(&self->vu, variant->request, &msg);
	if (ret == 0) {
		vu_msg_close_fds(&msg);
		EXPECT_EQ(sizeof(uint64_t), msg.hdr.size);
		EXPECT_NE(0, msg.payload.u64) TH_LOG("malformed message acked as success");
		/* Still connected: the connection must still work. */
		EXPECT_EQ(0, fe_vu_get_features(&self->vu, &features));
	} else {
		EXPECT_EQ(-ECONNRESET, ret) TH_LOG("neither an ack nor a disconnect: %s",
						   strerror(-ret));
	}
	fe_vu_disconnect(&self->vu);
	fe_mem_fini(&mem);

	ASSERT_TRUE(vd_alive(&self->vd)) TH_LOG("vblkd died on a malformed message");

	/* A new front-end connects and does I/O. */
	ret = fe_blk_open(&blk, self->vd.sock, NULL);
	ASSERT_EQ(0, ret) TH_LOG("reconnect: %s", strerror(-ret));
	host_pattern(buf, sizeof(buf), 77);
	EXPECT_EQ(VIRTIO_BLK_S_OK, fe_blk_write(&blk, 0, 0, buf, sizeof(buf)));
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(VIRTIO_BLK_S_OK, fe_blk_read(&blk, 0, 0, buf, sizeof(buf)));
	fe_blk_close(&blk);
}



HOST_SOLO_FIXTURE();

/*
 * Regions, logs and in-flight areas are mapped from front-end fds: one that
 * claims more bytes than its file holds would fault on first touch. It is
 * refused instead, and the daemon keeps serving.
 */
TEST_F(solo, a_memory_region_larger_than_its_fd_is_refused)
{
	const uint64_t proto = 1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK;
	struct vu_mem_table table = { .nregions = 1 };
	struct fe_vu vu = { .sock = -1 };
	struct fe_mem mem;
	int ret;

	if (!vd_binary())
		SKIP(return, "VBLKD is not set: no daemon to test");
	ASSERT_EQ(0, vd_start(&self->vd, HOST_IMAGE_SIZE, NULL));
	ASSERT_EQ(0, fe_vu_connect(&vu, self->vd.sock, 5000));
	ASSERT_EQ(0, fe_mem_init(&mem, 1 << 20, FE_MEM_GPA_BASE));
	ASSERT_EQ(0, fe_vu_negotiate(&vu, 0, proto, NULL));
	table.regions[0] = (struct vu_mem_region){
		.guest_phys_addr = mem.gpa,
		.memory_size = mem.size * 4, /* the memfd holds a quarter of it */
		.userspace_addr = (uintptr_t)mem.va,
	};
	ret = fe_vu_request(&vu, VHOST_USER_SET_MEM_TABLE, &table,
			    8 + sizeof(struct vu_mem_region), &mem.fd, 1);
	EXPECT_EQ(-EREMOTEIO, ret) TH_LOG("SET_MEM_TABLE: %s", strerror(-ret));
	fe_vu_disconnect(&vu);
	fe_mem_fini(&mem);

	EXPECT_TRUE(vd_alive(&self->vd));
	ret = fe_blk_open(&self->blk, self->vd.sock, &(struct fe_blk_opts){ 0 });
	EXPECT_EQ(0, ret) TH_LOG("next front-end: %s", strerror(-ret));
	self->blk_open = !ret;
}
TEST_HARNESS_MAIN
