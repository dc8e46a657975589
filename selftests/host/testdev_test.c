// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The device seam: the checksum device (testdev.h) served by testdevd over
 * the vhost-user transport, which knows nothing of it. Features, config
 * space, checksums on two queues, malformed chains and ring positions. Its
 * own state: testdev_state_test.c.
 */
#include "kselftest_harness.h"

#include "selftests/host/testdev_fixture.h"

TEST_F(testdev, offers_version_1_indirect_event_idx_and_protocol_features)
{
	uint64_t f = 0;

	ASSERT_EQ(0, fe_vu_get_features(&self->vu, &f));
	EXPECT_TRUE(f & (1ull << VIRTIO_F_VERSION_1));
	EXPECT_TRUE(f & (1ull << VHOST_USER_F_PROTOCOL_FEATURES));
	EXPECT_TRUE(f & (1ull << VIRTIO_RING_F_INDIRECT_DESC));
	EXPECT_TRUE(f & (1ull << VIRTIO_RING_F_EVENT_IDX));
	EXPECT_EQ(self->features, f & self->features) TH_LOG("acked 0x%llx, offered 0x%llx",
							      (unsigned long long)self->features,
							      (unsigned long long)f);
}

TEST_F(testdev, config_holds_the_magic_and_the_queue_count)
{
	uint8_t cfg[TESTDEV_CFG_SIZE + 4];

	ASSERT_TRUE(self->vu.protocol_features & (1ull << VHOST_USER_PROTOCOL_F_CONFIG));
	ASSERT_EQ(0, fe_vu_get_config(&self->vu, 0, cfg, TESTDEV_CFG_SIZE));
	EXPECT_EQ(TESTDEV_MAGIC, state_get_le32(cfg + TESTDEV_CFG_MAGIC));
	EXPECT_EQ(TD_QUEUES, state_get_le32(cfg + TESTDEV_CFG_QUEUES));

	/* A read past the end of the space reads zeros there. */
	memset(cfg, 0xff, sizeof(cfg));
	ASSERT_EQ(0, fe_vu_get_config(&self->vu, TESTDEV_CFG_QUEUES, cfg, 8));
	EXPECT_EQ(TD_QUEUES, state_get_le32(cfg));
	EXPECT_EQ(0, state_get_le32(cfg + 4));
}

TEST_F(testdev, get_queue_num_reports_the_device_queue_count)
{
	uint64_t num = 0;

	ASSERT_TRUE(self->vu.protocol_features & (1ull << VHOST_USER_PROTOCOL_F_MQ));
	ASSERT_EQ(0, fe_vu_get_queue_num(&self->vu, &num));
	EXPECT_EQ(TD_QUEUES, num);
}

TEST_F(testdev, config_write_is_refused_and_changes_nothing)
{
	struct vu_config c = { .offset = TESTDEV_CFG_MAGIC, .size = 4 };
	uint8_t cfg[TESTDEV_CFG_SIZE];

	ASSERT_TRUE(self->vu.reply_ack) TH_LOG("REPLY_ACK was not negotiated");
	state_put_le32(c.region, 0x12345678);
	EXPECT_EQ(-EREMOTEIO, fe_vu_request(&self->vu, VHOST_USER_SET_CONFIG, &c,
					    VU_CONFIG_HDR_SIZE + c.size, NULL, 0));
	ASSERT_EQ(0, fe_vu_get_config(&self->vu, 0, cfg, sizeof(cfg)));
	EXPECT_EQ(TESTDEV_MAGIC, state_get_le32(cfg + TESTDEV_CFG_MAGIC));
}

TEST_F(testdev, checksum_is_the_crc32c_of_the_readable_bytes)
{
	struct td_req r;

	ASSERT_EQ(0, td_req_alloc(&self->mem, &r));
	memcpy(r.in, "123456789", 9);
	ASSERT_EQ(0, td_submit(&self->vqs[0], &r, 9));
	ASSERT_EQ(0, td_reap(&self->vqs[0], 1, HOST_IO_TIMEOUT_MS));
	ASSERT_TRUE(r.done);
	EXPECT_EQ(TESTDEV_SUM_LEN, r.used_len);
	/* CRC32C's check value, from its definition rather than our implementation. */
	EXPECT_EQ(0xe3069283, state_get_le32(r.out));
}

