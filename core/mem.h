/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Guest memory map: regions shared by the front-end (fd + offset), indexed by
 * guest-physical address for descriptors and by front-end virtual address
 * for vring addresses. Regions are removed only while no ring is started;
 * a transport that maps on demand (VDUSE's IOTLB) adds them while rings run.
 */
#ifndef VB_MEM_H
#define VB_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define VB_MEM_MAX_REGIONS 32

/*
 * A shared mapping of a file a front-end handed over. Unless the file is
 * sealed against shrinking, it is guarded (core/sigbus_guard.h): a
 * truncation after the hand-over turns the next touch into a dead mapping
 * instead of a SIGBUS that kills the daemon.
 */
struct vb_map {
	void *base; /* NULL: not mapped */
	size_t len;
	uint8_t *at; /* the byte at the offset asked for */
	int guard; /* sigbus slot, -1: none (sealed, or not mapped) */
};

struct vb_mem_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t uva; /* front-end virtual address */
	uint64_t mmap_offset;
	struct vb_map map;
	uint8_t *host; /* map.at: the byte at gpa */
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

/**
 * vb_fd_size() - how many bytes a file a front-end handed over holds
 * @fd:		the file (not consumed)
 * @size:	out: the size of a regular file (memfd, tmpfs, hugetlbfs, shm)
 *		or of a block device (BLKGETSIZE64); UINT64_MAX for anything
 *		else (character devices, anonymous inodes such as VDUSE's
 *		bounce buffer), whose driver's mmap checks its own bounds
 *
 * Return: 0, or the fstat or ioctl error.
 */
int vb_fd_size(int fd, uint64_t *size);

/**
 * vb_fd_covers() - whether a file holds a range before it is mapped
 * @fd:		the file a front-end handed over (not consumed)
 * @offset:	first byte of the range
 * @size:	bytes
 *
 * Mapping past the end of a file a front-end handed us would SIGBUS on
 * first touch: see vb_fd_size() for what is measured.
 * Return: 0, -EINVAL when the range wraps or the file is shorter than
 * @offset + @size, or the vb_fd_size() error.
 */
int vb_fd_covers(int fd, uint64_t offset, uint64_t size);

/**
 * vb_map_fd() - map part of a file a front-end handed over, guarded
 * @m:		out: the mapping; left unmapped (base NULL, guard -1) on failure
 * @fd:		the file (not consumed)
 * @offset:	first byte wanted
 * @len:	bytes wanted
 * @what:	names the mapping in log lines ("memory region", "dirty log")
 *
 * Checks that the file holds the range, maps it shared and read-write from
 * the page that holds @offset, and guards it against a later truncation
 * unless the file carries F_SEAL_SHRINK (noted in the debug log). The
 * "mmap" fault (core/failpoint.h) fails the mapping with -ENOMEM.
 * Return: 0, -EINVAL for an empty or wrapping range or a file too short
 * (logged), or the fstat, mmap or guard error.
 */
int vb_map_fd(struct vb_map *m, int fd, uint64_t offset, uint64_t len, const char *what);

/**
 * vb_unmap() - stop guarding and unmap
 * @m:		a mapping, mapped or not; left unmapped
 */
void vb_unmap(struct vb_map *m);

/**
 * vb_map_dead() - whether the file shrank under the mapping
 * @m:		the mapping
 *
 * Return: true once a touch past the file's end replaced the mapping.
 */
bool vb_map_dead(const struct vb_map *m);

/**
 * vb_mem_init() - an empty map with no miss hook
 * @mem:	the map
 */
void vb_mem_init(struct vb_mem *mem);

/**
 * vb_mem_clear() - unmap every region
 * @mem:	the map; no ring may be started
 *
 * The miss hook stays.
 */
void vb_mem_clear(struct vb_mem *mem);

/**
 * vb_mem_overlaps() - whether a region overlaps a guest range
 * @mem:	the map
 * @gpa:	first guest-physical byte
 * @size:	bytes
 */
bool vb_mem_overlaps(const struct vb_mem *mem, uint64_t gpa, uint64_t size);

/**
 * vb_mem_remove_overlapping() - unmap the regions that overlap a guest range
 * @mem:	the map; no ring may be started
 * @gpa:	first guest-physical byte
 * @size:	bytes
 *
 * Return: how many regions were removed.
 */
unsigned int vb_mem_remove_overlapping(struct vb_mem *mem, uint64_t gpa, uint64_t size);

/**
 * vb_mem_add_take_fd() - map a region; the fd is always consumed
 * @mem:	the map
 * @gpa:	guest-physical address of the region's first byte
 * @size:	bytes
 * @uva:	the front-end's virtual address of the first byte
 * @mmap_offset: where the region starts in the file
 * @fd:		the file; closed on success too (the mapping keeps the memory)
 *
 * Safe while rings run: the region is published to lookups with release
 * after it is filled (VDUSE's IOTLB maps on demand). Concurrent adds are
 * the caller's to serialise.
 * Return: 0, -ENOSPC when full, -EINVAL for an overlapping, empty or
 * wrapping region or a file too short to hold it, or the vb_map_fd()
 * error. The region is guarded against the file shrinking (vb_map_fd());
 * once it did, lookups no longer find the region.
 */
int vb_mem_add_take_fd(struct vb_mem *mem, uint64_t gpa, uint64_t size, uint64_t uva,
		       uint64_t mmap_offset, int fd);

/**
 * vb_mem_remove() - unmap the region that matches a guest range exactly
 * @mem:	the map; no ring may be started
 * @gpa:	the region's guest-physical address
 * @size:	its size
 *
 * Return: 0, or -ENOENT when no region has exactly @gpa and @size.
 */
int vb_mem_remove(struct vb_mem *mem, uint64_t gpa, uint64_t size);

/**
 * vb_mem_gpa_to_iov() - translate a guest range into host iovecs
 * @mem:	the map
 * @gpa:	first guest-physical byte
 * @len:	bytes
 * @iov:	out: up to @max iovecs
 * @max:	room in @iov
 *
 * A range may span adjacent regions. An address no region holds goes to
 * the miss hook, if any, and is looked up once more.
 * Return: number of iovecs used, or -EFAULT (outside every region, or
 * wraps), -E2BIG (more than @max iovecs).
 */
int vb_mem_gpa_to_iov(const struct vb_mem *mem, uint64_t gpa, uint64_t len, struct iovec *iov,
		      unsigned int max);

/**
 * vb_mem_covers() - whether one region holds a guest range
 * @mem:	the map
 * @gpa:	first guest-physical byte
 * @len:	bytes
 *
 * Does not call the miss hook: it asks what is mapped now.
 */
bool vb_mem_covers(const struct vb_mem *mem, uint64_t gpa, uint64_t len);

/**
 * vb_mem_gpa_to_host() - host pointer for a guest range inside one region
 * @mem:	the map
 * @gpa:	first guest-physical byte
 * @len:	bytes; the whole range must lie in the region that holds @gpa
 *
 * An address no region holds goes to the miss hook, if any, and is looked
 * up once more.
 * Return: the pointer, or NULL.
 */
void *vb_mem_gpa_to_host(const struct vb_mem *mem, uint64_t gpa, uint64_t len);

/**
 * vb_mem_uva_to_host() - host pointer for a front-end virtual range
 * @mem:	the map
 * @uva:	first byte, as a front-end virtual address (vring addresses)
 * @len:	bytes; the whole range must lie in one region
 *
 * Does not call the miss hook, which works on guest-physical addresses.
 * Return: the pointer, or NULL.
 */
void *vb_mem_uva_to_host(const struct vb_mem *mem, uint64_t uva, uint64_t len);

/**
 * vb_mem_uva_to_gpa() - guest-physical address of a front-end virtual one
 * @mem:	the map
 * @uva:	the address
 *
 * Return: the address, or UINT64_MAX when no region holds @uva.
 */
uint64_t vb_mem_uva_to_gpa(const struct vb_mem *mem, uint64_t uva);

#endif
