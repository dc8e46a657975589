// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Back-end state transfer (SET_DEVICE_STATE_FD / CHECK_DEVICE_STATE) between
 * real vblkd processes: a migration under I/O from one daemon to another on
 * the same image and the same guest memory, refusals that leave the source
 * running, and the QEMU stream framing. Every daemon serves --control-socket;
 * loads go through it the way vblkctl does. Damaged state: state_bad_test.c.
 */
#include "kselftest_harness.h"

#include <sys/mman.h>

#include "frontend/fe_state.h"
#include "host_test.h"
#include "state/state.h"
#include "state_util.h"

/* Migration between two daemons on one image, one guest. */

FIXTURE(mig) {
	struct state_pair pair;
	struct fe_blk dblk;
	bool dblk_open;
};

FIXTURE_SETUP(mig)
{
	struct fe_blk_opts opts = { .num_queues = NQ };
	int ret;

	if (!vd_binary())
		SKIP(return, "VBLKD is not set: no daemon to test");
	pair_up(_metadata, &self->pair, true, &opts);
	ret = fe_blk_open_peer(&self->dblk, self->pair.dst.vd.sock, &self->pair.sblk);
	ASSERT_EQ(0, ret) TH_LOG("fe_blk_open_peer(dst): %s", strerror(-ret));
	self->dblk_open = true;
}

FIXTURE_TEARDOWN(mig)
{
	if (self->dblk_open)
		fe_blk_close(&self->dblk);
	pair_down(_metadata, &self->pair);
}

static void log_times(struct __test_metadata *_metadata, const struct fe_migrate_times *t)
{
	TH_LOG("%llu state bytes; suspend %llu us, save %llu us, transfer %llu us, load %llu us, "
	       "resume %llu us, downtime %llu us", (unsigned long long)t->bytes,
	       (unsigned long long)t->suspend_us, (unsigned long long)t->save_us,
	       (unsigned long long)t->transfer_us, (unsigned long long)t->load_us,
	       (unsigned long long)t->resume_us, (unsigned long long)t->total_us);
}

/* Each of the @n writes in @req completes on @blk with OK; "write <i>@why" when one does not. */
static void wait_writes(struct __test_metadata *_metadata, struct fe_blk *blk,
			struct fe_blk_req **req, unsigned int n, const char *why)
{
	for (unsigned int i = 0; i < n; i++) {
		ASSERT_EQ(0, fe_blk_wait(blk, req[i], HOST_IO_TIMEOUT_MS))
			TH_LOG("write %u%s", i, why);
		EXPECT_EQ(VIRTIO_BLK_S_OK, req[i]->status);
		fe_blk_req_free(blk, req[i]);
	}
}

TEST_F(mig, round_trip_under_io_moves_the_rings_and_keeps_every_write)
{
	enum { NREQ = 24, LEN = 8192 };
	struct fe_blk_req *req[NREQ];
	struct fe_migrate_times t;
	uint8_t buf[LEN];
	int ret;

	write_blocks(_metadata, &self->pair.sblk, 0, 8, 1);
	/* Writes still in flight when the source is suspended. */
	for (unsigned int i = 0; i < NREQ; i++) {
		host_pattern(buf, LEN, 100 + i);
		ASSERT_EQ(0, fe_blk_submit_write(&self->pair.sblk, i % NQ, 64 + i * (LEN / 512),
						 buf, LEN, &req[i]));
	}
	ret = fe_blk_migrate(&self->pair.sblk, &self->dblk, &t);
	ASSERT_EQ(0, ret) TH_LOG("fe_blk_migrate: %s (save check %llu, load set %u check %llu)",
				 strerror(-ret), (unsigned long long)t.save.check,
				 t.load.set_err, (unsigned long long)t.load.check);
	log_times(_metadata, &t);
	EXPECT_LT(0, t.bytes);

	wait_writes(_metadata, &self->dblk, req, NREQ, " never completed after the migration");
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

	write_blocks(_metadata, &self->pair.sblk, 0, 4, 7);
	ASSERT_EQ(0, fe_blk_suspend(&self->pair.sblk));
	/* The guest keeps adding requests while the source is stopped. */
	for (unsigned int i = 0; i < NREQ; i++) {
		host_pattern(buf, sizeof(buf), 300 + i);
		ASSERT_EQ(0, fe_blk_submit_write(&self->pair.sblk, i % NQ, 1024 + i * 8, buf,
						 sizeof(buf), &req[i]));
	}
	usleep(HOST_QUIET_MS * 1000);
	for (unsigned int i = 0; i < NREQ; i++) {
		EXPECT_FALSE(req[i]->done || fe_blk_reap(&self->pair.sblk, i % NQ, 0) > 0)
			TH_LOG("the suspended source served write %u", i);
	}
	ASSERT_EQ(0, fe_state_save_buf(&self->pair.sblk.vu, &blob, &len, NULL));
	ASSERT_EQ(0, fe_state_load_buf(&self->dblk.vu, blob, len, NULL));
	free(blob);
	fe_blk_adopt(&self->dblk, &self->pair.sblk);
	ASSERT_EQ(0, fe_blk_resume(&self->dblk));
	/* No new kick: a started ring with avail entries must be served. */
	wait_writes(_metadata, &self->dblk, req, NREQ, ", queued while suspended, never completed");
	expect_blocks(_metadata, &self->dblk, 0, 4, 7);
}