TEST_F(testdev, checksums_every_chain)
{
	enum { NREQ = 24 };
	static const uint32_t lens[] = { 1, 2, 3, 4, 5, 63, 512, 1000, 4095, 4096 };
	struct td_req r[NREQ];
	uint32_t len[NREQ];

	for (unsigned int i = 0; i < NREQ; i++) {
		ASSERT_EQ(0, td_req_alloc(&self->mem, &r[i]));
		len[i] = lens[i % (sizeof(lens) / sizeof(lens[0]))];
		td_fill(r[i].in, len[i], i);
		ASSERT_LE(0, fe_vq_add(&self->vqs[0],
				       (const struct fe_vq_buf[]){
					       { .addr = r[i].in, .len = len[i] },
					       { .addr = r[i].out, .len = TESTDEV_SUM_LEN,
						 .write = true },
				       },
				       2, &r[i]));
	}
	/* One kick for the lot: the device takes every chain the ring holds. */
	ASSERT_EQ(0, fe_vq_kick(&self->vqs[0]));
	ASSERT_EQ(0, td_reap(&self->vqs[0], NREQ, HOST_IO_TIMEOUT_MS));
	for (unsigned int i = 0; i < NREQ; i++)
		td_expect_sum(_metadata, &r[i], len[i]);
}

TEST_F(testdev, checksum_covers_every_readable_buffer_and_fills_split_writable_ones)
{
	uint8_t all[100 + 1 + 3000];
	uint8_t sum[TESTDEV_SUM_LEN];
	struct fe_vq_buf bufs[6];
	struct td_req a, b;

	ASSERT_EQ(0, td_req_alloc(&self->mem, &a));
	ASSERT_EQ(0, td_req_alloc(&self->mem, &b));
	/* Readable: 100 + 1 + 3000 bytes; writable: 1 + 3, then 16 the sum does not reach. */
	bufs[0] = (struct fe_vq_buf){ .addr = a.in, .len = 100 };
	bufs[1] = (struct fe_vq_buf){ .addr = a.in + 2000, .len = 1 };
	bufs[2] = (struct fe_vq_buf){ .addr = b.in, .len = 3000 };
	bufs[3] = (struct fe_vq_buf){ .addr = a.out, .len = 1, .write = true };
	bufs[4] = (struct fe_vq_buf){ .addr = b.out, .len = 3, .write = true };
	bufs[5] = (struct fe_vq_buf){ .addr = a.out + 100, .len = 16, .write = true };
	td_fill(a.in, FE_MEM_PAGE, 1);
	td_fill(b.in, FE_MEM_PAGE, 2);
	memcpy(all, a.in, 100);
	all[100] = a.in[2000];
	memcpy(all + 101, b.in, 3000);
	state_put_le32(sum, state_crc32c(0, all, sizeof(all)));

	ASSERT_LE(0, fe_vq_add(&self->vqs[1], bufs, 6, &a));
	ASSERT_EQ(0, fe_vq_kick(&self->vqs[1]));
	ASSERT_EQ(0, td_reap(&self->vqs[1], 1, HOST_IO_TIMEOUT_MS));
	ASSERT_TRUE(a.done);
	EXPECT_EQ(TESTDEV_SUM_LEN, a.used_len);
	EXPECT_EQ(sum[0], a.out[0]);
	EXPECT_EQ(0, memcmp(sum + 1, b.out, 3));
	EXPECT_EQ(TD_UNTOUCHED, b.out[3]);
	EXPECT_TRUE(host_all_bytes(a.out + 100, 16, TD_UNTOUCHED))
		TH_LOG("the device wrote past the first four writable bytes");
}

