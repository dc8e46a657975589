// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Back-end state transfer between real vblkd processes, the refusals: every
 * way a state blob can be damaged or foreign, front-ends that give up
 * mid-transfer, and a framed stream with an oversized chunk. Each refused
 * load must leave the destination as it was. Every daemon serves
 * --control-socket; loads go through it the way vblkctl does. A good
 * migration: state_mig_test.c.
 */
#include "kselftest_harness.h"

#include <signal.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <time.h>

#include "frontend/fe_state.h"
#include "host_test.h"
#include "state/state.h"
#include "state_util.h"

/* Damaged and foreign state, into a fresh destination. */

FIXTURE(bad) {
	struct state_pair pair;
	uint8_t *good;		/* saved from the suspended source */
	size_t len;
	uint8_t *fresh;		/* saved from the destination as it is now */
	size_t fresh_len;
	int dst_fds;
};

FIXTURE_SETUP(bad)
{
	struct fe_blk_opts opts = { .num_queues = NQ, .mem_size = 1 << 20 };
	int ret;

	if (!vd_binary())
		SKIP(return, "VBLKD is not set: no daemon to test");
	pair_up(_metadata, &self->pair, false, &opts);
	write_blocks(_metadata, &self->pair.sblk, 0, 4, 21);
	ASSERT_EQ(0, fe_blk_suspend(&self->pair.sblk));
	ret = save_from(self->pair.src.ctl, &self->good, &self->len);
	ASSERT_EQ(0, ret) TH_LOG("save: %d", ret);
	ASSERT_LE(STATE_HEADER_SIZE + STATE_SECTION_HDR_SIZE + STATE_TRAILER_PAYLOAD, self->len);
	ASSERT_EQ(0, memcmp(self->good, STATE_MAGIC, 8));
	ret = save_from(self->pair.dst.ctl, &self->fresh, &self->fresh_len);
	ASSERT_EQ(0, ret) TH_LOG("save from the fresh destination: %d", ret);
	self->dst_fds = count_fds(self->pair.dst.vd.pid, -1);
	ASSERT_LT(0, self->dst_fds);
}

