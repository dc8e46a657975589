// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Back-end state transfer (SET_DEVICE_STATE_FD / CHECK_DEVICE_STATE) between
 * real vblkd processes: a migration under I/O from one daemon to another on
 * the same image and the same guest memory, every way a state blob can be
 * damaged or refused, front-ends that give up mid-transfer, and the QEMU
 * stream framing. Every daemon serves --control-socket; loads go through it
 * the way vblkctl does.
 */
#include "kselftest_harness.h"

#include <signal.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <time.h>

#include "fe_state.h"
#include "host_test.h"
#include "state.h"
#include "state_util.h"

#define CHUNK (1u << 20)

/* Migration between two daemons on one image, one guest. */

FIXTURE(mig) {
	char dir[64];
	struct daemon src, dst;
	struct fe_blk sblk, dblk;
	bool sblk_open, dblk_open;
	int test_fds;
};

FIXTURE_SETUP(mig)
{
	struct fe_blk_opts opts = { .num_queues = NQ };
	int ret;

	if (!vd_binary())
		SKIP(return, "VBLKD is not set: no daemon to test");
	self->test_fds = vd_count_fds(getpid());
	ASSERT_EQ(0, make_ctl_dir(self->dir, sizeof(self->dir)));
	ASSERT_EQ(0, daemon_start(&self->src, self->dir, "src", HOST_IMAGE_SIZE, IMAGE_ID, NULL));
	ASSERT_EQ(0, daemon_start(&self->dst, self->dir, "dst", HOST_IMAGE_SIZE, IMAGE_ID,
				  self->src.vd.image));
	ret = fe_blk_open(&self->sblk, self->src.vd.sock, &opts);
	ASSERT_EQ(0, ret) TH_LOG("fe_blk_open(src): %s", strerror(-ret));
	self->sblk_open = true;
	ret = fe_blk_open_peer(&self->dblk, self->dst.vd.sock, &self->sblk);
	ASSERT_EQ(0, ret) TH_LOG("fe_blk_open_peer(dst): %s", strerror(-ret));
	self->dblk_open = true;
}

FIXTURE_TEARDOWN(mig)
{
	if (self->dblk_open)
		fe_blk_close(&self->dblk);
	if (self->sblk_open)
		fe_blk_close(&self->sblk);
	daemon_down(_metadata, &self->dst);
	daemon_down(_metadata, &self->src);
	if (self->dir[0])
		rmdir(self->dir);
	if (self->test_fds > 0)
		EXPECT_EQ(self->test_fds, vd_count_fds(getpid())) TH_LOG("fds of the test leaked");
}

static void log_times(struct __test_metadata *_metadata, const struct fe_migrate_times *t)
{
	TH_LOG("%llu state bytes; suspend %llu us, save %llu us, transfer %llu us, load %llu us, "
	       "resume %llu us, downtime %llu us", (unsigned long long)t->bytes,
	       (unsigned long long)t->suspend_us, (unsigned long long)t->save_us,
	       (unsigned long long)t->transfer_us, (unsigned long long)t->load_us,
	       (unsigned long long)t->resume_us, (unsigned long long)t->total_us);
}

