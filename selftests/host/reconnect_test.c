// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Front-ends come and go: each cycle connects, does I/O and disconnects.
 * The daemon must not leak fds nor grow its memory beyond a small bound.
 */
#include "kselftest_harness.h"

#include <time.h>

#include "host_test.h"

#define CYCLES 20
#define WARMUP_CYCLES 5 /* per-thread arenas settle within ~4 front-ends */
#define RSS_GROWTH_MAX_KB 1024

FIXTURE(reconnect) {
	struct vd_proc vd;
};

FIXTURE_SETUP(reconnect)
{
	static const char *const extra[] = { "--num-queues", "2", NULL };
	int ret;

	if (!vd_binary())
		SKIP(return, "VBLKD is not set: no daemon to test");
	ret = vd_start(&self->vd, HOST_IMAGE_SIZE, extra);
	ASSERT_EQ(0, ret) TH_LOG("vd_start: %s", strerror(-ret));
}

FIXTURE_TEARDOWN(reconnect)
{
	host_down(_metadata, &self->vd, NULL);
}

/* One front-end life: connect, write and read back on both queues, leave. */
static int one_cycle(struct __test_metadata *_metadata, const char *sock, unsigned int n)
{
	struct fe_blk_opts opts = { .num_queues = 2, .mem_size = 4 << 20 };
	uint8_t want[4096], got[4096];
	struct fe_blk blk;
	int ret;

	ret = fe_blk_open(&blk, sock, &opts);
	EXPECT_EQ(0, ret) TH_LOG("cycle %u: open: %s", n, strerror(-ret));
	if (ret)
		return ret;
	host_pattern(want, sizeof(want), n);
	EXPECT_EQ(VIRTIO_BLK_S_OK, fe_blk_write(&blk, n % 2, n * 8, want, sizeof(want)));
	EXPECT_EQ(VIRTIO_BLK_S_OK, fe_blk_read(&blk, 1 - n % 2, n * 8, got, sizeof(got)));
	EXPECT_EQ(0, memcmp(want, got, sizeof(got)));
	fe_blk_close(&blk);
	return 0;
}

/* The daemon notices a disconnect asynchronously: wait for fds to settle. */
static int settled_fd_count(pid_t pid, int target)
{
	int n = vd_count_fds(pid);

	for (int i = 0; i < 200 && n > target; i++) {
		usleep(10 * 1000);
		n = vd_count_fds(pid);
	}
	return n;
}

TEST_F(reconnect, twenty_front_ends_in_a_row_leak_no_fds_and_little_memory)
{
	int fds_before, fds_after;
	long rss_before, rss_after;

	for (unsigned int i = 0; i < WARMUP_CYCLES; i++)
		ASSERT_EQ(0, one_cycle(_metadata, self->vd.sock, i));
	usleep(100 * 1000);
	fds_before = settled_fd_count(self->vd.pid, 0);
	rss_before = vd_rss_kb(self->vd.pid);
	ASSERT_LT(0, fds_before);
	ASSERT_LT(0, rss_before);

	for (unsigned int i = 0; i < CYCLES; i++)
		ASSERT_EQ(0, one_cycle(_metadata, self->vd.sock, WARMUP_CYCLES + i));

	fds_after = settled_fd_count(self->vd.pid, fds_before);
	rss_after = vd_rss_kb(self->vd.pid);
	EXPECT_EQ(fds_before, fds_after);
	/*
	 * ASan's quarantine keeps freed memory resident, TSan's shadow grows
	 * with every thread and mapping: no bound to check under either.
	 */
	if (vd_maps_file(self->vd.pid, "libasan") || vd_maps_file(self->vd.pid, "libtsan"))
		TH_LOG("vblkd runs under a sanitizer: VmRSS bound not checked");
	else
		EXPECT_GE(RSS_GROWTH_MAX_KB, rss_after - rss_before)
			TH_LOG("VmRSS %ld kB -> %ld kB", rss_before, rss_after);
	TH_LOG("fds %d -> %d, VmRSS %ld kB -> %ld kB", fds_before, fds_after, rss_before,
	       rss_after);
	EXPECT_TRUE(vd_alive(&self->vd));
}

TEST_HARNESS_MAIN
