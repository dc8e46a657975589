// SPDX-License-Identifier: GPL-2.0-or-later
#include "devices/blk/blk_req.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <linux/virtio_blk.h>

#include "core/log.h"

size_t blk_iov_read(const struct iovec *iov, unsigned int n, size_t skip, void *buf, size_t len)
{
	size_t done = 0;

	for (unsigned int i = 0; i < n && done < len; i++) {
		size_t l = iov[i].iov_len, c;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		c = l - skip < len - done ? l - skip : len - done;
		memcpy((uint8_t *)buf + done, (uint8_t *)iov[i].iov_base + skip, c);
		done += c;
		skip = 0;
	}
	return done;
}

/* Copy the iovecs [from, to) of the chain, skipping `skip` bytes, trimming `trim` at the end. */
static int data_slice(struct blk_req *r, unsigned int from, unsigned int to, size_t skip,
		      size_t trim)
{
	const struct vb_chain *c = &r->vreq.chain;
	uint64_t total = 0;

	r->io.niov = 0;
	for (unsigned int i = from; i < to; i++)
		total += c->iov[i].iov_len;
	if (total < skip + trim)
		return -EINVAL;
	total -= skip + trim;
	r->io.len = total;
	for (unsigned int i = from; i < to && total; i++) {
		size_t l = c->iov[i].iov_len;
		uint8_t *base = c->iov[i].iov_base;
		uint64_t gpa = c->gpa[i];

		if (skip >= l) {
			skip -= l;
			continue;
		}
		base += skip;
		gpa += skip;
		l -= skip;
		skip = 0;
		if (l > total)
			l = (size_t)total;
		r->data[r->io.niov] = (struct iovec){ base, l };
		r->data_gpa[r->io.niov++] = gpa;
		total -= l;
	}
	return 0;
}

static bool range_ok(const struct blk_limits *lim, uint64_t sector, uint64_t nsec)
{
	/* One read: an online resize may change it meanwhile (either size is fine). */
	uint64_t cap = atomic_load_explicit(&lim->capacity, memory_order_relaxed);

	return sector <= cap && nsec <= cap - sector;
}

static int parse_rw(struct blk_req *r, const struct blk_limits *lim, uint64_t sector, bool write)
{
	if (r->io.len % BLK_SECTOR || !range_ok(lim, sector, r->io.len / BLK_SECTOR)) {
		vb_err_rl("blk: %s of %llu bytes at sector %llu is out of range or unaligned",
			  write ? "write" : "read", (unsigned long long)r->io.len,
			  (unsigned long long)sector);
		return VIRTIO_BLK_S_IOERR;
	}
	if (write && lim->read_only)
		return VIRTIO_BLK_S_IOERR;
	r->io.op = write ? VB_BIO_WRITE : VB_BIO_READ;
	r->io.offset = sector * BLK_SECTOR;
	if (!write)
		r->written += (uint32_t)r->io.len;
	return VIRTIO_BLK_S_OK;
}

static int parse_discard(struct blk_req *r, const struct blk_limits *lim)
{
	struct virtio_blk_discard_write_zeroes seg;
	bool zeroes = r->type == VIRTIO_BLK_T_WRITE_ZEROES;
	uint32_t allowed = zeroes ? VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0;
	uint64_t sector;
	uint32_t nsec, flags;

	/* max_discard_seg and max_write_zeroes_seg are 1. */
	if (r->io.len != sizeof(seg))
		return VIRTIO_BLK_S_UNSUPP;
	blk_iov_read(r->data, r->io.niov, 0, &seg, sizeof(seg));
	sector = le64toh(seg.sector);
	nsec = le32toh(seg.num_sectors);
	flags = le32toh(seg.flags);
	if (flags & ~allowed)
		return VIRTIO_BLK_S_UNSUPP;
	if (!range_ok(lim, sector, nsec) || nsec > BLK_MAX_DISCARD_SECTORS ||
	    sector % lim->lbs_sectors || nsec % lim->lbs_sectors) {
		vb_err_rl("blk: %s of %u sectors at %llu is out of range or unaligned",
			  zeroes ? "write-zeroes" : "discard", nsec, (unsigned long long)sector);
		return VIRTIO_BLK_S_IOERR;
	}
	if (lim->read_only)
		return VIRTIO_BLK_S_IOERR;
	r->io.op = zeroes ? VB_BIO_WRITE_ZEROES : VB_BIO_DISCARD;
	r->io.offset = sector * BLK_SECTOR;
	r->io.len = (uint64_t)nsec * BLK_SECTOR;
	r->io.unmap = flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
	if (!nsec)
		r->io.op = VB_BIO_NONE;
	return VIRTIO_BLK_S_OK;
}

static int get_id(struct blk_req *r, const struct blk_limits *lim)
{
	size_t left = r->io.len < BLK_SERIAL_LEN ? (size_t)r->io.len : BLK_SERIAL_LEN;
	size_t off = 0;

	for (unsigned int i = 0; i < r->io.niov && left; i++) {
		size_t c = r->data[i].iov_len < left ? r->data[i].iov_len : left;

		memcpy(r->data[i].iov_base, lim->serial + off, c);
		off += c;
		left -= c;
	}
	r->written += (uint32_t)off;
	return VIRTIO_BLK_S_OK;
}

int blk_req_parse(struct blk_req *r, const struct blk_limits *lim)
{
	const struct vb_chain *c = &r->vreq.chain;
	struct virtio_blk_outhdr hdr;
	uint64_t sector;
	const struct iovec *last;
	int ret;

	r->io.op = VB_BIO_NONE;
	r->io.req = &r->vreq;
	r->io.iov = r->data;
	r->io.fua = false;
	r->written = 1;
	if (c->nout == 0 || c->niov == c->nout ||
	    blk_iov_read(c->iov, c->nout, 0, &hdr, sizeof(hdr)) != sizeof(hdr)) {
		vb_err_rl("blk: request at head %u has no header or no status byte", c->head);
		return -EBADMSG;
	}
	last = &c->iov[c->niov - 1];
	if (!last->iov_len) {
		vb_err_rl("blk: request at head %u ends with an empty buffer", c->head);
		return -EBADMSG;
	}
	r->status = (uint8_t *)last->iov_base + last->iov_len - 1;
	r->status_gpa = c->gpa[c->niov - 1] + last->iov_len - 1;
	r->type = le32toh(hdr.type);
	sector = le64toh(hdr.sector);

	switch (r->type) {
	case VIRTIO_BLK_T_IN:
		ret = data_slice(r, c->nout, c->niov, 0, 1);
		return ret ? -EBADMSG : parse_rw(r, lim, sector, false);
	case VIRTIO_BLK_T_OUT:
		data_slice(r, 0, c->nout, sizeof(hdr), 0);
		return parse_rw(r, lim, sector, true);
	case VIRTIO_BLK_T_FLUSH:
		r->io.op = VB_BIO_FLUSH;
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_GET_ID:
		ret = data_slice(r, c->nout, c->niov, 0, 1);
		return ret ? -EBADMSG : get_id(r, lim);
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		data_slice(r, 0, c->nout, sizeof(hdr), 0);
		return parse_discard(r, lim);
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}
