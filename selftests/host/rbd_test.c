// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vblkd on Ceph RBD (--image rbd:POOL/IMAGE:conf=...), against a throwaway
 * single-node cluster this program starts (scripts/ceph-cluster.sh) and
 * stops. Each case runs on an image with Ceph's default features
 * (exclusive-lock on) and on one with layering only: I/O checked from the
 * host with `rbd export`; kill -9 with writes in flight, a restart, nothing
 * lost; a migration between two vblkd on one image; a state for another
 * image refused by the default identity; bad names exit 2 at start.
 */
#include "kselftest_harness.h"

#include <fcntl.h>
#include <signal.h>
#include <time.h>

#include "frontend/fe_state.h"
#include "host_test.h"
#include "netdisk.h"
#include "state/state.h"
#include "vd_state.h"

#define NQ 2
#define NREQ 6
#define REQ_LEN 8192
#define REQ_SECTORS (REQ_LEN / FE_BLK_SECTOR)

static char conf[160];

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct rbd_img {
	char name[64];
	char spec[320];
};

/* A new 16 MiB image with @layering only, or Ceph's default features. */
static int make_image(struct rbd_img *img, const char *tag, bool layering)
{
	static unsigned int n;

	snprintf(img->name, sizeof(img->name), "%s-%d-%u", tag, getpid(), n++);
	snprintf(img->spec, sizeof(img->spec), "rbd:rbd/%s:conf=%s", img->name, conf);
	return nd_sh("timeout 30 rbd -c '%s' create --size 16M %s rbd/%s", conf,
		     layering ? "--image-feature layering" : "", img->name);
}

/* The image's bytes at @off, read from the host through `rbd export`. */
static int export_read(const struct rbd_img *img, const char *dir, uint64_t off, void *buf,
		       size_t len)
{
	char path[128];
	int fd, ret;

	snprintf(path, sizeof(path), "%s/export.raw", dir);
	unlink(path);
	ret = nd_sh("timeout 30 rbd -c '%s' export --no-progress rbd/%s '%s' >/dev/null 2>&1", conf,
		    img->name, path);
	if (ret)
		return -EIO;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = pread(fd, buf, len, (off_t)off) == (ssize_t)len ? 0 : -EIO;
	close(fd);
	unlink(path);
	return ret;
}

FIXTURE(rbd) {
	struct rbd_img img;
	struct vd_proc vd;
	struct fe_blk blk;
	struct fe_blk_req *req[NREQ];
	bool up;
};

FIXTURE_VARIANT(rbd) {
	bool layering;
};

FIXTURE_VARIANT_ADD(rbd, exclusive_lock) { .layering = false };
FIXTURE_VARIANT_ADD(rbd, layering) { .layering = true };

/* vblkd on the fixture's image with @more arguments after --image. */
static void rbd_up(struct __test_metadata *_metadata, FIXTURE_DATA(rbd) * self,
		   const char *const *more, bool inflight)
{
	const char *extra[12] = { "--num-queues", "2", "--image", self->img.spec };
	struct fe_blk_opts opts = { .num_queues = NQ, .inflight = inflight };
	unsigned int n = 4;

	for (; more && *more && n < 11; more++)
		extra[n++] = *more;
	HOST_UP(&self->vd, &self->blk, extra, &opts);
	self->up = true;
}

FIXTURE_SETUP(rbd)
{
	if (!conf[0])
		SKIP(return, "no Ceph cluster (ceph-mon, ceph-osd, rbd and $VBLKD_SRC needed)");
	if (!vd_binary())
		SKIP(return, "VBLKD is not set");
	ASSERT_EQ(0, make_image(&self->img, variant->layering ? "lay" : "excl", variant->layering));
}