TEST_F(mig, round_trip_under_io_moves_the_rings_and_keeps_every_write)
{
	enum { NREQ = 24, LEN = 8192 };
	struct fe_blk_req *req[NREQ];
	struct fe_migrate_times t;
	uint8_t buf[LEN];
	int ret;

	write_blocks(_metadata, &self->sblk, 0, 8, 1);
	/* Writes still in flight when the source is suspended. */
	for (unsigned int i = 0; i < NREQ; i++) {
		host_pattern(buf, LEN, 100 + i);
		ASSERT_EQ(0, fe_blk_submit_write(&self->sblk, i % NQ, 64 + i * (LEN / 512), buf,
						 LEN, &req[i]));
	}
	ret = fe_blk_migrate(&self->sblk, &self->dblk, &t);
	ASSERT_EQ(0, ret) TH_LOG("fe_blk_migrate: %s (save check %llu, load set %u check %llu)",
				 strerror(-ret), (unsigned long long)t.save.check,
				 t.load.set_err, (unsigned long long)t.load.check);
	log_times(_metadata, &t);
	EXPECT_LT(0, t.bytes);

	for (unsigned int i = 0; i < NREQ; i++) {
		ASSERT_EQ(0, fe_blk_wait(&self->dblk, req[i], HOST_IO_TIMEOUT_MS))
			TH_LOG("write %u never completed after the migration", i);
		EXPECT_EQ(VIRTIO_BLK_S_OK, req[i]->status);
		fe_blk_req_free(&self->dblk, req[i]);
	}
	/* The destination carries on: new writes, then everything reads back. */
	write_blocks(_metadata, &self->dblk, 512, 8, 200);
	expect_blocks(_metadata, &self->dblk, 0, 8, 1);
	expect_blocks(_metadata, &self->dblk, 512, 8, 200);
	for (unsigned int i = 0; i < NREQ; i++) {
		uint8_t got[LEN];

		host_pattern(buf, LEN, 100 + i);
		ASSERT_EQ(VIRTIO_BLK_S_OK, fe_blk_read(&self->dblk, 0, 64 + i * (LEN / 512), got,
						       LEN));
		EXPECT_EQ(0, memcmp(buf, got, LEN)) TH_LOG("in-flight write %u", i);
	}
}

TEST_F(mig, requests_queued_while_suspended_are_served_by_the_destination)
{
	enum { NREQ = 6 };
	struct fe_blk_req *req[NREQ];
	uint8_t buf[4096];
	uint8_t *blob;
	size_t len;

	write_blocks(_metadata, &self->sblk, 0, 4, 7);
	ASSERT_EQ(0, fe_blk_suspend(&self->sblk));
	/* The guest keeps adding requests while the source is stopped. */
	for (unsigned int i = 0; i < NREQ; i++) {
		host_pattern(buf, sizeof(buf), 300 + i);
		ASSERT_EQ(0, fe_blk_submit_write(&self->sblk, i % NQ, 1024 + i * 8, buf,
						 sizeof(buf), &req[i]));
	}
	usleep(HOST_QUIET_MS * 1000);
	for (unsigned int i = 0; i < NREQ; i++) {
		EXPECT_FALSE(req[i]->done || fe_blk_reap(&self->sblk, i % NQ, 0) > 0)
			TH_LOG("the suspended source served write %u", i);
	}
	ASSERT_EQ(0, fe_state_save_buf(&self->sblk.vu, &blob, &len, NULL));
	ASSERT_EQ(0, fe_state_load_buf(&self->dblk.vu, blob, len, NULL));
	free(blob);
	fe_blk_adopt(&self->dblk, &self->sblk);
	ASSERT_EQ(0, fe_blk_resume(&self->dblk));
	/* No new kick: a started ring with avail entries must be served. */
	for (unsigned int i = 0; i < NREQ; i++) {
		ASSERT_EQ(0, fe_blk_wait(&self->dblk, req[i], HOST_IO_TIMEOUT_MS))
			TH_LOG("write %u, queued while suspended, never completed", i);
		EXPECT_EQ(VIRTIO_BLK_S_OK, req[i]->status);
		fe_blk_req_free(&self->dblk, req[i]);
	}
	expect_blocks(_metadata, &self->dblk, 0, 4, 7);
}

TEST_F(mig, state_saved_from_the_destination_right_after_load_is_byte_identical)
{
	uint8_t *a = NULL, *b = NULL;
	size_t alen, blen;
	int ret;

	write_blocks(_metadata, &self->sblk, 0, 16, 9);
	ASSERT_EQ(0, fe_blk_suspend(&self->sblk));
	ret = fe_state_save_buf(&self->sblk.vu, &a, &alen, NULL);
	ASSERT_EQ(0, ret) TH_LOG("save: %s", strerror(-ret));
	ret = fe_state_load_buf(&self->dblk.vu, a, alen, NULL);
	ASSERT_EQ(0, ret) TH_LOG("load: %s", strerror(-ret));
	/* Through the destination's control socket this time. */
	ret = save_from(self->dst.ctl, &b, &blen);
	ASSERT_EQ(0, ret) TH_LOG("save from the destination: %d", ret);
	EXPECT_EQ(alen, blen);
	if (alen == blen)
		EXPECT_EQ(0, memcmp(a, b, alen)) TH_LOG("the states differ");
	free(a);
	free(b);
	fe_blk_adopt(&self->dblk, &self->sblk);
	ASSERT_EQ(0, fe_blk_resume(&self->dblk));
	expect_blocks(_metadata, &self->dblk, 0, 16, 9);
}

