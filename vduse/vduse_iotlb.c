// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * IOVA mappings of a VDUSE device. The kernel's IOTLB holds (range, file,
 * offset) entries; VDUSE_IOTLB_GET_FD hands out the file of the first entry
 * that overlaps a range. Each entry becomes one guest memory region whose
 * guest-physical and front-end addresses are both the IOVA, so the core
 * translates descriptor and ring addresses alike.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/log.h"
#include "vduse/vduse_int.h"

/*
 * Map the first entry overlapping [start, last], setting *end to its last
 * IOVA. @may_unmap: no ring runs, so stale mappings in the way may go.
 * Return: 1 an entry was found (mapped, or skipped with a log line),
 * 0 there is none, -errno when the kernel refused.
 */
static int map_first(struct vduse_dev *v, uint64_t start, uint64_t last, uint64_t *end,
		     bool may_unmap)
{
	struct vduse_iotlb_entry e = { .start = start, .last = last };
	struct vb_mem *mem = &v->dev->mem;
	int fd, ret;

	fd = ioctl(v->fd, VDUSE_IOTLB_GET_FD, &e);
	if (fd < 0)
		return errno == EINVAL ? 0 : -errno;
	if (e.last < e.start || e.last < start || e.start > last) {
		close(fd);
		vb_err("vduse %s: IOTLB entry [0x%llx, 0x%llx] is not what was asked for", v->name,
		       (unsigned long long)e.start, (unsigned long long)e.last);
		return -EIO;
	}
	*end = e.last;
	if (vb_mem_covers(mem, e.start, e.last - e.start + 1)) {
		close(fd); /* already mapped */
		return 1;
	}
	/*
	 * The device writes into what it maps, and a read-only fd cannot be
	 * mapped writable: such entries (a VMM's ROM) stay unmapped, and a
	 * descriptor into them fails its request.
	 */
	if (e.perm != VDUSE_ACCESS_RW) {
		close(fd);
		vb_dbg("vduse %s: IOVA [0x%llx, 0x%llx] is not read-write (perm %u); not mapped",
		       v->name, (unsigned long long)e.start, (unsigned long long)e.last, e.perm);
		return 1;
	}
	/*
	 * A stale mapping that overlaps a new entry goes first, but only while
	 * no ring runs: a worker may be using it. Otherwise the entry stays
	 * unmapped until the UPDATE_IOTLB that follows the change.
	 */
	if (!may_unmap && vb_mem_overlaps(mem, e.start, e.last - e.start + 1)) {
		close(fd);
		vb_err_rl("vduse %s: IOVA [0x%llx, 0x%llx] overlaps a stale mapping; not mapped",
			  v->name, (unsigned long long)e.start, (unsigned long long)e.last);
		return 1;
	}
	vb_mem_remove_overlapping(mem, e.start, e.last - e.start + 1);
	ret = vb_mem_add_take_fd(mem, e.start, e.last - e.start + 1, e.start, e.offset, fd);
	if (ret) {
		vb_err("vduse %s: cannot map IOVA [0x%llx, 0x%llx]: %s", v->name,
		       (unsigned long long)e.start, (unsigned long long)e.last, strerror(-ret));
		return 1;
	}
	vb_dbg("vduse %s: mapped IOVA [0x%llx, 0x%llx]", v->name, (unsigned long long)e.start,
	       (unsigned long long)e.last);
	return 1;
}

int vduse_iotlb_map_all(struct vduse_dev *v)
{
	uint64_t start = 0, end = 0;
	int ret;

	pthread_mutex_lock(&v->iotlb_lock);
	for (;;) {
		ret = map_first(v, start, UINT64_MAX, &end, true);
		if (ret <= 0 || end == UINT64_MAX)
			break;
		start = end + 1;
	}
	pthread_mutex_unlock(&v->iotlb_lock);
	return ret < 0 ? ret : 0;
}

/*
 * The workers' miss path: virtio_vdpa's bounce area enters the IOTLB only
 * when the driver maps its first buffer, after DRIVER_OK, and no request
 * tells us so. Appending a region is safe while rings run (see vb_mem).
 */
int vduse_iotlb_miss(void *opaque, uint64_t iova)
{
	struct vduse_dev *v = opaque;
	uint64_t end;
	int ret;

	pthread_mutex_lock(&v->iotlb_lock);
	if (vb_mem_covers(&v->dev->mem, iova, 1))
		ret = 1;
	else
		ret = map_first(v, iova, iova, &end, false);
	pthread_mutex_unlock(&v->iotlb_lock);
	if (!ret)
		vb_err_rl("vduse %s: IOVA 0x%llx is not mapped", v->name, (unsigned long long)iova);
	return ret == 1 ? 0 : -EFAULT;
}

void vduse_iotlb_drop(struct vduse_dev *v, uint64_t start, uint64_t last)
{
	unsigned int n;

	pthread_mutex_lock(&v->iotlb_lock);
	/*
	 * A range that ends at UINT64_MAX has no 64-bit end: stop one byte
	 * short (never mapped), or the overlap test wraps and drops nothing.
	 */
	n = vb_mem_remove_overlapping(&v->dev->mem, start,
				      last == UINT64_MAX ? last - start : last - start + 1);
	pthread_mutex_unlock(&v->iotlb_lock);
	vb_dbg("vduse %s: IOTLB update [0x%llx, 0x%llx]: dropped %u mapping(s)", v->name,
	       (unsigned long long)start, (unsigned long long)last, n);
}

void vduse_iotlb_clear(struct vduse_dev *v)
{
	pthread_mutex_lock(&v->iotlb_lock);
	vb_mem_clear(&v->dev->mem);
	pthread_mutex_unlock(&v->iotlb_lock);
}