FIXTURE_TEARDOWN(rbd)
{
	for (unsigned int i = 0; i < NREQ; i++)
		fe_blk_req_free(&self->blk, self->req[i]);
	if (self->up)
		host_down(_metadata, &self->vd, &self->blk);
	if (self->img.name[0])
		nd_sh("timeout 60 rbd -c '%s' rm --no-progress rbd/%s >/dev/null 2>&1", conf,
		      self->img.name);
}

TEST_F(rbd, io_reads_back_and_rbd_export_sees_it)
{
	uint8_t want[REQ_LEN], got[REQ_LEN];
	struct fe_blk_req *req;

	rbd_up(_metadata, self, NULL, false);
	EXPECT_EQ(HOST_SECTORS, le64toh(self->blk.config.capacity));
	for (unsigned int i = 0; i < NREQ; i++) {
		host_pattern(want, REQ_LEN, 40 + i);
		ASSERT_EQ(0, fe_blk_submit_write(&self->blk, i % NQ, i * 64, want, REQ_LEN,
						 &self->req[i]));
	}
	for (unsigned int i = 0; i < NREQ; i++) {
		ASSERT_EQ(0, fe_blk_wait(&self->blk, self->req[i], HOST_IO_TIMEOUT_MS));
		EXPECT_EQ(VIRTIO_BLK_S_OK, self->req[i]->status);
	}
	ASSERT_EQ(0, fe_blk_submit_flush(&self->blk, 0, &req));
	ASSERT_EQ(0, fe_blk_wait(&self->blk, req, HOST_IO_TIMEOUT_MS));
	EXPECT_EQ(VIRTIO_BLK_S_OK, req->status);
	fe_blk_req_free(&self->blk, req);
	/* Zeroes over part of block 0; a discard of block 1 must succeed. */
	ASSERT_EQ(0, fe_blk_submit_write_zeroes(&self->blk, 1, 0, 8, false, &req));
	ASSERT_EQ(0, fe_blk_wait(&self->blk, req, HOST_IO_TIMEOUT_MS));
	EXPECT_EQ(VIRTIO_BLK_S_OK, req->status);
	fe_blk_req_free(&self->blk, req);
	ASSERT_EQ(0, fe_blk_submit_discard(&self->blk, 1, 64, 16, &req));
	ASSERT_EQ(0, fe_blk_wait(&self->blk, req, HOST_IO_TIMEOUT_MS));
	EXPECT_EQ(VIRTIO_BLK_S_OK, req->status);
	fe_blk_req_free(&self->blk, req);
	ASSERT_EQ(VIRTIO_BLK_S_OK, fe_blk_read(&self->blk, 0, 0, got, 4096));
	EXPECT_TRUE(host_all_bytes(got, 4096, 0));

	/* The host's view, through librbd in another process. */
	for (unsigned int i = 2; i < NREQ; i++) {
		host_pattern(want, REQ_LEN, 40 + i);
		ASSERT_EQ(0, export_read(&self->img, self->vd.dir, i * 64 * 512, got, REQ_LEN));
		EXPECT_EQ(0, memcmp(want, got, REQ_LEN)) TH_LOG("block %u", i);
	}
	ASSERT_EQ(0, export_read(&self->img, self->vd.dir, 0, got, 4096));
	EXPECT_TRUE(host_all_bytes(got, 4096, 0));
}

/*
 * kill -9 with writes in flight, a restart with @more: the resubmitted
 * writes and the ones before the kill all read back. Return: the seconds
 * from the restart until every write completed (the lock stall).
 */