TEST_F(mig, save_through_the_control_socket_while_a_ring_runs_is_refused)
{
	uint8_t *blob = NULL;
	size_t len;
	int fds = count_fds(self->src.vd.pid, -1);

	EXPECT_EQ(STATE_E_BUSY, save_from(self->src.ctl, &blob, &len));
	free(blob);
	EXPECT_EQ(STATE_E_BUSY, load_into(self->src.ctl, "VBLKSTAT", 8));
	/* The running device is unharmed. */
	write_blocks(_metadata, &self->sblk, 0, 4, 11);
	expect_blocks(_metadata, &self->sblk, 0, 4, 11);
	EXPECT_EQ(fds, count_fds(self->src.vd.pid, fds));
}

TEST_F(mig, refused_migration_leaves_the_source_able_to_resume)
{
	struct fe_migrate_times t;
	struct daemon other = { 0 };
	struct fe_blk oblk;
	int ret;

	write_blocks(_metadata, &self->sblk, 0, 4, 13);
	/* A destination of another capacity. */
	ASSERT_EQ(0, daemon_start(&other, self->dir, "big", 2 * HOST_IMAGE_SIZE, IMAGE_ID, NULL));
	ret = fe_blk_open_peer(&oblk, other.vd.sock, &self->sblk);
	ASSERT_EQ(0, ret) TH_LOG("open_peer: %s", strerror(-ret));
	ret = fe_blk_migrate(&self->sblk, &oblk, &t);
	EXPECT_EQ(-EREMOTEIO, ret);
	EXPECT_EQ(STATE_E_CAPACITY, t.load.set_err ? t.load.set_err : t.load.check);
	fe_blk_close(&oblk);
	EXPECT_TRUE(vd_alive(&other.vd));
	daemon_down(_metadata, &other);

	ASSERT_EQ(0, fe_blk_resume(&self->sblk));
	write_blocks(_metadata, &self->sblk, 64, 4, 17);
	expect_blocks(_metadata, &self->sblk, 0, 4, 13);
	expect_blocks(_metadata, &self->sblk, 64, 4, 17);
}

/* Damaged and foreign state, into a fresh destination. */

FIXTURE(bad) {
	char dir[64];
	struct daemon src, dst;
	struct fe_blk sblk;
	bool sblk_open;
	uint8_t *good;		/* saved from the suspended source */
	size_t len;
	uint8_t *fresh;		/* saved from the destination as it is now */
	size_t fresh_len;
	int dst_fds, test_fds;
};

FIXTURE_SETUP(bad)
{
	struct fe_blk_opts opts = { .num_queues = NQ, .mem_size = 1 << 20 };
	int ret;

	if (!vd_binary())
		SKIP(return, "VBLKD is not set: no daemon to test");
	self->test_fds = vd_count_fds(getpid());
	ASSERT_EQ(0, make_ctl_dir(self->dir, sizeof(self->dir)));
	ASSERT_EQ(0, daemon_start(&self->src, self->dir, "src", HOST_IMAGE_SIZE, IMAGE_ID, NULL));
	ASSERT_EQ(0, daemon_start(&self->dst, self->dir, "dst", HOST_IMAGE_SIZE, IMAGE_ID, NULL));
	ret = fe_blk_open(&self->sblk, self->src.vd.sock, &opts);
	ASSERT_EQ(0, ret) TH_LOG("fe_blk_open(src): %s", strerror(-ret));
	self->sblk_open = true;
	write_blocks(_metadata, &self->sblk, 0, 4, 21);
	ASSERT_EQ(0, fe_blk_suspend(&self->sblk));
	ret = save_from(self->src.ctl, &self->good, &self->len);
	ASSERT_EQ(0, ret) TH_LOG("save: %d", ret);
	ASSERT_LE(STATE_HEADER_SIZE + STATE_SECTION_HDR_SIZE + STATE_TRAILER_PAYLOAD, self->len);
	ASSERT_EQ(0, memcmp(self->good, STATE_MAGIC, 8));
	ret = save_from(self->dst.ctl, &self->fresh, &self->fresh_len);
	ASSERT_EQ(0, ret) TH_LOG("save from the fresh destination: %d", ret);
	self->dst_fds = count_fds(self->dst.vd.pid, -1);
	ASSERT_LT(0, self->dst_fds);
}