TEST_F(testdev, chain_in_an_indirect_table_is_checksummed)
{
	struct fe_vq *vq = &self->vqs[0];
	struct vring_desc *tbl;
	struct td_req r;
	uint16_t head;

	ASSERT_TRUE(self->features & (1ull << VIRTIO_RING_F_INDIRECT_DESC));
	ASSERT_EQ(0, td_req_alloc(&self->mem, &r));
	tbl = fe_mem_alloc(&self->mem, FE_MEM_PAGE);
	ASSERT_NE(NULL, tbl);
	td_fill(r.in, 700, 9);
	tbl[0] = (struct vring_desc){
		.addr = htole64(fe_mem_gpa(&self->mem, r.in)), .len = htole32(300),
		.flags = htole16(VRING_DESC_F_NEXT), .next = htole16(1),
	};
	tbl[1] = (struct vring_desc){
		.addr = htole64(fe_mem_gpa(&self->mem, r.in + 300)), .len = htole32(400),
		.flags = htole16(VRING_DESC_F_NEXT), .next = htole16(2),
	};
	tbl[2] = (struct vring_desc){
		.addr = htole64(fe_mem_gpa(&self->mem, r.out)), .len = htole32(TESTDEV_SUM_LEN),
		.flags = htole16(VRING_DESC_F_WRITE),
	};
	ASSERT_EQ(0, fe_vq_take(vq, 1, &head));
	*fe_vq_desc(vq, head) = (struct vring_desc){
		.addr = htole64(fe_mem_gpa(&self->mem, tbl)),
		.len = htole32(3 * sizeof(*tbl)),
		.flags = htole16(VRING_DESC_F_INDIRECT),
	};
	vq->cookie[head] = &r;
	fe_vq_publish(vq, head);
	ASSERT_EQ(0, fe_vq_kick(vq));
	ASSERT_EQ(0, td_reap(vq, 1, HOST_IO_TIMEOUT_MS));
	td_expect_sum(_metadata, &r, 700);
}

TEST_F(testdev, both_queues_checksum_at_once)
{
	enum { NREQ = 8 };
	struct td_req r[TD_QUEUES][NREQ];

	for (unsigned int i = 0; i < NREQ; i++) {
		for (unsigned int q = 0; q < TD_QUEUES; q++) {
			ASSERT_EQ(0, td_req_alloc(&self->mem, &r[q][i]));
			td_fill(r[q][i].in, 256 + i, q * NREQ + i);
			ASSERT_EQ(0, td_submit(&self->vqs[q], &r[q][i], 256 + i));
		}
	}
	for (unsigned int q = 0; q < TD_QUEUES; q++) {
		EXPECT_EQ(0, td_reap(&self->vqs[q], NREQ, HOST_IO_TIMEOUT_MS))
			TH_LOG("queue %u", q);
		for (unsigned int i = 0; i < NREQ; i++)
			td_expect_sum(_metadata, &r[q][i], 256 + i);
	}
}

TEST_F(testdev, get_vring_base_returns_the_number_of_requests_processed)
{
	static const unsigned int n[TD_QUEUES] = { 5, 3 };
	struct td_req r[TD_QUEUES][5];
	unsigned int base;

	for (unsigned int q = 0; q < TD_QUEUES; q++) {
		for (unsigned int i = 0; i < n[q]; i++) {
			ASSERT_EQ(0, td_req_alloc(&self->mem, &r[q][i]));
			td_fill(r[q][i].in, 64, i);
			ASSERT_EQ(0, td_submit(&self->vqs[q], &r[q][i], 64));
		}
		ASSERT_EQ(0, td_reap(&self->vqs[q], n[q], HOST_IO_TIMEOUT_MS));
	}
	for (unsigned int q = 0; q < TD_QUEUES; q++) {
		base = 0xffff;
		ASSERT_EQ(0, fe_vu_get_vring_base(&self->vu, q, &base));
		EXPECT_EQ(n[q], base) TH_LOG("queue %u", q);
		EXPECT_EQ(n[q], td_used_idx(&self->vqs[q]));
	}
}

