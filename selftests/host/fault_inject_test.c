// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fault injection (issue 10, item 4): each fault VBLKD_FAULTS can arm has
 * the outcome docs/faults.md gives it (IOERR to the guest, a CHECK failure
 * or NEEDS_RESET), and after it the daemon is alive, holds no more fds than
 * before, and serves the next front-end.
 */
#include "kselftest_harness.h"

#include "host_test.h"
#include "state_util.h"

HOST_SOLO_FIXTURE();

/* vblkd with the faults @spec arms, and a front-end on it. */
#define FAULT_UP(self, spec)                                    \
	do {                                                    \
		ASSERT_EQ(0, setenv("VBLKD_FAULTS", spec, 1));  \
		HOST_UP(&(self)->vd, &(self)->blk, NULL, NULL); \
		unsetenv("VBLKD_FAULTS");                       \
		(self)->blk_open = true;                        \
	} while (0)

static uint8_t status_of(struct __test_metadata *_metadata, struct fe_blk *blk)
{
	uint8_t status = 0;

	EXPECT_EQ(0, fe_vu_get_status(&blk->vu, &status));
	return status;
}

/* The fault fired once, the daemon lives, and the next front-end is served without a leak. */
static void expect_recovered(struct __test_metadata *_metadata, FIXTURE_DATA(solo) * self,
			     const char *site, int fds)
{
	char line[64];

	snprintf(line, sizeof(line), "fault injected: %s (call ", site);
	EXPECT_TRUE(vd_log_contains(&self->vd, line));
	EXPECT_TRUE(vd_alive(&self->vd));
	host_expect_next_served(_metadata, &self->vd, &self->blk, &self->blk_open);
	EXPECT_EQ(fds, count_fds(self->vd.pid, fds)) TH_LOG("vblkd leaked fds");
}

/*
 * A read on queue 0 with the fault at @site armed raises NEEDS_RESET, saying
 * @why. A read: it goes through the io_uring (page-cache writes do not).
 */
static void expect_read_raises_needs_reset(struct __test_metadata *_metadata,
					   FIXTURE_DATA(solo) * self, const char *site,
					   const char *why)
{
	struct fe_blk_req *req;
	int fds = count_fds(self->vd.pid, -1);

	ASSERT_EQ(0, fe_blk_submit_read(&self->blk, 0, 8, 4096, &req));
	EXPECT_NE(0, host_wait_broken(&self->blk, 0, HOST_IO_TIMEOUT_MS));
	EXPECT_NE(0, status_of(_metadata, &self->blk) & VIRTIO_CONFIG_S_NEEDS_RESET);
	EXPECT_TRUE(vd_log_contains(&self->vd, why));
	fe_blk_req_free(&self->blk, req);
	expect_recovered(_metadata, self, site, fds);
}

TEST_F (solo, a_failed_io_uring_submission_raises_needs_reset) {
	FAULT_UP(self, "uring_submit=1");
	expect_read_raises_needs_reset(_metadata, self, "uring_submit",
					"its event loop failed; the ring stops and the device "
					"needs reset");
}

TEST_F (solo, a_short_read_is_an_ioerr_to_the_guest) {
	uint8_t buf[4096];
	int fds;

	FAULT_UP(self, "read=1");
	fds = count_fds(self->vd.pid, -1);
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, fe_blk_read(&self->blk, 0, 8, buf, sizeof(buf)));
	EXPECT_TRUE(vd_log_contains(&self->vd, "short read at offset 4096: 2048 of 4096 bytes"));
	/* Only that request: the queue goes on. */
	EXPECT_EQ(VIRTIO_BLK_S_OK, fe_blk_read(&self->blk, 0, 8, buf, sizeof(buf)));
	EXPECT_EQ(0, status_of(_metadata, &self->blk) & VIRTIO_CONFIG_S_NEEDS_RESET);
	expect_recovered(_metadata, self, "read", fds);
}

TEST_F (solo, a_write_without_space_is_an_ioerr_to_the_guest) {
	uint8_t buf[4096] = { 2 };
	int fds;

	FAULT_UP(self, "write=1");
	fds = count_fds(self->vd.pid, -1);
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, fe_blk_write(&self->blk, 0, 8, buf, sizeof(buf)));
	EXPECT_TRUE(vd_log_contains(&self->vd, "failed: No space left on device"));
	EXPECT_EQ(VIRTIO_BLK_S_OK, fe_blk_write(&self->blk, 0, 8, buf, sizeof(buf)));
	EXPECT_EQ(0, status_of(_metadata, &self->blk) & VIRTIO_CONFIG_S_NEEDS_RESET);
	expect_recovered(_metadata, self, "write", fds);
}

