// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Migration without draining (docs/inflight-migration.md): a front-end that
 * negotiated GET_VRING_BASE_INFLIGHT suspends a daemon whose disk is slow
 * (--io-delay-ms) or throttled; the requests that had not reached the disk
 * stay in flight, travel in the device state, and the destination completes
 * each exactly once. A destination that refuses the state leaves the source
 * to complete them. Also the throttle, and vblkctl's view of it.
 */
#include "kselftest_harness.h"

#include <fcntl.h>
#include <time.h>

#include "frontend/fe_ctl.h"
#include "frontend/fe_state.h"
#include "host_test.h"
#include "state/state.h"
#include "state_util.h"

#define NREQ 16
#define LEN 4096
#define SLOW_DISK_MS "2000" /* longer than any capture may take */

static const char *const slow_disk[] = { "--io-delay-ms", SLOW_DISK_MS, NULL };

FIXTURE(capture) {
	struct state_pair pair;
	struct fe_blk dblk;
	bool dblk_open;
	struct fe_blk_req *req[NREQ];
	uint16_t used_before[NQ];
};

FIXTURE_SETUP(capture)
{
	struct fe_blk_opts opts = { .num_queues = NQ, .inflight = true, .capture = true };

	if (!vd_binary())
		SKIP(return, "VBLKD is not set: no daemon to test");
	pair_up_args(_metadata, &self->pair, true, &opts, slow_disk);
	ASSERT_NE(0, self->pair.sblk.vu.protocol_features &
			     (1ull << VHOST_USER_PROTOCOL_F_GET_VRING_BASE_INFLIGHT))
		TH_LOG("vblkd does not offer GET_VRING_BASE_INFLIGHT");
}

