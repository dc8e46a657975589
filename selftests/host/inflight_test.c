// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * In-flight I/O tracking (INFLIGHT_SHMFD) across a back-end crash: the
 * front-end keeps guest memory, rings and the in-flight region, a new vblkd
 * takes them over as after QEMU's reconnect, and resubmits what the killed
 * one had popped but not completed. Also the geometry checks of
 * SET_INFLIGHT_FD.
 */
#include "kselftest_harness.h"

#include <signal.h>
#include <sys/eventfd.h>
#include <time.h>

#include "host_test.h"

#define NREQ 6
#define REQ_LEN 8192
#define REQ_SECTORS (REQ_LEN / FE_BLK_SECTOR)
#define POP_TIMEOUT_MS 2000

static const char *const slow_args[] = { "--io-delay-ms", "500", NULL };
static const char *const fast_args[] = { NULL };

FIXTURE(inflight) {
	struct vd_proc vd;
	struct fe_blk blk;
	struct fe_blk_req *req[NREQ];
	uint16_t base;		/* used->idx before the writes */
};

FIXTURE_SETUP(inflight)
{
	struct fe_blk_opts opts = { .inflight = true };

	HOST_UP(&self->vd, &self->blk, slow_args, &opts);
}

FIXTURE_TEARDOWN(inflight)
{
	for (unsigned int i = 0; i < NREQ; i++)
		fe_blk_req_free(&self->blk, self->req[i]);
	host_down(_metadata, &self->vd, &self->blk);
}

/* Request @i writes pattern i + 1 at its own sectors, one block apart. */
static uint64_t req_sector(unsigned int i)
{
	return (uint64_t)i * 2 * REQ_SECTORS;
}

static uint16_t used_idx(struct fe_vq *vq)
{
	return le16toh(__atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE));
}

/* Submit the writes and wait until the slow daemon has popped them all. */
static int submit_and_wait_popped(struct __test_metadata *_metadata,
				  FIXTURE_DATA(inflight) *self)
{
	struct vb_inflight_queue *inf = fe_blk_inflight_queue(&self->blk, 0);
	uint8_t buf[REQ_LEN];
	unsigned int popped = 0;

	if (!inf)
		return -EINVAL;
	self->base = used_idx(fe_blk_vq(&self->blk, 0));
	for (unsigned int i = 0; i < NREQ; i++) {
		host_pattern(buf, REQ_LEN, i + 1);
		ASSERT_EQ(0, fe_blk_submit_write(&self->blk, 0, req_sector(i), buf, REQ_LEN,
						 &self->req[i]));
	}
	for (int waited = 0; waited < POP_TIMEOUT_MS && popped < NREQ; waited += 5) {
		usleep(5 * 1000);
		popped = 0;
		for (unsigned int i = 0; i < NREQ; i++)
			popped += __atomic_load_n(&inf->desc[self->req[i]->head].inflight,
						  __ATOMIC_ACQUIRE) == 1;
	}
	TH_LOG("%u of %d writes in flight", popped, NREQ);
	return popped == NREQ ? 0 : -ETIMEDOUT;
}

