/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers of the state-transfer host tests (state_mig_test.c, state_bad_test.c):
 * daemons with a control socket, the two daemons of a fixture, one-shot
 * save/load over a new connection (vd_state.c), block I/O with patterns.
 * Include after kselftest_harness.h and host_test.h.
 */
#ifndef VB_STATE_UTIL_H
#define VB_STATE_UTIL_H

#include "frontend/fe_state.h"
#include "host_test.h"
#include "vd_state.h"

#define NQ 2
#define IMAGE_ID "disk-A"
#define OTHER_ID "disk-B"
#define CHUNK (1u << 20)

struct daemon {
	struct vd_proc vd;
	char ctl[VD_PATH_MAX];
};

/* Control sockets live in one temp dir per test: their paths come before vd_start(). */
static inline int make_ctl_dir(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/vblkd-state-XXXXXX");
	return mkdtemp(dir) ? 0 : -errno;
}

/*
 * vblkd with NQ queues, --control-socket DIR/NAME.ctl and --image-id @id;
 * on @image (another daemon's) when given, else its own image of @size.
 */
static inline int daemon_start_args(struct daemon *d, const char *dir, const char *name,
				    uint64_t size, const char *id, const char *image,
				    const char *const *more)
{
	const char *extra[24] = {
		"--num-queues", "2", "--control-socket", d->ctl, "--image-id", id,
	};
	unsigned int n = 6;

	for (; more && *more && n < 21; more++)
		extra[n++] = *more;
	if (image) {
		extra[n++] = "--image";
		extra[n++] = image;
	}
	if ((size_t)snprintf(d->ctl, sizeof(d->ctl), "%s/%s.ctl", dir, name) >= sizeof(d->ctl))
		return -ENAMETOOLONG;
	/* A second --image overrides the one vd_start() gives: both on one disk. */
	return vd_start(&d->vd, size, extra);
}

static inline int daemon_start(struct daemon *d, const char *dir, const char *name,
			       uint64_t size, const char *id, const char *image)
{
	return daemon_start_args(d, dir, name, size, id, image, NULL);
}

static inline void daemon_down(struct __test_metadata *_metadata, struct daemon *d)
{
	if (d->vd.dir[0])
		host_down(_metadata, &d->vd, NULL);
	if (d->ctl[0])
		unlink(d->ctl);
}

/* What both fixtures hold: two daemons in one control-socket dir, a front-end on the source. */
struct state_pair {
	char dir[64];
	struct daemon src, dst;
	struct fe_blk sblk;
	bool sblk_open;
	int test_fds;
};

/*
 * Fixture setup, after the SKIP for a missing daemon: source and destination,
 * the destination on the source's image when @shared, and a front-end with
 * @opts on the source.
 */
static inline void pair_up_args(struct __test_metadata *_metadata, struct state_pair *p,
				bool shared, const struct fe_blk_opts *opts,
				const char *const *more)
{
	int ret;

	p->test_fds = vd_count_fds(getpid());
	ASSERT_EQ(0, make_ctl_dir(p->dir, sizeof(p->dir)));
	ASSERT_EQ(0, daemon_start_args(&p->src, p->dir, "src", HOST_IMAGE_SIZE, IMAGE_ID, NULL,
				       more));
	ASSERT_EQ(0, daemon_start_args(&p->dst, p->dir, "dst", HOST_IMAGE_SIZE, IMAGE_ID,
				       shared ? p->src.vd.image : NULL, more));
	ret = fe_blk_open(&p->sblk, p->src.vd.sock, opts);
	ASSERT_EQ(0, ret) TH_LOG("fe_blk_open(src): %s", strerror(-ret));
	p->sblk_open = true;
}

static inline void pair_up(struct __test_metadata *_metadata, struct state_pair *p, bool shared,
			   const struct fe_blk_opts *opts)
{
	pair_up_args(_metadata, p, shared, opts, NULL);
}

