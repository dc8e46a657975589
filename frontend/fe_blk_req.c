// SPDX-License-Identifier: GPL-2.0-or-later
/* virtio-blk driver of the test front-end: requests and completions, on either transport. */
#include "frontend/fe_blk.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Header at 0, discard/write-zeroes segment at 32, status byte at 64. */
#define FE_BLK_SEG_OFF 32
#define FE_BLK_STATUS_OFF 64

static int64_t fe_blk_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void fe_blk_req_free(struct fe_blk *blk, struct fe_blk_req *req)
{
	if (!req)
		return;
	/* A request still on the ring keeps its memory: the device may write it. */
	if (!req->done && req->head >= 0)
		return;
	fe_mem_free(&blk->mem, req->data, req->data_len);
	fe_mem_free(&blk->mem, req->hdr, FE_MEM_PAGE);
	free(req);
}

static int fe_blk_req_alloc(struct fe_blk *blk, unsigned int q, uint32_t type,
			    uint64_t sector, size_t data_len, struct fe_blk_req **out)
{
	struct fe_blk_req *req;

	if (q >= blk->num_queues || data_len > UINT32_MAX)
		return -EINVAL;
	req = calloc(1, sizeof(*req));
	if (!req)
		return -ENOMEM;
	req->queue = q;
	req->type = type;
	req->head = -1;
	req->hdr = fe_mem_alloc(&blk->mem, FE_MEM_PAGE);
	if (!req->hdr)
		goto err_free;
	if (data_len) {
		req->data = fe_mem_alloc(&blk->mem, data_len);
		if (!req->data)
			goto err_free;
		req->data_len = data_len;
	}
	req->hdr->type = htole32(type);
	req->hdr->ioprio = 0;
	req->hdr->sector = htole64(sector);
	req->status_byte = (uint8_t *)req->hdr + FE_BLK_STATUS_OFF;
	*req->status_byte = 0xff;	/* so an untouched status shows */
	*out = req;
	return 0;

err_free:
	fe_mem_free(&blk->mem, req->hdr, FE_MEM_PAGE);
	free(req);
	return -ENOMEM;
}

/* Chain: header, then @mid (may be NULL), then the status byte; kick. */
static int fe_blk_queue(struct fe_blk *blk, struct fe_blk_req *req,
			const struct fe_vq_buf *mid)
{
	struct fe_vq *vq = &blk->vqs[req->queue];
	struct fe_vq_buf bufs[3];
	unsigned int n = 0;
	int head;

	bufs[n++] = (struct fe_vq_buf){ req->hdr, sizeof(*req->hdr), false };
	if (mid)
		bufs[n++] = *mid;
	bufs[n++] = (struct fe_vq_buf){ req->status_byte, 1, true };

	head = fe_vq_add(vq, bufs, n, req);
	if (head < 0)
		return head;
	req->head = head;
	return fe_vq_kick(vq);
}

static int fe_blk_submit(struct fe_blk *blk, struct fe_blk_req *req,
			 const struct fe_vq_buf *mid, struct fe_blk_req **out)
{
	int ret;

	ret = fe_blk_queue(blk, req, mid);
	if (ret && req->head < 0) {
		fe_blk_req_free(blk, req);
		return ret;
	}
	*out = req;	/* a failed kick leaves the request on the ring */
	return ret;
}

int fe_blk_submit_read(struct fe_blk *blk, unsigned int q, uint64_t sector, size_t len,
		       struct fe_blk_req **out)
{
	struct fe_blk_req *req;
	struct fe_vq_buf data;
	int ret;

	ret = fe_blk_req_alloc(blk, q, VIRTIO_BLK_T_IN, sector, len, &req);
	if (ret)
		return ret;
	data = (struct fe_vq_buf){ req->data, (uint32_t)len, true };
	return fe_blk_submit(blk, req, &data, out);
}

int fe_blk_submit_write(struct fe_blk *blk, unsigned int q, uint64_t sector, const void *buf,
			size_t len, struct fe_blk_req **out)
{
	struct fe_blk_req *req;
	struct fe_vq_buf data;
	int ret;

	ret = fe_blk_req_alloc(blk, q, VIRTIO_BLK_T_OUT, sector, len, &req);
	if (ret)
		return ret;
	memcpy(req->data, buf, len);
	data = (struct fe_vq_buf){ req->data, (uint32_t)len, false };
	return fe_blk_submit(blk, req, &data, out);
}

int fe_blk_submit_flush(struct fe_blk *blk, unsigned int q, struct fe_blk_req **out)
{
	struct fe_blk_req *req;
	int ret;

	ret = fe_blk_req_alloc(blk, q, VIRTIO_BLK_T_FLUSH, 0, 0, &req);
	if (ret)
		return ret;
	return fe_blk_submit(blk, req, NULL, out);
}

