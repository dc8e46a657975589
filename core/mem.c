// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/mem.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

void vb_mem_init(struct vb_mem *mem)
{
	memset(mem, 0, sizeof(*mem));
}

static void region_unmap(struct vb_mem_region *r)
{
	vb_unmap(&r->map);
	memset(r, 0, sizeof(*r));
}

static unsigned int nregions(const struct vb_mem *mem)
{
	return __atomic_load_n(&mem->nregions, __ATOMIC_ACQUIRE);
}

void vb_mem_clear(struct vb_mem *mem)
{
	for (unsigned int i = 0; i < mem->nregions; i++)
		region_unmap(&mem->regions[i]);
	__atomic_store_n(&mem->nregions, 0, __ATOMIC_RELEASE);
}

static int ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

int vb_mem_add_take_fd(struct vb_mem *mem, uint64_t gpa, uint64_t size, uint64_t uva,
		       uint64_t mmap_offset, int fd)
{
	struct vb_map map;
	int ret = 0;

	if (mem->nregions == VB_MEM_MAX_REGIONS) {
		ret = -ENOSPC;
		goto out_close;
	}
	if (!size || gpa + size < gpa || uva + size < uva) {
		ret = -EINVAL;
		goto out_close;
	}
	for (unsigned int i = 0; i < mem->nregions; i++) {
		if (ranges_overlap(gpa, size, mem->regions[i].gpa, mem->regions[i].size)) {
			ret = -EINVAL;
			goto out_close;
		}
	}
	ret = vb_map_fd(&map, fd, mmap_offset, size, "memory region");
	if (ret)
		goto out_close;
	mem->regions[mem->nregions] = (struct vb_mem_region){
		.gpa = gpa,
		.size = size,
		.uva = uva,
		.mmap_offset = mmap_offset,
		.map = map,
		.host = map.at,
	};
	__atomic_store_n(&mem->nregions, mem->nregions + 1, __ATOMIC_RELEASE);
out_close:
	close(fd); /* the mapping keeps the memory alive */
	return ret;
}

int vb_mem_remove(struct vb_mem *mem, uint64_t gpa, uint64_t size)
{
	for (unsigned int i = 0; i < mem->nregions; i++) {
		struct vb_mem_region *r = &mem->regions[i];

		if (r->gpa != gpa || r->size != size)
			continue;
		region_unmap(r);
		mem->regions[i] = mem->regions[--mem->nregions];
		memset(&mem->regions[mem->nregions], 0, sizeof(*r));
		return 0;
	}
	return -ENOENT;
}

unsigned int vb_mem_remove_overlapping(struct vb_mem *mem, uint64_t gpa, uint64_t size)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < mem->nregions;) {
		struct vb_mem_region *r = &mem->regions[i];

		if (!ranges_overlap(gpa, size, r->gpa, r->size)) {
			i++;
			continue;
		}
		vb_mem_remove(mem, r->gpa, r->size);
		n++;
	}
	return n;
}

bool vb_mem_overlaps(const struct vb_mem *mem, uint64_t gpa, uint64_t size)
{
	for (unsigned int i = 0; i < mem->nregions; i++)
		if (ranges_overlap(gpa, size, mem->regions[i].gpa, mem->regions[i].size))
			return true;
	return false;
}

static const struct vb_mem_region *lookup_gpa(const struct vb_mem *mem, uint64_t gpa)
{
	unsigned int n = nregions(mem);

	for (unsigned int i = 0; i < n; i++) {
		const struct vb_mem_region *r = &mem->regions[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size)
			return vb_map_dead(&r->map) ? NULL : r;
	}
	return NULL;
}

bool vb_mem_covers(const struct vb_mem *mem, uint64_t gpa, uint64_t len)
{
	const struct vb_mem_region *r = lookup_gpa(mem, gpa);

	return r && len <= r->size - (gpa - r->gpa);
}

static const struct vb_mem_region *find_gpa(const struct vb_mem *mem, uint64_t gpa)
{
	const struct vb_mem_region *r = lookup_gpa(mem, gpa);

	if (!r && mem->miss && !mem->miss(mem->miss_opaque, gpa))
		r = lookup_gpa(mem, gpa);
	return r;
}

int vb_mem_gpa_to_iov(const struct vb_mem *mem, uint64_t gpa, uint64_t len, struct iovec *iov,
		      unsigned int max)
{
	unsigned int n = 0;

	if (gpa + len < gpa)
		return -EFAULT;
	while (len) {
		const struct vb_mem_region *r = find_gpa(mem, gpa);
		uint64_t off, chunk;

		if (!r)
			return -EFAULT;
		if (n == max)
			return -E2BIG;
		off = gpa - r->gpa;
		chunk = r->size - off < len ? r->size - off : len;
		iov[n].iov_base = r->host + off;
		iov[n].iov_len = (size_t)chunk;
		n++;
		gpa += chunk;
		len -= chunk;
	}
	return (int)n;
}

void *vb_mem_gpa_to_host(const struct vb_mem *mem, uint64_t gpa, uint64_t len)
{
	const struct vb_mem_region *r = find_gpa(mem, gpa);

	if (!r || len > r->size - (gpa - r->gpa))
		return NULL;
	return r->host + (gpa - r->gpa);
}

static const struct vb_mem_region *find_uva(const struct vb_mem *mem, uint64_t uva)
{
	unsigned int n = nregions(mem);

	for (unsigned int i = 0; i < n; i++) {
		const struct vb_mem_region *r = &mem->regions[i];

		if (uva >= r->uva && uva - r->uva < r->size)
			return vb_map_dead(&r->map) ? NULL : r;
	}
	return NULL;
}

void *vb_mem_uva_to_host(const struct vb_mem *mem, uint64_t uva, uint64_t len)
{
	const struct vb_mem_region *r = find_uva(mem, uva);

	if (!r || len > r->size - (uva - r->uva))
		return NULL;
	return r->host + (uva - r->uva);
}

uint64_t vb_mem_uva_to_gpa(const struct vb_mem *mem, uint64_t uva)
{
	const struct vb_mem_region *r = find_uva(mem, uva);

	return r ? r->gpa + (uva - r->uva) : UINT64_MAX;
}
