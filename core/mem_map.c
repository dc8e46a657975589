// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Mapping a file a front-end handed over: measured before it is mapped
 * (every kind of file we accept), and guarded against a truncation after
 * it is mapped unless a seal forbids one.
 */
#include "core/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/fs.h>
#include <linux/magic.h>

#include "core/failpoint.h"
#include "core/log.h"
#include "core/sigbus_guard.h"

int vb_fd_size(int fd, uint64_t *size)
{
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	if (S_ISREG(st.st_mode)) {
		*size = (uint64_t)st.st_size;
		return 0;
	}
	if (S_ISBLK(st.st_mode))
		return ioctl(fd, BLKGETSIZE64, size) ? -errno : 0;
	*size = UINT64_MAX;
	return 0;
}

int vb_fd_covers(int fd, uint64_t offset, uint64_t size)
{
	uint64_t have;
	int ret = vb_fd_size(fd, &have);

	if (ret)
		return ret;
	if (offset + size < offset || have < offset + size)
		return -EINVAL;
	return 0;
}

/* The unit a mapping of @fd comes in: a huge page on hugetlbfs. */
static uint64_t map_page(int fd)
{
	struct statfs sfs;
	struct stat st;

	if (!fstatfs(fd, &sfs) && sfs.f_type == HUGETLBFS_MAGIC && !fstat(fd, &st) &&
	    st.st_blksize > 0)
		return (uint64_t)st.st_blksize;
	return (uint64_t)sysconf(_SC_PAGESIZE);
}

/* Sealed against shrinking: no truncation can pull pages from under us. */
static bool sealed(int fd, const char *what)
{
	int seals = fcntl(fd, F_GET_SEALS);

	if (seals < 0 || !(seals & F_SEAL_SHRINK))
		return false;
	vb_dbg("%s: sealed against shrinking (F_SEAL_SHRINK): no SIGBUS guard needed", what);
	return true;
}

int vb_map_fd(struct vb_map *m, int fd, uint64_t offset, uint64_t len, const char *what)
{
	uint64_t page, map_off, lead, have;
	void *base;
	int ret;

	*m = (struct vb_map){ .guard = -1 };
	if (!len || offset + len < offset || offset + len > SIZE_MAX)
		return -EINVAL;
	ret = vb_fd_size(fd, &have);
	if (ret)
		return ret;
	if (have < offset + len) {
		vb_err("%s: its fd holds %llu bytes, fewer than the %llu it must map", what,
		       (unsigned long long)have, (unsigned long long)(offset + len));
		return -EINVAL;
	}
	/* From the page that holds the offset: a file's start may be far away. */
	page = map_page(fd);
	map_off = offset & ~(page - 1);
	lead = offset - map_off;
	base = vb_fault(VB_FAULT_MMAP) ? (errno = ENOMEM, MAP_FAILED) :
					 mmap(NULL, (size_t)(lead + len), PROT_READ | PROT_WRITE,
					      MAP_SHARED, fd, (off_t)map_off);
	if (base == MAP_FAILED)
		return -errno;
	m->base = base;
	/* What the kernel mapped: whole pages of the file's kind. */
	m->len = (size_t)((lead + len + page - 1) & ~(page - 1));
	m->at = (uint8_t *)base + lead;
	if (!sealed(fd, what)) {
		m->guard = vb_sigbus_register(m->base, m->len);
		if (m->guard < 0) {
			ret = m->guard;
			m->guard = -1;
			vb_unmap(m);
			return ret;
		}
	}
	return 0;
}

void vb_unmap(struct vb_map *m)
{
	/* A zeroed map (never mapped) has guard 0, which is not its own. */
	if (m->base) {
		vb_sigbus_unregister(m->guard);
		munmap(m->base, m->len);
	}
	*m = (struct vb_map){ .guard = -1 };
}

bool vb_map_dead(const struct vb_map *m)
{
	return m->base && vb_sigbus_dead(m->guard);
}
