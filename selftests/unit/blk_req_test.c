// SPDX-License-Identifier: GPL-2.0-or-later
/* virtio-blk request decoding: types, ranges, read-only, odd layouts. */
#include "kselftest_harness.h"

#include <endian.h>
#include <linux/virtio_blk.h>

#include "devices/blk/blk_req.h"

#define CAP 2048 /* sectors */

FIXTURE(req) {
	uint8_t hdr[16];
	uint8_t data[4096];
	uint8_t status;
	struct blk_req r;
	struct blk_limits lim;
};

FIXTURE_SETUP(req)
{
	self->lim = (struct blk_limits){ .capacity = CAP, .lbs_sectors = 1,
					 .serial = "serial-123\0\0\0\0\0\0\0\0\0" };
}

FIXTURE_TEARDOWN(req)
{
}

/* Build header + data (readable or writable) + status. */
static void build(struct blk_req *r, uint8_t *hdr, uint32_t type, uint64_t sector, void *data,
		  size_t len, bool data_writable, uint8_t *status)
{
	struct virtio_blk_outhdr h = { .type = htole32(type), .sector = htole64(sector) };
	struct vb_chain *c = &r->vreq.chain;

	memcpy(hdr, &h, sizeof(h));
	memset(r, 0, sizeof(*r));
	c->iov[c->niov++] = (struct iovec){ hdr, 16 };
	if (len && !data_writable)
		c->iov[c->niov++] = (struct iovec){ data, len };
	c->nout = c->niov;
	if (len && data_writable)
		c->iov[c->niov++] = (struct iovec){ data, len };
	c->iov[c->niov++] = (struct iovec){ status, 1 };
}

TEST_F(req, a_read_in_range_is_submitted_with_its_data_buffers)
{
	build(&self->r, self->hdr, VIRTIO_BLK_T_IN, 8, self->data, 4096, true, &self->status);
	ASSERT_EQ(VIRTIO_BLK_S_OK, blk_req_parse(&self->r, &self->lim));
	EXPECT_EQ(VB_BIO_READ, self->r.io.op);
	EXPECT_EQ(8 * 512, self->r.io.offset);
	EXPECT_EQ(4096, self->r.io.len);
	EXPECT_EQ(4097, self->r.written);
	EXPECT_EQ(&self->status, self->r.status);
}

TEST_F(req, a_write_past_the_end_gets_ioerr)
{
	build(&self->r, self->hdr, VIRTIO_BLK_T_OUT, CAP - 7, self->data, 4096, false,
	      &self->status);
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, blk_req_parse(&self->r, &self->lim));
	build(&self->r, self->hdr, VIRTIO_BLK_T_OUT, UINT64_MAX, self->data, 512, false,
	      &self->status);
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, blk_req_parse(&self->r, &self->lim));
}

TEST_F(req, a_write_to_a_read_only_disk_gets_ioerr)
{
	self->lim.read_only = true;
	build(&self->r, self->hdr, VIRTIO_BLK_T_OUT, 0, self->data, 512, false, &self->status);
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, blk_req_parse(&self->r, &self->lim));
}

TEST_F(req, a_read_that_is_not_whole_sectors_gets_ioerr)
{
	build(&self->r, self->hdr, VIRTIO_BLK_T_IN, 0, self->data, 100, true, &self->status);
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, blk_req_parse(&self->r, &self->lim));
}

TEST_F(req, get_id_copies_the_serial)
{
	build(&self->r, self->hdr, VIRTIO_BLK_T_GET_ID, 0, self->data, 20, true, &self->status);
	ASSERT_EQ(VIRTIO_BLK_S_OK, blk_req_parse(&self->r, &self->lim));
	EXPECT_EQ(VB_BIO_NONE, self->r.io.op);
	EXPECT_EQ(0, memcmp(self->data, "serial-123", 11));
	EXPECT_EQ(21, self->r.written);
}

TEST_F(req, an_unknown_type_gets_unsupp)
{
	build(&self->r, self->hdr, 77, 0, NULL, 0, false, &self->status);
	EXPECT_EQ(VIRTIO_BLK_S_UNSUPP, blk_req_parse(&self->r, &self->lim));
}

TEST_F(req, write_zeroes_with_unmap_punches_a_hole)
{
	struct virtio_blk_discard_write_zeroes seg = {
		.sector = htole64(16), .num_sectors = htole32(8),
		.flags = htole32(VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP),
	};

	build(&self->r, self->hdr, VIRTIO_BLK_T_WRITE_ZEROES, 0, &seg, sizeof(seg), false,
	      &self->status);
	ASSERT_EQ(VIRTIO_BLK_S_OK, blk_req_parse(&self->r, &self->lim));
	EXPECT_EQ(VB_BIO_WRITE_ZEROES, self->r.io.op);
	EXPECT_TRUE(self->r.io.unmap);
	EXPECT_EQ(16 * 512, self->r.io.offset);
	EXPECT_EQ(8 * 512, self->r.io.len);
}

TEST_F(req, discard_with_flags_or_two_segments_gets_unsupp)
{
	struct virtio_blk_discard_write_zeroes seg[2] = {
		{ .sector = htole64(0), .num_sectors = htole32(8), .flags = htole32(1) },
	};

	build(&self->r, self->hdr, VIRTIO_BLK_T_DISCARD, 0, seg, sizeof(seg[0]), false,
	      &self->status);
	EXPECT_EQ(VIRTIO_BLK_S_UNSUPP, blk_req_parse(&self->r, &self->lim));
	seg[0].flags = 0;
	build(&self->r, self->hdr, VIRTIO_BLK_T_DISCARD, 0, seg, sizeof(seg), false,
	      &self->status);
	EXPECT_EQ(VIRTIO_BLK_S_UNSUPP, blk_req_parse(&self->r, &self->lim));
}

TEST_F(req, a_chain_without_a_status_byte_breaks_the_queue)
{
	build(&self->r, self->hdr, VIRTIO_BLK_T_FLUSH, 0, NULL, 0, false, &self->status);
	self->r.vreq.chain.niov = 1; /* only the header */
	EXPECT_EQ(-EBADMSG, blk_req_parse(&self->r, &self->lim));
}

TEST_F(req, a_header_split_across_buffers_is_read_whole)
{
	struct virtio_blk_outhdr h = { .type = htole32(VIRTIO_BLK_T_IN), .sector = htole64(3) };
	struct vb_chain *c = &self->r.vreq.chain;

	memset(&self->r, 0, sizeof(self->r));
	memcpy(self->hdr, &h, sizeof(h));
	c->iov[0] = (struct iovec){ self->hdr, 5 };
	c->iov[1] = (struct iovec){ self->hdr + 5, 11 };
	c->iov[2] = (struct iovec){ self->data, 513 }; /* data and status in one buffer */
	c->nout = 2;
	c->niov = 3;
	ASSERT_EQ(VIRTIO_BLK_S_OK, blk_req_parse(&self->r, &self->lim));
	EXPECT_EQ(3 * 512, self->r.io.offset);
	EXPECT_EQ(512, self->r.io.len);
	EXPECT_EQ(&self->data[512], self->r.status);
}

TEST_HARNESS_MAIN
