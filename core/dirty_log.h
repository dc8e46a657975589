/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Dirty-page log for live migration (VHOST_F_LOG_ALL): one bit per 4 KiB
 * guest page, set for every guest byte the device writes.
 */
#ifndef VB_DIRTY_LOG_H
#define VB_DIRTY_LOG_H

#include <stdint.h>
#include <stddef.h>

#include "core/mem.h"

#define VB_LOG_PAGE 4096u

struct vb_dirty_log {
	uint8_t *bitmap; /* NULL: not logging */
	uint64_t size; /* bytes of bitmap */
	struct vb_map map;
};

/**
 * vb_dirty_log_map_take_fd() - map the log region the front-end shares
 * @log:	the log
 * @fd:		the region's fd; always consumed
 * @size:	bytes of bitmap
 * @offset:	where the bitmap starts in the file
 *
 * A log mapped before is unmapped first, even when this fails: a failed
 * call leaves the device not logging.
 * Return: 0, -EINVAL for an empty or wrapping range or a file too short to
 * hold it (mapping past its end would SIGBUS), or the vb_map_fd() error.
 */
int vb_dirty_log_map_take_fd(struct vb_dirty_log *log, int fd, uint64_t size, uint64_t offset);

/**
 * vb_dirty_log_unmap() - stop logging and unmap the region
 * @log:	the log, mapped or not
 */
void vb_dirty_log_unmap(struct vb_dirty_log *log);

/**
 * vb_dirty_log_write() - mark guest memory dirty
 * @log:	the log
 * @gpa:	first guest byte written
 * @len:	bytes written
 *
 * Marks every page [@gpa, @gpa + @len) touches; pages beyond the bitmap are
 * ignored, and nothing happens while no log is mapped. Bits are set with an
 * atomic OR because the front-end clears them concurrently.
 */
void vb_dirty_log_write(const struct vb_dirty_log *log, uint64_t gpa, uint64_t len);

#endif
