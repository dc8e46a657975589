/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A small guest memory (memfd) with one split ring at fixed addresses, for unit tests. */
#ifndef VB_VQ_TEST_MEM_H
#define VB_VQ_TEST_MEM_H

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/virtq.h"

#define TM_GPA 0x100000ull
#define TM_UVA 0x7f0000000000ull
#define TM_SIZE (1u << 20)
#define TM_NUM 8
#define TM_DESC 0x0
#define TM_AVAIL 0x1000
#define TM_USED 0x2000
#define TM_DATA 0x10000

struct test_mem {
	struct vb_mem mem;
	struct vb_vq vq;
	uint8_t *host;
};

static inline int test_mem_init(struct test_mem *t)
{
	struct vb_vq_addrs a = {
		.desc_uva = TM_UVA + TM_DESC,
		.avail_uva = TM_UVA + TM_AVAIL,
		.used_uva = TM_UVA + TM_USED,
	};
	int fd = memfd_create("vq-test", MFD_CLOEXEC);

	if (fd < 0 || ftruncate(fd, TM_SIZE))
		return -1;
	memset(t, 0, sizeof(*t));
	vb_mem_init(&t->mem);
	if (vb_mem_add_take_fd(&t->mem, TM_GPA, TM_SIZE, TM_UVA, 0, fd))
		return -1;
	t->host = t->mem.regions[0].host;
	return vb_vq_map(&t->vq, &t->mem, TM_NUM, &a);
}

static inline struct vring_desc *tm_desc(struct test_mem *t, unsigned int i)
{
	return (struct vring_desc *)(t->host + TM_DESC) + i;
}

static inline void tm_set_desc(struct test_mem *t, unsigned int i, uint64_t gpa, uint32_t len,
			       uint16_t flags, uint16_t next)
{
	*tm_desc(t, i) = (struct vring_desc){ .addr = gpa, .len = len, .flags = flags, .next = next };
}

/* Make head available to the device. */
static inline void tm_publish(struct test_mem *t, uint16_t head)
{
	struct vring_avail *av = (struct vring_avail *)(t->host + TM_AVAIL);

	av->ring[av->idx % TM_NUM] = head;
	__atomic_store_n(&av->idx, av->idx + 1, __ATOMIC_RELEASE);
}

static inline void test_mem_fini(struct test_mem *t)
{
	vb_mem_clear(&t->mem);
}

#endif