static double kill_and_restart(struct __test_metadata *_metadata, FIXTURE_DATA(rbd) * self,
			       const char *const *more, int wait_ms)
{
	static const char *const slow[] = { "--io-delay-ms", "400", NULL };
	uint8_t buf[REQ_LEN], got[REQ_LEN];
	double t0, t1;
	int status, ret;

	const char *again[12] = { "--num-queues", "2", "--image", self->img.spec };

	for (unsigned int n = 4; more && *more && n < 11; more++)
		again[n++] = *more;
	rbd_up(_metadata, self, slow, true);
	host_pattern(buf, REQ_LEN, 1000);
	/* One write that completes: this vblkd holds the lock when killed. */
	ASSERT_EQ(VIRTIO_BLK_S_OK, fe_blk_write(&self->blk, 0, 2048, buf, REQ_LEN));
	for (unsigned int i = 0; i < NREQ; i++) {
		host_pattern(buf, REQ_LEN, i + 1);
		ASSERT_EQ(0, fe_blk_submit_write(&self->blk, i % NQ, i * 2 * REQ_SECTORS, buf,
						 REQ_LEN, &self->req[i]));
	}
	usleep(100 * 1000); /* popped, held by --io-delay-ms */
	ASSERT_EQ(0, vd_kill(&self->vd, &status));
	t0 = now_s();
	ASSERT_EQ(0, vd_restart(&self->vd, again));
	ret = fe_blk_reconnect(&self->blk, self->vd.sock);
	ASSERT_EQ(0, ret) TH_LOG("fe_blk_reconnect: %s", strerror(-ret));
	for (unsigned int i = 0; i < NREQ; i++) {
		ASSERT_EQ(0, fe_blk_wait(&self->blk, self->req[i], wait_ms))
		TH_LOG("write %u never completed after the restart", i);
		EXPECT_EQ(VIRTIO_BLK_S_OK, self->req[i]->status);
	}
	t1 = now_s();
	for (unsigned int i = 0; i < NREQ; i++) {
		host_pattern(buf, REQ_LEN, i + 1);
		ASSERT_EQ(VIRTIO_BLK_S_OK,
			  fe_blk_read(&self->blk, 1, i * 2 * REQ_SECTORS, got, REQ_LEN));
		EXPECT_EQ(0, memcmp(buf, got, REQ_LEN)) TH_LOG("in-flight write %u lost", i);
	}
	host_pattern(buf, REQ_LEN, 1000);
	ASSERT_EQ(VIRTIO_BLK_S_OK, fe_blk_read(&self->blk, 0, 2048, got, REQ_LEN));
	EXPECT_EQ(0, memcmp(buf, got, REQ_LEN)) TH_LOG("completed write lost");
	return t1 - t0;
}

TEST_F(rbd, kill_9_with_writes_in_flight_then_restart_loses_nothing)
{
	static const char *const break_lock[] = { "--rbd-break-lock", NULL };
	double stall;

	/* Without exclusive-lock nothing waits; with it, the stale lock is broken. */
	stall = kill_and_restart(_metadata, self, variant->layering ? NULL : break_lock,
				 HOST_IO_TIMEOUT_MS);
	TH_LOG("%s: restart to all writes done: %.2f s",
	       variant->layering ? "layering" : "exclusive-lock, --rbd-break-lock", stall);
	if (!variant->layering)
		EXPECT_TRUE(vd_log_contains(&self->vd, "broke the lock"));
}

/* ~30 s: run with RBD_STALL=1 to measure what --rbd-break-lock saves. */
TEST_F_TIMEOUT(rbd, kill_9_stall_without_breaking_the_lock, 180)
{
	double stall;

	if (!getenv("RBD_STALL"))
		SKIP(return, "RBD_STALL is not set: a ~30 s measurement");
	stall = kill_and_restart(_metadata, self, NULL, 120 * 1000);
	TH_LOG("%s, no --rbd-break-lock: restart to all writes done: %.2f s",
	       variant->layering ? "layering" : "exclusive-lock", stall);
	if (!variant->layering)
		EXPECT_LT(10.0, stall) TH_LOG("exclusive-lock did not stall: measure again");
}

