// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Notification fds from a hostile front-end (issue 10, item 2): a kick fd
 * that always reads (/dev/zero) or a call fd that can fill up (a pipe) is
 * refused and the ring goes on with the fd it had; a call fd that cannot
 * take a write (an eventfd at its maximum count) never blocks a worker, the
 * main loop or SIGTERM.
 */
#include "kselftest_harness.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <time.h>

#include "host_test.h"

HOST_SOLO_FIXTURE();

/* CPU time vblkd used, in clock ticks. */
static long cpu_ticks(pid_t pid)
{
	char path[64], buf[1024], *p;
	long utime = 0, stime = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (!p || !(p = strrchr(buf, ')')))
		return -1;
	/* After the command: state, then 10 fields, then utime and stime. */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld", &utime, &stime) !=
	    2)
		return -1;
	return utime + stime;
}

/* A write round trip on queue 0 still works. */
static void expect_io(struct __test_metadata *_metadata, FIXTURE_DATA(solo) * self, uint8_t seed)
{
	uint8_t want[4096], got[4096];

	memset(want, seed, sizeof(want));
	EXPECT_EQ(VIRTIO_BLK_S_OK, fe_blk_write(&self->blk, 0, 64, want, sizeof(want)));
	EXPECT_EQ(VIRTIO_BLK_S_OK, fe_blk_read(&self->blk, 0, 64, got, sizeof(got)));
	EXPECT_EQ(0, memcmp(want, got, sizeof(got)));
}

TEST_F (solo, a_kick_fd_that_is_not_an_eventfd_is_refused_and_nothing_spins) {
	long before, after;
	int fd;

	HOST_UP(&self->vd, &self->blk, NULL, NULL);
	self->blk_open = true;
	ASSERT_TRUE(self->blk.vu.reply_ack);
	fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EREMOTEIO, fe_vu_set_vring_kick(&self->blk.vu, 0, fd));
	close(fd);
	EXPECT_TRUE(vd_log_contains(&self->vd, "the kick fd is /dev/zero, not an eventfd"));

	/* The ring goes on with its own kick fd, and the daemon sits idle. */
	expect_io(_metadata, self, 0x5a);
	before = cpu_ticks(self->vd.pid);
	usleep(500 * 1000);
	after = cpu_ticks(self->vd.pid);
	ASSERT_LE(0, before);
	EXPECT_GT(10, after - before) TH_LOG("vblkd used %ld ticks idle", after - before);
}

TEST_F (solo, a_call_fd_that_is_a_pipe_is_refused) {
	int p[2];

	HOST_UP(&self->vd, &self->blk, NULL, NULL);
	self->blk_open = true;
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	EXPECT_EQ(-EREMOTEIO, fe_vu_set_vring_call(&self->blk.vu, 0, p[1]));
	close(p[0]);
	close(p[1]);
	EXPECT_TRUE(vd_log_contains(&self->vd, "not an eventfd"));
	expect_io(_metadata, self, 0xa5);
}

/*
 * A blocking eventfd at its maximum count: a write to it would block for
 * ever. The daemon makes it non-blocking, drops the interrupt, completes the
 * request, answers GET_VRING_BASE and exits on SIGTERM.
 */
TEST_F (solo, a_call_fd_that_cannot_take_a_write_blocks_nothing) {
	struct fe_vq *vq;
	struct fe_blk_req *req;
	uint8_t buf[4096] = { 1 };
	unsigned int base;
	uint16_t used;
	int fd;

	HOST_UP(&self->vd, &self->blk, NULL, NULL);
	self->blk_open = true;
	vq = fe_blk_vq(&self->blk, 0);
	fd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, eventfd_write(fd, 0xfffffffffffffffeull));
	ASSERT_EQ(0, fe_vu_set_vring_call(&self->blk.vu, 0, fd));

	used = le16toh(vq->used->idx);
	ASSERT_EQ(0, fe_blk_submit_write(&self->blk, 0, 8, buf, sizeof(buf), &req));
	for (int i = 0; i < 200 && le16toh(vq->used->idx) == used; i++)
		usleep(10 * 1000);
	EXPECT_EQ((uint16_t)(used + 1), le16toh(vq->used->idx)) TH_LOG("the write never completed");
	EXPECT_EQ(0, fe_vu_get_vring_base(&self->blk.vu, 0, &base));
	EXPECT_TRUE(vd_alive(&self->vd));
	close(fd);
	fe_blk_req_free(&self->blk, req);
	/* The teardown expects vblkd to exit 0 within 5 s of SIGTERM. */
}

TEST_HARNESS_MAIN
