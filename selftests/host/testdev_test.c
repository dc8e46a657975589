// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The device seam: the checksum device (testdev.h) served by testdevd over
 * the vhost-user transport, which knows nothing of it. Features, config
 * space, checksums on two queues, malformed chains, ring positions and the
 * device's own state.
 */
#include "kselftest_harness.h"

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

static const char *td_binary(void)
{
	const char *bin = getenv("TESTDEVD");

	return bin && *bin ? bin : NULL;
}

static int64_t td_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Start testdevd with @queues queues in a new temp dir. Return: 0 or -errno. */
static int td_start(struct vd_proc *p, unsigned int queues)
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
static int td_bring_up(FIXTURE_DATA(testdev) *self)
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

static void td_release(FIXTURE_DATA(testdev) *self)
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
static void td_fill(uint8_t *buf, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 8));
}

/* Two pages of guest memory for @r, the writable one filled with TD_UNTOUCHED. */
static int td_req_alloc(struct fe_mem *mem, struct td_req *r)
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
static int td_submit(struct fe_vq *vq, struct td_req *r, uint32_t len)
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
static int td_reap(struct fe_vq *vq, unsigned int n, int timeout_ms)
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

static uint16_t td_used_idx(const struct fe_vq *vq)
{
	return le16toh(__atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE));
}