/* SIGKILL the daemon with the writes still held, as a crash would. */
static void kill_daemon(struct __test_metadata *_metadata, FIXTURE_DATA(inflight) *self)
{
	int status;

	ASSERT_EQ(0, submit_and_wait_popped(_metadata, self));
	ASSERT_EQ(self->base, used_idx(fe_blk_vq(&self->blk, 0)))
		TH_LOG("a write completed before the kill: --io-delay-ms too short?");
	ASSERT_EQ(0, vd_kill(&self->vd, &status));
	ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

/* A new daemon on the same socket and image; the front-end reconnects. */
static void restart_daemon(struct __test_metadata *_metadata, FIXTURE_DATA(inflight) *self)
{
	int ret;

	ASSERT_EQ(0, vd_restart(&self->vd, fast_args));
	ret = fe_blk_reconnect(&self->blk, self->vd.sock);
	ASSERT_EQ(0, ret) TH_LOG("fe_blk_reconnect: %s", strerror(-ret));
}

/*
 * Every request completes, and the ring sees exactly one used entry per
 * request, even after a quiet spell.
 */
static void expect_each_used_once(struct __test_metadata *_metadata,
				  FIXTURE_DATA(inflight) *self)
{
	struct fe_vq *vq = fe_blk_vq(&self->blk, 0);

	for (unsigned int i = 0; i < NREQ; i++) {
		ASSERT_EQ(0, fe_blk_wait(&self->blk, self->req[i], HOST_IO_TIMEOUT_MS))
			TH_LOG("write %u (head %d) never completed", i, self->req[i]->head);
		EXPECT_EQ(VIRTIO_BLK_S_OK, self->req[i]->status) TH_LOG("write %u", i);
	}
	usleep(HOST_QUIET_MS * 1000);
	EXPECT_EQ((uint16_t)(self->base + NREQ), used_idx(vq))
		TH_LOG("%u used entries for %d requests", (uint16_t)(used_idx(vq) - self->base),
		       NREQ);
	EXPECT_EQ(vq->avail_idx, vq->last_used);
	EXPECT_EQ(vq->num, vq->num_free);
}

/* Block @i holds its pattern, or still the image's 0xa5 when !@written. */
static void expect_block(struct __test_metadata *_metadata, FIXTURE_DATA(inflight) *self,
			 unsigned int i, bool written)
{
	uint8_t want[REQ_LEN], got[REQ_LEN];

	ASSERT_EQ(VIRTIO_BLK_S_OK, fe_blk_read(&self->blk, 0, req_sector(i), got, REQ_LEN));
	if (written) {
		host_pattern(want, REQ_LEN, i + 1);
		EXPECT_EQ(0, memcmp(want, got, REQ_LEN)) TH_LOG("write %u lost", i);
	} else {
		EXPECT_TRUE(host_all_bytes(got, REQ_LEN, 0xa5)) TH_LOG("write %u redone", i);
	}
}

TEST_F(inflight, requests_in_flight_when_the_daemon_is_killed_complete_after_a_restart)
{
	kill_daemon(_metadata, self);
	restart_daemon(_metadata, self);
	expect_each_used_once(_metadata, self);
	for (unsigned int i = 0; i < NREQ; i++)
		expect_block(_metadata, self, i, true);
	EXPECT_TRUE(vd_log_contains(&self->vd, "vq 0: resubmitting 6 in-flight request(s)"));
}

/*
 * The killed daemon had published the used entry of one write but not yet
 * cleared its in-flight flag (nor the region's used_idx): last_batch_head
 * names it, and used->idx is one ahead of the region. That write completed;
 * doing it again would overwrite whatever the guest wrote there since.
 */
TEST_F(inflight, a_request_used_just_before_the_kill_is_not_resubmitted)
{
	struct vb_inflight_queue *inf = fe_blk_inflight_queue(&self->blk, 0);
	struct fe_vq *vq = fe_blk_vq(&self->blk, 0);
	struct fe_blk_req *done = NULL;
	uint16_t slot;

	kill_daemon(_metadata, self);
	done = self->req[2];
	ASSERT_EQ(1, inf->desc[done->head].inflight);
	ASSERT_EQ(self->base, inf->used_idx);
	slot = self->base % vq->num;
	vq->used->ring[slot].id = htole32((uint32_t)done->head);
	vq->used->ring[slot].len = htole32(1);
	*done->status_byte = VIRTIO_BLK_S_OK;
	inf->last_batch_head = (uint16_t)done->head;
	__atomic_store_n(&vq->used->idx, htole16((uint16_t)(self->base + 1)), __ATOMIC_RELEASE);

	restart_daemon(_metadata, self);
	expect_each_used_once(_metadata, self);
	for (unsigned int i = 0; i < NREQ; i++)
		expect_block(_metadata, self, i, self->req[i] != done);
	EXPECT_TRUE(vd_log_contains(&self->vd, "vq 0: resubmitting 5 in-flight request(s)"));
	EXPECT_EQ(0, inf->desc[done->head].inflight);
}

/* SET_INFLIGHT_FD with @inf must fail, and leave the daemon serving. */
static void expect_refused(struct __test_metadata *_metadata, FIXTURE_DATA(inflight) *self,
			   const struct vu_inflight *inf, const char *what)
{
	int ret = fe_vu_set_inflight_fd(&self->blk.vu, inf, self->blk.inflight_fd);

	EXPECT_EQ(-EREMOTEIO, ret) TH_LOG("%s: %s", what, strerror(-ret));
	EXPECT_TRUE(vd_alive(&self->vd)) TH_LOG("%s: vblkd died", what);
}

TEST_F(inflight, an_inflight_region_of_the_wrong_geometry_is_refused)
{
	const struct vu_inflight good = self->blk.inflight;
	struct vu_inflight bad;
	uint8_t want[4096], got[4096];

	bad = good, bad.num_queues = 0;
	expect_refused(_metadata, self, &bad, "no queues");
	bad = good, bad.num_queues = 2;
	expect_refused(_metadata, self, &bad, "more queues than the daemon has");
	bad = good, bad.queue_size = 0;
	expect_refused(_metadata, self, &bad, "queue size 0");
	bad = good, bad.queue_size = 2048;
	expect_refused(_metadata, self, &bad, "queue size beyond the largest ring");
	bad = good, bad.queue_size = good.queue_size * 2;
	expect_refused(_metadata, self, &bad, "queue size larger than mmap_size holds");
	bad = good, bad.mmap_size = good.mmap_size - 64;
	expect_refused(_metadata, self, &bad, "mmap_size too small");
	bad = good, bad.mmap_size = good.mmap_size + 4096;
	expect_refused(_metadata, self, &bad, "mmap_size too large");

	/* The region in use stays: I/O goes on, tracked as before. */
	host_pattern(want, sizeof(want), 77);
	EXPECT_EQ(VIRTIO_BLK_S_OK, fe_blk_write(&self->blk, 0, 0, want, sizeof(want)));
	EXPECT_EQ(VIRTIO_BLK_S_OK, fe_blk_read(&self->blk, 0, 0, got, sizeof(got)));
	EXPECT_EQ(0, memcmp(want, got, sizeof(got)));
}

HOST_SOLO_FIXTURE();

/*
 * A region sized for rings of 4 while the ring holds 1024: the daemon
 * refuses the region (it could not track head 300) and the ring goes on
 * untracked, as before the request.
 */
TEST_F(solo, a_ring_larger_than_its_inflight_region_is_refused)
{
	static const char *const extra[] = { "--queue-size", "1024", NULL };
	struct fe_blk_opts opts = { .queue_size = 1024 };
	struct vu_inflight small = { .num_queues = 1, .queue_size = 4 };
	struct fe_blk_req *req = NULL;
	uint16_t taken[300];
	int fd;

	HOST_UP(&self->vd, &self->blk, extra, &opts);
	self->blk_open = true;
	ASSERT_TRUE(self->blk.vu.reply_ack);
	small.mmap_size = vb_inflight_queue_size(small.queue_size);
	fd = memfd_create("small-inflight", MFD_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, (off_t)small.mmap_size));
	EXPECT_NE(0, fe_vu_set_inflight_fd(&self->blk.vu, &small, fd));
	close(fd);
	EXPECT_TRUE(vd_log_contains(&self->vd,
				    "in-flight region for rings of 4, but vring 0 holds 1024"));
	/* Heads come off the free list in order: skip to head 300. */
	ASSERT_EQ(0, fe_vq_take(fe_blk_vq(&self->blk, 0), 300, taken));
	ASSERT_EQ(0, fe_blk_submit_flush(&self->blk, 0, &req));
	ASSERT_EQ(300, req->head);
	ASSERT_EQ(0, fe_blk_wait(&self->blk, req, HOST_IO_TIMEOUT_MS));
	EXPECT_EQ(VIRTIO_BLK_S_OK, req->status);
	EXPECT_TRUE(vd_alive(&self->vd)) TH_LOG("vblkd died");
	fe_blk_req_free(&self->blk, req);
}