FIXTURE_TEARDOWN(bad)
{
	free(self->good);
	free(self->fresh);
	if (self->sblk_open)
		fe_blk_close(&self->sblk);
	daemon_down(_metadata, &self->dst);
	daemon_down(_metadata, &self->src);
	if (self->dir[0])
		rmdir(self->dir);
	if (self->test_fds > 0)
		EXPECT_EQ(self->test_fds, vd_count_fds(getpid())) TH_LOG("fds of the test leaked");
}


static unsigned int test_seed(void)
{
	const char *env = getenv("STATE_TEST_SEED");

	return env ? (unsigned int)strtoul(env, NULL, 0) : (unsigned int)time(NULL);
}

/*
 * After a refused load the destination is as it was: it saves the same
 * state as before; every @attach_every cases a front-end attaches and does
 * I/O, and the reference state is taken again.
 */
static void expect_fresh(struct __test_metadata *_metadata, FIXTURE_DATA(bad) *self,
			 unsigned int n, unsigned int attach_every)
{
	uint8_t *now = NULL;
	size_t len;
	int ret;

	ret = save_from(self->dst.ctl, &now, &len);
	EXPECT_EQ(0, ret) TH_LOG("case %u: save from the destination: %d", n, ret);
	if (!ret) {
		EXPECT_TRUE(len == self->fresh_len && !memcmp(now, self->fresh, len))
			TH_LOG("case %u: the refused load changed the destination's state", n);
	}
	free(now);
	if (attach_every && n % attach_every == 0) {
		attach_and_do_io(_metadata, &self->dst, n);
		free(self->fresh);
		self->fresh = NULL;
		ret = save_from(self->dst.ctl, &self->fresh, &self->fresh_len);
		EXPECT_EQ(0, ret) TH_LOG("case %u: save after the front-end left: %d", n, ret);
	}
}

/*
 * Both daemons alive, no fd left behind in the destination, the good state
 * still loads, and the source resumes and does I/O.
 */
static void expect_all_fine(struct __test_metadata *_metadata, FIXTURE_DATA(bad) *self)
{
	int ret;

	EXPECT_TRUE(vd_alive(&self->src.vd));
	EXPECT_TRUE(vd_alive(&self->dst.vd));
	EXPECT_EQ(self->dst_fds, count_fds(self->dst.vd.pid, self->dst_fds))
		TH_LOG("fds of the destination daemon leaked");
	EXPECT_EQ(0, load_into(self->dst.ctl, self->good, self->len));
	ret = fe_blk_resume(&self->sblk);
	ASSERT_EQ(0, ret) TH_LOG("source resume: %s", strerror(-ret));
	write_blocks(_metadata, &self->sblk, 128, 4, 23);
	expect_blocks(_metadata, &self->sblk, 0, 4, 21);
	expect_blocks(_metadata, &self->sblk, 128, 4, 23);
}

/* Where @p can be cut: each section's start and the end of its header, inside the trailer. */
static unsigned int cut_points(const uint8_t *p, size_t len, size_t *cuts, unsigned int max)
{
	size_t off = STATE_HEADER_SIZE;
	unsigned int n = 0;

	cuts[n++] = 4;
	cuts[n++] = 8;	/* magic only */
	while (off + STATE_SECTION_HDR_SIZE <= len && n + 4 <= max) {
		cuts[n++] = off;
		cuts[n++] = off + STATE_SECTION_HDR_SIZE;
		if (state_get_le16(p + off) == STATE_TRAILER_TYPE) {
			cuts[n++] = off + STATE_SECTION_HDR_SIZE + 8;
			cuts[n++] = len - 1;
			break;
		}
		off += STATE_SECTION_HDR_SIZE + state_get_le32(p + off + 4);
	}
	return n;
}

TEST_F(bad, empty_state_is_refused_as_truncated)
{
	EXPECT_EQ(STATE_E_TRUNCATED, load_into(self->dst.ctl, "", 0));
	expect_fresh(_metadata, self, 0, 1);
	expect_all_fine(_metadata, self);
}