FIXTURE_TEARDOWN(capture)
{
	if (self->dblk_open)
		fe_blk_close(&self->dblk);
	pair_down(_metadata, &self->pair);
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* NREQ writes, a unique payload each, taken by the source and held by its slow disk. */
static void submit_writes(struct __test_metadata *_metadata, FIXTURE_DATA(capture) *self)
{
	uint8_t buf[LEN];

	for (unsigned int q = 0; q < NQ; q++)
		self->used_before[q] = le16toh(fe_blk_vq(&self->pair.sblk, q)->used->idx);
	for (unsigned int i = 0; i < NREQ; i++) {
		host_pattern(buf, LEN, 500 + i);
		ASSERT_EQ(0, fe_blk_submit_write(&self->pair.sblk, i % NQ, 2048 + i * 8, buf, LEN,
						 &self->req[i]));
	}
	usleep(HOST_QUIET_MS * 1000);
}

/* How many used entries queue @q got since submit_writes(). */
static unsigned int used_since(FIXTURE_DATA(capture) *self, struct fe_blk *blk, unsigned int q)
{
	return (uint16_t)(le16toh(fe_blk_vq(blk, q)->used->idx) - self->used_before[q]);
}

/* Every write completes once on @blk, with its payload on the disk. */
static void expect_writes_done(struct __test_metadata *_metadata, FIXTURE_DATA(capture) *self,
			       struct fe_blk *blk)
{
	uint8_t want[LEN], got[LEN];
	int fd;

	for (unsigned int i = 0; i < NREQ; i++) {
		ASSERT_EQ(0, fe_blk_wait(blk, self->req[i], 10000)) TH_LOG("write %u", i);
		EXPECT_EQ(VIRTIO_BLK_S_OK, self->req[i]->status) TH_LOG("write %u", i);
		fe_blk_req_free(blk, self->req[i]);
		self->req[i] = NULL;
	}
	/* Exactly once: one used entry per write, none from a second completion. */
	usleep(HOST_QUIET_MS * 1000);
	for (unsigned int q = 0; q < NQ; q++) {
		EXPECT_EQ(NREQ / NQ, used_since(self, blk, q)) TH_LOG("queue %u", q);
	}
	/* Read from the image itself: through the slow disk it would take minutes. */
	fd = open(self->pair.src.vd.image, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	for (unsigned int i = 0; i < NREQ; i++) {
		host_pattern(want, LEN, 500 + i);
		ASSERT_EQ(LEN, pread(fd, got, LEN, (off_t)(2048 + i * 8) * 512));
		EXPECT_EQ(0, memcmp(want, got, LEN)) TH_LOG("write %u on the disk", i);
	}
	close(fd);
}

/* Move the suspended source's state and rings to the destination. */
static void move_to_destination(struct __test_metadata *_metadata, FIXTURE_DATA(capture) *self)
{
	struct fe_blk *src = &self->pair.sblk;
	uint8_t *blob;
	size_t len;
	int ret;

	ASSERT_EQ(0, fe_state_save_buf(&src->vu, &blob, &len, NULL));
	ret = fe_blk_open_peer(&self->dblk, self->pair.dst.vd.sock, src);
	ASSERT_EQ(0, ret) TH_LOG("fe_blk_open_peer(dst): %s", strerror(-ret));
	self->dblk_open = true;
	ret = fe_state_load_buf(&self->dblk.vu, blob, len, NULL);
	free(blob);
	ASSERT_EQ(0, ret) TH_LOG("load: %s", strerror(-ret));
	fe_blk_adopt(&self->dblk, src);
	ASSERT_EQ(0, fe_blk_resume(&self->dblk));
}

TEST_F(capture, a_suspend_leaves_slow_writes_in_flight_and_the_destination_completes_each_once)
{
	struct fe_blk *src = &self->pair.sblk;
	uint64_t t0;

	submit_writes(_metadata, self);
	t0 = now_us();
	ASSERT_EQ(0, fe_blk_suspend(src));
	TH_LOG("suspend with %d writes held by a %s ms disk took %llu us", NREQ, SLOW_DISK_MS,
	       (unsigned long long)(now_us() - t0));
	/* Captured, not drained: nothing completed on the source. */
	for (unsigned int q = 0; q < NQ; q++) {
		EXPECT_EQ(0, used_since(self, src, q)) TH_LOG("queue %u", q);
	}
	EXPECT_TRUE(vd_log_contains(&self->pair.src.vd, "request(s) captured"));

	move_to_destination(_metadata, self);
	/* Nothing completed twice: the source stays stopped with what it captured. */
	expect_writes_done(_metadata, self, &self->dblk);
	EXPECT_TRUE(vd_log_contains(&self->pair.dst.vd, "resubmitting"));
}

/*
 * The destination resubmitted the captured writes (its disk is slow too) and
 * dies: its in-flight region, which the front-end keeps, brings them back
 * when a new destination daemon takes over.
 */
TEST_F(capture, a_destination_killed_after_the_load_gets_the_writes_back_from_its_region)
{
	const char *const fast[] = { "--num-queues", "2", "--image", self->pair.src.vd.image,
				     NULL };
	int status, ret;

	submit_writes(_metadata, self);
	ASSERT_EQ(0, fe_blk_suspend(&self->pair.sblk));
	move_to_destination(_metadata, self);
	usleep(HOST_QUIET_MS * 1000);
	for (unsigned int q = 0; q < NQ; q++) {
		ASSERT_EQ(0, used_since(self, &self->dblk, q)) TH_LOG("queue %u", q);
	}
	ASSERT_EQ(0, vd_kill(&self->pair.dst.vd, &status));
	ASSERT_EQ(0, vd_restart(&self->pair.dst.vd, fast));
	ret = fe_blk_reconnect(&self->dblk, self->pair.dst.vd.sock);
	ASSERT_EQ(0, ret) TH_LOG("fe_blk_reconnect: %s", strerror(-ret));
	expect_writes_done(_metadata, self, &self->dblk);
	EXPECT_TRUE(vd_log_contains(&self->pair.dst.vd, "resubmitting"));
}

TEST_F(capture, a_destination_that_refuses_the_state_leaves_the_source_to_complete_them)
{
	struct fe_blk *src = &self->pair.sblk;
	uint8_t *blob;
	size_t len;

	submit_writes(_metadata, self);
	ASSERT_EQ(0, fe_blk_suspend(src));
	for (unsigned int q = 0; q < NQ; q++) {
		EXPECT_EQ(0, used_since(self, src, q)) TH_LOG("queue %u", q);
	}
	ASSERT_EQ(0, fe_state_save_buf(&src->vu, &blob, &len, NULL));
	/* Another disk's identity: the destination checks it and refuses. */
	memcpy(memmem(blob, len, IMAGE_ID, strlen(IMAGE_ID)), "disk-B", 6);
	EXPECT_NE(0, load_into(self->pair.dst.ctl, blob, len));
	free(blob);

	/* The source goes on and owes the driver what it captured. */
	ASSERT_EQ(0, fe_blk_resume(src));
	expect_writes_done(_metadata, self, src);
	EXPECT_TRUE(vd_log_contains(&self->pair.src.vd, "resubmitting"));
}

/* Throttle: requests wait for it, vblkctl's message reads and changes it. */
FIXTURE(throttle) {
	struct state_pair pair;
};

FIXTURE_SETUP(throttle)
{
	static const char *const extra[] = { "--throttle-iops", "100", NULL };

	if (!vd_binary())
		SKIP(return, "VBLKD is not set: no daemon to test");
	pair_up_args(_metadata, &self->pair, false, &(struct fe_blk_opts){ .num_queues = NQ },
		     extra);
}

FIXTURE_TEARDOWN(throttle)
{
	pair_down(_metadata, &self->pair);
}

TEST_F(throttle, requests_wait_for_it_and_the_control_socket_changes_its_limits)
{
	struct state_pair *pair = &self->pair;
	struct vu_throttle set = { .flags = VU_THROTTLE_SET }, got;
	struct fe_vu vu;
	uint8_t buf[LEN] = { 7 };
	uint64_t waited;

	ASSERT_EQ(0, fe_vu_connect(&vu, pair->src.ctl, 5000));
	ASSERT_EQ(0, fe_ctl_throttle(&vu, NULL, &got));
	EXPECT_EQ(100, got.iops);
	EXPECT_EQ(0, got.bps);
	for (unsigned int i = 0; i < 20; i++)
		ASSERT_EQ(VIRTIO_BLK_S_OK, fe_blk_write(&pair->sblk, i % NQ, i * 8, buf, LEN));
	ASSERT_EQ(0, fe_ctl_throttle(&vu, NULL, &got));
	EXPECT_LT(0, got.throttled) TH_LOG("20 writes at 100 IOPS and none waited");
	waited = got.throttled;
	TH_LOG("%llu request(s) waited %llu us", (unsigned long long)got.throttled,
	       (unsigned long long)got.throttled_us);

	/* Unlimited from now on: no request waits any more. */
	ASSERT_EQ(0, fe_ctl_throttle(&vu, &set, &got));
	EXPECT_EQ(0, got.iops);
	for (unsigned int i = 0; i < 20; i++)
		ASSERT_EQ(VIRTIO_BLK_S_OK, fe_blk_write(&pair->sblk, i % NQ, i * 8, buf, LEN));
	ASSERT_EQ(0, fe_ctl_throttle(&vu, NULL, &got));
	EXPECT_EQ(waited, got.throttled);

	/* A burst of more than a minute is refused, and nothing changes. */
	set.iops = 5;
	set.burst_ms = 60001;
	EXPECT_NE(0, fe_ctl_throttle(&vu, &set, &got));
	fe_vu_disconnect(&vu);
}

TEST_HARNESS_MAIN
