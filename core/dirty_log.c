// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/dirty_log.h"

#include <unistd.h>

int vb_dirty_log_map_take_fd(struct vb_dirty_log *log, int fd, uint64_t size, uint64_t offset)
{
	int ret;

	vb_dirty_log_unmap(log);
	ret = vb_map_fd(&log->map, fd, offset, size, "dirty log");
	close(fd);
	if (ret)
		return ret;
	log->bitmap = log->map.at;
	log->size = size;
	return 0;
}

void vb_dirty_log_unmap(struct vb_dirty_log *log)
{
	vb_unmap(&log->map);
	log->bitmap = NULL;
	log->size = 0;
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
