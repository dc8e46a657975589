// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Memory that shrinks after hand-over (issue 10, class 1), as a hostile
 * front-end attacks: it shares an unsealed memfd (guest memory, an in-flight
 * region, a dirty log), truncates it once vblkd mapped it, and kicks. vblkd
 * must fail only that queue with NEEDS_RESET, stay up, leak no fd and serve
 * the next front-end. Files too small for what they claim to hold, block
 * devices included, are refused before they are mapped.
 */
#include "kselftest_harness.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <linux/vhost_types.h>

#include "host_test.h"
#include "state_util.h"

HOST_SOLO_FIXTURE();

/*
 * A write on queue 0 whose header, data and status byte lie past every ring
 * page, placed on the avail ring but not kicked. Return: the offset in the
 * memfd of its first page, where the test cuts the file.
 */
static off_t add_write_past_the_rings(struct __test_metadata *_metadata, struct fe_blk *blk)
{
	struct fe_vq *vq = fe_blk_vq(blk, 0);
	uint8_t *page = fe_mem_alloc(&blk->mem, 3 * FE_MEM_PAGE);
	struct virtio_blk_outhdr *hdr = (void *)page;
	struct fe_vq_buf bufs[3] = {
		{ hdr, sizeof(*hdr), false },
		{ page + FE_MEM_PAGE, FE_MEM_PAGE, false },
		{ page + 2 * FE_MEM_PAGE, 1, true },
	};

	if (!page)
		return -1;
	hdr->type = htole32(VIRTIO_BLK_T_OUT);
	hdr->sector = 0;
	memset(page + FE_MEM_PAGE, 0x77, FE_MEM_PAGE);
	if ((uint8_t *)vq->ring + vq->ring_size > page)
		return -1;
	if (fe_vq_add(vq, bufs, 3, NULL) < 0)
		return -1;
	return page - blk->mem.va;
}

/* Queue 0 raised NEEDS_RESET, and the daemon said why and stayed up. */
static void expect_queue_failed(struct __test_metadata *_metadata, FIXTURE_DATA(solo) * self,
				const char *why)
{
	uint8_t status = 0;

	EXPECT_NE(0, host_wait_broken(&self->blk, 0, HOST_IO_TIMEOUT_MS));
	ASSERT_EQ(0, fe_vu_get_status(&self->blk.vu, &status));
	EXPECT_NE(0, status & VIRTIO_CONFIG_S_NEEDS_RESET) TH_LOG("status 0x%x", status);
	EXPECT_TRUE(vd_log_contains(&self->vd, why));
	EXPECT_TRUE(vd_alive(&self->vd));
}

/* The next front-end is served, with as many fds as the first one had. */
static void expect_served_without_leak(struct __test_metadata *_metadata, FIXTURE_DATA(solo) * self,
				       int fds)
{
	host_expect_next_served(_metadata, &self->vd, &self->blk, &self->blk_open);
	EXPECT_EQ(fds, count_fds(self->vd.pid, fds)) TH_LOG("vblkd leaked fds");
}

/* An unsealed memfd of @size bytes: the front-end may shrink it at will. */
static int unsealed_memfd(const char *name, uint64_t size)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd >= 0 && ftruncate(fd, (off_t)size)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A write on queue 0 meets what shrank: the queue fails, the next front-end is served. */
static void expect_write_fails_the_queue(struct __test_metadata *_metadata,
					 FIXTURE_DATA(solo) * self, int fds)
{
	uint8_t buf[4096] = { 7 };
	struct fe_blk_req *req;

	ASSERT_EQ(0, fe_blk_submit_write(&self->blk, 0, 8, buf, sizeof(buf), &req));
	expect_queue_failed(_metadata, self, "shrank under it (SIGBUS caught)");
	fe_blk_req_free(&self->blk, req);
	expect_served_without_leak(_metadata, self, fds);
}

