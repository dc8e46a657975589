// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vblkd on NBD (--image nbd+unix://...): nbdkit's memory plugin and
 * qemu-nbd on a file checked from the host. I/O, flush, discard and
 * write-zeroes; a killed server fails requests with IOERR (never a hang) and
 * a restarted one is reconnected to; a state saved for a larger export is
 * refused; bad URIs and refused connections stop vblkd at start with status 2;
 * an online resize serves up to the export's size and refuses more.
 */
#include "kselftest_harness.h"

#include <fcntl.h>

#include "devices/blk/blk_dev.h"
#include "devices/blk/blk_state.h"
#include "host_test.h"
#include "netdisk.h"
#include "state/state.h"
#include "state_util.h"

#define NBD_SIZE "16M"

static int take_counters(void *opaque, uint16_t type, uint16_t flags, const uint8_t *p,
			 uint32_t len)
{
	uint64_t *errors = opaque;

	if (type == BLK_SEC_COUNTERS && len >= 4 + 8 * (BLK_CNT_ERRORS + 1))
		*errors = state_get_le64(p + 4 + 8 * BLK_CNT_ERRORS);
	return 0;
}

/* The device's error counter, from the COUNTERS section of a saved state. */
static int64_t saved_errors(const char *ctl)
{
	struct state_reader r;
	uint64_t errors = 0;
	uint8_t *blob = NULL;
	size_t len;
	int ret = save_from(ctl, &blob, &len);

	if (ret)
		return -1;
	ret = state_reader_init(&r, VIRTIO_ID_BLOCK, take_counters, &errors) ?:
	      state_reader_feed(&r, blob, len) ?: state_reader_finish(&r);
	state_reader_fini(&r);
	free(blob);
	return ret ? -1 : (int64_t)errors;
}

/* A request's status once done, or -1 when it never completes within 5 s. */
static int status_of(struct fe_blk *blk, struct fe_blk_req *req)
{
	int st = fe_blk_wait(blk, req, HOST_IO_TIMEOUT_MS) ? -1 : req->status;

	if (st >= 0)
		fe_blk_req_free(blk, req);
	return st;
}

static int discard(struct fe_blk *blk, uint64_t sector, uint32_t n, int zeroes)
{
	struct fe_blk_req *req;
	int ret = zeroes < 0 ? fe_blk_submit_discard(blk, 0, sector, n, &req) :
			       fe_blk_submit_write_zeroes(blk, 0, sector, n, zeroes, &req);

	return ret ?: status_of(blk, req);
}

static int flush(struct fe_blk *blk, unsigned int q)
{
	struct fe_blk_req *req;

	return fe_blk_submit_flush(blk, q, &req) ?: status_of(blk, req);
}

FIXTURE(nbd) {
	struct nd_server srv;
	struct vd_proc vd;
	struct fe_blk blk;
	char dir[64];
	char ctl[128];
	char mgmt[128];
	bool up;
};

FIXTURE_VARIANT(nbd) {
	bool qemu_nbd;
};

FIXTURE_VARIANT_ADD(nbd, nbdkit) { .qemu_nbd = false };
FIXTURE_VARIANT_ADD(nbd, qemu_nbd) { .qemu_nbd = true };

FIXTURE_SETUP(nbd)
{
	const char *extra[] = { "--num-queues", "2",	 "--control-socket", self->ctl, "--image",
				NULL,	       "--mgmt-socket", self->mgmt,	     NULL };
	struct fe_blk_opts opts = { .num_queues = 2 };
	int ret;

	self->srv.pid = -1;
	ASSERT_EQ(0, make_ctl_dir(self->dir, sizeof(self->dir)));
	snprintf(self->ctl, sizeof(self->ctl), "%s/ctl", self->dir);
	snprintf(self->mgmt, sizeof(self->mgmt), "%s/mgmt", self->dir);
	ret = variant->qemu_nbd ? nd_qemu_nbd_start(&self->srv, HOST_IMAGE_SIZE) :
				  nd_nbdkit_start(&self->srv, NBD_SIZE);
	if (ret == -ENOENT)
		SKIP(return, "%s is not installed", variant->qemu_nbd ? "qemu-nbd" : "nbdkit");
	ASSERT_EQ(0, ret) TH_LOG("NBD server: %s", strerror(-ret));
	extra[5] = self->srv.uri;
	HOST_UP(&self->vd, &self->blk, extra, &opts);
	self->up = true;
}

FIXTURE_TEARDOWN(nbd)
{
	if (self->up)
		host_down(_metadata, &self->vd, &self->blk);
	nd_cleanup(&self->srv);
	unlink(self->ctl);
	unlink(self->mgmt);
	rmdir(self->dir);
}