TEST_F(bad, state_cut_at_every_section_boundary_or_twenty_random_points_is_refused)
{
	unsigned int seed = test_seed(), n;
	size_t cuts[64];

	TH_LOG("STATE_TEST_SEED=%u", seed);
	srand(seed);
	n = cut_points(self->good, self->len, cuts, 44);
	ASSERT_LE(8, n) TH_LOG("no sections found in a %zu-byte state", self->len);
	for (unsigned int i = 0; i < 20; i++)
		cuts[n++] = 1 + (size_t)rand() % (self->len - 1);
	for (unsigned int i = 0; i < n; i++) {
		ASSERT_GT(self->len, cuts[i]);
		EXPECT_EQ(STATE_E_TRUNCATED, load_into(self->dst.ctl, self->good, cuts[i]))
			TH_LOG("cut at %zu of %zu bytes", cuts[i], self->len);
		expect_fresh(_metadata, self, i + 1, 8);
	}
	expect_all_fine(_metadata, self);
}

TEST_F(bad, hundred_single_bit_flips_are_each_refused)
{
	unsigned int seed = test_seed();
	uint8_t *p = malloc(self->len);
	int code;

	ASSERT_NE(NULL, p);
	TH_LOG("STATE_TEST_SEED=%u", seed);
	srand(seed);
	for (unsigned int i = 0; i < 100; i++) {
		size_t pos = (size_t)rand() % self->len;
		unsigned int bit = (unsigned int)rand() % 8;

		memcpy(p, self->good, self->len);
		p[pos] ^= (uint8_t)(1u << bit);
		code = load_into(self->dst.ctl, p, self->len);
		EXPECT_LT(0, code) TH_LOG("bit %u of byte %zu flipped: %d", bit, pos, code);
		expect_fresh(_metadata, self, i + 1, 10);
	}
	free(p);
	expect_all_fine(_metadata, self);
}

TEST_F(bad, garbage_after_the_trailer_or_a_foreign_header_is_refused_with_its_code)
{
	size_t len = self->len;
	uint8_t *p = malloc(len + 16);

	ASSERT_NE(NULL, p);
	memcpy(p, self->good, len);
	memcpy(p + len, "trailing garbage", 16);
	EXPECT_EQ(STATE_E_TRAILING, load_into(self->dst.ctl, p, len + 16));
	expect_fresh(_metadata, self, 1, 1);
	EXPECT_EQ(STATE_E_TRAILING, load_into(self->dst.ctl, p, len + 1));
	expect_fresh(_metadata, self, 2, 0);

	memcpy(p, self->good, len);
	p[0] = 'X';
	EXPECT_EQ(STATE_E_MAGIC, load_into(self->dst.ctl, p, len));
	expect_fresh(_metadata, self, 3, 0);

	/* Header: magic, le32 format version, le32 device type (docs/state-format.md). */
	memcpy(p, self->good, len);
	state_put_le32(p + 8, STATE_FORMAT_VERSION + 1);
	EXPECT_EQ(STATE_E_VERSION, load_into(self->dst.ctl, p, len));
	expect_fresh(_metadata, self, 4, 0);

	memcpy(p, self->good, len);
	state_put_le32(p + 12, 1);	/* a network device */
	EXPECT_EQ(STATE_E_DEVICE, load_into(self->dst.ctl, p, len));
	expect_fresh(_metadata, self, 5, 1);
	free(p);
	expect_all_fine(_metadata, self);
}

TEST_F(bad, destination_of_another_capacity_or_image_id_refuses_and_stays_usable)
{
	struct daemon big = { 0 }, other = { 0 };

	ASSERT_EQ(0, daemon_start(&big, self->dir, "big", 2 * HOST_IMAGE_SIZE, IMAGE_ID, NULL));
	ASSERT_EQ(0, daemon_start(&other, self->dir, "other", HOST_IMAGE_SIZE, OTHER_ID, NULL));
	EXPECT_EQ(STATE_E_CAPACITY, load_into(big.ctl, self->good, self->len));
	EXPECT_EQ(STATE_E_IDENTITY, load_into(other.ctl, self->good, self->len));
	attach_and_do_io(_metadata, &big, 1);
	attach_and_do_io(_metadata, &other, 2);
	EXPECT_TRUE(vd_alive(&big.vd));
	EXPECT_TRUE(vd_alive(&other.vd));
	daemon_down(_metadata, &other);
	daemon_down(_metadata, &big);
	expect_all_fine(_metadata, self);
}