TEST_F (solo, guest_memory_truncated_after_hand_over_fails_the_queue) {
	off_t cut;
	int fds;

	HOST_UP(&self->vd, &self->blk, NULL, NULL);
	self->blk_open = true;
	fds = count_fds(self->vd.pid, -1);
	cut = add_write_past_the_rings(_metadata, &self->blk);
	ASSERT_LT(0, cut) TH_LOG("no request page past the rings");
	/* From here on the test must not touch those pages either. */
	ASSERT_EQ(0, ftruncate(self->blk.mem.fd, cut));
	ASSERT_EQ(0, fe_vq_kick(fe_blk_vq(&self->blk, 0)));
	expect_queue_failed(_metadata, self, "shrank under it (SIGBUS caught)");
	expect_served_without_leak(_metadata, self, fds);
}

TEST_F (solo, an_in_flight_fd_truncated_after_hand_over_fails_the_queue) {
	struct vu_inflight inf = { .num_queues = 1, .queue_size = 128 };
	int fd, fds;

	HOST_UP(&self->vd, &self->blk, NULL, NULL);
	self->blk_open = true;
	fds = count_fds(self->vd.pid, -1);
	/* The front-end's own region, unsealed, in place of vblkd's sealed one. */
	inf.mmap_size = vb_inflight_queue_size(inf.queue_size);
	fd = unsealed_memfd("hostile-inflight", inf.mmap_size);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fe_vu_set_inflight_fd(&self->blk.vu, &inf, fd));
	ASSERT_EQ(0, ftruncate(fd, 0));
	close(fd);
	/* Taking the request marks it in flight: in memory that is gone. */
	expect_write_fails_the_queue(_metadata, self, fds);
}

TEST_F (solo, a_dirty_log_truncated_after_hand_over_fails_the_queue) {
	struct vu_log log = { .mmap_size = 4096, .mmap_offset = 0 };
	struct vu_msg reply;
	int fd, fds;

	HOST_UP(&self->vd, &self->blk, NULL, NULL);
	self->blk_open = true;
	fds = count_fds(self->vd.pid, -1);
	ASSERT_EQ(0, fe_vu_set_protocol_features(&self->blk.vu,
						 self->blk.vu.protocol_features |
							 1ull << VHOST_USER_PROTOCOL_F_LOG_SHMFD));
	fd = unsealed_memfd("hostile-log", log.mmap_size);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fe_vu_call(&self->blk.vu, VHOST_USER_SET_LOG_BASE, &log, sizeof(log), &fd, 1,
				&reply));
	ASSERT_EQ(0,
		  fe_vu_set_features(&self->blk.vu, self->blk.features | 1ull << VHOST_F_LOG_ALL));
	ASSERT_EQ(0, ftruncate(fd, 0));
	close(fd);
	/* Completing the write logs the status byte: in a log that is gone. */
	expect_write_fails_the_queue(_metadata, self, fds);
}

/*
 * Two queues on the memory of HOST_UP, and a second region of 1 MiB past it
 * that the front-end shrinks to nothing once vblkd mapped it. @second gets
 * a pointer that fe_vq_add() turns into the second region's first guest
 * address: the test never maps that region, so never dereferences it.
 */
static void up_with_a_shrunk_second_region(struct __test_metadata *_metadata,
					   FIXTURE_DATA(solo) * self, uint8_t **second)
{
	static const char *const extra[] = { "--num-queues", "2", NULL };
	struct fe_blk_opts opts = { .num_queues = 2 };
	struct vu_mem_table t = { .nregions = 2 };
	struct fe_mem *mem = &self->blk.mem;
	uint64_t gpa2;
	int fds[2];

	HOST_UP(&self->vd, &self->blk, extra, &opts);
	self->blk_open = true;
	gpa2 = mem->gpa + mem->size + (1 << 20);
	fds[0] = mem->fd;
	fds[1] = unsealed_memfd("hostile-second-region", 1 << 20);
	ASSERT_LE(0, fds[1]);
	t.regions[0] = (struct vu_mem_region){ mem->gpa, mem->size, fe_mem_uaddr(mem->va), 0 };
	t.regions[1] = (struct vu_mem_region){ gpa2, 1 << 20, 0x7e0000000000ull, 0 };
	ASSERT_EQ(0, fe_vu_request(&self->blk.vu, VHOST_USER_SET_MEM_TABLE, &t,
				   8 + 2 * sizeof(t.regions[0]), fds, 2));
	ASSERT_EQ(0, ftruncate(fds[1], 0));
	close(fds[1]);
	*second = mem->va + (gpa2 - mem->gpa);
}