TEST_F(nbd, capacity_is_the_exports)
{
	EXPECT_EQ(HOST_SECTORS, le64toh(self->blk.config.capacity));
	EXPECT_TRUE(self->blk.features & (1ull << VIRTIO_BLK_F_DISCARD));
	EXPECT_TRUE(self->blk.features & (1ull << VIRTIO_BLK_F_WRITE_ZEROES));
}

TEST_F(nbd, resize_serves_up_to_the_exports_size_and_refuses_more)
{
	uint64_t bytes = le64toh(self->blk.config.capacity) * 512;
	uint8_t buf[512];

	if (!getenv("VBLKCTL"))
		SKIP(return, "VBLKCTL is not set");
	EXPECT_EQ(1, vd_vblkctl("resize --socket %s --size %llu", self->mgmt,
				(unsigned long long)bytes * 2));
	EXPECT_TRUE(vd_log_contains(&self->vd, "beyond the end of the disk"));
	EXPECT_EQ(0, vd_vblkctl("resize --socket %s --size %llu", self->mgmt,
				(unsigned long long)bytes / 2));
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, fe_blk_read(&self->blk, 0, bytes / 1024, buf, sizeof(buf)));
	EXPECT_EQ(0, vd_vblkctl("resize --socket %s --size %llu", self->mgmt,
				(unsigned long long)bytes));
	EXPECT_EQ(VIRTIO_BLK_S_OK, fe_blk_read(&self->blk, 1, bytes / 512 - 1, buf, sizeof(buf)));
}

TEST_F(nbd, writes_read_back_flush_and_discard_zero)
{
	enum { LEN = 65536, NREQ = 16 };
	static uint8_t want[LEN], got[LEN];
	struct fe_blk_req *req[NREQ];

	/* Many writes in flight on both queues: several NBD commands per connection. */
	for (unsigned int i = 0; i < NREQ; i++) {
		host_pattern(want, LEN, i);
		ASSERT_EQ(0, fe_blk_submit_write(&self->blk, i % 2, i * (LEN / 512), want, LEN,
						 &req[i]));
	}
	for (unsigned int i = 0; i < NREQ; i++) {
		EXPECT_EQ(VIRTIO_BLK_S_OK, status_of(&self->blk, req[i])) TH_LOG("write %u", i);
	}
	EXPECT_EQ(VIRTIO_BLK_S_OK, flush(&self->blk, 0));
	EXPECT_EQ(VIRTIO_BLK_S_OK, flush(&self->blk, 1));
	for (unsigned int i = 0; i < NREQ; i++) {
		host_pattern(want, LEN, i);
		ASSERT_EQ(VIRTIO_BLK_S_OK,
			  fe_blk_read(&self->blk, 1 - i % 2, i * (LEN / 512), got, LEN));
		EXPECT_EQ(0, memcmp(want, got, LEN)) TH_LOG("block %u", i);
	}
	EXPECT_EQ(VIRTIO_BLK_S_OK, discard(&self->blk, 0, LEN / 512, false));
	EXPECT_EQ(VIRTIO_BLK_S_OK, discard(&self->blk, LEN / 512, LEN / 512, true));
	for (unsigned int i = 0; i < 2; i++) {
		ASSERT_EQ(VIRTIO_BLK_S_OK, fe_blk_read(&self->blk, 0, i * (LEN / 512), got, LEN));
		EXPECT_TRUE(host_all_bytes(got, LEN, 0)) TH_LOG("write-zeroes %u", i);
	}
	/* A discard need not zero; it must succeed. */
	EXPECT_EQ(VIRTIO_BLK_S_OK, discard(&self->blk, 2 * (LEN / 512), LEN / 512, -1));
}

TEST_F(nbd, host_sees_what_the_guest_wrote_after_flush)
{
	uint8_t want[4096], got[4096];
	int fd;

	if (!variant->qemu_nbd)
		SKIP(return, "nbdkit's memory is not visible from the host");
	host_pattern(want, sizeof(want), 77);
	ASSERT_EQ(VIRTIO_BLK_S_OK, fe_blk_write(&self->blk, 1, 100, want, sizeof(want)));
	ASSERT_EQ(VIRTIO_BLK_S_OK, flush(&self->blk, 1));
	fd = open(self->srv.file, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)sizeof(got), pread(fd, got, sizeof(got), 100 * 512));
	close(fd);
	EXPECT_EQ(0, memcmp(want, got, sizeof(got)));
}

