/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Dirty-page log for live migration (VHOST_F_LOG_ALL): one bit per 4 KiB
 * guest page, set for every guest byte the device writes.
 */
#ifndef VB_DIRTY_LOG_H
#define VB_DIRTY_LOG_H

#include <stdint.h>
#include <stddef.h>

#define VB_LOG_PAGE 4096u

struct vb_dirty_log {
	uint8_t *bitmap; /* NULL: not logging */
	uint64_t size; /* bytes of bitmap */
	void *mmap_base;
	size_t mmap_len;
};

/* Map a log region; the fd is always consumed. Return: 0 or -errno. */
int vb_dirty_log_map_take_fd(struct vb_dirty_log *log, int fd, uint64_t size, uint64_t offset);
void vb_dirty_log_unmap(struct vb_dirty_log *log);

/* Mark [gpa, gpa + len) dirty; pages beyond the bitmap are ignored. */
void vb_dirty_log_write(const struct vb_dirty_log *log, uint64_t gpa, uint64_t len);

#endif