TEST_F (solo, a_failed_mmap_refuses_the_memory_table) {
	int fds, ret;

	if (!vd_binary())
		SKIP(return, "VBLKD is not set: no daemon to test");
	ASSERT_EQ(0, setenv("VBLKD_FAULTS", "mmap=1", 1));
	ASSERT_EQ(0, vd_start(&self->vd, HOST_IMAGE_SIZE, NULL));
	unsetenv("VBLKD_FAULTS");
	/* Counted once it serves: a slow start (ASan) holds still before it opens its fds. */
	for (int i = 0; i < 1000 && !vd_log_contains(&self->vd, "listening on"); i++)
		usleep(10 * 1000);
	fds = count_fds(self->vd.pid, -1);
	ret = fe_blk_open(&self->blk, self->vd.sock, NULL);
	EXPECT_EQ(-EREMOTEIO, ret);
	if (!ret)
		fe_blk_close(&self->blk);
	EXPECT_TRUE(vd_log_contains(&self->vd, "memory region gpa 0x100000 size 0x1000000: "
					       "Cannot allocate memory"));
	EXPECT_TRUE(vd_log_contains(&self->vd, "fault injected: mmap (call 1)"));
	EXPECT_TRUE(vd_alive(&self->vd));
	host_expect_next_served(_metadata, &self->vd, &self->blk, &self->blk_open);
	/* Counted before any front-end: close this one, and the count is back. */
	fe_blk_close(&self->blk);
	self->blk_open = false;
	EXPECT_EQ(fds, count_fds(self->vd.pid, fds)) TH_LOG("vblkd leaked fds");
}

TEST_F (solo, a_state_pipe_that_breaks_fails_the_check_and_the_source_resumes) {
	struct fe_state_res res = { 0 };
	uint8_t *state = NULL;
	size_t len = 0;
	int fds;

	FAULT_UP(self, "state_pipe=1");
	fds = count_fds(self->vd.pid, -1);
	ASSERT_EQ(0, fe_blk_suspend(&self->blk));
	EXPECT_EQ(-EREMOTEIO, fe_state_save_buf(&self->blk.vu, &state, &len, &res));
	free(state);
	EXPECT_TRUE(res.checked);
	EXPECT_NE(0, res.check) TH_LOG("CHECK_DEVICE_STATE said 0 after a broken pipe");
	/* The source keeps its state: it resumes, and a second save goes through. */
	ASSERT_EQ(0, fe_blk_resume(&self->blk));
	ASSERT_EQ(0, fe_blk_suspend(&self->blk));
	state = NULL;
	EXPECT_EQ(0, fe_state_save_buf(&self->blk.vu, &state, &len, &res));
	EXPECT_NE(0, len);
	free(state);
	ASSERT_EQ(0, fe_blk_resume(&self->blk));
	expect_recovered(_metadata, self, "state_pipe", fds);
}

TEST_F (solo, a_call_fd_that_cannot_be_signalled_raises_needs_reset) {
	FAULT_UP(self, "call=1");
	expect_read_raises_needs_reset(_metadata, self, "call", "its call fd cannot be signalled");
}

TEST_F (solo, an_err_fd_that_cannot_be_signalled_still_leaves_needs_reset) {
	struct fe_vq *vq;
	struct fe_vq_buf bufs[2];
	uint8_t *status;
	int fds;

	FAULT_UP(self, "err=1");
	fds = count_fds(self->vd.pid, -1);
	vq = fe_blk_vq(&self->blk, 0);
	status = fe_mem_alloc(&self->blk.mem, FE_MEM_PAGE);
	ASSERT_NE(NULL, status);
	/* A header below guest memory: malformed, the queue must stop. */
	bufs[0] = (struct fe_vq_buf){ self->blk.mem.va - 16 * FE_MEM_PAGE, 16, false };
	bufs[1] = (struct fe_vq_buf){ status, 1, true };
	ASSERT_LE(0, fe_vq_add(vq, bufs, 2, NULL));
	ASSERT_EQ(0, fe_vq_kick(vq));
	EXPECT_EQ(2, host_wait_broken(&self->blk, 0, HOST_IO_TIMEOUT_MS))
	TH_LOG("1: the err fd fired; 0: nothing said the queue broke");
	EXPECT_TRUE(vd_log_contains(&self->vd, "malformed request from the driver"));
	expect_recovered(_metadata, self, "err", fds);
}

TEST_F (solo, a_fault_that_does_not_parse_stops_the_daemon_at_start) {
	int status = 0;

	if (!vd_binary())
		SKIP(return, "VBLKD is not set: no daemon to test");
	ASSERT_EQ(0, setenv("VBLKD_FAULTS", "read=1,no_such_site=2", 1));
	ASSERT_EQ(0, vd_start(&self->vd, HOST_IMAGE_SIZE, NULL));
	unsetenv("VBLKD_FAULTS");
	ASSERT_EQ(self->vd.pid, waitpid(self->vd.pid, &status, 0));
	self->vd.pid = -1;
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) TH_LOG("status 0x%x", status);
	EXPECT_TRUE(vd_log_contains(&self->vd, "cannot parse \"no_such_site=2\""));
}

TEST_HARNESS_MAIN