TEST_F(mig, state_saved_from_the_destination_right_after_load_is_byte_identical)
{
	uint8_t *a = NULL, *b = NULL;
	size_t alen, blen;
	int ret;

	write_blocks(_metadata, &self->pair.sblk, 0, 16, 9);
	ASSERT_EQ(0, fe_blk_suspend(&self->pair.sblk));
	ret = fe_state_save_buf(&self->pair.sblk.vu, &a, &alen, NULL);
	ASSERT_EQ(0, ret) TH_LOG("save: %s", strerror(-ret));
	ret = fe_state_load_buf(&self->dblk.vu, a, alen, NULL);
	ASSERT_EQ(0, ret) TH_LOG("load: %s", strerror(-ret));
	/* Through the destination's control socket this time. */
	ret = save_from(self->pair.dst.ctl, &b, &blen);
	ASSERT_EQ(0, ret) TH_LOG("save from the destination: %d", ret);
	EXPECT_EQ(alen, blen);
	if (alen == blen)
		EXPECT_EQ(0, memcmp(a, b, alen)) TH_LOG("the states differ");
	free(a);
	free(b);
	fe_blk_adopt(&self->dblk, &self->pair.sblk);
	ASSERT_EQ(0, fe_blk_resume(&self->dblk));
	expect_blocks(_metadata, &self->dblk, 0, 16, 9);
}

TEST_F(mig, save_through_the_control_socket_while_a_ring_runs_is_refused)
{
	uint8_t *blob = NULL;
	size_t len;
	int fds = count_fds(self->pair.src.vd.pid, -1);

	EXPECT_EQ(STATE_E_BUSY, save_from(self->pair.src.ctl, &blob, &len));
	free(blob);
	EXPECT_EQ(STATE_E_BUSY, load_into(self->pair.src.ctl, "VBLKSTAT", 8));
	/* The running device is unharmed. */
	write_blocks(_metadata, &self->pair.sblk, 0, 4, 11);
	expect_blocks(_metadata, &self->pair.sblk, 0, 4, 11);
	EXPECT_EQ(fds, count_fds(self->pair.src.vd.pid, fds));
}

TEST_F(mig, refused_migration_leaves_the_source_able_to_resume)
{
	struct fe_migrate_times t;
	struct daemon other = { 0 };
	struct fe_blk oblk;
	int ret;

	write_blocks(_metadata, &self->pair.sblk, 0, 4, 13);
	/* A destination of another capacity. */
	ASSERT_EQ(0, daemon_start(&other, self->pair.dir, "big", 2 * HOST_IMAGE_SIZE, IMAGE_ID,
				  NULL));
	ret = fe_blk_open_peer(&oblk, other.vd.sock, &self->pair.sblk);
	ASSERT_EQ(0, ret) TH_LOG("open_peer: %s", strerror(-ret));
	ret = fe_blk_migrate(&self->pair.sblk, &oblk, &t);
	EXPECT_EQ(-EREMOTEIO, ret);
	EXPECT_EQ(STATE_E_CAPACITY, t.load.set_err ? t.load.set_err : t.load.check);
	fe_blk_close(&oblk);
	EXPECT_TRUE(vd_alive(&other.vd));
	daemon_down(_metadata, &other);

	ASSERT_EQ(0, fe_blk_resume(&self->pair.sblk));
	write_blocks(_metadata, &self->pair.sblk, 64, 4, 17);
	expect_blocks(_metadata, &self->pair.sblk, 0, 4, 13);
	expect_blocks(_metadata, &self->pair.sblk, 64, 4, 17);
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

/* Read @len bytes at @stream through a frame reader: the reads return @want[0..@n-1]. */
static void expect_frame_reads(struct __test_metadata *_metadata, const void *stream, size_t len,
			       const ssize_t *want, unsigned int n)
{
	struct fe_frame_reader r;
	uint8_t buf[128];
	int fd;

	fd = stream_of(stream, len);
	ASSERT_LE(0, fd);
	fe_frame_reader_init(&r, fd);
	for (unsigned int i = 0; i < n; i++) {
		EXPECT_EQ(want[i], fe_frame_read(&r, buf, sizeof(buf))) TH_LOG("read %u", i);
	}
	close(fd);
}

TEST(framing_reader_refuses_oversized_chunks_and_truncated_streams)
{
	struct { uint32_t be; uint8_t data[8]; } msg = { htobe32(100), "12345678" };
	uint32_t be;

	be = htobe32(CHUNK + 1);
	expect_frame_reads(_metadata, &be, 4, (const ssize_t[]){ -EMSGSIZE }, 1);

	/* A chunk that promises 100 bytes and has 8. */
	expect_frame_reads(_metadata, &msg, sizeof(msg), (const ssize_t[]){ 8, -EBADMSG }, 2);

	/* A whole chunk, then no zero-length chunk. */
	msg.be = htobe32(8);
	expect_frame_reads(_metadata, &msg, sizeof(msg), (const ssize_t[]){ 8, -EBADMSG }, 2);

	/* Half a length. */
	expect_frame_reads(_metadata, &msg, 2, (const ssize_t[]){ -EBADMSG }, 1);
}

TEST_HARNESS_MAIN