/* The request completed with four bytes that hold the CRC32C of @len bytes of r->in. */
static void td_expect_sum(struct __test_metadata *_metadata, const struct td_req *r,
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
static void td_expect_broken(struct __test_metadata *_metadata, FIXTURE_DATA(testdev) *self,
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

TEST_F(testdev, offers_version_1_indirect_event_idx_and_protocol_features)
{
	uint64_t f = 0;

	ASSERT_EQ(0, fe_vu_get_features(&self->vu, &f));
	EXPECT_TRUE(f & (1ull << VIRTIO_F_VERSION_1));
	EXPECT_TRUE(f & (1ull << VHOST_USER_F_PROTOCOL_FEATURES));
	EXPECT_TRUE(f & (1ull << VIRTIO_RING_F_INDIRECT_DESC));
	EXPECT_TRUE(f & (1ull << VIRTIO_RING_F_EVENT_IDX));
	EXPECT_EQ(self->features, f & self->features) TH_LOG("acked 0x%llx, offered 0x%llx",
							      (unsigned long long)self->features,
							      (unsigned long long)f);
}

TEST_F(testdev, config_holds_the_magic_and_the_queue_count)
{
	uint8_t cfg[TESTDEV_CFG_SIZE + 4];

	ASSERT_TRUE(self->vu.protocol_features & (1ull << VHOST_USER_PROTOCOL_F_CONFIG));
	ASSERT_EQ(0, fe_vu_get_config(&self->vu, 0, cfg, TESTDEV_CFG_SIZE));
	EXPECT_EQ(TESTDEV_MAGIC, state_get_le32(cfg + TESTDEV_CFG_MAGIC));
	EXPECT_EQ(TD_QUEUES, state_get_le32(cfg + TESTDEV_CFG_QUEUES));

	/* A read past the end of the space reads zeros there. */
	memset(cfg, 0xff, sizeof(cfg));
	ASSERT_EQ(0, fe_vu_get_config(&self->vu, TESTDEV_CFG_QUEUES, cfg, 8));
	EXPECT_EQ(TD_QUEUES, state_get_le32(cfg));
	EXPECT_EQ(0, state_get_le32(cfg + 4));
}

TEST_F(testdev, get_queue_num_reports_the_device_queue_count)
{
	uint64_t num = 0;

	ASSERT_TRUE(self->vu.protocol_features & (1ull << VHOST_USER_PROTOCOL_F_MQ));
	ASSERT_EQ(0, fe_vu_get_queue_num(&self->vu, &num));
	EXPECT_EQ(TD_QUEUES, num);
}

TEST_F(testdev, config_write_is_refused_and_changes_nothing)
{
	struct vu_config c = { .offset = TESTDEV_CFG_MAGIC, .size = 4 };
	uint8_t cfg[TESTDEV_CFG_SIZE];

	ASSERT_TRUE(self->vu.reply_ack) TH_LOG("REPLY_ACK was not negotiated");
	state_put_le32(c.region, 0x12345678);
	EXPECT_EQ(-EREMOTEIO, fe_vu_request(&self->vu, VHOST_USER_SET_CONFIG, &c,
					    VU_CONFIG_HDR_SIZE + c.size, NULL, 0));
	ASSERT_EQ(0, fe_vu_get_config(&self->vu, 0, cfg, sizeof(cfg)));
	EXPECT_EQ(TESTDEV_MAGIC, state_get_le32(cfg + TESTDEV_CFG_MAGIC));
}

TEST_F(testdev, checksum_is_the_crc32c_of_the_readable_bytes)
{
	struct td_req r;

	ASSERT_EQ(0, td_req_alloc(&self->mem, &r));
	memcpy(r.in, "123456789", 9);
	ASSERT_EQ(0, td_submit(&self->vqs[0], &r, 9));
	ASSERT_EQ(0, td_reap(&self->vqs[0], 1, HOST_IO_TIMEOUT_MS));
	ASSERT_TRUE(r.done);
	EXPECT_EQ(TESTDEV_SUM_LEN, r.used_len);
	/* CRC32C's check value, from its definition rather than our implementation. */
	EXPECT_EQ(0xe3069283, state_get_le32(r.out));
}

TEST_F(testdev, checksums_every_chain)
{
	enum { NREQ = 24 };
	static const uint32_t lens[] = { 1, 2, 3, 4, 5, 63, 512, 1000, 4095, 4096 };
	struct td_req r[NREQ];
	uint32_t len[NREQ];

	for (unsigned int i = 0; i < NREQ; i++) {
		ASSERT_EQ(0, td_req_alloc(&self->mem, &r[i]));
		len[i] = lens[i % (sizeof(lens) / sizeof(lens[0]))];
		td_fill(r[i].in, len[i], i);
		ASSERT_LE(0, fe_vq_add(&self->vqs[0],
				       (const struct fe_vq_buf[]){
					       { .addr = r[i].in, .len = len[i] },
					       { .addr = r[i].out, .len = TESTDEV_SUM_LEN,
						 .write = true },
				       },
				       2, &r[i]));
	}
	/* One kick for the lot: the device takes every chain the ring holds. */
	ASSERT_EQ(0, fe_vq_kick(&self->vqs[0]));
	ASSERT_EQ(0, td_reap(&self->vqs[0], NREQ, HOST_IO_TIMEOUT_MS));
	for (unsigned int i = 0; i < NREQ; i++)
		td_expect_sum(_metadata, &r[i], len[i]);
}

TEST_F(testdev, checksum_covers_every_readable_buffer_and_fills_split_writable_ones)
{
	uint8_t all[100 + 1 + 3000];
	uint8_t sum[TESTDEV_SUM_LEN];
	struct fe_vq_buf bufs[6];
	struct td_req a, b;

	ASSERT_EQ(0, td_req_alloc(&self->mem, &a));
	ASSERT_EQ(0, td_req_alloc(&self->mem, &b));
	/* Readable: 100 + 1 + 3000 bytes; writable: 1 + 3, then 16 the sum does not reach. */
	bufs[0] = (struct fe_vq_buf){ .addr = a.in, .len = 100 };
	bufs[1] = (struct fe_vq_buf){ .addr = a.in + 2000, .len = 1 };
	bufs[2] = (struct fe_vq_buf){ .addr = b.in, .len = 3000 };
	bufs[3] = (struct fe_vq_buf){ .addr = a.out, .len = 1, .write = true };
	bufs[4] = (struct fe_vq_buf){ .addr = b.out, .len = 3, .write = true };
	bufs[5] = (struct fe_vq_buf){ .addr = a.out + 100, .len = 16, .write = true };
	td_fill(a.in, FE_MEM_PAGE, 1);
	td_fill(b.in, FE_MEM_PAGE, 2);
	memcpy(all, a.in, 100);
	all[100] = a.in[2000];
	memcpy(all + 101, b.in, 3000);
	state_put_le32(sum, state_crc32c(0, all, sizeof(all)));

	ASSERT_LE(0, fe_vq_add(&self->vqs[1], bufs, 6, &a));
	ASSERT_EQ(0, fe_vq_kick(&self->vqs[1]));
	ASSERT_EQ(0, td_reap(&self->vqs[1], 1, HOST_IO_TIMEOUT_MS));
	ASSERT_TRUE(a.done);
	EXPECT_EQ(TESTDEV_SUM_LEN, a.used_len);
	EXPECT_EQ(sum[0], a.out[0]);
	EXPECT_EQ(0, memcmp(sum + 1, b.out, 3));
	EXPECT_EQ(TD_UNTOUCHED, b.out[3]);
	EXPECT_TRUE(host_all_bytes(a.out + 100, 16, TD_UNTOUCHED))
		TH_LOG("the device wrote past the first four writable bytes");
}

TEST_F(testdev, chain_in_an_indirect_table_is_checksummed)
{
	struct fe_vq *vq = &self->vqs[0];
	struct vring_desc *tbl;
	struct td_req r;
	uint16_t head;

	ASSERT_TRUE(self->features & (1ull << VIRTIO_RING_F_INDIRECT_DESC));
	ASSERT_EQ(0, td_req_alloc(&self->mem, &r));
	tbl = fe_mem_alloc(&self->mem, FE_MEM_PAGE);
	ASSERT_NE(NULL, tbl);
	td_fill(r.in, 700, 9);
	tbl[0] = (struct vring_desc){
		.addr = htole64(fe_mem_gpa(&self->mem, r.in)), .len = htole32(300),
		.flags = htole16(VRING_DESC_F_NEXT), .next = htole16(1),
	};
	tbl[1] = (struct vring_desc){
		.addr = htole64(fe_mem_gpa(&self->mem, r.in + 300)), .len = htole32(400),
		.flags = htole16(VRING_DESC_F_NEXT), .next = htole16(2),
	};
	tbl[2] = (struct vring_desc){
		.addr = htole64(fe_mem_gpa(&self->mem, r.out)), .len = htole32(TESTDEV_SUM_LEN),
		.flags = htole16(VRING_DESC_F_WRITE),
	};
	ASSERT_EQ(0, fe_vq_take(vq, 1, &head));
	*fe_vq_desc(vq, head) = (struct vring_desc){
		.addr = htole64(fe_mem_gpa(&self->mem, tbl)),
		.len = htole32(3 * sizeof(*tbl)),
		.flags = htole16(VRING_DESC_F_INDIRECT),
	};
	vq->cookie[head] = &r;
	fe_vq_publish(vq, head);
	ASSERT_EQ(0, fe_vq_kick(vq));
	ASSERT_EQ(0, td_reap(vq, 1, HOST_IO_TIMEOUT_MS));
	td_expect_sum(_metadata, &r, 700);
}

TEST_F(testdev, both_queues_checksum_at_once)
{
	enum { NREQ = 8 };
	struct td_req r[TD_QUEUES][NREQ];

	for (unsigned int i = 0; i < NREQ; i++) {
		for (unsigned int q = 0; q < TD_QUEUES; q++) {
			ASSERT_EQ(0, td_req_alloc(&self->mem, &r[q][i]));
			td_fill(r[q][i].in, 256 + i, q * NREQ + i);
			ASSERT_EQ(0, td_submit(&self->vqs[q], &r[q][i], 256 + i));
		}
	}
	for (unsigned int q = 0; q < TD_QUEUES; q++) {
		EXPECT_EQ(0, td_reap(&self->vqs[q], NREQ, HOST_IO_TIMEOUT_MS))
			TH_LOG("queue %u", q);
		for (unsigned int i = 0; i < NREQ; i++)
			td_expect_sum(_metadata, &r[q][i], 256 + i);
	}
}

TEST_F(testdev, get_vring_base_returns_the_number_of_requests_processed)
{
	static const unsigned int n[TD_QUEUES] = { 5, 3 };
	struct td_req r[TD_QUEUES][5];
	unsigned int base;

	for (unsigned int q = 0; q < TD_QUEUES; q++) {
		for (unsigned int i = 0; i < n[q]; i++) {
			ASSERT_EQ(0, td_req_alloc(&self->mem, &r[q][i]));
			td_fill(r[q][i].in, 64, i);
			ASSERT_EQ(0, td_submit(&self->vqs[q], &r[q][i], 64));
		}
		ASSERT_EQ(0, td_reap(&self->vqs[q], n[q], HOST_IO_TIMEOUT_MS));
	}
	for (unsigned int q = 0; q < TD_QUEUES; q++) {
		base = 0xffff;
		ASSERT_EQ(0, fe_vu_get_vring_base(&self->vu, q, &base));
		EXPECT_EQ(n[q], base) TH_LOG("queue %u", q);
		EXPECT_EQ(n[q], td_used_idx(&self->vqs[q]));
	}
}

TEST_F(testdev, chain_without_a_writable_buffer_needs_reset)
{
	struct td_req r;

	ASSERT_EQ(0, td_req_alloc(&self->mem, &r));
	ASSERT_LE(0, fe_vq_add(&self->vqs[0],
			       (const struct fe_vq_buf[]){ { .addr = r.in, .len = 64 } }, 1, &r));
	ASSERT_EQ(0, fe_vq_kick(&self->vqs[0]));
	td_expect_broken(_metadata, self, 0);
}

TEST_F(testdev, chain_with_three_writable_bytes_needs_reset)
{
	struct fe_vq_buf bufs[3];
	struct td_req r;

	ASSERT_EQ(0, td_req_alloc(&self->mem, &r));
	bufs[0] = (struct fe_vq_buf){ .addr = r.in, .len = 64 };
	bufs[1] = (struct fe_vq_buf){ .addr = r.out, .len = 2, .write = true };
	bufs[2] = (struct fe_vq_buf){ .addr = r.out + 8, .len = 1, .write = true };
	ASSERT_LE(0, fe_vq_add(&self->vqs[1], bufs, 3, &r));
	ASSERT_EQ(0, fe_vq_kick(&self->vqs[1]));
	td_expect_broken(_metadata, self, 1);
	EXPECT_TRUE(host_all_bytes(r.out, FE_MEM_PAGE, TD_UNTOUCHED))
		TH_LOG("a refused chain was written");
}

TEST_F(testdev, chain_without_a_readable_buffer_needs_reset)
{
	struct td_req r;

	ASSERT_EQ(0, td_req_alloc(&self->mem, &r));
	ASSERT_LE(0, fe_vq_add(&self->vqs[0],
			       (const struct fe_vq_buf[]){
				       { .addr = r.out, .len = 64, .write = true } },
			       1, &r));
	ASSERT_EQ(0, fe_vq_kick(&self->vqs[0]));
	td_expect_broken(_metadata, self, 0);
	EXPECT_TRUE(host_all_bytes(r.out, FE_MEM_PAGE, TD_UNTOUCHED))
		TH_LOG("a refused chain was written");
}

TEST_F(testdev, driver_reset_after_needs_reset_brings_the_queue_back)
{
	struct fe_vq *vq = &self->vqs[0];
	uint8_t status = 0xff;
	unsigned int base;
	struct td_req r;

	ASSERT_EQ(0, td_req_alloc(&self->mem, &r));
	ASSERT_LE(0, fe_vq_add(vq, (const struct fe_vq_buf[]){ { .addr = r.in, .len = 8 } }, 1,
			       &r));
	ASSERT_EQ(0, fe_vq_kick(vq));
	td_expect_broken(_metadata, self, 0);

	/* A driver reset as QEMU sends it: status 0, rings stopped, set up anew. */
	ASSERT_EQ(0, fe_vu_set_status(&self->vu, 0));
	ASSERT_EQ(0, fe_vu_get_status(&self->vu, &status));
	EXPECT_EQ(0, status);
	ASSERT_EQ(0, fe_vu_get_vring_base(&self->vu, 0, &base));
	EXPECT_EQ(1, base);
	fe_vq_fini(vq);
	ASSERT_EQ(0, fe_vq_init(vq, &self->mem, 0, TD_QSIZE));
	ASSERT_EQ(0, fe_vq_setup(vq, &self->vu, 0, true));
	ASSERT_EQ(0, fe_vu_set_status(&self->vu, TD_DRIVER_OK));

	memset(r.out, TD_UNTOUCHED, FE_MEM_PAGE);
	td_fill(r.in, 333, 4);
	ASSERT_EQ(0, td_submit(vq, &r, 333));
	ASSERT_EQ(0, td_reap(vq, 1, HOST_IO_TIMEOUT_MS));
	td_expect_sum(_metadata, &r, 333);
	ASSERT_EQ(0, fe_vu_get_status(&self->vu, &status));
	EXPECT_FALSE(status & VIRTIO_CONFIG_S_NEEDS_RESET) TH_LOG("status 0x%x", status);
}

/* What the device section of a saved state says. */
struct td_saved {
	bool seen;
	uint64_t features;
	uint8_t status;
	uint32_t queues;
};

static int td_on_section(void *opaque, uint16_t type, uint16_t flags, const uint8_t *p,
			 uint32_t len)
{
	struct td_saved *s = opaque;

	if (type != TESTDEV_SEC_DEVICE)
		return -ENOENT;
	if (len != TESTDEV_SEC_DEVICE_LEN)
		return STATE_E_CONTENT;
	s->seen = true;
	s->features = state_get_le64(p);
	s->status = p[8];
	s->queues = state_get_le32(p + 9);
	return 0;
}

/* Stop every ring as a migration source does; the bases go to @base. */
static void td_suspend(struct __test_metadata *_metadata, FIXTURE_DATA(testdev) *self,
		       unsigned int *base)
{
	for (unsigned int q = 0; q < TD_QUEUES; q++)
		ASSERT_EQ(0, fe_vu_get_vring_base(&self->vu, q, &base[q]));
}

TEST_F(testdev, state_of_a_suspended_device_names_it_and_its_features)
{
	struct td_saved saved = { 0 };
	struct state_reader rd;
	struct fe_state_res res;
	unsigned int base[TD_QUEUES];
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret;

	ASSERT_TRUE(self->vu.protocol_features & (1ull << VHOST_USER_PROTOCOL_F_DEVICE_STATE));
	td_suspend(_metadata, self, base);
	ret = fe_state_save_buf(&self->vu, &buf, &len, &res);
	ASSERT_EQ(0, ret) TH_LOG("save: %s (set %u, check %llu)", strerror(-ret), res.set_err,
				 (unsigned long long)res.check);
	ASSERT_EQ(0, state_reader_init(&rd, TESTDEV_ID, td_on_section, &saved));
	EXPECT_EQ(STATE_OK, state_reader_feed(&rd, buf, len));
	EXPECT_EQ(STATE_OK, state_reader_finish(&rd)) TH_LOG("%s", state_err_str(rd.err));
	state_reader_fini(&rd);
	free(buf);
	ASSERT_TRUE(saved.seen);
	EXPECT_EQ(self->features, saved.features);
	EXPECT_EQ(TD_DRIVER_OK, saved.status);
	EXPECT_EQ(TD_QUEUES, saved.queues);
}

TEST_F(testdev, saved_state_loads_back_and_the_rings_go_on)
{
	unsigned int base[TD_QUEUES];
	struct fe_state_res res;
	struct td_req r[TD_QUEUES];
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret;

	ASSERT_TRUE(self->vu.protocol_features & (1ull << VHOST_USER_PROTOCOL_F_DEVICE_STATE));
	ASSERT_EQ(0, td_req_alloc(&self->mem, &r[0]));
	td_fill(r[0].in, 128, 1);
	ASSERT_EQ(0, td_submit(&self->vqs[0], &r[0], 128));
	ASSERT_EQ(0, td_reap(&self->vqs[0], 1, HOST_IO_TIMEOUT_MS));

	td_suspend(_metadata, self, base);
	ret = fe_state_save_buf(&self->vu, &buf, &len, &res);
	ASSERT_EQ(0, ret) TH_LOG("save: %s", strerror(-ret));
	ret = fe_state_load_buf(&self->vu, buf, len, &res);
	free(buf);
	ASSERT_EQ(0, ret) TH_LOG("load: %s (set %u, check %llu)", strerror(-ret), res.set_err,
				 (unsigned long long)res.check);

	/* As a migration destination: the rings again from the bases, DRIVER_OK. */
	for (unsigned int q = 0; q < TD_QUEUES; q++)
		ASSERT_EQ(0, fe_vq_restart(&self->vqs[q], &self->vu, (uint16_t)base[q], true));
	ASSERT_EQ(0, fe_vu_set_status(&self->vu, TD_DRIVER_OK));
	for (unsigned int q = 0; q < TD_QUEUES; q++) {
		ASSERT_EQ(0, td_req_alloc(&self->mem, &r[q]));
		td_fill(r[q].in, 200, 10 + q);
		ASSERT_EQ(0, td_submit(&self->vqs[q], &r[q], 200));
		EXPECT_EQ(0, td_reap(&self->vqs[q], 1, HOST_IO_TIMEOUT_MS)) TH_LOG("queue %u", q);
		td_expect_sum(_metadata, &r[q], 200);
	}
	EXPECT_EQ(2, td_used_idx(&self->vqs[0]));
}

TEST_F(testdev, state_of_another_device_type_is_refused)
{
	unsigned int base[TD_QUEUES];
	struct state_writer w;
	struct fe_state_res res = { 0 };
	uint8_t p[TESTDEV_SEC_DEVICE_LEN] = { 0 };

	ASSERT_TRUE(self->vu.protocol_features & (1ull << VHOST_USER_PROTOCOL_F_DEVICE_STATE));
	td_suspend(_metadata, self, base);
	/* A valid blob in every respect but the device type: a block device's. */
	state_put_le32(p + 9, TD_QUEUES);
	state_writer_init(&w);
	state_write_header(&w, 2, 1);
	state_write_section(&w, TESTDEV_SEC_DEVICE, 0, p, sizeof(p));
	ASSERT_EQ(0, state_write_trailer(&w));
	EXPECT_EQ(-EREMOTEIO, fe_state_load_buf(&self->vu, w.buf, w.len, &res));
	EXPECT_EQ(STATE_E_DEVICE, res.check) TH_LOG("check %llu (%s)",
						    (unsigned long long)res.check,
						    state_err_str((int)res.check));
	state_writer_fini(&w);
}

TEST_HARNESS_MAIN