/* Queue 0 failed, queue 1, whose memory stayed, still serves, and so does the next front-end. */
static void expect_only_queue_0_failed(struct __test_metadata *_metadata, FIXTURE_DATA(solo) * self,
				       const char *why)
{
	uint8_t buf[4096] = { 5 };

	expect_queue_failed(_metadata, self, why);
	EXPECT_EQ(VIRTIO_BLK_S_OK, fe_blk_write(&self->blk, 1, 16, buf, sizeof(buf)));
	EXPECT_EQ(VIRTIO_BLK_S_OK, fe_blk_read(&self->blk, 1, 16, buf, sizeof(buf)));
	host_expect_next_served(_metadata, &self->vd, &self->blk, &self->blk_open);
}

/* Put a write of one page on queue 0 and kick. Return: the used index before. */
static uint16_t write_on_queue_0(struct __test_metadata *_metadata, struct fe_blk *blk, void *hdr,
				 void *data, uint8_t *status)
{
	struct fe_vq *vq = fe_blk_vq(blk, 0);
	struct fe_vq_buf bufs[3] = {
		{ hdr, sizeof(struct virtio_blk_outhdr), false },
		{ data, FE_MEM_PAGE, false },
		{ status, 1, true },
	};
	uint16_t used = le16toh(vq->used->idx);

	*status = 0xff;
	EXPECT_LE(0, fe_vq_add(vq, bufs, 3, NULL));
	EXPECT_EQ(0, fe_vq_kick(vq));
	return used;
}

static uint16_t used_idx(struct fe_blk *blk)
{
	return le16toh(__atomic_load_n(&fe_blk_vq(blk, 0)->used->idx, __ATOMIC_ACQUIRE));
}

/*
 * io_uring meets the truncated pages, not the CPU: the write's data lie in
 * the shrunk region, which the daemon never reads itself, and the kernel
 * answers -EFAULT instead of raising SIGBUS.
 */
TEST_F (solo, a_buffer_truncated_under_io_uring_is_an_ioerr_and_fails_only_its_queue) {
	struct virtio_blk_outhdr *hdr;
	uint8_t *second = NULL, *status;
	uint16_t used;

	up_with_a_shrunk_second_region(_metadata, self, &second);
	hdr = fe_mem_alloc(&self->blk.mem, 2 * FE_MEM_PAGE);
	ASSERT_NE(NULL, hdr);
	hdr->type = htole32(VIRTIO_BLK_T_OUT);
	hdr->sector = htole64(8);
	status = (uint8_t *)hdr + FE_MEM_PAGE;
	used = write_on_queue_0(_metadata, &self->blk, hdr, second, status);
	expect_queue_failed(_metadata, self, "its I/O met memory the front-end shrank (EFAULT)");
	/* The kernel's answer is honest: the guest learns of the error. */
	EXPECT_EQ((uint16_t)(used + 1), used_idx(&self->blk));
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, *status);
	expect_only_queue_0_failed(_metadata, self,
				   "its I/O met memory the front-end shrank (EFAULT)");
}

/* The daemon reads the request's header from the shrunk region: a SIGBUS. */
TEST_F (solo, a_header_in_a_truncated_region_fails_only_its_queue) {
	uint8_t *second = NULL, *status;
	uint16_t used;

	up_with_a_shrunk_second_region(_metadata, self, &second);
	status = fe_mem_alloc(&self->blk.mem, FE_MEM_PAGE);
	ASSERT_NE(NULL, status);
	used = write_on_queue_0(_metadata, &self->blk, second, second + FE_MEM_PAGE, status);
	expect_queue_failed(_metadata, self, "shrank under it (SIGBUS caught)");
	/* It ran on zero pages: never shown as done, whatever it came to. */
	usleep(HOST_QUIET_MS * 1000);
	EXPECT_EQ(used, used_idx(&self->blk));
	expect_only_queue_0_failed(_metadata, self, "shrank under it (SIGBUS caught)");
}

/* A connection that negotiated REPLY_ACK only, enough for SET_MEM_TABLE. */
static void connect_bare(struct __test_metadata *_metadata, struct vd_proc *vd, struct fe_vu *vu)
{
	ASSERT_EQ(0, fe_vu_connect(vu, vd->sock, 5000));
	ASSERT_EQ(0, fe_vu_negotiate(vu, 0, 1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK, NULL));
}