TEST_F(nbd, killed_server_fails_requests_and_a_restarted_one_is_reconnected)
{
	uint8_t want[4096], got[4096];
	struct fe_blk_req *req;
	int64_t errors;
	int st = -1;

	host_pattern(want, sizeof(want), 1);
	ASSERT_EQ(VIRTIO_BLK_S_OK, fe_blk_write(&self->blk, 0, 0, want, sizeof(want)));
	nd_kill(&self->srv);
	/* Both queues: IOERR, never a hang. */
	for (unsigned int q = 0; q < 2; q++) {
		host_pattern(want, sizeof(want), q);
		ASSERT_EQ(0, fe_blk_submit_write(&self->blk, q, 8, want, sizeof(want), &req));
		EXPECT_EQ(VIRTIO_BLK_S_IOERR, status_of(&self->blk, req)) TH_LOG("queue %u", q);
		ASSERT_EQ(0, fe_blk_submit_read(&self->blk, q, 8, sizeof(got), &req));
		EXPECT_EQ(VIRTIO_BLK_S_IOERR, status_of(&self->blk, req)) TH_LOG("queue %u", q);
	}
	EXPECT_TRUE(vd_alive(&self->vd));
	ASSERT_EQ(0, variant->qemu_nbd ? nd_qemu_nbd_start(&self->srv, HOST_IMAGE_SIZE) :
					 nd_nbdkit_start(&self->srv, NBD_SIZE));
	/* vblkd retries at most once a second: within 3 s each queue is back. */
	for (unsigned int q = 0; q < 2; q++) {
		for (int i = 0; i < 30; i++) {
			host_pattern(want, sizeof(want), 10 + q);
			st = fe_blk_write(&self->blk, q, 16 + q * 8, want, sizeof(want));
			if (st == VIRTIO_BLK_S_OK)
				break;
			usleep(100 * 1000);
		}
		ASSERT_EQ(VIRTIO_BLK_S_OK, st) TH_LOG("queue %u did not come back", q);
		ASSERT_EQ(VIRTIO_BLK_S_OK,
			  fe_blk_read(&self->blk, 1 - q, 16 + q * 8, got, sizeof(got)));
		EXPECT_EQ(0, memcmp(want, got, sizeof(got)));
	}
	EXPECT_TRUE(vd_log_contains(&self->vd, "reconnected"));
	/* The four failures are counted (each write retried above may add more). */
	ASSERT_EQ(0, fe_blk_suspend(&self->blk));
	errors = saved_errors(self->ctl);
	EXPECT_LE(4, errors);
	TH_LOG("%lld requests failed, as the device counted them", (long long)errors);
}

/* A destination whose export is smaller than the state's disk refuses the load. */
TEST(smaller_export_refuses_the_state)
{
	struct nd_server big = { .pid = -1 }, small = { .pid = -1 };
	struct daemon src = { 0 }, dst = { 0 };
	struct fe_blk_opts opts = { .num_queues = NQ };
	const char *more[] = { "--image", NULL, NULL };
	char dir[64];
	struct fe_blk blk;
	uint8_t *blob = NULL;
	size_t len;
	int ret;

	if (!vd_binary())
		SKIP(return, "VBLKD is not set");
	ret = nd_nbdkit_start(&big, "16M");
	if (ret == -ENOENT)
		SKIP(return, "nbdkit is not installed");
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, nd_nbdkit_start(&small, "8M"));
	ASSERT_EQ(0, make_ctl_dir(dir, sizeof(dir)));
	more[1] = big.uri;
	ASSERT_EQ(0, daemon_start_args(&src, dir, "src", 4096, "", NULL, more));
	more[1] = small.uri;
	ASSERT_EQ(0, daemon_start_args(&dst, dir, "dst", 4096, "", NULL, more));
	ASSERT_EQ(0, fe_blk_open(&blk, src.vd.sock, &opts));
	write_blocks(_metadata, &blk, 0, 4, 5);
	ASSERT_EQ(0, fe_blk_suspend(&blk));
	ASSERT_EQ(0, save_from(src.ctl, &blob, &len));
	EXPECT_EQ(STATE_E_CAPACITY, load_into(dst.ctl, blob, len));
	EXPECT_TRUE(vd_alive(&dst.vd));
	free(blob);
	fe_blk_close(&blk);
	daemon_down(_metadata, &dst);
	daemon_down(_metadata, &src);
	rmdir(dir);
	nd_cleanup(&small);
	nd_cleanup(&big);
}

/* One clear error line and exit status 2, at start. */
static void expect_refused_at_start(struct __test_metadata *_metadata, const char *image,
				    const char *needle)
{
	char out[2048];

	EXPECT_EQ(0, nd_refused_at_start(image, needle, 5000, out, sizeof(out)))
	TH_LOG("%s: wanted exit 2 and one line with '%s': %s", image, needle, out);
}

TEST(bad_uris_and_refused_connections_exit_2)
{
	if (!vd_binary())
		SKIP(return, "VBLKD is not set");
	expect_refused_at_start(_metadata, "nbd://[bad", "unable to parse URI");
	expect_refused_at_start(_metadata, "nbd://127.0.0.1:1/x", "refused");
	expect_refused_at_start(_metadata, "nbd+unix:///x?socket=/nonexistent/s", "cannot connect");
	expect_refused_at_start(_metadata, "null:12Q", "null:SIZE");
	expect_refused_at_start(_metadata, "null:0", "null:SIZE");
}

TEST_HARNESS_MAIN
