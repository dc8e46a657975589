// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Malformed descriptor chains on queue 0: the daemon must stop serving that
 * queue (NEEDS_RESET and/or the vring err eventfd), keep serving queue 1,
 * and not crash.
 */
#include "kselftest_harness.h"

#include "host_test.h"

#define BAD_QSIZE 128

enum bad_kind {
	BAD_LOOP,
	BAD_CHAIN_LONGER_THAN_QUEUE,
	BAD_INDIRECT_LENGTH,
	BAD_ADDR_OUTSIDE_MEMORY,
	BAD_WRAPPING_LENGTH,
	BAD_PAST_END_OF_MEMORY,
	BAD_NEXT_OUT_OF_RANGE,
	BAD_INDIRECT_LOOP,
};

FIXTURE(bad_desc) {
	struct vd_proc vd;
	struct fe_blk blk;
};

FIXTURE_VARIANT(bad_desc) {
	enum bad_kind kind;
};

FIXTURE_VARIANT_ADD(bad_desc, loop) { .kind = BAD_LOOP };
FIXTURE_VARIANT_ADD(bad_desc, chain_longer_than_the_queue) {
	.kind = BAD_CHAIN_LONGER_THAN_QUEUE
};
FIXTURE_VARIANT_ADD(bad_desc, indirect_table_with_a_bad_length) {
	.kind = BAD_INDIRECT_LENGTH
};
FIXTURE_VARIANT_ADD(bad_desc, address_outside_every_region) {
	.kind = BAD_ADDR_OUTSIDE_MEMORY
};
FIXTURE_VARIANT_ADD(bad_desc, length_wrapping_the_address_space) {
	.kind = BAD_WRAPPING_LENGTH
};
FIXTURE_VARIANT_ADD(bad_desc, buffer_running_past_the_end_of_memory) {
	.kind = BAD_PAST_END_OF_MEMORY
};
FIXTURE_VARIANT_ADD(bad_desc, next_index_outside_the_queue) {
	.kind = BAD_NEXT_OUT_OF_RANGE
};
FIXTURE_VARIANT_ADD(bad_desc, loop_inside_an_indirect_table) {
	.kind = BAD_INDIRECT_LOOP
};

FIXTURE_SETUP(bad_desc)
{
	static const char *const extra[] = {
		"--num-queues", "2", "--queue-size", "128", NULL,
	};
	struct fe_blk_opts opts = { .num_queues = 2, .queue_size = BAD_QSIZE };

	HOST_UP(&self->vd, &self->blk, extra, &opts);
}

FIXTURE_TEARDOWN(bad_desc)
{
	host_down(_metadata, &self->vd, &self->blk);
}

static void set_desc(struct vring_desc *d, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	d->addr = htole64(addr);
	d->len = htole32(len);
	d->flags = htole16(flags);
	d->next = htole16(next);
}

/*
 * Build the bad chain for @kind on @vq: a read of one sector whose header,
 * data and status live in @page (guest memory), with one thing broken.
 * Return: the head index, or -errno.
 */
