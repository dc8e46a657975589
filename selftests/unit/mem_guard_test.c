// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The SIGBUS guard and the fault specification, without a daemon: a guarded
 * mapping whose file shrank reads as zeros and is marked dead; an unguarded
 * one still kills; VBLKD_FAULTS parses "site=n" and "site=n+" and nothing
 * else.
 */
#include "kselftest_harness.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/failpoint.h"
#include "core/mem.h"
#include "core/sigbus_guard.h"

#define LEN (64u << 10)

static int memfd_of(size_t len, unsigned int seals)
{
	int fd = memfd_create("guard-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0 || ftruncate(fd, (off_t)len) || (seals && fcntl(fd, F_ADD_SEALS, seals))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

TEST (a_guarded_mapping_whose_file_shrank_reads_zeros_and_is_dead) {
	struct vb_map m;
	unsigned int deaths = vb_sigbus_deaths();
	volatile uint8_t *p;
	int fd = memfd_of(LEN, 0);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vb_map_fd(&m, fd, 4096, LEN - 4096, "test"));
	ASSERT_LE(0, m.guard);
	p = m.at;
	p[0] = 0x5a;
	EXPECT_FALSE(vb_map_dead(&m));
	ASSERT_EQ(0, ftruncate(fd, 0));
	vb_sigbus_take_fault();
	EXPECT_EQ(0, p[LEN - 4097]); /* a SIGBUS without the guard */
	EXPECT_TRUE(vb_sigbus_take_fault());
	EXPECT_FALSE(vb_sigbus_take_fault());
	EXPECT_TRUE(vb_map_dead(&m));
	EXPECT_TRUE(vb_sigbus_addr_dead((const void *)(p + 100)));
	EXPECT_EQ(deaths + 1, vb_sigbus_deaths());
	/* Writes land on the zero pages, not in the front-end's file. */
	p[0] = 1;
	EXPECT_EQ(1, p[0]);
	vb_unmap(&m);
	EXPECT_EQ(-1, m.guard);
	close(fd);
}

TEST (a_file_sealed_against_shrinking_is_not_guarded) {
	struct vb_map m;
	int fd = memfd_of(LEN, F_SEAL_SHRINK);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vb_map_fd(&m, fd, 0, LEN, "test"));
	EXPECT_EQ(-1, m.guard);
	EXPECT_FALSE(vb_map_dead(&m));
	vb_unmap(&m);
	close(fd);
}

TEST (a_file_shorter_than_the_range_is_refused) {
	struct vb_map m;
	int fd = memfd_of(LEN, 0);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, vb_map_fd(&m, fd, 4096, LEN, "test"));
	EXPECT_EQ(NULL, m.base);
	EXPECT_EQ(-EINVAL, vb_map_fd(&m, fd, UINT64_MAX - 10, 4096, "test"));
	EXPECT_EQ(-EINVAL, vb_map_fd(&m, fd, 0, 0, "test"));
	close(fd);
}

TEST (a_sigbus_outside_every_guarded_mapping_still_kills) {
	int status = 0;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct vb_map m;
		int fd = memfd_of(LEN, 0);
		volatile uint8_t *p;

		/*
		 * The default action before the guard (not a sanitizer's, which
		 * would report the deliberate fault), then a mapping it does
		 * not know.
		 */
		signal(SIGBUS, SIG_DFL);
		if (fd < 0 || vb_map_fd(&m, fd, 0, LEN, "test"))
			_exit(2);
		p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED || ftruncate(fd, 0))
			_exit(3);
		(void)p[8192];
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS)
	TH_LOG("status 0x%x", status);
}

TEST (faults_parse_counts_and_refuse_unknown_sites) {
	EXPECT_EQ(0, vb_faults_parse("read=2,write=1+"));
	EXPECT_FALSE(vb_fault(VB_FAULT_READ));
	EXPECT_TRUE(vb_fault(VB_FAULT_READ));
	EXPECT_FALSE(vb_fault(VB_FAULT_READ));
	EXPECT_TRUE(vb_fault(VB_FAULT_WRITE));
	EXPECT_TRUE(vb_fault(VB_FAULT_WRITE));
	EXPECT_FALSE(vb_fault(VB_FAULT_MMAP));
	EXPECT_EQ(-ENOSPC, vb_fault_io_res(true, 4096));
	EXPECT_EQ(4096, vb_fault_io_res(false, 4096));

	EXPECT_EQ(-EINVAL, vb_faults_parse("read=1,bogus=1"));
	EXPECT_FALSE(vb_fault(VB_FAULT_READ));
	EXPECT_EQ(-EINVAL, vb_faults_parse("read=0"));
	EXPECT_EQ(-EINVAL, vb_faults_parse("read=1x"));
	EXPECT_EQ(-EINVAL, vb_faults_parse("read"));
	EXPECT_EQ(0, vb_faults_parse(""));
	EXPECT_FALSE(vb_fault(VB_FAULT_WRITE));
}

TEST_HARNESS_MAIN
