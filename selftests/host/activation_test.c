// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Socket activation: vblkd serves listening sockets it did not create,
 * given by --vhost-user-fd / --control-socket-fd, by LISTEN_FDS with
 * LISTEN_FDNAMES as systemd passes them, or through systemd-socket-activate.
 * The test connects once, right after the spawn: the sockets listen before
 * vblkd runs, so there is no wait for them and no race.
 */
#include "kselftest_harness.h"

#include <time.h>

#include "host_test.h"
#include "frontend/fe_ctl.h"
#include "vd_launch.h"

#define SOCKET_ACTIVATE "/usr/bin/systemd-socket-activate"

static const char *const socket_activate[] = {
	SOCKET_ACTIVATE, "--fdname=vhost-user:control", "--", NULL,
};

FIXTURE(activated) {
	struct vd_proc vd;
	struct fe_blk blk;
	bool blk_open;
};

FIXTURE_VARIANT(activated) {
	struct vd_launch launch;
};

FIXTURE_VARIANT_ADD(activated, fds_given_by_options) {
	.launch = { .pass = VD_PASS_OPTIONS, .control = true },
};
FIXTURE_VARIANT_ADD(activated, listen_fds_named_vhost_user_and_control) {
	.launch = { .pass = VD_PASS_LISTEN_FDS, .fdnames = "vhost-user:control", .control = true },
};
FIXTURE_VARIANT_ADD(activated, listen_fds_named_in_the_other_order) {
	.launch = { .pass = VD_PASS_LISTEN_FDS, .fdnames = "control:vhost-user", .control = true,
		    .control_first = true },
};
FIXTURE_VARIANT_ADD(activated, listen_fds_one_unnamed_socket) {
	.launch = { .pass = VD_PASS_LISTEN_FDS },
};
FIXTURE_VARIANT_ADD(activated, through_systemd_socket_activate) {
	.launch = { .prefix = socket_activate, .pass = VD_PASS_LISTEN_FDS, .control = true },
};

FIXTURE_SETUP(activated)
{
	const struct vd_launch *l = &variant->launch;
	int ret;

	self->vd.pid = -1;
	self->blk_open = false;
	if (!vd_binary())
		SKIP(return, "VBLKD is not set: no daemon to test");
	if (l->prefix && access(l->prefix[0], X_OK))
		SKIP(return, "%s is missing (Debian's systemd package)", l->prefix[0]);
	ret = vd_start_launched(&self->vd, HOST_IMAGE_SIZE, l, NULL);
	ASSERT_EQ(0, ret) TH_LOG("vd_start_launched: %s", strerror(-ret));
}

FIXTURE_TEARDOWN(activated)
{
	int status = 0;

	if (self->blk_open)
		fe_blk_close(&self->blk);
	if (self->vd.pid > 0) {
		EXPECT_EQ(0, vd_stop(&self->vd, 5000, &status));
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("vblkd wait status 0x%x", status);
		/* The socket's file is its creator's, as a socket unit's is. */
		EXPECT_EQ(0, access(self->vd.sock, F_OK)) TH_LOG("vblkd removed %s", self->vd.sock);
	}
	if (_metadata->exit_code == KSFT_FAIL)
		vd_dump_log(&self->vd);
	vd_cleanup(&self->vd);
}

