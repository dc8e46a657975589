// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Online resize: change the capacity the device serves. The back-end makes
 * the disk hold it (vb_backend_resize(): a regular file grows, a block
 * device or a network disk is never served beyond its end); a smaller disk
 * leaves the image as it is, so shrinking never destroys data. The transport tells the driver
 * (a config-change interrupt); this file only changes the device.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "backends/backend.h"
#include "core/log.h"
#include "devices/blk/blk_dev.h"

int blk_dev_resize(struct blk_dev *dev, uint64_t bytes)
{
	uint64_t lbs = (uint64_t)dev->limits.lbs_sectors * BLK_SECTOR;
	int ret;

	if (!bytes || bytes % lbs)
		return -EINVAL;
	ret = vb_backend_resize(dev->be, bytes);
	if (ret) {
		vb_err("image %s: resize to %llu bytes: %s%s", dev->be->spec,
		       (unsigned long long)bytes, strerror(-ret),
		       ret == -ENOSPC ? " (beyond the end of the disk, which vblkd cannot grow)" :
					"");
		return ret;
	}
	/*
	 * No pause: the workers read the capacity once per request (an atomic),
	 * and a request checked against the old size just before is harmless
	 * (the image only grows). Draining here would hold the device's lock
	 * while I/O completes, which the VDUSE message thread cannot afford.
	 */
	atomic_store_explicit(&dev->limits.capacity, bytes / BLK_SECTOR, memory_order_relaxed);
	vb_info("resized to %llu bytes (%llu sectors)", (unsigned long long)bytes,
		(unsigned long long)(bytes / BLK_SECTOR));
	return 0;
}