TEST_F(testdev, chain_without_a_writable_buffer_needs_reset)
{
	struct td_req r;

	ASSERT_EQ(0, td_req_alloc(&self->mem, &r));
	ASSERT_LE(0, fe_vq_add(&self->vqs[0],
			       (const struct fe_vq_buf[]){ { .addr = r.in, .len = 64 } }, 1, &r));
	ASSERT_EQ(0, fe_vq_kick(&self->vqs[0]));
	td_expect_broken(_metadata, self, 0);
}

TEST_F(testdev, chain_with_three_writable_bytes_needs_reset)
{
	struct fe_vq_buf bufs[3];
	struct td_req r;

	ASSERT_EQ(0, td_req_alloc(&self->mem, &r));
	bufs[0] = (struct fe_vq_buf){ .addr = r.in, .len = 64 };
	bufs[1] = (struct fe_vq_buf){ .addr = r.out, .len = 2, .write = true };
	bufs[2] = (struct fe_vq_buf){ .addr = r.out + 8, .len = 1, .write = true };
	ASSERT_LE(0, fe_vq_add(&self->vqs[1], bufs, 3, &r));
	ASSERT_EQ(0, fe_vq_kick(&self->vqs[1]));
	td_expect_broken(_metadata, self, 1);
	EXPECT_TRUE(host_all_bytes(r.out, FE_MEM_PAGE, TD_UNTOUCHED))
		TH_LOG("a refused chain was written");
}

TEST_F(testdev, chain_without_a_readable_buffer_needs_reset)
{
	struct td_req r;

	ASSERT_EQ(0, td_req_alloc(&self->mem, &r));
	ASSERT_LE(0, fe_vq_add(&self->vqs[0],
			       (const struct fe_vq_buf[]){
				       { .addr = r.out, .len = 64, .write = true } },
			       1, &r));
	ASSERT_EQ(0, fe_vq_kick(&self->vqs[0]));
	td_expect_broken(_metadata, self, 0);
	EXPECT_TRUE(host_all_bytes(r.out, FE_MEM_PAGE, TD_UNTOUCHED))
		TH_LOG("a refused chain was written");
}

TEST_F(testdev, driver_reset_after_needs_reset_brings_the_queue_back)
{
	struct fe_vq *vq = &self->vqs[0];
	uint8_t status = 0xff;
	unsigned int base;
	struct td_req r;

	ASSERT_EQ(0, td_req_alloc(&self->mem, &r));
	ASSERT_LE(0, fe_vq_add(vq, (const struct fe_vq_buf[]){ { .addr = r.in, .len = 8 } }, 1,
			       &r));
	ASSERT_EQ(0, fe_vq_kick(vq));
	td_expect_broken(_metadata, self, 0);

	/* A driver reset as QEMU sends it: status 0, rings stopped, set up anew. */
	ASSERT_EQ(0, fe_vu_set_status(&self->vu, 0));
	ASSERT_EQ(0, fe_vu_get_status(&self->vu, &status));
	EXPECT_EQ(0, status);
	ASSERT_EQ(0, fe_vu_get_vring_base(&self->vu, 0, &base));
	EXPECT_EQ(1, base);
	fe_vq_fini(vq);
	ASSERT_EQ(0, fe_vq_init(vq, &self->mem, 0, TD_QSIZE));
	ASSERT_EQ(0, fe_vq_setup(vq, &self->vu, 0, true));
	ASSERT_EQ(0, fe_vu_set_status(&self->vu, TD_DRIVER_OK));

	memset(r.out, TD_UNTOUCHED, FE_MEM_PAGE);
	td_fill(r.in, 333, 4);
	ASSERT_EQ(0, td_submit(vq, &r, 333));
	ASSERT_EQ(0, td_reap(vq, 1, HOST_IO_TIMEOUT_MS));
	td_expect_sum(_metadata, &r, 333);
	ASSERT_EQ(0, fe_vu_get_status(&self->vu, &status));
	EXPECT_FALSE(status & VIRTIO_CONFIG_S_NEEDS_RESET) TH_LOG("status 0x%x", status);
}

TEST_HARNESS_MAIN
