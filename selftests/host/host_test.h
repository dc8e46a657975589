/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared pieces of the host tests: bring a vblkd up with a front-end
 * attached, and take it down checking that it exits cleanly. Include after
 * kselftest_harness.h (the helpers use EXPECT_* with _metadata).
 */
#ifndef VB_HOST_TEST_H
#define VB_HOST_TEST_H

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/virtio_config.h>

#include "frontend/fe_blk.h"
#include "vd_proc.h"

#define HOST_IMAGE_SIZE (16ull << 20)
#define HOST_SECTORS (HOST_IMAGE_SIZE / FE_BLK_SECTOR)
#define HOST_IO_TIMEOUT_MS 5000
#define HOST_QUIET_MS 300

/* Fill @buf with a pattern that names @seed, so misplaced data shows. */
static inline void host_pattern(void *buf, size_t len, uint32_t seed)
{
	uint32_t *p = buf;

	for (size_t i = 0; i < len / 4; i++)
		p[i] = seed * 2654435761u + (uint32_t)i;
}

static inline bool host_all_bytes(const void *buf, size_t len, uint8_t val)
{
	const uint8_t *p = buf;

	for (size_t i = 0; i < len; i++)
		if (p[i] != val)
			return false;
	return true;
}

/* Start vblkd and open a front-end; SKIPs when $VBLKD is unset. */
#define HOST_UP(vd, blk, extra, opts)                                             \
	do {                                                                      \
		int __ret;                                                        \
		if (!vd_binary())                                                 \
			SKIP(return, "VBLKD is not set: no daemon to test");     \
		__ret = vd_start(vd, HOST_IMAGE_SIZE, extra);                     \
		ASSERT_EQ(0, __ret) TH_LOG("vd_start: %s", strerror(-__ret));     \
		__ret = fe_blk_open(blk, (vd)->sock, opts);                        \
		if (__ret) {                                                      \
			vd_dump_log(vd);                                          \
			vd_cleanup(vd);                                           \
		}                                                                 \
		ASSERT_EQ(0, __ret) TH_LOG("fe_blk_open: %s", strerror(-__ret));  \
	} while (0)

/*
 * Close the front-end (if open), SIGTERM the daemon, and expect it to exit 0
 * and to have removed its socket. Dumps the daemon log when the test failed.
 */
static inline void host_down(struct __test_metadata *_metadata, struct vd_proc *vd,
			     struct fe_blk *blk)
{
	int status = 0, ret;

	if (blk)
		fe_blk_close(blk);
	if (vd->pid > 0) {
		ret = vd_stop(vd, 5000, &status);
		EXPECT_EQ(0, ret) TH_LOG("vblkd did not exit within 5 s of SIGTERM");
		EXPECT_TRUE(WIFEXITED(status)) TH_LOG("vblkd died by signal %d",
						      WIFSIGNALED(status) ? WTERMSIG(status) : 0);
		if (WIFEXITED(status))
			EXPECT_EQ(0, WEXITSTATUS(status));
		EXPECT_NE(0, access(vd->sock, F_OK)) TH_LOG("socket %s left behind", vd->sock);
	}
	if (_metadata->exit_code == KSFT_FAIL || getenv("VBLKD_TEST_LOG"))
		vd_dump_log(vd);
	vd_cleanup(vd);
}

/*
 * The next front-end does I/O: the daemon survived what came before. Closes
 * @blk when *@open, waits for the daemon to notice, opens @blk anew on @vd
 * (*@open then true) and writes and reads back one block.
 */
static inline void host_expect_next_served(struct __test_metadata *_metadata, struct vd_proc *vd,
					   struct fe_blk *blk, bool *open)
{
	uint8_t want[4096], got[4096];
	int ret;

	if (*open)
		fe_blk_close(blk);
	*open = false;
	usleep(HOST_QUIET_MS * 1000);
	ret = fe_blk_open(blk, vd->sock, NULL);
	ASSERT_EQ(0, ret) TH_LOG("next front-end: %s", strerror(-ret));
	*open = true;
	memset(want, 0x3c, sizeof(want));
	EXPECT_EQ(VIRTIO_BLK_S_OK, fe_blk_write(blk, 0, 8, want, sizeof(want)));
	EXPECT_EQ(VIRTIO_BLK_S_OK, fe_blk_read(blk, 0, 8, got, sizeof(got)));
	EXPECT_EQ(0, memcmp(want, got, sizeof(got)));
}

/*
 * FIXTURE(solo): one daemon a test starts with its own arguments (HOST_UP
 * into self->vd and self->blk, then self->blk_open = true); the teardown
 * stops it whatever happened. Expand once, in a test file that uses it.
 */
#define HOST_SOLO_FIXTURE()                                                         \
	FIXTURE(solo) {                                                             \
		struct vd_proc vd;                                                  \
		struct fe_blk blk;                                                  \
		bool blk_open;                                                      \
	};                                                                          \
	FIXTURE_SETUP(solo)                                                         \
	{                                                                           \
		self->vd.pid = -1;                                                  \
		self->blk_open = false;                                             \
	}                                                                           \
	FIXTURE_TEARDOWN(solo)                                                      \
	{                                                                           \
		host_down(_metadata, &self->vd, self->blk_open ? &self->blk : NULL); \
	}

/*
 * Wait until the back-end declares queue @q broken: its err eventfd fires or
 * GET_STATUS shows NEEDS_RESET. Return: 1 (err fd), 2 (status), 0 (timeout).
 */
static inline int host_wait_broken(struct fe_blk *blk, unsigned int q, int timeout_ms)
{
	bool has_status = blk->vu.protocol_features &
			  (1ull << VHOST_USER_PROTOCOL_F_STATUS);
	uint8_t status;

	for (int waited = 0; waited < timeout_ms; waited += 50) {
		if (!fe_vq_wait_err(fe_blk_vq(blk, q), 50))
			return 1;
		if (has_status && !fe_vu_get_status(&blk->vu, &status) &&
		    (status & VIRTIO_CONFIG_S_NEEDS_RESET))
			return 2;
	}
	return 0;
}

#endif
