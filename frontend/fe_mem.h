/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Guest memory of a test VMM: one memfd mapped MAP_SHARED, so the back-end
 * can map the same pages, plus a first-fit page allocator for rings and
 * request buffers inside it.
 */
#ifndef VB_FE_MEM_H
#define VB_FE_MEM_H

#include <stddef.h>
#include <stdint.h>

#define FE_MEM_GPA_BASE 0x100000ull
#define FE_MEM_PAGE 4096u

struct fe_mem {
	int fd;			/* memfd, -1 when not set up */
	uint8_t *va;		/* front-end mapping (userspace_addr) */
	uint64_t size;
	uint64_t gpa;		/* guest-physical address of va[0] */
	uint8_t *used;		/* one byte per page: 0 free, 1 used */
	size_t npages;
};

/**
 * fe_mem_init() - create and map guest memory
 * @mem:	filled on success; left with fd -1 on failure
 * @size:	bytes, rounded up to FE_MEM_PAGE
 * @gpa:	guest-physical base (e.g. FE_MEM_GPA_BASE)
 *
 * Return: 0 or -errno.
 */
int fe_mem_init(struct fe_mem *mem, uint64_t size, uint64_t gpa);

/**
 * fe_mem_fini() - unmap guest memory and close its memfd
 * @mem:	the memory; left with fd -1, so a second call is harmless
 */
void fe_mem_fini(struct fe_mem *mem);

/**
 * fe_mem_alloc() - allocate zeroed, page-aligned guest memory
 * @mem:	the memory
 * @len:	bytes, rounded up to whole pages
 *
 * Return: pointer into the mapping, or NULL when no run of free pages fits.
 */
void *fe_mem_alloc(struct fe_mem *mem, size_t len);

/**
 * fe_mem_free() - give pages back to the allocator
 * @mem:	the memory
 * @p:		what fe_mem_alloc() returned, or NULL
 * @len:	the length it was given
 *
 * A range outside the mapping is ignored.
 */
void fe_mem_free(struct fe_mem *mem, void *p, size_t len);

/**
 * fe_mem_gpa() - guest-physical address of a pointer into guest memory
 * @mem:	the memory
 * @p:		must lie inside the mapping (not checked)
 *
 * Return: the address descriptors carry.
 */
uint64_t fe_mem_gpa(const struct fe_mem *mem, const void *p);

/**
 * fe_mem_uaddr() - front-end virtual address of @p, as vhost-user carries it
 * @p:		a pointer into guest memory
 *
 * Return: @p as the userspace_addr of SET_MEM_TABLE and SET_VRING_ADDR.
 */
static inline uint64_t fe_mem_uaddr(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

#endif