static int place_bad_chain(struct fe_blk *blk, struct fe_vq *vq, enum bad_kind kind)
{
	struct fe_mem *mem = &blk->mem;
	uint8_t *page = fe_mem_alloc(mem, 2 * FE_MEM_PAGE);
	struct virtio_blk_outhdr *hdr = (void *)page;
	uint64_t hdr_gpa, data_gpa, status_gpa;
	struct vring_desc *table;
	uint16_t idx[3];
	int ret;

	if (!page)
		return -ENOMEM;
	hdr->type = htole32(VIRTIO_BLK_T_IN);
	hdr->sector = 0;
	hdr_gpa = fe_mem_gpa(mem, page);
	data_gpa = fe_mem_gpa(mem, page + FE_MEM_PAGE);
	status_gpa = hdr_gpa + 64;

	switch (kind) {
	case BAD_LOOP:
		/* A write whose two data descriptors point at each other. */
		hdr->type = htole32(VIRTIO_BLK_T_OUT);
		ret = fe_vq_take(vq, 3, idx);
		if (ret)
			return ret;
		set_desc(fe_vq_desc(vq, idx[0]), hdr_gpa, 16, VRING_DESC_F_NEXT, idx[1]);
		set_desc(fe_vq_desc(vq, idx[1]), data_gpa, 512, VRING_DESC_F_NEXT, idx[2]);
		set_desc(fe_vq_desc(vq, idx[2]), data_gpa, 512, VRING_DESC_F_NEXT, idx[1]);
		return idx[0];

	case BAD_CHAIN_LONGER_THAN_QUEUE: {
		/* An indirect table of queue size + 1 properly linked entries. */
		unsigned int n = vq->num + 1;

		table = fe_mem_alloc(mem, n * sizeof(*table));
		if (!table)
			return -ENOMEM;
		set_desc(&table[0], hdr_gpa, 16, VRING_DESC_F_NEXT, 1);
		for (unsigned int i = 1; i < n - 1; i++)
			set_desc(&table[i], data_gpa, 512,
				 VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, (uint16_t)(i + 1));
		set_desc(&table[n - 1], status_gpa, 1, VRING_DESC_F_WRITE, 0);
		ret = fe_vq_take(vq, 1, idx);
		if (ret)
			return ret;
		set_desc(fe_vq_desc(vq, idx[0]), fe_mem_gpa(mem, table),
			 n * sizeof(*table), VRING_DESC_F_INDIRECT, 0);
		return idx[0];
	}

	case BAD_INDIRECT_LOOP:
		/* Header, then two readable entries pointing at each other. */
		hdr->type = htole32(VIRTIO_BLK_T_OUT);
		table = fe_mem_alloc(mem, 3 * sizeof(*table));
		if (!table)
			return -ENOMEM;
		set_desc(&table[0], hdr_gpa, 16, VRING_DESC_F_NEXT, 1);
		set_desc(&table[1], data_gpa, 512, VRING_DESC_F_NEXT, 2);
		set_desc(&table[2], data_gpa, 512, VRING_DESC_F_NEXT, 1);
		ret = fe_vq_take(vq, 1, idx);
		if (ret)
			return ret;
		set_desc(fe_vq_desc(vq, idx[0]), fe_mem_gpa(mem, table), 3 * sizeof(*table),
			 VRING_DESC_F_INDIRECT, 0);
		return idx[0];

	case BAD_INDIRECT_LENGTH:
		/* A valid three-entry table announced with a length of 17. */
		table = fe_mem_alloc(mem, 3 * sizeof(*table));
		if (!table)
			return -ENOMEM;
		set_desc(&table[0], hdr_gpa, 16, VRING_DESC_F_NEXT, 1);
		set_desc(&table[1], data_gpa, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
		set_desc(&table[2], status_gpa, 1, VRING_DESC_F_WRITE, 0);
		ret = fe_vq_take(vq, 1, idx);
		if (ret)
			return ret;
		set_desc(fe_vq_desc(vq, idx[0]), fe_mem_gpa(mem, table), 17,
			 VRING_DESC_F_INDIRECT, 0);
		return idx[0];

	default:
		break;
	}

	/* Three direct descriptors, one of them broken. */
	ret = fe_vq_take(vq, 3, idx);
	if (ret)
		return ret;
	set_desc(fe_vq_desc(vq, idx[0]), hdr_gpa, 16, VRING_DESC_F_NEXT, idx[1]);
	set_desc(fe_vq_desc(vq, idx[1]), data_gpa, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE,
		 idx[2]);
	set_desc(fe_vq_desc(vq, idx[2]), status_gpa, 1, VRING_DESC_F_WRITE, 0);

	switch (kind) {
	case BAD_ADDR_OUTSIDE_MEMORY:
		fe_vq_desc(vq, idx[0])->addr = htole64(0xdead00000000ull);
		break;
	case BAD_WRAPPING_LENGTH:
		fe_vq_desc(vq, idx[1])->addr = htole64(UINT64_MAX - 0xff);
		break;
	case BAD_PAST_END_OF_MEMORY:
		fe_vq_desc(vq, idx[1])->addr = htole64(mem->gpa + mem->size - 256);
		fe_vq_desc(vq, idx[1])->len = htole32(4096);
		break;
	case BAD_NEXT_OUT_OF_RANGE:
		fe_vq_desc(vq, idx[1])->next = htole16(vq->num + 5);
		break;
	default:
		return -EINVAL;
	}
	return idx[0];
}

TEST_F(bad_desc, stops_its_queue_while_the_other_queue_keeps_working)
{
	struct fe_vq *vq0 = fe_blk_vq(&self->blk, 0);
	uint8_t want[4096], got[4096];
	struct fe_blk_req *late;
	int head, broken;

	head = place_bad_chain(&self->blk, vq0, variant->kind);
	ASSERT_LE(0, head) TH_LOG("place_bad_chain: %s", strerror(-head));
	fe_vq_publish(vq0, (uint16_t)head);
	ASSERT_EQ(0, fe_vq_kick(vq0));

	broken = host_wait_broken(&self->blk, 0, 2000);
	EXPECT_NE(0, broken) TH_LOG("neither NEEDS_RESET nor the err eventfd within 2 s");
	if (broken)
		TH_LOG("queue 0 reported broken through %s",
		       broken == 1 ? "the vring err eventfd" : "NEEDS_RESET in GET_STATUS");
	ASSERT_TRUE(vd_alive(&self->vd)) TH_LOG("vblkd died on a bad chain");

	/* The bad chain is never completed, and queue 0 serves nothing more. */
	ASSERT_EQ(0, fe_blk_submit_read(&self->blk, 0, 0, 512, &late));
	EXPECT_EQ(-ETIMEDOUT, fe_blk_reap(&self->blk, 0, HOST_QUIET_MS));
	EXPECT_FALSE(late->done);
	EXPECT_EQ(0, le16toh(__atomic_load_n(&vq0->used->idx, __ATOMIC_ACQUIRE)))
		TH_LOG("queue 0 returned used entries after the bad chain");

	/* Queue 1 still does I/O. */
	host_pattern(want, sizeof(want), 1234);
	EXPECT_EQ(VIRTIO_BLK_S_OK, fe_blk_write(&self->blk, 1, 100, want, sizeof(want)));
	EXPECT_EQ(VIRTIO_BLK_S_OK, fe_blk_read(&self->blk, 1, 100, got, sizeof(got)));
	EXPECT_EQ(0, memcmp(want, got, sizeof(got)));
	EXPECT_TRUE(vd_alive(&self->vd));
}

TEST_HARNESS_MAIN
