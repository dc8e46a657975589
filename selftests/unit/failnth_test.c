// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fail the n-th step (core/failpoint.h) of a setup path, for every n, as
 * iommufd's selftests fail the n-th allocation: ring start, state transfer
 * start, VDUSE create. Each failure returns an error, leaves no fd, thread
 * or allocation behind, and leaves the object able to start at once. The
 * sweep ends at the first n past the path's last step, a start that
 * succeeded with nothing injected.
 */
#include "kselftest_harness.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/virtio_ring.h>

#include "core/failpoint.h"
#include "core/log.h"
#include "devices/blk/blk_dev.h"
#include "unit_dev.h"
#include "state/session.h"
#include "vduse/vduse_dev.h"
#include "vduse/vduse_int.h"

/*
 * The harness ends each test's child with _exit(), which skips LSan's exit
 * check: a test that wants its leaks seen asks for them itself.
 */
#if defined(__SANITIZE_ADDRESS__)
#define VB_TEST_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VB_TEST_LSAN 1
#endif
#endif
#ifdef VB_TEST_LSAN
#include <sanitizer/lsan_interface.h>
#define leaks_found() __lsan_do_recoverable_leak_check()
#else
#define leaks_found() 0
#endif

#define DEV_TYPE 2
#define OWNER 7

/* Entries of a /proc folder, less "." and "..". */
static int count_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* Open fds, less the one that reads the folder. */
static int count_fds(void)
{
	return count_entries("/proc/self/fd") - 1;
}

/* Threads, once back at @want: a joined one may stay listed for a moment. */
static int count_tasks(int want)
{
	int n = count_entries("/proc/self/task");

	for (int i = 0; i < 400 && n != want; i++) {
		usleep(5000);
		n = count_entries("/proc/self/task");
	}
	return n;
}

/* The baseline: a thread that just ended may still be listed for a moment. */
static int settled_tasks(void)
{
	int n = count_entries("/proc/self/task"), m;

	for (int i = 0; i < 20; i++) {
		usleep(5000);
		m = count_entries("/proc/self/task");
		n = m < n ? m : n;
	}
	return n;
}

static void *idle(void *arg)
{
	return arg;
}

/*
 * A thread started and joined once: a runtime that starts helper threads
 * with the first one (ThreadSanitizer's) has them in the baseline.
 */
static int warm_up_threads(void)
{
	pthread_t t;

	return pthread_create(&t, NULL, idle, NULL) || pthread_join(t, NULL);
}

FIXTURE(failnth) {
	char image[64];
	struct blk_dev *blk;
	struct vb_device *dev;
};

FIXTURE_SETUP(failnth)
{
	vb_log_level = VB_LOG_ERR - 1; /* the failures below are expected */
	ASSERT_EQ(0, unit_blk_open(self->image, 1, &self->blk));
	self->dev = blk_dev_vdev(self->blk);
	ASSERT_EQ(0, warm_up_threads());
}

FIXTURE_TEARDOWN(failnth)
{
	vb_failpoint_arm(0);
	EXPECT_EQ(0, blk_dev_close(self->blk));
	unlink(self->image);
	EXPECT_EQ(0, leaks_found());
}

