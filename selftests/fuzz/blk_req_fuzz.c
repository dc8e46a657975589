// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the virtio-blk request parser (devices/blk/blk_req.c)
 * on walked chains of any shape, against disks of any geometry. The
 * chain's buffers sit in an arena between poisoned gaps, so ASan sees any
 * access outside one, as it would for heap blocks, without 64 allocations
 * per input. What the parser hands on for I/O must lie in
 * the disk and in the chain's buffers of the right direction.
 *
 * Input: u8 buffers (1-64), u8 readable ones among them, u32 capacity in
 * sectors, u8 flags (bits 0-1: log2 of the logical block size in sectors;
 * 2: read-only), a u16 length per buffer (its low 13 bits), then the
 * buffers' bytes.
 */
#include <errno.h>
#include <linux/virtio_blk.h>
#include <sanitizer/asan_interface.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "devices/blk/blk_req.h"
#include "fuzz_util.h"

#define MAX_BUFS 64
#define MAX_LEN 0x1fff /* a read of 15 sectors in one buffer */
#define GAP 16 /* poisoned bytes around each buffer */

static struct blk_req req;
static uint8_t arena[GAP + MAX_BUFS * (MAX_LEN + 8 + GAP)] __attribute__((aligned(8)));

/* Whether [b, b + len) lies in one of the chain's buffers [from, to). */
static bool inside(const struct vb_chain *c, unsigned int from, unsigned int to, const void *b,
		   size_t len)
{
	for (unsigned int i = from; i < to; i++) {
		const uint8_t *base = c->iov[i].iov_base;

		if ((const uint8_t *)b >= base && len <= c->iov[i].iov_len &&
		    (size_t)((const uint8_t *)b - base) <= c->iov[i].iov_len - len)
			return true;
	}
	return false;
}

static void check(const struct blk_req *r, const struct blk_limits *lim, int ret)
{
	const struct vb_chain *c = &r->vreq.chain;
	const struct iovec *last = &c->iov[c->niov - 1];
	uint64_t writable = 0, sum = 0;
	bool write = r->io.op == VB_BIO_WRITE;

	if (ret == -EBADMSG)
		return;
	if (ret != VIRTIO_BLK_S_OK && ret != VIRTIO_BLK_S_IOERR && ret != VIRTIO_BLK_S_UNSUPP)
		abort();
	if (r->status != (uint8_t *)last->iov_base + last->iov_len - 1)
		abort();
	for (unsigned int i = c->nout; i < c->niov; i++)
		writable += c->iov[i].iov_len;
	if (!r->written || r->written > writable)
		abort();
	if (ret != VIRTIO_BLK_S_OK || r->io.op == VB_BIO_NONE || r->io.op == VB_BIO_FLUSH)
		return;
	if (lim->read_only && r->io.op != VB_BIO_READ)
		abort();
	if (r->io.offset % BLK_SECTOR || r->io.len % BLK_SECTOR ||
	    r->io.offset / BLK_SECTOR > lim->capacity ||
	    r->io.len / BLK_SECTOR > lim->capacity - r->io.offset / BLK_SECTOR)
		abort();
	if (r->io.op == VB_BIO_DISCARD || r->io.op == VB_BIO_WRITE_ZEROES) {
		if (r->io.len > (uint64_t)BLK_MAX_DISCARD_SECTORS * BLK_SECTOR)
			abort();
		return;
	}
	if (r->io.niov > c->niov)
		abort();
	for (unsigned int i = 0; i < r->io.niov; i++) {
		sum += r->data[i].iov_len;
		/* Data never overlaps the header (readable) or the status byte (writable). */
		if (write ? !inside(c, 0, c->nout, r->data[i].iov_base, r->data[i].iov_len) :
			    !inside(c, c->nout, c->niov, r->data[i].iov_base, r->data[i].iov_len) ||
				    ((uint8_t *)r->data[i].iov_base + r->data[i].iov_len >
					     r->status &&
				     (uint8_t *)r->data[i].iov_base <= r->status))
			abort();
	}
	if (sum != r->io.len)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char serial[BLK_SERIAL_LEN] = "fuzz-serial";
	struct vb_chain *c = &req.vreq.chain;
	struct blk_limits lim = { .serial = serial };
	uint16_t lens[MAX_BUFS];
	uint8_t hdr[7];
	uint32_t cap;
	int ret;

	vb_log_level = -1;
	if (fuzz_take(&data, &size, hdr, sizeof(hdr)) < sizeof(hdr))
		return 0;
	memset(c, 0, sizeof(*c));
	c->niov = (uint16_t)(hdr[0] % MAX_BUFS + 1);
	c->nout = (uint16_t)(hdr[1] % (c->niov + 1));
	memcpy(&cap, hdr + 2, sizeof(cap));
	lim.capacity = cap;
	lim.lbs_sectors = 1u << (hdr[6] & 3);
	lim.read_only = hdr[6] & 4;
	fuzz_take(&data, &size, lens, c->niov * sizeof(lens[0]));
	ASAN_UNPOISON_MEMORY_REGION(arena, sizeof(arena));
	ASAN_POISON_MEMORY_REGION(arena, GAP);
	for (unsigned int i = 0, at = GAP; i < c->niov; i++) {
		uint16_t len = lens[i] & MAX_LEN;
		unsigned int next = (at + len + GAP + 7) & ~7u;

		c->iov[i].iov_len = len;
		c->iov[i].iov_base = arena + at;
		c->gpa[i] = 0x100000ull * (i + 1);
		fuzz_take(&data, &size, c->iov[i].iov_base, len);
		ASAN_POISON_MEMORY_REGION(arena + at + len, next - at - len);
		at = next;
	}
	ret = blk_req_parse(&req, &lim);
	check(&req, &lim, ret);
	return 0;
}