TEST_F(rbd, migration_between_two_vblkd_on_one_image_keeps_every_write)
{
	const char *extra[] = { "--num-queues", "2", "--image", self->img.spec, NULL };
	uint8_t buf[REQ_LEN], got[REQ_LEN];
	struct fe_migrate_times t;
	struct vd_proc dst;
	struct fe_blk dblk;
	double t0;
	int ret;

	rbd_up(_metadata, self, NULL, false);
	ASSERT_EQ(0, vd_start(&dst, 4096, extra));
	ret = fe_blk_open_peer(&dblk, dst.sock, &self->blk);
	ASSERT_EQ(0, ret) TH_LOG("fe_blk_open_peer: %s", strerror(-ret));
	for (unsigned int i = 0; i < NREQ; i++) {
		host_pattern(buf, REQ_LEN, 500 + i);
		ASSERT_EQ(0, fe_blk_submit_write(&self->blk, i % NQ, i * 2 * REQ_SECTORS, buf,
						 REQ_LEN, &self->req[i]));
	}
	ret = fe_blk_migrate(&self->blk, &dblk, &t);
	ASSERT_EQ(0, ret) TH_LOG("fe_blk_migrate: %s", strerror(-ret));
	TH_LOG("migration over RBD (%s): %llu state bytes, downtime %llu us",
	       variant->layering ? "layering" : "exclusive-lock", (unsigned long long)t.bytes,
	       (unsigned long long)t.total_us);
	for (unsigned int i = 0; i < NREQ; i++) {
		ASSERT_EQ(0, fe_blk_wait(&dblk, self->req[i], HOST_IO_TIMEOUT_MS));
		EXPECT_EQ(VIRTIO_BLK_S_OK, self->req[i]->status);
		/* Freed with the destination, which now shares the guest memory. */
		fe_blk_req_free(&dblk, self->req[i]);
		self->req[i] = NULL;
	}
	/* The destination writes: with exclusive-lock it takes the lock over. */
	t0 = now_s();
	host_pattern(buf, REQ_LEN, 600);
	ASSERT_EQ(VIRTIO_BLK_S_OK, fe_blk_write(&dblk, 1, 4096, buf, REQ_LEN));
	TH_LOG("first destination write: %.1f ms", (now_s() - t0) * 1e3);
	ASSERT_EQ(VIRTIO_BLK_S_OK, fe_blk_read(&dblk, 0, 4096, got, REQ_LEN));
	EXPECT_EQ(0, memcmp(buf, got, REQ_LEN));
	for (unsigned int i = 0; i < NREQ; i++) {
		host_pattern(buf, REQ_LEN, 500 + i);
		ASSERT_EQ(VIRTIO_BLK_S_OK,
			  fe_blk_read(&dblk, 0, i * 2 * REQ_SECTORS, got, REQ_LEN));
		EXPECT_EQ(0, memcmp(buf, got, REQ_LEN)) TH_LOG("write %u", i);
	}
	fe_blk_close(&dblk);
	host_down(_metadata, &dst, NULL);
	vd_cleanup(&dst);
}