TEST_F(failnth, ring_start_fails_cleanly_at_every_step)
{
	struct vb_ring *r = &self->dev->rings[0];
	unsigned int n, hits, fired = 0;
	int fds, tasks, ret;

	/* The driver made 5 available and got 5 back: the ring runs idle from 5. */
	ASSERT_EQ(0, unit_ring_setup(self->dev, 0, 5));
	fds = count_fds();
	tasks = settled_tasks();

	for (n = 1;; n++) {
		vb_failpoint_arm(n);
		ret = vb_ring_start(r);
		hits = vb_failpoint_hits();
		vb_failpoint_arm(0);
		if (hits < n) {
			/* Past the last step: nothing was injected. */
			EXPECT_EQ(0, ret);
			EXPECT_TRUE(vb_ring_is_started(r));
			EXPECT_EQ(5, vb_ring_stop(r));
			break;
		}
		fired++;
		EXPECT_NE(0, ret) TH_LOG("step %u failed, yet the start succeeded", n);
		EXPECT_FALSE(vb_ring_is_started(r));
		EXPECT_FALSE(r->has_thread);
		EXPECT_EQ(-1, r->wake_fd);
		EXPECT_EQ(NULL, r->reqs);
		EXPECT_EQ(NULL, r->resubmit);
		EXPECT_EQ(5, vb_ring_avail_idx(r));
		EXPECT_EQ(fds, count_fds()) TH_LOG("step %u leaves an fd open", n);
		EXPECT_GE(tasks, count_tasks(tasks)) TH_LOG("step %u leaves a thread", n);

		/* The ring is as before: it starts, runs and stops. */
		ASSERT_EQ(0, vb_ring_start(r)) TH_LOG("no start after step %u failed", n);
		EXPECT_TRUE(vb_ring_is_started(r));
		EXPECT_EQ(5, vb_ring_stop(r));
		EXPECT_FALSE(vb_ring_is_started(r));
		EXPECT_EQ(fds, count_fds());
		EXPECT_GE(tasks, count_tasks(tasks));
	}
	/* Both callocs, io_uring, eventfd, thread: each one failed once. */
	TH_LOG("%u step(s) failed in turn", fired);
	EXPECT_GE(fired, 5);
	EXPECT_EQ(fds, count_fds());
	EXPECT_GE(tasks, count_tasks(tasks));
}

/* A finished blob of one section, in @w. */
static int make_blob(struct state_writer *w)
{
	state_writer_init(w);
	state_write_header(w, DEV_TYPE, 1);
	state_write_section(w, 1, 0, "abc", 3);
	return state_write_trailer(w);
}

/* Reads @fd to its end and compares with @want. Return: 0 when equal. */
static int read_all_equals(int fd, const struct state_writer *want)
{
	uint8_t buf[4096];
	size_t got = 0;
	ssize_t n;

	while ((n = read(fd, buf + got, sizeof(buf) - got)) > 0)
		got += (size_t)n;
	return n < 0 || got != want->len || memcmp(buf, want->buf, got);
}

/*
 * One save through a pipe, nothing injected: the bytes arrive and CHECK
 * reports success. Return: 0, or the failed step.
 */
static int save_once(struct state_session *s, const struct state_writer *want)
{
	int p[2], ret = 0;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	if (make_blob(&s->w)) {
		close(p[0]);
		close(p[1]);
		return -2;
	}
	if (state_session_save_take_fd(s, p[1], OWNER)) {
		close(p[0]);
		return -3;
	}
	if (read_all_equals(p[0], want))
		ret = -4;
	close(p[0]);
	if (state_session_wait(s, OWNER) != STATE_OK)
		ret = -5;
	return ret;
}

