// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The checksum device's own state through the unchanged vhost-user
 * transport: a suspended device saves it, it loads back and the rings go
 * on, and a state of another device type is refused.
 */
#include "kselftest_harness.h"

#include "selftests/host/testdev_fixture.h"

/* What the device section of a saved state says. */
struct td_saved {
	bool seen;
	uint64_t features;
	uint8_t status;
	uint32_t queues;
};

static int td_on_section(void *opaque, uint16_t type, uint16_t flags, const uint8_t *p,
			 uint32_t len)
{
	struct td_saved *s = opaque;

	if (type != TESTDEV_SEC_DEVICE)
		return -ENOENT;
	if (len != TESTDEV_SEC_DEVICE_LEN)
		return STATE_E_CONTENT;
	s->seen = true;
	s->features = state_get_le64(p);
	s->status = p[8];
	s->queues = state_get_le32(p + 9);
	return 0;
}

/* Stop every ring as a migration source does; the bases go to @base. */
static void td_suspend(struct __test_metadata *_metadata, FIXTURE_DATA(testdev) *self,
		       unsigned int *base)
{
	for (unsigned int q = 0; q < TD_QUEUES; q++)
		ASSERT_EQ(0, fe_vu_get_vring_base(&self->vu, q, &base[q]));
}

TEST_F(testdev, state_of_a_suspended_device_names_it_and_its_features)
{
	struct td_saved saved = { 0 };
	struct state_reader rd;
	struct fe_state_res res;
	unsigned int base[TD_QUEUES];
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret;

	ASSERT_TRUE(self->vu.protocol_features & (1ull << VHOST_USER_PROTOCOL_F_DEVICE_STATE));
	td_suspend(_metadata, self, base);
	ret = fe_state_save_buf(&self->vu, &buf, &len, &res);
	ASSERT_EQ(0, ret) TH_LOG("save: %s (set %u, check %llu)", strerror(-ret), res.set_err,
				 (unsigned long long)res.check);
	ASSERT_EQ(0, state_reader_init(&rd, TESTDEV_ID, td_on_section, &saved));
	EXPECT_EQ(STATE_OK, state_reader_feed(&rd, buf, len));
	EXPECT_EQ(STATE_OK, state_reader_finish(&rd)) TH_LOG("%s", state_err_str(rd.err));
	state_reader_fini(&rd);
	free(buf);
	ASSERT_TRUE(saved.seen);
	EXPECT_EQ(self->features, saved.features);
	EXPECT_EQ(TD_DRIVER_OK, saved.status);
	EXPECT_EQ(TD_QUEUES, saved.queues);
}

TEST_F(testdev, saved_state_loads_back_and_the_rings_go_on)
{
	unsigned int base[TD_QUEUES];
	struct fe_state_res res;
	struct td_req r[TD_QUEUES];
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret;

	ASSERT_TRUE(self->vu.protocol_features & (1ull << VHOST_USER_PROTOCOL_F_DEVICE_STATE));
	ASSERT_EQ(0, td_req_alloc(&self->mem, &r[0]));
	td_fill(r[0].in, 128, 1);
	ASSERT_EQ(0, td_submit(&self->vqs[0], &r[0], 128));
	ASSERT_EQ(0, td_reap(&self->vqs[0], 1, HOST_IO_TIMEOUT_MS));

	td_suspend(_metadata, self, base);
	ret = fe_state_save_buf(&self->vu, &buf, &len, &res);
	ASSERT_EQ(0, ret) TH_LOG("save: %s", strerror(-ret));
	ret = fe_state_load_buf(&self->vu, buf, len, &res);
	free(buf);
	ASSERT_EQ(0, ret) TH_LOG("load: %s (set %u, check %llu)", strerror(-ret), res.set_err,
				 (unsigned long long)res.check);

	/* As a migration destination: the rings again from the bases, DRIVER_OK. */
	for (unsigned int q = 0; q < TD_QUEUES; q++)
		ASSERT_EQ(0, fe_vq_restart(&self->vqs[q], &self->vu, (uint16_t)base[q], true));
	ASSERT_EQ(0, fe_vu_set_status(&self->vu, TD_DRIVER_OK));
	for (unsigned int q = 0; q < TD_QUEUES; q++) {
		ASSERT_EQ(0, td_req_alloc(&self->mem, &r[q]));
		td_fill(r[q].in, 200, 10 + q);
		ASSERT_EQ(0, td_submit(&self->vqs[q], &r[q], 200));
		EXPECT_EQ(0, td_reap(&self->vqs[q], 1, HOST_IO_TIMEOUT_MS)) TH_LOG("queue %u", q);
		td_expect_sum(_metadata, &r[q], 200);
	}
	EXPECT_EQ(2, td_used_idx(&self->vqs[0]));
}

TEST_F(testdev, state_of_another_device_type_is_refused)
{
	unsigned int base[TD_QUEUES];
	struct state_writer w;
	struct fe_state_res res = { 0 };
	uint8_t p[TESTDEV_SEC_DEVICE_LEN] = { 0 };

	ASSERT_TRUE(self->vu.protocol_features & (1ull << VHOST_USER_PROTOCOL_F_DEVICE_STATE));
	td_suspend(_metadata, self, base);
	/* A valid blob in every respect but the device type: a block device's. */
	state_put_le32(p + 9, TD_QUEUES);
	state_writer_init(&w);
	state_write_header(&w, 2, 1);
	state_write_section(&w, TESTDEV_SEC_DEVICE, 0, p, sizeof(p));
	ASSERT_EQ(0, state_write_trailer(&w));
	EXPECT_EQ(-EREMOTEIO, fe_state_load_buf(&self->vu, w.buf, w.len, &res));
	EXPECT_EQ(STATE_E_DEVICE, res.check) TH_LOG("check %llu (%s)",
						    (unsigned long long)res.check,
						    state_err_str((int)res.check));
	state_writer_fini(&w);
}

TEST_HARNESS_MAIN