TEST_F(rbd, state_of_another_image_is_refused_by_the_default_identity)
{
	char dir[64] = "/tmp/vblkd-rbdctl-XXXXXX", ctl[2][VD_PATH_MAX];
	const char *a[] = { "--num-queues",	"2",	"--image", self->img.spec,
			    "--control-socket", ctl[0], NULL };
	struct fe_blk_opts opts = { .num_queues = NQ };
	struct vd_proc src, dst;
	struct rbd_img other;
	struct fe_blk blk;
	uint8_t *blob = NULL;
	size_t len;

	ASSERT_EQ(0, make_image(&other, "other", variant->layering));
	ASSERT_NE(NULL, mkdtemp(dir));
	snprintf(ctl[0], sizeof(ctl[0]), "%s/src.ctl", dir);
	snprintf(ctl[1], sizeof(ctl[1]), "%s/dst.ctl", dir);
	ASSERT_EQ(0, vd_start(&src, 4096, a));
	a[3] = other.spec;
	a[5] = ctl[1];
	ASSERT_EQ(0, vd_start(&dst, 4096, a));
	ASSERT_EQ(0, fe_blk_open(&blk, src.sock, &opts));
	ASSERT_EQ(VIRTIO_BLK_S_OK, fe_blk_write(&blk, 0, 0, (uint8_t[4096]){ 1 }, 4096));
	ASSERT_EQ(0, fe_blk_suspend(&blk));
	ASSERT_EQ(0, vd_state_save(ctl[0], 0, &blob, &len, NULL));
	for (int i = 0; i < 100 && access(ctl[1], F_OK); i++)
		usleep(50 * 1000); /* the destination connects to the cluster first */
	EXPECT_EQ(STATE_E_IDENTITY, vd_state_load(ctl[1], 0, blob, len, NULL));
	EXPECT_TRUE(vd_log_contains(&dst, "is not this disk's 'rbd:rbd/other-"));
	free(blob);
	fe_blk_close(&blk);
	host_down(_metadata, &dst, NULL);
	host_down(_metadata, &src, NULL);
	vd_cleanup(&dst);
	vd_cleanup(&src);
	unlink(ctl[0]);
	unlink(ctl[1]);
	rmdir(dir);
	nd_sh("timeout 60 rbd -c '%s' rm --no-progress rbd/%s >/dev/null 2>&1", conf, other.name);
}

/* One clear error line and exit status 2, at start. */
static void expect_refused(struct __test_metadata *_metadata, const char *image, const char *needle)
{
	char out[2048];

	EXPECT_EQ(0, nd_refused_at_start(image, needle, 20000, out, sizeof(out)))
		TH_LOG("%s: wanted exit 2 and one line with '%s': %s", image, needle, out);
}

TEST(bad_rbd_names_exit_2)
{
	char spec[512], dead[256];
	FILE *f;

	if (!conf[0])
		SKIP(return, "no Ceph cluster");
	if (!vd_binary())
		SKIP(return, "VBLKD is not set");
	expect_refused(_metadata, "rbd:nopool", "expected rbd:POOL/IMAGE");
	expect_refused(_metadata, "rbd:rbd/x:bogus=1", "expected rbd:POOL/IMAGE");
	snprintf(spec, sizeof(spec), "rbd:nosuchpool/x:conf=%s", conf);
	expect_refused(_metadata, spec, "pool nosuchpool");
	snprintf(spec, sizeof(spec), "rbd:rbd/nosuchimage:conf=%s", conf);
	expect_refused(_metadata, spec, "cannot open rbd/nosuchimage");
	expect_refused(_metadata, "rbd:rbd/x:conf=/nonexistent/ceph.conf",
		       "cannot read Ceph configuration /nonexistent/ceph.conf");
	/* A monitor address nobody listens on: refused, given up after 2 s. */
	snprintf(dead, sizeof(dead), "/tmp/vblkd-dead-%d.conf", getpid());
	f = fopen(dead, "w");
	ASSERT_NE(NULL, f);
	fprintf(f, "[global]\nmon host = [v2:127.0.0.1:1]\nauth client required = none\n"
		   "client mount timeout = 2\n");
	fclose(f);
	snprintf(spec, sizeof(spec), "rbd:rbd/x:conf=%s", dead);
	expect_refused(_metadata, spec, "cannot connect to the Ceph cluster");
	unlink(dead);
}

int main(int argc, char **argv)
{
	char dir[128];
	double secs;
	int ret;

	ret = nd_ceph_start(dir, sizeof(dir), &secs);
	if (!ret) {
		snprintf(conf, sizeof(conf), "%s/ceph.conf", dir);
		fprintf(stderr, "# Ceph cluster in %s started in %.2f s\n", dir, secs);
	} else {
		fprintf(stderr, "# no Ceph cluster: %s\n", strerror(-ret));
	}
	ret = test_harness_run(argc, argv);
	if (conf[0])
		nd_ceph_stop(dir);
	return ret;
}