static int fe_blk_submit_range(struct fe_blk *blk, unsigned int q, uint32_t type,
			       uint64_t sector, uint32_t nsectors, uint32_t flags,
			       struct fe_blk_req **out)
{
	struct virtio_blk_discard_write_zeroes *seg;
	struct fe_blk_req *req;
	struct fe_vq_buf mid;
	int ret;

	ret = fe_blk_req_alloc(blk, q, type, 0, 0, &req);
	if (ret)
		return ret;
	seg = (void *)((uint8_t *)req->hdr + FE_BLK_SEG_OFF);
	seg->sector = htole64(sector);
	seg->num_sectors = htole32(nsectors);
	seg->flags = htole32(flags);
	mid = (struct fe_vq_buf){ seg, sizeof(*seg), false };
	return fe_blk_submit(blk, req, &mid, out);
}

int fe_blk_submit_discard(struct fe_blk *blk, unsigned int q, uint64_t sector,
			  uint32_t nsectors, struct fe_blk_req **out)
{
	return fe_blk_submit_range(blk, q, VIRTIO_BLK_T_DISCARD, sector, nsectors, 0, out);
}

int fe_blk_submit_write_zeroes(struct fe_blk *blk, unsigned int q, uint64_t sector,
			       uint32_t nsectors, bool unmap, struct fe_blk_req **out)
{
	return fe_blk_submit_range(blk, q, VIRTIO_BLK_T_WRITE_ZEROES, sector, nsectors,
				   unmap ? VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0, out);
}

int fe_blk_submit_get_id(struct fe_blk *blk, unsigned int q, struct fe_blk_req **out)
{
	struct fe_blk_req *req;
	struct fe_vq_buf data;
	int ret;

	ret = fe_blk_req_alloc(blk, q, VIRTIO_BLK_T_GET_ID, 0, VIRTIO_BLK_ID_BYTES, &req);
	if (ret)
		return ret;
	data = (struct fe_vq_buf){ req->data, VIRTIO_BLK_ID_BYTES, true };
	return fe_blk_submit(blk, req, &data, out);
}

static int fe_blk_collect(struct fe_blk *blk, unsigned int q)
{
	struct fe_vq *vq = &blk->vqs[q];
	struct fe_blk_req *req;
	void *cookie;
	uint32_t len;
	int n = 0, ret;

	while (!(ret = fe_vq_get_used(vq, &cookie, &len))) {
		req = cookie;
		if (!req)
			continue;	/* a raw chain placed by a test */
		req->used_len = len;
		req->status = *(volatile uint8_t *)req->status_byte;
		req->done = true;
		n++;
	}
	if (ret != -EAGAIN)
		return ret;
	return n;
}

int fe_blk_reap(struct fe_blk *blk, unsigned int q, int timeout_ms)
{
	int64_t deadline = fe_blk_now_ms() + timeout_ms;
	int n, ret;

	if (q >= blk->num_queues)
		return -EINVAL;
	for (;;) {
		n = fe_blk_collect(blk, q);
		if (n)
			return n;
		int64_t left = deadline - fe_blk_now_ms();

		if (left <= 0)
			return -ETIMEDOUT;
		ret = fe_vq_wait_call(&blk->vqs[q], (int)left);
		if (ret && ret != -ETIMEDOUT)
			return ret;
	}
}

int fe_blk_wait(struct fe_blk *blk, struct fe_blk_req *req, int timeout_ms)
{
	int64_t deadline = fe_blk_now_ms() + timeout_ms;
	int ret;

	while (!req->done) {
		int64_t left = deadline - fe_blk_now_ms();

		if (left <= 0)
			return -ETIMEDOUT;
		ret = fe_blk_reap(blk, req->queue, (int)left);
		if (ret < 0)
			return ret;
	}
	return 0;
}

#define FE_BLK_SYNC_TIMEOUT_MS 5000

int fe_blk_read(struct fe_blk *blk, unsigned int q, uint64_t sector, void *buf, size_t len)
{
	struct fe_blk_req *req;
	int ret;

	ret = fe_blk_submit_read(blk, q, sector, len, &req);
	if (ret)
		return ret;
	ret = fe_blk_wait(blk, req, FE_BLK_SYNC_TIMEOUT_MS);
	if (!ret) {
		memcpy(buf, req->data, len);
		ret = req->status;
	}
	fe_blk_req_free(blk, req);
	return ret;
}

int fe_blk_write(struct fe_blk *blk, unsigned int q, uint64_t sector, const void *buf,
		 size_t len)
{
	struct fe_blk_req *req;
	int ret;

	ret = fe_blk_submit_write(blk, q, sector, buf, len, &req);
	if (ret)
		return ret;
	ret = fe_blk_wait(blk, req, FE_BLK_SYNC_TIMEOUT_MS);
	if (!ret)
		ret = req->status;
	fe_blk_req_free(blk, req);
	return ret;
}