TEST_F(failnth, state_save_start_fails_cleanly_at_every_step)
{
	struct state_session s;
	struct state_writer want;
	unsigned int n, hits, fired = 0;
	int fds, tasks, err, p[2];

	state_session_init(&s);
	ASSERT_EQ(0, make_blob(&want));
	fds = count_fds();
	tasks = settled_tasks();

	for (n = 1;; n++) {
		ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
		ASSERT_EQ(0, make_blob(&s.w));
		vb_failpoint_arm(n);
		err = state_session_save_take_fd(&s, p[1], OWNER); /* consumes p[1] */
		hits = vb_failpoint_hits();
		vb_failpoint_arm(0);
		if (hits < n) {
			EXPECT_EQ(STATE_OK, err);
			EXPECT_EQ(0, read_all_equals(p[0], &want));
			close(p[0]);
			EXPECT_EQ(STATE_OK, state_session_wait(&s, OWNER));
			break;
		}
		close(p[0]);
		fired++;
		EXPECT_EQ(STATE_E_IO, err) TH_LOG("step %u failed, yet the save started", n);
		EXPECT_FALSE(s.active);
		EXPECT_EQ(-1, s.fd);
		EXPECT_EQ(-1, s.abort_fd);
		EXPECT_EQ(NULL, s.w.buf);
		EXPECT_EQ(STATE_E_IO, state_session_wait(&s, OWNER)); /* CHECK sees the refusal */
		EXPECT_EQ(fds, count_fds()) TH_LOG("step %u leaves an fd open", n);
		EXPECT_GE(tasks, count_tasks(tasks)) TH_LOG("step %u leaves a thread", n);

		/* The session is as before: a save goes through. */
		EXPECT_EQ(0, save_once(&s, &want)) TH_LOG("no save after step %u failed", n);
		EXPECT_EQ(fds, count_fds());
		EXPECT_GE(tasks, count_tasks(tasks));
	}
	/* eventfd, fcntl, thread */
	TH_LOG("%u step(s) failed in turn", fired);
	EXPECT_GE(fired, 3);
	state_writer_fini(&want);
	EXPECT_EQ(fds, count_fds());
	EXPECT_GE(tasks, count_tasks(tasks));
}

/* The caller's staging area of a load: what the sections said. */
struct staging {
	int sections;
};

static int stage_section(void *opaque, uint16_t type, uint16_t flags, const uint8_t *payload,
			 uint32_t len)
{
	struct staging *st = opaque;

	if (type != 1 || len != 3 || memcmp(payload, "abc", 3))
		return STATE_E_CONTENT;
	st->sections++;
	return 0;
}

static int stage_check(const void *load)
{
	const struct staging *st = load;

	return st->sections == 1 ? STATE_OK : STATE_E_MISSING;
}

/* Writes the whole blob to @fd and closes it. Return: 0 or -1. */
static int write_all_close(int fd, const struct state_writer *w)
{
	ssize_t n = write(fd, w->buf, w->len);

	close(fd);
	return n == (ssize_t)w->len ? 0 : -1;
}

/* One load through a pipe, nothing injected: the section is staged. */
static int load_once(struct state_session *s, const struct state_writer *blob)
{
	struct staging *st = calloc(1, sizeof(*st));
	int p[2], ret = 0;

	if (!st || pipe2(p, O_CLOEXEC)) {
		free(st);
		return -1;
	}
	if (state_session_load_take_fd(s, p[0], OWNER, DEV_TYPE, stage_section, stage_check, free,
				       st)) {
		close(p[1]);
		return -2;
	}
	if (write_all_close(p[1], blob))
		ret = -3;
	if (state_session_wait(s, OWNER) != STATE_OK || st->sections != 1)
		ret = -4;
	state_session_end(s, ret ? STATE_E_IO : STATE_OK); /* frees st */
	return ret;
}

