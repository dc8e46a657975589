// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the split-ring walker (core/virtq.c) over a fake guest
 * memory map whose contents are the input: descriptor tables, indirect
 * tables, chains, loops, avail and used rings, and an in-flight region.
 * Each region is its own heap buffer of exactly its size, so ASan sees any
 * access past one; every iovec the walker returns must lie inside one
 * region and match the guest address it reports.
 *
 * Input: u8 flags (bits 0-3: log2 of the ring size, which vb_vq_map() may
 * refuse; 4: indirect; 5: EVENT_IDX; 6: an in-flight region follows the
 * memory), u8 max_chain / 4, u16 desc, avail and used offsets from the
 * map's first virtual address (aligned as vb_ring_set_addrs() demands),
 * then the bytes of the regions in order, then the in-flight region.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/virtq.h"
#include "fuzz_util.h"

#define UVA_BASE 0x7f0000000000ull

/* Guest memory: two adjacent regions (a chain may span them) and one past a hole. */
static const struct {
	uint64_t gpa, size;
} layout[] = { { 0x0, 0x1000 }, { 0x1000, 0x1000 }, { 0x8000, 0x1000 } };
#define NREG (sizeof(layout) / sizeof(layout[0]))

static uint8_t *buf[NREG];
static struct vb_mem mem;
static struct vb_chain chain;
static uint16_t heads[VB_VQ_MAX_SIZE];

static void setup(void)
{
	vb_log_level = -1;
	vb_mem_init(&mem);
	for (unsigned int i = 0; i < NREG; i++) {
		struct vb_mem_region *r = &mem.regions[i];

		buf[i] = malloc(layout[i].size);
		if (!buf[i])
			abort();
		r->gpa = layout[i].gpa;
		r->size = layout[i].size;
		r->uva = UVA_BASE + layout[i].gpa;
		r->host = buf[i];
	}
	mem.nregions = NREG;
}

/* The walker's results stay within the map and agree with their guest addresses. */
static void check_chain(const struct vb_chain *c, uint16_t num)
{
	if (c->head >= num || c->niov > VB_MAX_IOV || c->nout > c->niov)
		abort();
	for (unsigned int i = 0; i < c->niov; i++) {
		const uint8_t *b = c->iov[i].iov_base;
		size_t len = c->iov[i].iov_len;
		unsigned int r;

		for (r = 0; r < NREG; r++)
			if (b >= buf[r] && len <= layout[r].size &&
			    b - buf[r] <= (long)(layout[r].size - len))
				break;
		if (r == NREG || !len)
			abort();
		if (vb_mem_gpa_to_host(&mem, c->gpa[i], len) != b)
			abort();
	}
}

static struct vb_inflight_queue *inflight_of(uint16_t num, const uint8_t **data, size_t *size,
					     struct vb_vq *vq)
{
	size_t len = vb_inflight_queue_size(num);
	struct vb_inflight_queue *q = malloc(len);
	int n;

	if (!q)
		abort();
	fuzz_take(data, size, q, len);
	n = vb_inflight_recover(q, num, vq->used->idx, heads, &vq->inflight_counter);
	for (int i = 0; i < n; i++)
		if (n > num || heads[i] >= num)
			abort();
	if (n < 0) {
		free(q);
		return NULL;
	}
	return q;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vb_vq vq = { 0 };
	struct vb_vq_addrs addrs = { 0 };
	uint8_t hdr[8];
	uint16_t num, off[3];

	if (!mem.nregions)
		setup();
	if (fuzz_take(&data, &size, hdr, sizeof(hdr)) < sizeof(hdr))
		return 0;
	num = (uint16_t)(1u << (hdr[0] & 0xf));
	vq.indirect = hdr[0] & 0x10;
	vq.event_idx = hdr[0] & 0x20;
	vq.max_chain = (uint16_t)(hdr[1] * 4);
	memcpy(off, hdr + 2, sizeof(off));
	addrs.desc_uva = UVA_BASE + (off[0] & ~15u);
	addrs.avail_uva = UVA_BASE + (off[1] & ~1u);
	addrs.used_uva = UVA_BASE + (off[2] & ~3u);
	for (unsigned int i = 0; i < NREG; i++)
		fuzz_take(&data, &size, buf[i], layout[i].size);
	if (vb_vq_map(&vq, &mem, num, &addrs))
		return 0;
	if (hdr[0] & 0x40)
		vq.inflight = inflight_of(num, &data, &size, &vq);

	/* Serve the ring as a worker would, a bounded number of heads. */
	for (unsigned int i = 0; i <= num; i++) {
		uint16_t head;
		int ret = vb_vq_pop(&vq, &head);

		if (ret <= 0)
			break;
		if (head >= num)
			abort();
		if (vb_vq_walk(&vq, head, &chain))
			continue; /* a ring would now raise NEEDS_RESET */
		check_chain(&chain, num);
		vb_vq_push(&vq, head, (uint32_t)chain.niov);
		vb_vq_should_notify(&vq);
	}
	vb_vq_arm(&vq);
	free(vq.inflight);
	return 0;
}
