// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vblkd --vduse driven through the kernel's vhost-vdpa by frontend/'s
 * vhost-vdpa client (issue 4, items 6b, 6c, 6e): I/O on a device rebound
 * to vhost_vdpa; a migration to a second vblkd on a new VDUSE device, with
 * the suspend done by the kernel (VHOST_VDPA_SUSPEND, where vhost-vdpa
 * offers it) or by vblkd's control socket, and the state moved through the
 * control sockets; corrupt states refused by a destination that stays
 * usable. Runs inside a guest (selftests/vduse/run-suite.sh, as root);
 * without /dev/vduse/control every test is skipped.
 */
#include "kselftest_harness.h"

#include <fcntl.h>

#include <stdio.h>

#include "frontend/fe_ctl.h"
#include "selftests/host/host_test.h"
#include "state/state.h"
#include "selftests/host/vd_state.h"
#include "vdpa_check.h"
#include "vdpa_util.h"
#include "proto/vduse_abi.h"

/* 6b: I/O */

FIXTURE(io) {
	char dir[64];
	struct vt_daemon d;
	struct fe_blk blk;
	bool blk_open;
};

FIXTURE_SETUP(io)
{
	if (!vt_have_vduse())
		SKIP(return, "no /dev/vduse/control: VDUSE tests run in the guest (run-suite.sh)");
	ASSERT_NE(NULL, vd_binary()) TH_LOG("VBLKD is not set");
	snprintf(self->dir, sizeof(self->dir), "/tmp/vblkd-vdpa-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
}

FIXTURE_TEARDOWN(io)
{
	/* An ASSERT's longjmp leaves this set: the first EXPECT here would log. */
	_metadata->trigger = 0;
	if (self->blk_open)
		fe_blk_close(&self->blk);
	vt_daemon_down(_metadata, &self->d);
	if (self->dir[0])
		rmdir(self->dir);
}

/* vblkd --vduse @name, rebound to vhost_vdpa, a client on it. */
static void io_up(struct __test_metadata *_metadata, FIXTURE_DATA(io) *self, const char *name)
{
	struct fe_blk_opts opts = { .num_queues = VT_NQ, .mem_size = VT_MEM_SIZE };
	char drv[64] = "none";
	int ret;

	ret = vt_daemon_start(&self->d, self->dir, name, NULL);
	if (ret)
		vd_dump_log(&self->d.vd);
	ASSERT_EQ(0, ret) TH_LOG("vblkd --vduse %s: %s", name, strerror(-ret));
	vt_driver_of(name, drv, sizeof(drv));
	vt_note("%s on the vdpa bus, bound to %s", name, drv);
	ret = vt_bind_vhost(name, self->d.dev, sizeof(self->d.dev));
	ASSERT_EQ(0, ret) TH_LOG("bind %s to vhost_vdpa: %s", name, strerror(-ret));
	ret = fe_blk_open_vdpa(&self->blk, self->d.dev, &opts);
	ASSERT_EQ(0, ret) TH_LOG("fe_blk_open_vdpa(%s): %s", self->d.dev, strerror(-ret));
	self->blk_open = true;
}

TEST_F_TIMEOUT(io, rebound_to_vhost_vdpa_serves_io_on_every_queue, 300)
{
	const size_t bytes = 4u << 20;

	io_up(_metadata, self, "vt-io");
	vt_print_features(self->d.dev, &self->blk);
	EXPECT_EQ(VT_IMAGE_SIZE / FE_BLK_SECTOR, self->blk.config.capacity);
	EXPECT_TRUE(self->blk.features & (1ull << VIRTIO_F_ACCESS_PLATFORM));

	int64_t t0 = vt_now_us();
	int writes = vt_io(_metadata, &self->blk, 0, bytes, 1000, false);

	ASSERT_LT(0, writes);
	int64_t t1 = vt_now_us();
	int reads = vt_io(_metadata, &self->blk, 0, bytes, 1000, true);

	ASSERT_LT(0, reads);
	int64_t t2 = vt_now_us();

	vt_note("%zu KiB in %d writes: %.1f ms; read back and compared in %d reads: %.1f ms",
		bytes >> 10, writes, vt_ms(t0, t1), reads, vt_ms(t1, t2));
	for (unsigned int q = 0; q < VT_NQ; q++)
		vt_get_id_and_flush(_metadata, &self->blk, q);
}

/*
 * Suspended, the device leaves new requests alone; resumed (7.3: reset and
 * DRIVER_OK from the bases, as QEMU does; 6.12: the compat endpoint restarts
 * the rings it stopped), it serves them and carries on.
 */
TEST_F_TIMEOUT(io, suspended_device_serves_nothing_until_resumed, 300)
{
	enum { NREQ = 4 };
	struct fe_blk_req *req[NREQ];
	uint16_t ctl_bases[FE_BLK_MAX_QUEUES];
	uint8_t buf[4096];
	bool kernel;
	int ret;

	io_up(_metadata, self, "vt-res");
	ASSERT_LT(0, vt_io(_metadata, &self->blk, 0, 256u << 10, 40, false));
	kernel = self->blk.vdpa.backend_acked & (1ull << VHOST_BACKEND_F_SUSPEND);
	if (!kernel) {
		ret = fe_ctl_suspend(self->d.ctl, VT_NQ, ctl_bases);
		ASSERT_EQ(0, ret) TH_LOG("compat endpoint suspend: %s", strerror(-ret));
	}
	ret = fe_blk_suspend(&self->blk);
	ASSERT_EQ(0, ret) TH_LOG("fe_blk_suspend: %s", strerror(-ret));
	vt_note("vt-res suspended by %s at bases %u, %u", kernel ? "the kernel" : "the compat endpoint",
		self->blk.bases[0], self->blk.bases[1]);

	for (unsigned int i = 0; i < NREQ; i++) {
		host_pattern(buf, sizeof(buf), 50 + i);
		ASSERT_EQ(0, fe_blk_submit_write(&self->blk, i % VT_NQ, 4096 + i * 8, buf,
						 sizeof(buf), &req[i]));
	}
	usleep(300 * 1000);
	for (unsigned int q = 0; q < VT_NQ; q++)
		fe_blk_reap(&self->blk, q, 0);
	for (unsigned int i = 0; i < NREQ; i++) {
		EXPECT_FALSE(req[i]->done) TH_LOG("the suspended device served write %u", i);
	}

	int64_t t0 = vt_now_us();

	if (kernel)
		ret = fe_blk_resume(&self->blk);
	else
		ret = fe_ctl_resume(self->d.ctl, VT_NQ);
	ASSERT_EQ(0, ret) TH_LOG("resume: %s", strerror(-ret));
	vt_note("resumed by %s in %.1f ms",
		!kernel ? "the compat endpoint (SET_VRING_ENABLE 1)" :
		fe_vdpa_backend_has(&self->blk.vdpa, VHOST_BACKEND_F_RESUME) ?
			"VHOST_VDPA_RESUME" : "reset + DRIVER_OK from the bases",
		vt_ms(t0, vt_now_us()));
	/* Queued while suspended, never kicked again: still served. */
	for (unsigned int i = 0; i < NREQ; i++) {
		ASSERT_EQ(0, fe_blk_wait(&self->blk, req[i], VT_IO_MS)) TH_LOG("write %u", i);
		EXPECT_EQ(VIRTIO_BLK_S_OK, req[i]->status);
		fe_blk_req_free(&self->blk, req[i]);
	}
	EXPECT_LT(0, vt_io(_metadata, &self->blk, 0, 256u << 10, 40, true));
	for (unsigned int i = 0; i < NREQ; i++) {
		uint8_t got[4096];

		host_pattern(buf, sizeof(buf), 50 + i);
		ASSERT_EQ(VIRTIO_BLK_S_OK, fe_blk_read(&self->blk, (i + 1) % VT_NQ, 4096 + i * 8,
						       got, sizeof(got)));
		EXPECT_EQ(0, memcmp(buf, got, sizeof(got))) TH_LOG("write %u", i);
	}
}

/* 6c and 6e: two daemons on one image, a client moving from the first to the second */

FIXTURE(mig) {
	char dir[64];
	struct vt_daemon src, dst;
	struct fe_blk sblk, dblk;
	bool sblk_open, dblk_open;
	bool autoprobe_off;
	uint8_t *blob;
	size_t blob_len;
	int writes;			/* write requests the client sent to the source */
};

FIXTURE_SETUP(mig)
{
	if (!vt_have_vduse())
		SKIP(return, "no /dev/vduse/control: VDUSE tests run in the guest (run-suite.sh)");
	ASSERT_NE(NULL, vd_binary()) TH_LOG("VBLKD is not set");
	snprintf(self->dir, sizeof(self->dir), "/tmp/vblkd-vdpa-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
}

FIXTURE_TEARDOWN(mig)
{
	/* An ASSERT's longjmp leaves this set: the first EXPECT here would log. */
	_metadata->trigger = 0;
	if (self->dblk_open)
		fe_blk_close(&self->dblk);
	if (self->sblk_open)
		fe_blk_close(&self->sblk);
	vt_daemon_down(_metadata, &self->dst);
	vt_daemon_down(_metadata, &self->src);
	if (self->autoprobe_off)
		vt_autoprobe(true);
	free(self->blob);
	if (self->dir[0])
		rmdir(self->dir);
}

/* Source @name bound to vhost_vdpa, a client on it, 2 MiB written with seed 1. */
static void mig_source_up(struct __test_metadata *_metadata, FIXTURE_DATA(mig) *self,
			  const char *name)
{
	struct fe_blk_opts opts = { .num_queues = VT_NQ, .mem_size = VT_MEM_SIZE };
	int ret;

	ret = vt_daemon_start(&self->src, self->dir, name, NULL);
	if (ret)
		vd_dump_log(&self->src.vd);
	ASSERT_EQ(0, ret) TH_LOG("vblkd --vduse %s: %s", name, strerror(-ret));
	ret = vt_bind_vhost(name, self->src.dev, sizeof(self->src.dev));
	ASSERT_EQ(0, ret) TH_LOG("bind %s to vhost_vdpa: %s", name, strerror(-ret));
	ret = fe_blk_open_vdpa(&self->sblk, self->src.dev, &opts);
	ASSERT_EQ(0, ret) TH_LOG("fe_blk_open_vdpa(%s): %s", self->src.dev, strerror(-ret));
	self->sblk_open = true;
	vt_print_features(name, &self->sblk);

	self->writes = vt_io(_metadata, &self->sblk, 0, 2u << 20, 1, false);
	ASSERT_LT(0, self->writes);
}

/* Destination @name on the source's image, left unbound for the state load. */
static void mig_dest_up(struct __test_metadata *_metadata, FIXTURE_DATA(mig) *self,
			const char *name)
{
	char drv[64];
	int ret;

	int probe_ret;

	ret = vt_autoprobe(false);
	ASSERT_EQ(0, ret) TH_LOG("drivers_autoprobe off: %s", strerror(-ret));
	self->autoprobe_off = true;
	ret = vt_daemon_start(&self->dst, self->dir, name, self->src.vd.image);
	/* Back on before any ASSERT: later guest tests count on autoprobe. */
	probe_ret = vt_autoprobe(true);
	self->autoprobe_off = probe_ret != 0;
	EXPECT_EQ(0, probe_ret) TH_LOG("drivers_autoprobe on: %s", strerror(-probe_ret));
	if (ret)
		vd_dump_log(&self->dst.vd);
	ASSERT_EQ(0, ret) TH_LOG("vblkd --vduse %s: %s", name, strerror(-ret));
	EXPECT_EQ(-ENOENT, vt_driver_of(name, drv, sizeof(drv)))
		TH_LOG("%s was bound to %s although autoprobe is off", name, drv);
}

/*
 * Suspend the source, check the saved state against the client's view and
 * keep it in self->blob. Return: suspend and save times (us).
 */
static void mig_suspend_and_save(struct __test_metadata *_metadata, FIXTURE_DATA(mig) *self,
				 int64_t *suspend_us, int64_t *save_us)
{
	struct vt_state st;
	uint64_t us = 0;
	bool kernel;
	int ret;

	*suspend_us = vt_suspend(_metadata, &self->sblk, &self->src, &kernel);
	vt_note("%s suspended by %s", self->src.name,
		kernel ? "the kernel (VHOST_VDPA_SUSPEND)" : "the compat endpoint");
	ASSERT_EQ(0, _metadata->exit_code);

	ret = vd_state_save(self->src.ctl, VT_WAIT_MS, &self->blob, &self->blob_len, &us);
	*save_us = (int64_t)us;
	ASSERT_EQ(0, ret) TH_LOG("save from %s: %d (%s)", self->src.name, ret,
				 ret > 0 ? state_err_str(ret) : strerror(-ret));
	ASSERT_EQ(STATE_OK, vt_parse_state(self->blob, self->blob_len, &st));
	EXPECT_EQ(VT_NQ, st.nqueues);
	for (unsigned int i = 0; i < VT_NQ; i++) {
		EXPECT_EQ(self->sblk.bases[i], st.last_avail[i]) TH_LOG("state ring %u", i);
		EXPECT_EQ(0, st.inflight[i]) TH_LOG("ring %u drained", i);
	}
	ASSERT_TRUE(st.have_counters);
	EXPECT_EQ((uint64_t)self->writes, st.counters[VT_CNT_WRITES])
		TH_LOG("writes counted by the source");
	vt_note("%s state: %zu bytes, %llu reads, %llu writes", self->src.name, self->blob_len,
		(unsigned long long)st.counters[0], (unsigned long long)st.counters[1]);
}

/* Load @buf into the destination's control socket: 0 or the refusal / -errno. */
static int mig_load(FIXTURE_DATA(mig) *self, const void *buf, size_t len, uint64_t *us)
{
	return vd_state_load(self->dst.ctl, VT_WAIT_MS, buf, len, us);
}

/* Bind the destination, re-attach the client with the saved bases, drop the source. */
static int64_t mig_reattach(struct __test_metadata *_metadata, FIXTURE_DATA(mig) *self,
			    int64_t *bind_us)
{
	int64_t t0 = vt_now_us(), t1, t2;
	int ret;

	ret = vt_bind_vhost(self->dst.name, self->dst.dev, sizeof(self->dst.dev));
	t1 = vt_now_us();
	*bind_us = t1 - t0;
	ASSERT_EQ(0, ret) TH_LOG("bind %s to vhost_vdpa: %s", self->dst.name, strerror(-ret));
	ret = fe_blk_open_vdpa_peer(&self->dblk, self->dst.dev, &self->sblk, NULL);
	t2 = vt_now_us();
	ASSERT_EQ(0, ret) TH_LOG("fe_blk_open_vdpa_peer(%s): %s", self->dst.dev,
				 strerror(-ret));
	self->dblk_open = true;
	/* The source only borrows now: closing it resets the old device only. */
	fe_blk_close(&self->sblk);
	self->sblk_open = false;
	return t2 - t1;
}

/* Suspend the destination and read its write counter from a save. */
static uint64_t mig_dest_writes(struct __test_metadata *_metadata, FIXTURE_DATA(mig) *self)
{
	struct vt_state st;
	uint8_t *blob = NULL;
	size_t len = 0;
	bool kernel;
	int ret;

	vt_suspend(_metadata, &self->dblk, &self->dst, &kernel);
	ret = vd_state_save(self->dst.ctl, VT_WAIT_MS, &blob, &len, NULL);
	EXPECT_EQ(0, ret) TH_LOG("save from %s: %d", self->dst.name, ret);
	if (ret)
		return 0;
	ret = vt_parse_state(blob, len, &st);
	free(blob);
	EXPECT_EQ(STATE_OK, ret);
	EXPECT_TRUE(st.have_counters);
	return st.counters[VT_CNT_WRITES];
}

TEST_F_TIMEOUT(mig, client_moves_to_a_new_device_with_the_state_and_keeps_its_data, 400)
{
	int64_t suspend_us, save_us, bind_us, reattach_us, t0;
	uint64_t load_us = 0, dwrites;
	int ret, writes2;

	mig_source_up(_metadata, self, "vt-mig-a");
	/* The destination waits ready before the downtime starts, as a VMM's would. */
	mig_dest_up(_metadata, self, "vt-mig-b");

	t0 = vt_now_us();
	mig_suspend_and_save(_metadata, self, &suspend_us, &save_us);
	ret = mig_load(self, self->blob, self->blob_len, &load_us);
	ASSERT_EQ(0, ret) TH_LOG("load into %s: %d (%s)", self->dst.name, ret,
				 ret > 0 ? state_err_str(ret) : strerror(-ret));
	reattach_us = mig_reattach(_metadata, self, &bind_us);
	int64_t total_us = vt_now_us() - t0;

	vt_note("migration timing: suspend %.1f ms, save %.1f ms (%zu bytes), load %.1f ms, "
		"bind %.1f ms, re-attach %.1f ms, total %.1f ms",
		vt_ms(0, suspend_us), vt_ms(0, save_us), self->blob_len,
		vt_ms(0, (int64_t)load_us), vt_ms(0, bind_us), vt_ms(0, reattach_us),
		vt_ms(0, total_us));

	/* The destination carries on where the source stopped. */
	writes2 = vt_io(_metadata, &self->dblk, 8192, 2u << 20, 2, false);
	ASSERT_LT(0, writes2);
	EXPECT_LT(0, vt_io(_metadata, &self->dblk, 0, 2u << 20, 1, true))
		TH_LOG("data written through the source");
	EXPECT_LT(0, vt_io(_metadata, &self->dblk, 8192, 2u << 20, 2, true))
		TH_LOG("data written through the destination");
	vt_get_id_and_flush(_metadata, &self->dblk, 1);

	dwrites = mig_dest_writes(_metadata, self);
	EXPECT_EQ((uint64_t)(self->writes + writes2), dwrites)
		TH_LOG("destination write counter: %d before, %d after the migration",
		       self->writes, writes2);
	vt_note("write requests: %d on the source, %d on the destination, counted %llu",
		self->writes, writes2, (unsigned long long)dwrites);
}

/*
 * Issue 9, item 5: a source whose disk holds every request 40 s (drain would
 * outlast the kernel's 30 s msg_timeout and break the device) is suspended
 * in capture mode: by the kernel's VDUSE_SUSPEND on 7.3, through the
 * control socket on 6.12. The suspend answers at once, the state carries
 * the captured writes, and the new device completes each exactly once.
 */
TEST_F_TIMEOUT(mig, captured_writes_move_to_the_new_device_and_complete_once, 400)
{
	static const char *const slow[] = { "--io-delay-ms", "40000", "--suspend-mode",
					    "capture", NULL };
	enum { NW = 8, LEN = 4096 };
	struct fe_blk_opts opts = { .num_queues = VT_NQ, .mem_size = VT_MEM_SIZE };
	struct fe_blk_req *req[NW];
	uint8_t want[LEN], got[LEN];
	unsigned int captured = 0;
	int64_t suspend_us, bind_us;
	struct vt_state st;
	bool kernel;
	int ret, fd;

	/* No virtio_vdpa on the slow source: its partition scan would wait 40 s. */
	ASSERT_EQ(0, vt_autoprobe(false));
	self->autoprobe_off = true;
	ret = vt_daemon_start_args(&self->src, self->dir, "vt-cap-a", NULL, slow);
	if (ret)
		vd_dump_log(&self->src.vd);
	ASSERT_EQ(0, ret) TH_LOG("vblkd --vduse vt-cap-a: %s", strerror(-ret));
	ret = vt_daemon_start(&self->dst, self->dir, "vt-cap-b", self->src.vd.image);
	ASSERT_EQ(0, ret) TH_LOG("vblkd --vduse vt-cap-b: %s", strerror(-ret));
	ASSERT_EQ(0, vt_autoprobe(true));
	self->autoprobe_off = false;
	ret = vt_bind_vhost("vt-cap-a", self->src.dev, sizeof(self->src.dev));
	ASSERT_EQ(0, ret) TH_LOG("bind vt-cap-a to vhost_vdpa: %s", strerror(-ret));
	ret = fe_blk_open_vdpa(&self->sblk, self->src.dev, &opts);
	ASSERT_EQ(0, ret) TH_LOG("fe_blk_open_vdpa(%s): %s", self->src.dev, strerror(-ret));
	self->sblk_open = true;

	for (unsigned int i = 0; i < NW; i++) {
		memset(want, 0x40 + i, LEN);
		ASSERT_EQ(0, fe_blk_submit_write(&self->sblk, i % VT_NQ, 4096 + i * 8, want, LEN,
						 &req[i]));
	}
	usleep(300 * 1000); /* taken from the rings, held by the slow disk */

	suspend_us = vt_suspend(_metadata, &self->sblk, &self->src, &kernel);
	vt_note("captured suspend by %s took %.1f ms with %d writes held by a 40 s disk",
		kernel ? "the kernel (VDUSE_SUSPEND)" : "the compat endpoint",
		vt_ms(0, suspend_us), NW);
	EXPECT_GT(1000000, suspend_us) TH_LOG("the suspend waited for the disk");
	for (unsigned int i = 0; i < NW; i++) {
		EXPECT_FALSE(req[i]->done) TH_LOG("write %u completed on the source", i);
	}

	ret = vd_state_save(self->src.ctl, VT_WAIT_MS, &self->blob, &self->blob_len, NULL);
	ASSERT_EQ(0, ret) TH_LOG("save: %d", ret);
	ASSERT_EQ(STATE_OK, vt_parse_state(self->blob, self->blob_len, &st));
	for (unsigned int i = 0; i < st.nqueues; i++)
		captured += st.inflight[i];
	EXPECT_EQ(NW, captured) TH_LOG("requests carried in the state");
	ret = mig_load(self, self->blob, self->blob_len, NULL);
	ASSERT_EQ(0, ret) TH_LOG("load into vt-cap-b: %d", ret);
	mig_reattach(_metadata, self, &bind_us);

	/* The destination has no slow disk: each write completes at once, once. */
	for (unsigned int i = 0; i < NW; i++) {
		ASSERT_EQ(0, fe_blk_wait(&self->dblk, req[i], 10000)) TH_LOG("write %u", i);
		EXPECT_EQ(VIRTIO_BLK_S_OK, req[i]->status) TH_LOG("write %u", i);
		fe_blk_req_free(&self->dblk, req[i]);
	}
	EXPECT_TRUE(vd_log_contains(&self->dst.vd, "resubmitting"));
	fd = open(self->src.vd.image, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	for (unsigned int i = 0; i < NW; i++) {
		memset(want, 0x40 + i, LEN);
		ASSERT_EQ(LEN, pread(fd, got, LEN, (off_t)(4096 + i * 8) * 512));
		EXPECT_EQ(0, memcmp(want, got, LEN)) TH_LOG("write %u on the disk", i);
	}
	close(fd);
	EXPECT_EQ((uint64_t)NW, mig_dest_writes(_metadata, self))
		TH_LOG("the destination counts each captured write once");
}

TEST_F_TIMEOUT(mig, corrupt_states_are_refused_and_the_destination_stays_usable, 400)
{
	static const struct { const char *what; size_t at; } flips[] = {
		{ "magic", 0 },
		{ "a section's payload", 0 },	/* the middle, set below */
		{ "the CRC", 0 },		/* the last byte, set below */
	};
	int64_t suspend_us, save_us, bind_us;
	uint8_t *bad;
	int ret;

	mig_source_up(_metadata, self, "vt-bad-a");
	mig_dest_up(_metadata, self, "vt-bad-b");
	mig_suspend_and_save(_metadata, self, &suspend_us, &save_us);
	bad = malloc(self->blob_len);
	ASSERT_NE(NULL, bad);

	for (size_t k = 0; k < sizeof(flips) / sizeof(flips[0]); k++) {
		size_t at = k == 1 ? self->blob_len / 2 : k == 2 ? self->blob_len - 1 : 0;

		memcpy(bad, self->blob, self->blob_len);
		bad[at] ^= 0x40;
		ret = mig_load(self, bad, self->blob_len, NULL);
		EXPECT_LT(0, ret) TH_LOG("a flipped byte in %s (offset %zu) was not refused: %d",
					 flips[k].what, at, ret);
		vt_note("flipped byte in %s (offset %zu): refused with %d (%s)", flips[k].what,
			at, ret, ret > 0 ? state_err_str(ret) : strerror(-ret));
	}
	for (size_t cut = 1; cut < self->blob_len; cut = cut * 4 + 3) {
		ret = mig_load(self, self->blob, self->blob_len - cut, NULL);
		EXPECT_LT(0, ret) TH_LOG("a state %zu bytes short was not refused: %d", cut, ret);
		vt_note("truncated by %zu bytes: refused with %d (%s)", cut, ret,
			ret > 0 ? state_err_str(ret) : strerror(-ret));
	}
	free(bad);
	ASSERT_TRUE(vd_alive(&self->dst.vd)) TH_LOG("%s died on a corrupt state", self->dst.name);

	/* Nothing of the refused loads stuck: the good state loads and the device serves. */
	ret = mig_load(self, self->blob, self->blob_len, NULL);
	ASSERT_EQ(0, ret) TH_LOG("the good state after the corrupt ones: %d (%s)", ret,
				 ret > 0 ? state_err_str(ret) : strerror(-ret));
	mig_reattach(_metadata, self, &bind_us);
	EXPECT_LT(0, vt_io(_metadata, &self->dblk, 0, 2u << 20, 1, true));
	EXPECT_LT(0, vt_io(_metadata, &self->dblk, 16384, 1u << 20, 7, false));
	EXPECT_LT(0, vt_io(_metadata, &self->dblk, 16384, 1u << 20, 7, true));
}

int main(int argc, char **argv)
{
	pid_t pid;
	int status;

	if (vt_have_vduse())
		return test_harness_run(argc, argv);
	/*
	 * Every test skips, and this harness then exits 0; kselftest's code
	 * for "skipped" is 4, which the suite needs to tell a host run from a
	 * guest run.
	 */
	fflush(NULL);
	pid = fork();
	if (pid == 0)
		return test_harness_run(argc, argv);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return KSFT_FAIL;
	if (!WIFEXITED(status))
		return KSFT_FAIL;
	return WEXITSTATUS(status) == KSFT_PASS ? KSFT_SKIP : WEXITSTATUS(status);
}