TEST_F(failnth, state_load_start_fails_cleanly_at_every_step)
{
	struct state_session s;
	struct state_writer blob;
	struct staging *st;
	unsigned int n, hits, fired = 0;
	int fds, tasks, err, p[2];

	state_session_init(&s);
	ASSERT_EQ(0, make_blob(&blob));
	fds = count_fds();
	tasks = settled_tasks();

	for (n = 1;; n++) {
		st = calloc(1, sizeof(*st));
		ASSERT_NE(NULL, st);
		ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
		vb_failpoint_arm(n);
		/* Consumes p[0] and st, failed or not. */
		err = state_session_load_take_fd(&s, p[0], OWNER, DEV_TYPE, stage_section,
						 stage_check, free, st);
		hits = vb_failpoint_hits();
		vb_failpoint_arm(0);
		if (hits < n) {
			EXPECT_EQ(STATE_OK, err);
			EXPECT_EQ(0, write_all_close(p[1], &blob));
			EXPECT_EQ(STATE_OK, state_session_wait(&s, OWNER));
			EXPECT_EQ(1, st->sections);
			state_session_end(&s, STATE_OK);
			break;
		}
		close(p[1]);
		fired++;
		EXPECT_EQ(STATE_E_IO, err) TH_LOG("step %u failed, yet the load started", n);
		EXPECT_FALSE(s.active);
		EXPECT_EQ(-1, s.fd);
		EXPECT_EQ(-1, s.abort_fd);
		EXPECT_EQ(NULL, s.load); /* freed with load_free */
		EXPECT_EQ(NULL, s.r.payload);
		EXPECT_EQ(STATE_E_IO, state_session_wait(&s, OWNER));
		EXPECT_EQ(fds, count_fds()) TH_LOG("step %u leaves an fd open", n);
		EXPECT_GE(tasks, count_tasks(tasks)) TH_LOG("step %u leaves a thread", n);

		EXPECT_EQ(0, load_once(&s, &blob)) TH_LOG("no load after step %u failed", n);
		EXPECT_EQ(fds, count_fds());
		EXPECT_GE(tasks, count_tasks(tasks));
	}
	/* reader, eventfd, fcntl, thread */
	TH_LOG("%u step(s) failed in turn", fired);
	EXPECT_GE(fired, 4);
	state_writer_fini(&blob);
	EXPECT_EQ(fds, count_fds());
	EXPECT_GE(tasks, count_tasks(tasks));
}

TEST_F(failnth, vduse_create_fails_cleanly_at_every_step)
{
	char dir[] = "/tmp/failnth-state-XXXXXX";
	char name[32], path[128];
	struct vduse_dev_opts o = { .name = name, .state_dir = dir };
	struct vduse_dev *v = NULL;
	unsigned int n, hits, fired = 0;
	int fds, tasks, ret;

	if (access("/dev/vduse/control", R_OK | W_OK))
		SKIP(return, "no /dev/vduse/control (vduse module not loaded)");
	ASSERT_NE(NULL, mkdtemp(dir));
	snprintf(name, sizeof(name), "failnth-%d", (int)getpid());
	snprintf(path, sizeof(path), "%s/%s.inflight", dir, name);
	fds = count_fds();
	tasks = settled_tasks();

	for (n = 1;; n++) {
		vb_failpoint_arm(n);
		ret = vduse_dev_create(self->dev, &o, &v);
		hits = vb_failpoint_hits();
		vb_failpoint_arm(0);
		if (hits < n) {
			ASSERT_EQ(0, ret);
			EXPECT_FALSE(v->reattached);
			vduse_dev_destroy(v, true);
			break;
		}
		fired++;
		EXPECT_NE(0, ret) TH_LOG("step %u failed, yet the device was created", n);
		if (!ret) {
			vduse_dev_destroy(v, true);
			continue;
		}
		EXPECT_EQ(NULL, self->dev->transport);
		EXPECT_EQ(NULL, self->dev->mem.miss);
		EXPECT_EQ(fds, count_fds()) TH_LOG("step %u leaves an fd open", n);
		EXPECT_GE(tasks, count_tasks(tasks));

		/* Nothing left in the kernel: the next create is a new device. */
		ASSERT_EQ(0, vduse_dev_create(self->dev, &o, &v))
			TH_LOG("no create after step %u failed", n);
		EXPECT_FALSE(v->reattached);
		vduse_dev_destroy(v, true);
		EXPECT_EQ(fds, count_fds());
	}
	/* handle, control, two API ioctls, config, create, open, vq setup, file, eventfd */
	TH_LOG("%u step(s) failed in turn", fired);
	EXPECT_GE(fired, 10);
	EXPECT_EQ(fds, count_fds());
	EXPECT_GE(tasks, count_tasks(tasks));
	unlink(path); /* a failure after the file was made leaves it, like a crash */
	EXPECT_EQ(0, rmdir(dir));
}

TEST_HARNESS_MAIN