/* SET_DEVICE_STATE_FD by hand on a new connection; *@mine is this side's pipe end. */
static int raw_set(struct fe_vu *vu, const char *sock, uint32_t dir, uint32_t phase,
		   bool close_mine_first, int *mine, uint32_t *err)
{
	int p[2], theirs, backend_fd, ret;

	*mine = -1;
	ret = fe_vu_connect(vu, sock, 5000);
	if (ret)
		return ret;
	ret = fe_state_negotiate(vu);
	if (ret)
		return ret;
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	*mine = dir == FE_STATE_SAVE ? p[0] : p[1];
	theirs = dir == FE_STATE_SAVE ? p[1] : p[0];
	if (close_mine_first) {
		close(*mine);
		*mine = -1;
	}
	ret = fe_state_set_fd(vu, dir, phase, theirs, &backend_fd, err);
	close(theirs);
	if (backend_fd >= 0)
		close(backend_fd);	/* vblkd never returns one */
	return ret;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

TEST_F(bad, migration_phase_other_than_stopped_is_refused)
{
	for (uint32_t dir = FE_STATE_SAVE; dir <= FE_STATE_LOAD; dir++) {
		const char *sock = dir == FE_STATE_SAVE ? self->src.ctl : self->dst.ctl;
		uint64_t check = 0;
		uint32_t err = 0;
		struct fe_vu vu;
		int fd;

		ASSERT_EQ(0, raw_set(&vu, sock, dir, 1, false, &fd, &err));
		if (!err) {
			/* Accepted for now: CHECK must still refuse it. */
			if (dir == FE_STATE_LOAD && write(fd, self->good, self->len) < 0)
				TH_LOG("write: %s", strerror(errno));
			close_fd(&fd);
			ASSERT_EQ(0, fe_state_check(&vu, &check));
		}
		close_fd(&fd);
		fe_vu_disconnect(&vu);
		EXPECT_EQ(STATE_E_PHASE, err ? err : check) TH_LOG("direction %u", dir);
	}
	expect_fresh(_metadata, self, 1, 1);
	expect_all_fine(_metadata, self);
}

TEST_F(bad, load_pipe_closed_after_half_is_refused_and_the_daemon_carries_on)
{
	uint64_t check = 0;
	uint32_t err = 0;
	struct fe_vu vu;
	int fd;

	ASSERT_EQ(0, raw_set(&vu, self->dst.ctl, FE_STATE_LOAD, 0, false, &fd, &err));
	ASSERT_EQ(0, err);
	ASSERT_EQ((ssize_t)(self->len / 2), write(fd, self->good, self->len / 2));
	close_fd(&fd);
	ASSERT_EQ(0, fe_state_check(&vu, &check));
	fe_vu_disconnect(&vu);
	EXPECT_EQ(STATE_E_TRUNCATED, check);
	expect_fresh(_metadata, self, 1, 1);
	expect_all_fine(_metadata, self);
}

TEST_F(bad, a_second_transfer_aborts_the_first_and_completes_on_its_own)
{
	int p[2], first, backend_fd = -1;
	uint64_t check = 1;
	uint32_t err = 1;
	struct fe_vu vu;

	/* A load that stalls half way... */
	ASSERT_EQ(0, raw_set(&vu, self->dst.ctl, FE_STATE_LOAD, 0, false, &first, &err));
	ASSERT_EQ(0, err);
	ASSERT_EQ((ssize_t)(self->len / 2), write(first, self->good, self->len / 2));

	/* ...is replaced by a complete one on the same connection. */
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	ASSERT_EQ(0, fe_state_set_fd(&vu, FE_STATE_LOAD, 0, p[0], &backend_fd, &err));
	close(p[0]);
	EXPECT_EQ(-1, backend_fd);
	EXPECT_EQ(0, err);
	ASSERT_EQ((ssize_t)self->len, write(p[1], self->good, self->len));
	close(p[1]);
	ASSERT_EQ(0, fe_state_check(&vu, &check));
	EXPECT_EQ(0, check) TH_LOG("CHECK after the second load: %llu", (unsigned long long)check);

	/* The daemon let go of the first pipe: writing to it finds no reader. */
	signal(SIGPIPE, SIG_IGN);
	EXPECT_EQ(-1, write(first, self->good, 1));
	EXPECT_EQ(EPIPE, errno);
	close_fd(&first);
	fe_vu_disconnect(&vu);
	expect_all_fine(_metadata, self);
}

TEST_F(bad, save_whose_reader_goes_away_fails_and_the_daemon_carries_on)
{
	uint8_t *again = NULL;
	uint64_t check = 0;
	uint32_t err = 0;
	struct fe_vu vu;
	size_t len;
	int fd;

	/* Read end closed before the back-end had the write end. */
	ASSERT_EQ(0, raw_set(&vu, self->src.ctl, FE_STATE_SAVE, 0, true, &fd, &err));
	ASSERT_EQ(0, err);
	ASSERT_EQ(0, fe_state_check(&vu, &check));
	fe_vu_disconnect(&vu);
	EXPECT_EQ(STATE_E_IO, check);

	/* Read end closed right after the reply: the back-end may have written all. */
	ASSERT_EQ(0, raw_set(&vu, self->src.ctl, FE_STATE_SAVE, 0, false, &fd, &err));
	ASSERT_EQ(0, err);
	close_fd(&fd);
	ASSERT_EQ(0, fe_state_check(&vu, &check));
	fe_vu_disconnect(&vu);
	TH_LOG("read end closed after the reply: CHECK %llu", (unsigned long long)check);

	ASSERT_EQ(0, save_from(self->src.ctl, &again, &len));
	EXPECT_TRUE(len == self->len && !memcmp(again, self->good, len))
		TH_LOG("a second save of the suspended source differs");
	free(again);
	expect_all_fine(_metadata, self);
}

TEST_F(bad, front_end_disconnecting_mid_transfer_leaves_the_daemon_usable)
{
	uint8_t *again = NULL;
	uint32_t err = 0;
	struct fe_vu vu;
	int load_fd, save_fd;
	size_t len;

	/* Load: half written, then the connection goes; the pipe stays open. */
	ASSERT_EQ(0, raw_set(&vu, self->dst.ctl, FE_STATE_LOAD, 0, false, &load_fd, &err));
	ASSERT_EQ(0, err);
	ASSERT_EQ((ssize_t)(self->len / 2), write(load_fd, self->good, self->len / 2));
	fe_vu_disconnect(&vu);
	/* Save: nothing read, then the connection goes. */
	ASSERT_EQ(0, raw_set(&vu, self->src.ctl, FE_STATE_SAVE, 0, false, &save_fd, &err));
	ASSERT_EQ(0, err);
	fe_vu_disconnect(&vu);

	expect_fresh(_metadata, self, 1, 1);
	ASSERT_EQ(0, save_from(self->src.ctl, &again, &len));
	EXPECT_TRUE(len == self->len && !memcmp(again, self->good, len));
	free(again);
	close_fd(&load_fd);
	close_fd(&save_fd);
	expect_all_fine(_metadata, self);
}

TEST_F(bad, framed_stream_carries_the_state_and_an_oversized_chunk_is_refused)
{
	struct fe_state_res res;
	struct fe_vu vu;
	uint32_t be;
	int fd, ret;

	fd = memfd_create("state-stream", MFD_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fe_vu_connect(&vu, self->src.ctl, 5000));
	ret = fe_state_save_fd(&vu, fd, true, &res);
	fe_vu_disconnect(&vu);
	ASSERT_EQ(0, ret) TH_LOG("framed save: %s", strerror(-ret));
	EXPECT_EQ(self->len + 8, (size_t)lseek(fd, 0, SEEK_END));

	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	ASSERT_EQ(0, fe_vu_connect(&vu, self->dst.ctl, 5000));
	ret = fe_state_load_fd(&vu, fd, true, &res);
	fe_vu_disconnect(&vu);
	EXPECT_EQ(0, ret) TH_LOG("framed load: %s, check %llu", strerror(-ret),
				 (unsigned long long)res.check);
	close(fd);

	/* A chunk over 1 MiB: the front-end stops, the daemon sees a short state. */
	fd = memfd_create("state-stream", MFD_CLOEXEC);
	ASSERT_LE(0, fd);
	be = htobe32(CHUNK + 1);
	ASSERT_EQ(4, write(fd, &be, 4));
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	ASSERT_EQ(0, fe_vu_connect(&vu, self->dst.ctl, 5000));
	ret = fe_state_load_fd(&vu, fd, true, &res);
	fe_vu_disconnect(&vu);
	close(fd);
	EXPECT_EQ(-EMSGSIZE, ret);
	EXPECT_TRUE(res.checked);
	EXPECT_EQ(STATE_E_TRUNCATED, res.check);
	expect_all_fine(_metadata, self);
}

/* QEMU's framing alone, no daemon. */

static int stream_of(const void *buf, size_t len)
{
	int fd = memfd_create("frames", MFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (write(fd, buf, len) != (ssize_t)len || lseek(fd, 0, SEEK_SET)) {
		close(fd);
		return -EIO;
	}
	return fd;
}

TEST(framing_splits_at_1MiB_and_reads_back_what_was_written)
{
	size_t len = 2 * CHUNK + 12345, got = 0;
	uint8_t *in = malloc(len), *out = malloc(len + 1);
	struct fe_frame_reader r;
	uint32_t be;
	ssize_t n;
	int fd;

	ASSERT_TRUE(in && out);
	host_pattern(in, len, 5);
	fd = memfd_create("frames", MFD_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fe_frame_write(fd, in, len));
	ASSERT_EQ(0, fe_frame_write(fd, in, 0));	/* writes nothing */
	ASSERT_EQ(0, fe_frame_write_end(fd));
	EXPECT_EQ(len + 4 * 4, (size_t)lseek(fd, 0, SEEK_END));
	ASSERT_EQ(4, pread(fd, &be, 4, 0));
	EXPECT_EQ(CHUNK, be32toh(be));
	ASSERT_EQ(4, pread(fd, &be, 4, 4 + CHUNK));
	EXPECT_EQ(CHUNK, be32toh(be));

	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	fe_frame_reader_init(&r, fd);
	while ((n = fe_frame_read(&r, out + got, len + 1 - got)) > 0)
		got += (size_t)n;
	EXPECT_EQ(0, n);
	EXPECT_EQ(len, got);
	EXPECT_EQ(0, memcmp(in, out, len));
	EXPECT_EQ(0, fe_frame_read(&r, out, 1));	/* stays at the end */
	close(fd);
	free(in);
	free(out);
}

TEST(framing_reader_refuses_oversized_chunks_and_truncated_streams)
{
	struct { uint32_t be; uint8_t data[8]; } msg = { htobe32(100), "12345678" };
	struct fe_frame_reader r;
	uint8_t buf[128];
	uint32_t be;
	int fd;

	be = htobe32(CHUNK + 1);
	fd = stream_of(&be, 4);
	ASSERT_LE(0, fd);
	fe_frame_reader_init(&r, fd);
	EXPECT_EQ(-EMSGSIZE, fe_frame_read(&r, buf, sizeof(buf)));
	close(fd);

	/* A chunk that promises 100 bytes and has 8. */
	fd = stream_of(&msg, sizeof(msg));
	ASSERT_LE(0, fd);
	fe_frame_reader_init(&r, fd);
	EXPECT_EQ(8, fe_frame_read(&r, buf, sizeof(buf)));
	EXPECT_EQ(-EBADMSG, fe_frame_read(&r, buf, sizeof(buf)));
	close(fd);

	/* A whole chunk, then no zero-length chunk. */
	msg.be = htobe32(8);
	fd = stream_of(&msg, sizeof(msg));
	ASSERT_LE(0, fd);
	fe_frame_reader_init(&r, fd);
	EXPECT_EQ(8, fe_frame_read(&r, buf, sizeof(buf)));
	EXPECT_EQ(-EBADMSG, fe_frame_read(&r, buf, sizeof(buf)));
	close(fd);

	/* Half a length. */
	fd = stream_of(&msg, 2);
	ASSERT_LE(0, fd);
	fe_frame_reader_init(&r, fd);
	EXPECT_EQ(-EBADMSG, fe_frame_read(&r, buf, sizeof(buf)));
	close(fd);
}

TEST_HARNESS_MAIN
