/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The checksum device's test fixture, for the programs that drive it
 * (testdev_test.c, testdev_state_test.c): testdevd started in a temp dir,
 * a front-end on it with two rings, and helpers to put chains on them.
 * Include once per program, after kselftest_harness.h.
 */
#ifndef VB_TESTDEV_FIXTURE_H
#define VB_TESTDEV_FIXTURE_H

#include <endian.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <time.h>

#include "frontend/fe_state.h"
#include "selftests/host/host_test.h"
#include "selftests/host/testdev.h"
#include "state/state.h"

#define TD_QUEUES 2
#define TD_QSIZE 64
#define TD_MEM_SIZE (4u << 20)
#define TD_PROTOCOL_FEATURES                                                        \
	(1ull << VHOST_USER_PROTOCOL_F_MQ | 1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK | \
	 1ull << VHOST_USER_PROTOCOL_F_CONFIG | 1ull << VHOST_USER_PROTOCOL_F_STATUS | \
	 1ull << VHOST_USER_PROTOCOL_F_DEVICE_STATE)
#define TD_DRIVER_OK                                                                \
	(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK | \
	 VIRTIO_CONFIG_S_DRIVER_OK)
#define TD_UNTOUCHED 0xee /* fill of writable bytes the device must not write */

/* One checksum request: its buffers live in guest memory, one page each. */
struct td_req {
	uint8_t *in;
	uint8_t *out;
	bool done;
	uint32_t used_len;
};

FIXTURE(testdev) {
	struct vd_proc proc; /* testdevd: socket and log in proc.dir, no image */
	struct fe_vu vu;
	struct fe_mem mem;
	struct fe_vq vqs[TD_QUEUES];
	unsigned int nvqs;
	uint64_t features; /* acked */
};

static inline const char *td_binary(void)
{
	const char *bin = getenv("TESTDEVD");

	return bin && *bin ? bin : NULL;
}

static inline int64_t td_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Start testdevd with @queues queues in a new temp dir. Return: 0 or -errno. */
static inline int td_start(struct vd_proc *p, unsigned int queues)
{
	const char *bin = td_binary();
	char nq[16];
	int fd;

	memset(p, 0, sizeof(*p));
	p->pid = -1;
	snprintf(p->dir, sizeof(p->dir), "/tmp/testdevd-XXXXXX");
	if (!mkdtemp(p->dir)) {
		p->dir[0] = '\0';
		return -errno;
	}
	snprintf(p->sock, sizeof(p->sock), "%s/vu.sock", p->dir);
	snprintf(p->log, sizeof(p->log), "%s/testdevd.log", p->dir);
	snprintf(nq, sizeof(nq), "%u", queues);
	fflush(NULL);
	p->pid = fork();
	if (p->pid < 0) {
		p->pid = -1;
		return -errno;
	}
	if (p->pid)
		return 0;
	/* The daemon must not outlive a test killed by the harness timeout. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	fd = open(p->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
	}
	execl(bin, bin, "--socket", p->sock, "--queues", nq, (char *)NULL);
	fprintf(stderr, "exec %s: %s\n", bin, strerror(errno));
	_exit(127);
}

/* Negotiate, hand over memory and every ring, DRIVER_OK; as QEMU orders it. */
static inline int td_bring_up(FIXTURE_DATA(testdev) *self)
{
	uint64_t proto;
	int ret;

	ret = fe_vu_negotiate(&self->vu, 1ull << VIRTIO_RING_F_INDIRECT_DESC,
			      TD_PROTOCOL_FEATURES, &self->features);
	if (ret)
		return ret;
	proto = self->vu.protocol_features;
	ret = fe_vu_set_mem_table(&self->vu, &self->mem);
	if (ret)
		return ret;
	for (unsigned int q = 0; q < TD_QUEUES; q++) {
		ret = fe_vq_init(&self->vqs[q], &self->mem, q, TD_QSIZE);
		if (ret)
			return ret;
		self->nvqs = q + 1;
		ret = fe_vq_setup(&self->vqs[q], &self->vu, 0, true);
		if (ret)
			return ret;
	}
	if (!(proto & (1ull << VHOST_USER_PROTOCOL_F_STATUS)))
		return 0;
	return fe_vu_set_status(&self->vu, TD_DRIVER_OK);
}

static inline void td_release(FIXTURE_DATA(testdev) *self)
{
	fe_vu_disconnect(&self->vu);
	for (unsigned int q = 0; q < self->nvqs; q++)
		fe_vq_fini(&self->vqs[q]);
	self->nvqs = 0;
	fe_mem_fini(&self->mem);
}

FIXTURE_SETUP(testdev)
{
	int ret;

	self->vu.sock = -1;
	self->mem.fd = -1;
	if (!td_binary())
		SKIP(return, "TESTDEVD is not set: no daemon to test");
	ret = td_start(&self->proc, TD_QUEUES);
	ASSERT_EQ(0, ret) TH_LOG("starting testdevd: %s", strerror(-ret));
	ret = fe_mem_init(&self->mem, TD_MEM_SIZE, FE_MEM_GPA_BASE);
	if (!ret)
		ret = fe_vu_connect(&self->vu, self->proc.sock, 5000);
	if (!ret)
		ret = td_bring_up(self);
	if (ret) {
		/* No teardown after a failed setup: clean up here. */
		td_release(self);
		vd_dump_log(&self->proc);
		vd_cleanup(&self->proc);
	}
	ASSERT_EQ(0, ret) TH_LOG("bringing the checksum device up: %s", strerror(-ret));
}

FIXTURE_TEARDOWN(testdev)
{
	int status = 0, ret;

	td_release(self);
	if (self->proc.pid > 0) {
		ret = vd_stop(&self->proc, 5000, &status);
		EXPECT_EQ(0, ret) TH_LOG("testdevd did not exit within 5 s of SIGTERM");
		EXPECT_TRUE(WIFEXITED(status)) TH_LOG("testdevd died by signal %d",
						      WIFSIGNALED(status) ? WTERMSIG(status) : 0);
		if (WIFEXITED(status))
			EXPECT_EQ(0, WEXITSTATUS(status));
		EXPECT_NE(0, access(self->proc.sock, F_OK))
			TH_LOG("socket %s left behind", self->proc.sock);
	}
	if (_metadata->exit_code == KSFT_FAIL || getenv("VBLKD_TEST_LOG"))
		vd_dump_log(&self->proc);
	vd_cleanup(&self->proc);
}

/* Bytes that differ from offset to offset and from seed to seed. */
static inline void td_fill(uint8_t *buf, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 8));
}

