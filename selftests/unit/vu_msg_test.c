// SPDX-License-Identifier: GPL-2.0-or-later
/* vhost-user framing: sizes per message, fd passing, oversize payloads. */
#include "kselftest_harness.h"

#include <sys/eventfd.h>
#include <sys/socket.h>

#include "proto/vu_msg.h"

static struct vu_msg make(uint32_t req, uint32_t size)
{
	struct vu_msg m = { .hdr = { req, VHOST_USER_VERSION, size } };

	return m;
}

TEST(message_names_follow_the_spec)
{
	EXPECT_STREQ("GET_VRING_BASE", vu_request_name(11));
	EXPECT_STREQ("CHECK_DEVICE_STATE", vu_request_name(43));
	EXPECT_STREQ("UNKNOWN", vu_request_name(0));
	EXPECT_STREQ("UNKNOWN", vu_request_name(9999));
}

TEST(fixed_size_messages_must_carry_exactly_their_payload)
{
	struct vu_msg m = make(VHOST_USER_SET_FEATURES, 8);

	EXPECT_EQ(0, vu_msg_check(&m));
	m.hdr.size = 4;
	EXPECT_EQ(-EINVAL, vu_msg_check(&m));
	m = make(VHOST_USER_SET_VRING_ADDR, sizeof(struct vu_vring_addr) - 1);
	EXPECT_EQ(-EINVAL, vu_msg_check(&m));
	m = make(VHOST_USER_GET_FEATURES, 0);
	EXPECT_EQ(0, vu_msg_check(&m));
}

TEST(set_mem_table_size_must_match_its_region_count)
{
	struct vu_msg m = make(VHOST_USER_SET_MEM_TABLE, 8 + 2 * sizeof(struct vu_mem_region));

	m.payload.mem.nregions = 2;
	EXPECT_EQ(0, vu_msg_check(&m));
	m.payload.mem.nregions = 3;
	EXPECT_EQ(-EINVAL, vu_msg_check(&m));
	m.payload.mem.nregions = VU_MAX_MEM_REGIONS + 1;
	m.hdr.size = 8 + (VU_MAX_MEM_REGIONS + 1) * sizeof(struct vu_mem_region);
	EXPECT_EQ(-EINVAL, vu_msg_check(&m));
}

TEST(config_messages_must_fit_the_config_space)
{
	struct vu_msg m = make(VHOST_USER_GET_CONFIG, VU_CONFIG_HDR_SIZE + 60);

	m.payload.config.size = 60;
	EXPECT_EQ(0, vu_msg_check(&m));
	m.payload.config.size = 61;
	EXPECT_EQ(-EINVAL, vu_msg_check(&m));
}

TEST(unknown_ids_and_versions_are_refused)
{
	struct vu_msg m = make(200, 0);

	EXPECT_EQ(-EOPNOTSUPP, vu_msg_check(&m));
	m = make(VHOST_USER_GET_FEATURES, 0);
	m.hdr.flags = 2;
	EXPECT_EQ(-EPROTO, vu_msg_check(&m));
}

FIXTURE(pair) {
	int sv[2];
	struct vu_msg in, out;
};

FIXTURE_SETUP(pair)
{
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, self->sv));
}

FIXTURE_TEARDOWN(pair)
{
	close(self->sv[0]);
	close(self->sv[1]);
}

TEST_F(pair, a_message_and_its_fd_arrive_together)
{
	int efd = eventfd(0, EFD_CLOEXEC);

	ASSERT_LE(0, efd);
	self->out = make(VHOST_USER_SET_VRING_KICK, 8);
	self->out.payload.u64 = 1;
	self->out.fds[0] = efd;
	self->out.nfds = 1;
	ASSERT_EQ(0, vu_msg_send(self->sv[0], &self->out));
	ASSERT_EQ(0, vu_msg_recv(self->sv[1], &self->in));
	EXPECT_EQ(VHOST_USER_SET_VRING_KICK, self->in.hdr.request);
	EXPECT_EQ(1, self->in.payload.u64);
	ASSERT_EQ(1, self->in.nfds);
	EXPECT_NE(efd, self->in.fds[0]);
	EXPECT_EQ(0, eventfd_write(self->in.fds[0], 1));
	vu_msg_close_fds(&self->in);
	EXPECT_EQ(0, self->in.nfds);
	close(efd);
}

TEST_F(pair, an_oversized_payload_is_refused)
{
	struct vu_hdr hdr = { VHOST_USER_SET_CONFIG, VHOST_USER_VERSION, VU_PAYLOAD_MAX + 1 };

	ASSERT_EQ(sizeof(hdr), write(self->sv[0], &hdr, sizeof(hdr)));
	EXPECT_EQ(-EMSGSIZE, vu_msg_recv(self->sv[1], &self->in));
}

TEST_F(pair, end_of_stream_is_reported_as_a_reset)
{
	close(self->sv[0]);
	self->sv[0] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	EXPECT_EQ(-ECONNRESET, vu_msg_recv(self->sv[1], &self->in));
}

TEST_F(pair, a_truncated_payload_is_an_error)
{
	struct vu_hdr hdr = { VHOST_USER_SET_FEATURES, VHOST_USER_VERSION, 8 };

	ASSERT_EQ(sizeof(hdr), write(self->sv[0], &hdr, sizeof(hdr)));
	shutdown(self->sv[0], SHUT_WR);
	EXPECT_EQ(-ECONNRESET, vu_msg_recv(self->sv[1], &self->in));
}

TEST_HARNESS_MAIN