FIXTURE_TEARDOWN(bad)
{
	free(self->good);
	free(self->fresh);
	pair_down(_metadata, &self->pair);
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

	ret = save_from(self->pair.dst.ctl, &now, &len);
	EXPECT_EQ(0, ret) TH_LOG("case %u: save from the destination: %d", n, ret);
	if (!ret) {
		EXPECT_TRUE(len == self->fresh_len && !memcmp(now, self->fresh, len))
			TH_LOG("case %u: the refused load changed the destination's state", n);
	}
	free(now);
	if (attach_every && n % attach_every == 0) {
		attach_and_do_io(_metadata, &self->pair.dst, n);
		free(self->fresh);
		self->fresh = NULL;
		ret = save_from(self->pair.dst.ctl, &self->fresh, &self->fresh_len);
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

	EXPECT_TRUE(vd_alive(&self->pair.src.vd));
	EXPECT_TRUE(vd_alive(&self->pair.dst.vd));
	EXPECT_EQ(self->dst_fds, count_fds(self->pair.dst.vd.pid, self->dst_fds))
		TH_LOG("fds of the destination daemon leaked");
	EXPECT_EQ(0, load_into(self->pair.dst.ctl, self->good, self->len));
	ret = fe_blk_resume(&self->pair.sblk);
	ASSERT_EQ(0, ret) TH_LOG("source resume: %s", strerror(-ret));
	write_blocks(_metadata, &self->pair.sblk, 128, 4, 23);
	expect_blocks(_metadata, &self->pair.sblk, 0, 4, 21);
	expect_blocks(_metadata, &self->pair.sblk, 128, 4, 23);
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
	EXPECT_EQ(STATE_E_TRUNCATED, load_into(self->pair.dst.ctl, "", 0));
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
		EXPECT_EQ(STATE_E_TRUNCATED, load_into(self->pair.dst.ctl, self->good, cuts[i]))
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
		code = load_into(self->pair.dst.ctl, p, self->len);
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
	EXPECT_EQ(STATE_E_TRAILING, load_into(self->pair.dst.ctl, p, len + 16));
	expect_fresh(_metadata, self, 1, 1);
	EXPECT_EQ(STATE_E_TRAILING, load_into(self->pair.dst.ctl, p, len + 1));
	expect_fresh(_metadata, self, 2, 0);

	memcpy(p, self->good, len);
	p[0] = 'X';
	EXPECT_EQ(STATE_E_MAGIC, load_into(self->pair.dst.ctl, p, len));
	expect_fresh(_metadata, self, 3, 0);

	/* Header: magic, le32 format version, le32 device type (docs/state-format.md). */
	memcpy(p, self->good, len);
	state_put_le32(p + 8, STATE_FORMAT_VERSION + 1);
	EXPECT_EQ(STATE_E_VERSION, load_into(self->pair.dst.ctl, p, len));
	expect_fresh(_metadata, self, 4, 0);

	memcpy(p, self->good, len);
	state_put_le32(p + 12, 1);	/* a network device */
	EXPECT_EQ(STATE_E_DEVICE, load_into(self->pair.dst.ctl, p, len));
	expect_fresh(_metadata, self, 5, 1);
	free(p);
	expect_all_fine(_metadata, self);
}

TEST_F(bad, destination_of_another_capacity_or_image_id_refuses_and_stays_usable)
{
	struct daemon big = { 0 }, other = { 0 };

	ASSERT_EQ(0, daemon_start(&big, self->pair.dir, "big", 2 * HOST_IMAGE_SIZE, IMAGE_ID,
				  NULL));
	ASSERT_EQ(0, daemon_start(&other, self->pair.dir, "other", HOST_IMAGE_SIZE, OTHER_ID,
				  NULL));
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
		const char *sock = dir == FE_STATE_SAVE ? self->pair.src.ctl : self->pair.dst.ctl;
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

	ASSERT_EQ(0, raw_set(&vu, self->pair.dst.ctl, FE_STATE_LOAD, 0, false, &fd, &err));
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
	ASSERT_EQ(0, raw_set(&vu, self->pair.dst.ctl, FE_STATE_LOAD, 0, false, &first, &err));
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

/*
 * A transfer belongs to the connection that started it: the front-end's
 * CHECK neither sees nor ends a save the control client runs, and the
 * control client's CHECK still reports its own result.
 */
TEST_F(bad, check_reports_only_to_the_connection_that_started_the_transfer)
{
	uint8_t buf[65536];
	uint64_t check = 0;
	uint32_t err = 1;
	size_t got = 0;
	struct fe_vu vu;
	ssize_t n;
	int fd;

	ASSERT_EQ(0, raw_set(&vu, self->pair.src.ctl, FE_STATE_SAVE, 0, false, &fd, &err));
	ASSERT_EQ(0, err);
	ASSERT_EQ(0, fe_state_check(&self->pair.sblk.vu, &check));
	EXPECT_EQ(STATE_E_INCOMPLETE, check) TH_LOG("front-end CHECK: %llu",
						    (unsigned long long)check);
	while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		got += n > 0 ? (size_t)n : 0;
	EXPECT_EQ(self->len, got);
	close_fd(&fd);
	ASSERT_EQ(0, fe_state_check(&vu, &check));
	EXPECT_EQ(0, check) TH_LOG("control client CHECK: %llu", (unsigned long long)check);
	fe_vu_disconnect(&vu);
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
	ASSERT_EQ(0, raw_set(&vu, self->pair.src.ctl, FE_STATE_SAVE, 0, true, &fd, &err));
	ASSERT_EQ(0, err);
	ASSERT_EQ(0, fe_state_check(&vu, &check));
	fe_vu_disconnect(&vu);
	EXPECT_EQ(STATE_E_IO, check);

	/* Read end closed right after the reply: the back-end may have written all. */
	ASSERT_EQ(0, raw_set(&vu, self->pair.src.ctl, FE_STATE_SAVE, 0, false, &fd, &err));
	ASSERT_EQ(0, err);
	close_fd(&fd);
	ASSERT_EQ(0, fe_state_check(&vu, &check));
	fe_vu_disconnect(&vu);
	TH_LOG("read end closed after the reply: CHECK %llu", (unsigned long long)check);

	ASSERT_EQ(0, save_from(self->pair.src.ctl, &again, &len));
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
	ASSERT_EQ(0, raw_set(&vu, self->pair.dst.ctl, FE_STATE_LOAD, 0, false, &load_fd, &err));
	ASSERT_EQ(0, err);
	ASSERT_EQ((ssize_t)(self->len / 2), write(load_fd, self->good, self->len / 2));
	fe_vu_disconnect(&vu);
	/* Save: nothing read, then the connection goes. */
	ASSERT_EQ(0, raw_set(&vu, self->pair.src.ctl, FE_STATE_SAVE, 0, false, &save_fd, &err));
	ASSERT_EQ(0, err);
	fe_vu_disconnect(&vu);

	expect_fresh(_metadata, self, 1, 1);
	ASSERT_EQ(0, save_from(self->pair.src.ctl, &again, &len));
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
	ASSERT_EQ(0, fe_vu_connect(&vu, self->pair.src.ctl, 5000));
	ret = fe_state_save_fd(&vu, fd, true, &res);
	fe_vu_disconnect(&vu);
	ASSERT_EQ(0, ret) TH_LOG("framed save: %s", strerror(-ret));
	EXPECT_EQ(self->len + 8, (size_t)lseek(fd, 0, SEEK_END));

	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	ASSERT_EQ(0, fe_vu_connect(&vu, self->pair.dst.ctl, 5000));
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
	ASSERT_EQ(0, fe_vu_connect(&vu, self->pair.dst.ctl, 5000));
	ret = fe_state_load_fd(&vu, fd, true, &res);
	fe_vu_disconnect(&vu);
	close(fd);
	EXPECT_EQ(-EMSGSIZE, ret);
	EXPECT_TRUE(res.checked);
	EXPECT_EQ(STATE_E_TRUNCATED, res.check);
	expect_all_fine(_metadata, self);
}

TEST_HARNESS_MAIN