/* Two pages of guest memory for @r, the writable one filled with TD_UNTOUCHED. */
static inline int td_req_alloc(struct fe_mem *mem, struct td_req *r)
{
	memset(r, 0, sizeof(*r));
	r->in = fe_mem_alloc(mem, FE_MEM_PAGE);
	r->out = fe_mem_alloc(mem, FE_MEM_PAGE);
	if (!r->in || !r->out)
		return -ENOMEM;
	memset(r->out, TD_UNTOUCHED, FE_MEM_PAGE);
	return 0;
}

/* Put @r on @vq as @len readable bytes of r->in and 4 writable of r->out, and kick. */
static inline int td_submit(struct fe_vq *vq, struct td_req *r, uint32_t len)
{
	const struct fe_vq_buf bufs[] = {
		{ .addr = r->in, .len = len },
		{ .addr = r->out, .len = TESTDEV_SUM_LEN, .write = true },
	};
	int ret = fe_vq_add(vq, bufs, 2, r);

	return ret < 0 ? ret : fe_vq_kick(vq);
}

/*
 * Collect used entries of @vq until @n arrived, marking their requests done.
 * Return: 0, -ETIMEDOUT, or -EPROTO for a head the device made up.
 */
static inline int td_reap(struct fe_vq *vq, unsigned int n, int timeout_ms)
{
	int64_t deadline = td_now_ms() + timeout_ms;
	unsigned int got = 0;

	while (got < n) {
		struct td_req *r;
		uint32_t len;
		void *cookie;
		int ret = fe_vq_get_used(vq, &cookie, &len);

		if (ret == -EAGAIN) {
			if (td_now_ms() >= deadline)
				return -ETIMEDOUT;
			fe_vq_wait_call(vq, 20);
			continue;
		}
		if (ret)
			return ret;
		r = cookie;
		if (r) {
			r->done = true;
			r->used_len = len;
		}
		got++;
	}
	return 0;
}

static inline uint16_t td_used_idx(const struct fe_vq *vq)
{
	return le16toh(__atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE));
}

/* The request completed with four bytes that hold the CRC32C of @len bytes of r->in. */
static inline void td_expect_sum(struct __test_metadata *_metadata, const struct td_req *r,
			  uint32_t len)
{
	ASSERT_TRUE(r->done);
	EXPECT_EQ(TESTDEV_SUM_LEN, r->used_len);
	EXPECT_EQ(state_crc32c(0, r->in, len), state_get_le32(r->out)) TH_LOG("%u bytes", len);
	EXPECT_EQ(TD_UNTOUCHED, r->out[TESTDEV_SUM_LEN]);
}

/*
 * The device refused the last chain of queue @q: its err fd fires, GET_STATUS
 * shows NEEDS_RESET, nothing was used, and the daemon lives on.
 */
static inline void td_expect_broken(struct __test_metadata *_metadata, FIXTURE_DATA(testdev) *self,
			     unsigned int q)
{
	uint8_t status = 0;

	EXPECT_EQ(0, fe_vq_wait_err(&self->vqs[q], HOST_IO_TIMEOUT_MS))
		TH_LOG("queue %u: the err eventfd was not signalled", q);
	ASSERT_TRUE(self->vu.protocol_features & (1ull << VHOST_USER_PROTOCOL_F_STATUS));
	ASSERT_EQ(0, fe_vu_get_status(&self->vu, &status));
	EXPECT_TRUE(status & VIRTIO_CONFIG_S_NEEDS_RESET) TH_LOG("status 0x%x", status);
	EXPECT_EQ(0, td_used_idx(&self->vqs[q]));
	EXPECT_TRUE(vd_alive(&self->proc));
}

#endif
