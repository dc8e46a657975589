// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/dirty_log.h"
#include "core/mem.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int vb_dirty_log_map_take_fd(struct vb_dirty_log *log, int fd, uint64_t size, uint64_t offset)
{
	void *base;
	int ret = 0;

	vb_dirty_log_unmap(log);
	if (!size || offset + size < offset || offset + size > SIZE_MAX) {
		ret = -EINVAL;
		goto out_close;
	}
	ret = vb_fd_covers(fd, offset, size);
	if (ret)
		goto out_close;
	base = mmap(NULL, (size_t)(offset + size), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED) {
		ret = -errno;
		goto out_close;
	}
	log->mmap_base = base;
	log->mmap_len = (size_t)(offset + size);
	log->bitmap = (uint8_t *)base + offset;
	log->size = size;
out_close:
	close(fd);
	return ret;
}

void vb_dirty_log_unmap(struct vb_dirty_log *log)
{
	if (log->mmap_base)
		munmap(log->mmap_base, log->mmap_len);
	memset(log, 0, sizeof(*log));
}

void vb_dirty_log_write(const struct vb_dirty_log *log, uint64_t gpa, uint64_t len)
{
	uint64_t page, last;

	if (!log->bitmap || !len)
		return;
	page = gpa / VB_LOG_PAGE;
	last = (gpa + len - 1) / VB_LOG_PAGE;
	for (; page <= last; page++) {
		if (page / 8 >= log->size)
			return;
		/* The front-end clears bits concurrently: atomic OR only. */
		__atomic_fetch_or(&log->bitmap[page / 8], (uint8_t)(1u << (page % 8)),
				  __ATOMIC_RELAXED);
	}
}
