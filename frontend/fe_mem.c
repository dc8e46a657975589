// SPDX-License-Identifier: GPL-2.0-or-later
/* Guest memory for the front-end: memfd, mapping and page allocator. */
#include "frontend/fe_mem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int fe_mem_init(struct fe_mem *mem, uint64_t size, uint64_t gpa)
{
	int ret;

	memset(mem, 0, sizeof(*mem));
	mem->fd = -1;
	size = (size + FE_MEM_PAGE - 1) & ~(uint64_t)(FE_MEM_PAGE - 1);
	if (!size)
		return -EINVAL;

	mem->npages = size / FE_MEM_PAGE;
	mem->used = calloc(mem->npages, 1);
	if (!mem->used)
		return -ENOMEM;

	mem->fd = memfd_create("vblkd-fe-guest", MFD_CLOEXEC);
	if (mem->fd < 0) {
		ret = -errno;
		goto err_free_used;
	}
	if (ftruncate(mem->fd, (off_t)size)) {
		ret = -errno;
		goto err_close_fd;
	}
	mem->va = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, mem->fd, 0);
	if (mem->va == MAP_FAILED) {
		ret = -errno;
		goto err_close_fd;
	}
	mem->size = size;
	mem->gpa = gpa;
	return 0;

err_close_fd:
	close(mem->fd);
	mem->fd = -1;
err_free_used:
	free(mem->used);
	mem->used = NULL;
	mem->va = NULL;
	return ret;
}

void fe_mem_fini(struct fe_mem *mem)
{
	if (mem->va)
		munmap(mem->va, mem->size);
	if (mem->fd >= 0)
		close(mem->fd);
	free(mem->used);
	memset(mem, 0, sizeof(*mem));
	mem->fd = -1;
}

static size_t fe_mem_pages(size_t len)
{
	return (len + FE_MEM_PAGE - 1) / FE_MEM_PAGE;
}

void *fe_mem_alloc(struct fe_mem *mem, size_t len)
{
	size_t n = fe_mem_pages(len ? len : 1);
	size_t run = 0;

	for (size_t i = 0; i < mem->npages; i++) {
		run = mem->used[i] ? 0 : run + 1;
		if (run < n)
			continue;

		size_t first = i + 1 - n;
		uint8_t *p = mem->va + first * FE_MEM_PAGE;

		memset(mem->used + first, 1, n);
		memset(p, 0, n * FE_MEM_PAGE);
		return p;
	}
	return NULL;
}

void fe_mem_free(struct fe_mem *mem, void *p, size_t len)
{
	size_t first, n = fe_mem_pages(len ? len : 1);

	if (!p)
		return;
	first = (size_t)((uint8_t *)p - mem->va) / FE_MEM_PAGE;
	if (first + n > mem->npages)
		return;
	memset(mem->used + first, 0, n);
}

uint64_t fe_mem_gpa(const struct fe_mem *mem, const void *p)
{
	return mem->gpa + (uint64_t)((const uint8_t *)p - mem->va);
}
