/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Guest memory map: regions shared by the front-end (fd + offset), indexed by
 * guest-physical address for descriptors and by front-end virtual address
 * for vring addresses. Changed only while no ring is started.
 */
#ifndef VB_MEM_H
#define VB_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define VB_MEM_MAX_REGIONS 32

struct vb_mem_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t uva; /* front-end virtual address */
	uint64_t mmap_offset;
	void *mmap_base;
	size_t mmap_len;
	uint8_t *host; /* mmap_base + mmap_offset: the byte at gpa */
};

struct vb_mem {
	/*
	 * Published with release after the region is filled: a transport
	 * that maps on demand (VDUSE's IOTLB) appends while rings run.
	 * Removal happens only while every ring is stopped.
	 */
	unsigned int nregions;
	struct vb_mem_region regions[VB_MEM_MAX_REGIONS];
	/*
	 * An address no region holds: the transport may map it (appending a
	 * region) and return 0 so the lookup is retried once. NULL: -EFAULT.
	 */
	int (*miss)(void *opaque, uint64_t gpa);
	void *miss_opaque;
};

/*
 * Whether fd holds at least offset + size bytes: mapping past the end of a
 * file a front-end handed us would SIGBUS on first touch. Return: 0 or -errno.
 */
int vb_fd_covers(int fd, uint64_t offset, uint64_t size);

void vb_mem_init(struct vb_mem *mem);
/* Unmap every region; the miss hook stays. */
void vb_mem_clear(struct vb_mem *mem);

/* Whether a region overlaps [gpa, gpa + size). */
bool vb_mem_overlaps(const struct vb_mem *mem, uint64_t gpa, uint64_t size);

/* Unmap the regions that overlap [gpa, gpa + size). Return: how many. */
unsigned int vb_mem_remove_overlapping(struct vb_mem *mem, uint64_t gpa, uint64_t size);

/**
 * vb_mem_add_take_fd() - map a region; the fd is always consumed
 * Return: 0, -ENOSPC when full, -EINVAL for an overlapping or empty region,
 * or the mmap error.
 */
int vb_mem_add_take_fd(struct vb_mem *mem, uint64_t gpa, uint64_t size, uint64_t uva,
		       uint64_t mmap_offset, int fd);

/* Unmap the region that matches gpa and size exactly. Return: 0 or -ENOENT. */
int vb_mem_remove(struct vb_mem *mem, uint64_t gpa, uint64_t size);

/**
 * vb_mem_gpa_to_iov() - translate a guest range into host iovecs
 * A range may span adjacent regions. Return: number of iovecs used, or
 * -EFAULT (outside every region, or wraps), -E2BIG (more than max iovecs).
 */
int vb_mem_gpa_to_iov(const struct vb_mem *mem, uint64_t gpa, uint64_t len, struct iovec *iov,
		      unsigned int max);

/* Whether one region holds [gpa, gpa + len), without the miss hook. */
bool vb_mem_covers(const struct vb_mem *mem, uint64_t gpa, uint64_t len);

/* Host pointer for a range that must lie inside one region, or NULL. */
void *vb_mem_gpa_to_host(const struct vb_mem *mem, uint64_t gpa, uint64_t len);
void *vb_mem_uva_to_host(const struct vb_mem *mem, uint64_t uva, uint64_t len);

/* Guest-physical address of a front-end virtual address, or UINT64_MAX. */
uint64_t vb_mem_uva_to_gpa(const struct vb_mem *mem, uint64_t uva);

#endif