/* Fixture teardown: all of pair_up() undone, and no fd of the test left open. */
static inline void pair_down(struct __test_metadata *_metadata, struct state_pair *p)
{
	if (p->sblk_open)
		fe_blk_close(&p->sblk);
	daemon_down(_metadata, &p->dst);
	daemon_down(_metadata, &p->src);
	if (p->dir[0])
		rmdir(p->dir);
	if (p->test_fds > 0)
		EXPECT_EQ(p->test_fds, vd_count_fds(getpid())) TH_LOG("fds of the test leaked");
}

/*
 * The daemon notices a closed connection asynchronously: wait up to 5 s (a
 * sanitizer build on a loaded machine joins its ring workers slowly) for
 * its fd count to come down to @settle_to, or with -1 to stay put for 50 ms.
 */
static inline int count_fds(pid_t pid, int settle_to)
{
	int n = vd_count_fds(pid), last = -1, same = 0;

	for (int i = 0; i < 500 && n > 0; i++) {
		if (settle_to >= 0 ? n <= settle_to : same >= 5)
			break;
		same = n == last ? same + 1 : 0;
		last = n;
		usleep(10 * 1000);
		n = vd_count_fds(pid);
	}
	return n;
}

/* 0, the back-end's refusal (> 0), or -errno: see vd_state.h. */
static inline int load_into(const char *sock, const void *buf, size_t len)
{
	return vd_state_load(sock, 0, buf, len, NULL);
}

static inline int save_from(const char *sock, uint8_t **buf, size_t *len)
{
	return vd_state_save(sock, 0, buf, len, NULL);
}

/* A front-end attaches to @d, writes and reads back one block, and leaves. */
static inline int attach_and_do_io(struct __test_metadata *_metadata, struct daemon *d,
				   uint32_t seed)
{
	struct fe_blk_opts opts = { .num_queues = NQ, .mem_size = 1 << 20 };
	uint8_t want[4096], got[4096];
	struct fe_blk blk;
	int ret;

	ret = fe_blk_open(&blk, d->vd.sock, &opts);
	EXPECT_EQ(0, ret) TH_LOG("attach after case %u: %s", seed, strerror(-ret));
	if (ret)
		return ret;
	host_pattern(want, sizeof(want), seed);
	EXPECT_EQ(VIRTIO_BLK_S_OK, fe_blk_write(&blk, seed % NQ, (seed % 64) * 8, want, 4096));
	EXPECT_EQ(VIRTIO_BLK_S_OK, fe_blk_read(&blk, 1 - seed % NQ, (seed % 64) * 8, got, 4096));
	EXPECT_EQ(0, memcmp(want, got, sizeof(got)));
	fe_blk_close(&blk);
	return 0;
}

/* Write @n blocks of pattern seed+i at sector 8*(base+i), queue by queue. */
static inline void write_blocks(struct __test_metadata *_metadata, struct fe_blk *blk,
				unsigned int base, unsigned int n, uint32_t seed)
{
	uint8_t buf[4096];

	for (unsigned int i = 0; i < n; i++) {
		host_pattern(buf, sizeof(buf), seed + i);
		ASSERT_EQ(VIRTIO_BLK_S_OK,
			  fe_blk_write(blk, i % NQ, (uint64_t)(base + i) * 8, buf, sizeof(buf)));
	}
}

static inline void expect_blocks(struct __test_metadata *_metadata, struct fe_blk *blk,
				 unsigned int base, unsigned int n, uint32_t seed)
{
	uint8_t want[4096], got[4096];

	for (unsigned int i = 0; i < n; i++) {
		host_pattern(want, sizeof(want), seed + i);
		ASSERT_EQ(VIRTIO_BLK_S_OK, fe_blk_read(blk, (i + 1) % NQ, (uint64_t)(base + i) * 8,
						       got, sizeof(got)));
		EXPECT_EQ(0, memcmp(want, got, sizeof(got))) TH_LOG("block %u", base + i);
	}
}

#endif