TEST_F (solo, a_memfd_smaller_than_its_region_is_refused) {
	struct fe_vu vu = { .sock = -1 };
	struct fe_mem mem;

	HOST_UP(&self->vd, &self->blk, NULL, NULL);
	fe_blk_close(&self->blk);
	connect_bare(_metadata, &self->vd, &vu);
	ASSERT_EQ(0, fe_mem_init(&mem, 1 << 20, FE_MEM_GPA_BASE));
	ASSERT_EQ(0, ftruncate(mem.fd, 64 << 10));
	EXPECT_EQ(-EREMOTEIO, fe_vu_set_mem_table(&vu, &mem));
	EXPECT_TRUE(vd_log_contains(&self->vd, "memory region: its fd holds 65536 bytes"));
	fe_mem_fini(&mem);
	fe_vu_disconnect(&vu);
	host_expect_next_served(_metadata, &self->vd, &self->blk, &self->blk_open);
}

/* An unattached loop device: a block device of 0 bytes. */
static int open_free_loop(void)
{
	char path[32];
	int ctl, n, fd;

	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return -errno;
	n = ioctl(ctl, LOOP_CTL_GET_FREE);
	close(ctl);
	if (n < 0)
		return -errno;
	snprintf(path, sizeof(path), "/dev/loop%d", n);
	fd = open(path, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

TEST_F (solo, a_block_device_smaller_than_its_region_is_refused) {
	struct fe_vu vu = { .sock = -1 };
	struct fe_mem mem = { .fd = -1 };
	uint64_t size = UINT64_MAX;

	mem.fd = open_free_loop();
	if (mem.fd < 0)
		SKIP(return, "no loop device to offer: %s", strerror(-mem.fd));
	if (ioctl(mem.fd, BLKGETSIZE64, &size) || size >= (1 << 20)) {
		close(mem.fd);
		SKIP(return, "the free loop device is not empty");
	}
	HOST_UP(&self->vd, &self->blk, NULL, NULL);
	fe_blk_close(&self->blk);
	connect_bare(_metadata, &self->vd, &vu);
	/* Only fd, gpa, size and the address as a number go over the socket. */
	mem.va = (uint8_t *)(uintptr_t)0x40000000;
	mem.size = 1 << 20;
	mem.gpa = FE_MEM_GPA_BASE + (256ull << 20);
	EXPECT_EQ(-EREMOTEIO, fe_vu_set_mem_table(&vu, &mem));
	close(mem.fd);
	EXPECT_TRUE(vd_log_contains(&self->vd, "memory region: its fd holds 0 bytes"));
	fe_vu_disconnect(&vu);
	host_expect_next_served(_metadata, &self->vd, &self->blk, &self->blk_open);
}

TEST_F (solo, memory_sealed_against_shrinking_is_noted_and_not_guarded) {
	static const char *const extra[] = { "--log-level", "debug", NULL };
	struct fe_vu vu = { .sock = -1 };
	struct fe_mem mem = { .size = 1 << 20, .gpa = FE_MEM_GPA_BASE };

	if (!vd_binary())
		SKIP(return, "VBLKD is not set: no daemon to test");
	ASSERT_EQ(0, vd_start(&self->vd, HOST_IMAGE_SIZE, extra));
	connect_bare(_metadata, &self->vd, &vu);
	mem.fd = memfd_create("sealed-guest", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	ASSERT_LE(0, mem.fd);
	ASSERT_EQ(0, ftruncate(mem.fd, (off_t)mem.size));
	ASSERT_EQ(0, fcntl(mem.fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW));
	mem.va = mmap(NULL, mem.size, PROT_READ | PROT_WRITE, MAP_SHARED, mem.fd, 0);
	ASSERT_NE(MAP_FAILED, mem.va);
	EXPECT_EQ(0, fe_vu_set_mem_table(&vu, &mem));
	EXPECT_TRUE(vd_log_contains(&self->vd, "memory region: sealed against shrinking"));
	munmap(mem.va, mem.size);
	close(mem.fd);
	fe_vu_disconnect(&vu);
	host_expect_next_served(_metadata, &self->vd, &self->blk, &self->blk_open);
}

TEST_HARNESS_MAIN