TEST_F(activated, serves_io_and_control_at_the_first_connect)
{
	/* One connection attempt each: a negative wait makes no retry. */
	struct fe_blk_opts opts = { .connect_wait_ms = -1 };
	uint8_t want[4096], got[4096];
	struct fe_vu ctl;
	int ret;

	if (variant->launch.control) {
		ret = fe_vu_connect(&ctl, self->vd.ctl, 0);
		ASSERT_EQ(0, ret) TH_LOG("connect %s: %s", self->vd.ctl, strerror(-ret));
		EXPECT_EQ(0, fe_ctl_negotiate(&ctl));
		EXPECT_TRUE(ctl.protocol_features & (1ull << VHOST_USER_PROTOCOL_F_DEVICE_STATE))
		TH_LOG("fd %s is not the control socket", self->vd.ctl);
		fe_vu_disconnect(&ctl);
	}
	ret = fe_blk_open(&self->blk, self->vd.sock, &opts);
	ASSERT_EQ(0, ret) TH_LOG("fe_blk_open: %s", strerror(-ret));
	self->blk_open = true;
	EXPECT_EQ(HOST_SECTORS, le64toh(self->blk.config.capacity));
	host_pattern(want, sizeof(want), 7);
	ASSERT_EQ(VIRTIO_BLK_S_OK, fe_blk_write(&self->blk, 0, 8, want, sizeof(want)));
	ASSERT_EQ(VIRTIO_BLK_S_OK, fe_blk_read(&self->blk, 0, 8, got, sizeof(got)));
	EXPECT_EQ(0, memcmp(want, got, sizeof(want)));
}

/* Sockets vblkd must refuse: it exits non-zero and says why. */
FIXTURE(refused) {
	struct vd_proc vd;
};

FIXTURE_VARIANT(refused) {
	struct vd_launch launch;
	const char *extra[4];
	int exit_code;
	const char *says;
};

FIXTURE_VARIANT_ADD(refused, an_fd_that_is_not_a_socket) {
	.launch = { .pass = VD_PASS_LISTEN_FDS },
	.extra = { "--control-socket-fd", "1" }, /* the log file */
	.exit_code = 1, .says = "fd 1 is not a socket",
};
FIXTURE_VARIANT_ADD(refused, an_unknown_fd_name) {
	.launch = { .pass = VD_PASS_LISTEN_FDS, .fdnames = "vblkd@disk0.socket" },
	.exit_code = 2, .says = "expected vhost-user or control",
};
FIXTURE_VARIANT_ADD(refused, fewer_names_than_fds) {
	.launch = { .pass = VD_PASS_LISTEN_FDS, .fdnames = "vhost-user", .control = true },
	.exit_code = 2, .says = "names fewer than LISTEN_FDS=2",
};
FIXTURE_VARIANT_ADD(refused, a_socket_given_twice) {
	.launch = { .pass = VD_PASS_LISTEN_FDS, .fdnames = "vhost-user" },
	.extra = { "--vhost-user", "/tmp/vblkd-activation-unused.sock" },
	.exit_code = 2, .says = "both passed by systemd and given by --vhost-user",
};

FIXTURE_SETUP(refused)
{
	int ret;

	self->vd.pid = -1;
	if (!vd_binary())
		SKIP(return, "VBLKD is not set: no daemon to test");
	ret = vd_start_launched(&self->vd, HOST_IMAGE_SIZE, &variant->launch, variant->extra);
	ASSERT_EQ(0, ret) TH_LOG("vd_start_launched: %s", strerror(-ret));
}

FIXTURE_TEARDOWN(refused)
{
	if (_metadata->exit_code == KSFT_FAIL)
		vd_dump_log(&self->vd);
	vd_cleanup(&self->vd);
}

TEST_F(refused, vblkd_exits_and_says_why)
{
	int status = 0;
	pid_t r = 0;

	for (int i = 0; i < 500 && r == 0; i++) {
		r = waitpid(self->vd.pid, &status, WNOHANG);
		if (r == 0)
			usleep(10 * 1000);
	}
	ASSERT_EQ(self->vd.pid, r) TH_LOG("vblkd still runs after 5 s");
	self->vd.pid = -1;
	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("wait status 0x%x", status);
	EXPECT_EQ(variant->exit_code, WEXITSTATUS(status));
	EXPECT_TRUE(vd_log_contains(&self->vd, variant->says)) TH_LOG("no \"%s\"", variant->says);
}

TEST_HARNESS_MAIN