/*
 * QEMU's vhost-user-blk sends SET_VRING_CALL only after the kick and the
 * enable: requests resubmitted at the kick complete before there is a call
 * fd. Their interrupt must still reach the guest.
 */
TEST_F(solo, a_completion_before_the_call_fd_is_installed_is_still_signalled)
{
	static const char *const slow[] = { "--io-delay-ms", "300", NULL };
	struct fe_blk_opts opts = { .inflight = true };
	struct fe_blk_req *req = NULL;
	uint8_t buf[4096] = { 1 };
	struct fe_vq *vq;
	uint16_t base;
	uint64_t acked, stale, proto;
	int status;

	HOST_UP(&self->vd, &self->blk, slow, &opts);
	self->blk_open = true;
	vq = fe_blk_vq(&self->blk, 0);
	base = le16toh(vq->used->idx);
	ASSERT_EQ(0, fe_blk_submit_write(&self->blk, 0, 0, buf, sizeof(buf), &req));
	usleep(100 * 1000); /* taken from the ring, held by the delay */
	ASSERT_EQ(0, vd_kill(&self->vd, &status));
	ASSERT_EQ(0, vd_restart(&self->vd, NULL));

	/* Reconnect in QEMU's order: ring set-up, kick, enable, and only then call. */
	proto = self->blk.vu.protocol_features;
	fe_vu_disconnect(&self->blk.vu);
	ASSERT_EQ(0, fe_vu_connect(&self->blk.vu, self->vd.sock, 5000));
	ASSERT_EQ(0, fe_vu_negotiate(&self->blk.vu, self->blk.features, proto, &acked));
	ASSERT_EQ(0, fe_vu_set_inflight_fd(&self->blk.vu, &self->blk.inflight, self->blk.inflight_fd));
	ASSERT_EQ(0, fe_vu_set_mem_table(&self->blk.vu, &self->blk.mem));
	ASSERT_EQ(0, fe_vu_set_vring_num(&self->blk.vu, 0, vq->num));
	ASSERT_EQ(0, fe_vu_set_vring_addr(&self->blk.vu, 0, fe_mem_uaddr(vq->desc),
					  fe_mem_uaddr(vq->avail), fe_mem_uaddr(vq->used)));
	ASSERT_EQ(0, fe_vu_set_vring_base(&self->blk.vu, 0, le16toh(vq->used->idx)));
	ASSERT_EQ(0, fe_vu_set_vring_kick(&self->blk.vu, 0, vq->kick_fd));
	ASSERT_EQ(0, fe_vu_set_vring_enable(&self->blk.vu, 0, true));
	usleep(HOST_QUIET_MS * 1000); /* the resubmitted write completes now */
	while (eventfd_read(vq->call_fd, &stale) == 0)
		; /* anything signalled before is not what we are after */
	ASSERT_EQ(0, fe_vu_set_vring_call(&self->blk.vu, 0, vq->call_fd));

	EXPECT_EQ((uint16_t)(base + 1), le16toh(vq->used->idx));
	EXPECT_EQ(0, fe_vq_wait_call(vq, 1000)) TH_LOG("completed, but no interrupt came");
	EXPECT_TRUE(vd_log_contains(&self->vd, "resubmitting 1 in-flight"));
	fe_blk_req_free(&self->blk, req);
}

TEST_HARNESS_MAIN
