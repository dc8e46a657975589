/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Steps of vdpa_test.c that check as they go: stopping a daemon, I/O with
 * patterns, suspending a device. In a header, static inline, because they
 * use the harness's EXPECT/ASSERT and only one file of a program may include
 * kselftest_harness.h: it defines __run_test() and friends.
 * Include after kselftest_harness.h and host_test.h.
 */
#ifndef VB_VDPA_CHECK_H
#define VB_VDPA_CHECK_H

#include <limits.h>

#include "frontend/fe_ctl.h"
#include "vdpa_util.h"
#include "proto/vduse_abi.h"

#define VT_CHUNK (64u << 10)		/* bytes per request */
#define VT_DEPTH 16			/* requests in flight, over all queues */
#define VT_IO_MS 20000

/*
 * SIGTERM: vblkd removes the device from the bus and exits 0. Every
 * vhost-vdpa fd on the device must be closed first: vhost_vdpa's remove
 * waits for the last one.
 */
static inline void vt_daemon_down(struct __test_metadata *_metadata, struct vt_daemon *d)
{
	char path[PATH_MAX];
	int status = 0, ret;

	if (!d->up)
		return;
	if (d->vd.pid > 0) {
		ret = vd_stop(&d->vd, 15000, &status);
		EXPECT_EQ(0, ret) TH_LOG("%s: stopping vblkd: %s", d->name,
					 ret == -ETIMEDOUT ? "no exit within 15 s of SIGTERM"
							   : strerror(-ret));
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
			TH_LOG("%s: vblkd exit status 0x%x", d->name, status);
		snprintf(path, sizeof(path), VT_SYS_VDPA "/devices/%s", d->name);
		EXPECT_NE(0, access(path, F_OK)) TH_LOG("%s left on the vdpa bus", d->name);
	}
	if (_metadata->exit_code == KSFT_FAIL || getenv("VBLKD_TEST_LOG"))
		vd_dump_log(&d->vd);
	vd_cleanup(&d->vd);
	unlink(d->ctl);
	d->up = false;
}

/* I/O with patterns: chunk i of a run gets host_pattern(seed + i). */

/* Largest request the device takes: its size_max when it has one. */
static inline size_t vt_chunk(const struct fe_blk *blk)
{
	size_t chunk = VT_CHUNK;

	if (blk->features & (1ull << VIRTIO_BLK_F_SIZE_MAX) && blk->config.size_max &&
	    blk->config.size_max < chunk)
		chunk = blk->config.size_max & ~(size_t)(FE_BLK_SECTOR - 1);
	return chunk;
}

/*
 * Write (or, with @verify, read and compare) @bytes from @sector with up to
 * VT_DEPTH requests in flight, spread over every queue. Return: the number of
 * requests, or -1 after a failed expectation.
 */
static inline int vt_io(struct __test_metadata *_metadata, struct fe_blk *blk, uint64_t sector,
			size_t bytes, uint32_t seed, bool verify)
{
	size_t chunk = vt_chunk(blk), nchunks = (bytes + chunk - 1) / chunk;
	struct fe_blk_req *req[VT_DEPTH];
	uint8_t *buf = malloc(chunk);
	int ret, count = 0, failed = 0;

	if (!buf)
		return -1;
	for (size_t first = 0; first < nchunks && !failed; first += VT_DEPTH) {
		unsigned int n = 0;

		for (size_t i = first; i < nchunks && n < VT_DEPTH; i++, n++) {
			uint64_t s = sector + i * (chunk / FE_BLK_SECTOR);
			unsigned int q = (unsigned int)(i % blk->num_queues);

			if (verify) {
				ret = fe_blk_submit_read(blk, q, s, chunk, &req[n]);
			} else {
				host_pattern(buf, chunk, seed + (uint32_t)i);
				ret = fe_blk_submit_write(blk, q, s, buf, chunk, &req[n]);
			}
			EXPECT_EQ(0, ret) TH_LOG("submit %s of chunk %zu: %s",
						 verify ? "read" : "write", i, strerror(-ret));
			if (ret) {
				failed = 1;
				break;
			}
		}
		for (unsigned int k = 0; k < n; k++) {
			size_t i = first + k;

			ret = fe_blk_wait(blk, req[k], VT_IO_MS);
			EXPECT_EQ(0, ret) TH_LOG("chunk %zu never completed: %s", i, strerror(-ret));
			if (ret) {
				failed = 1;	/* the request stays on the ring, with its memory */
				continue;
			}
			EXPECT_EQ(VIRTIO_BLK_S_OK, req[k]->status) TH_LOG("chunk %zu", i);
			if (req[k]->status != VIRTIO_BLK_S_OK)
				failed = 1;
			if (verify && req[k]->status == VIRTIO_BLK_S_OK) {
				host_pattern(buf, chunk, seed + (uint32_t)i);
				EXPECT_EQ(0, memcmp(buf, req[k]->data, chunk))
					TH_LOG("chunk %zu (sector %llu) reads back wrong", i,
					       (unsigned long long)(sector + i * (chunk / FE_BLK_SECTOR)));
				if (memcmp(buf, req[k]->data, chunk))
					failed = 1;
			}
			fe_blk_req_free(blk, req[k]);
			count++;
		}
	}
	free(buf);
	return failed ? -1 : count;
}

/* GET_ID and FLUSH on queue @q: both OK. */
static inline void vt_get_id_and_flush(struct __test_metadata *_metadata, struct fe_blk *blk,
				       unsigned int q)
{
	char id[VIRTIO_BLK_ID_BYTES + 1] = "";
	struct fe_blk_req *req;

	ASSERT_EQ(0, fe_blk_submit_get_id(blk, q, &req));
	ASSERT_EQ(0, fe_blk_wait(blk, req, VT_IO_MS));
	EXPECT_EQ(VIRTIO_BLK_S_OK, req->status);
	memcpy(id, req->data, VIRTIO_BLK_ID_BYTES);
	vt_note("GET_ID on queue %u: status %u, \"%s\"", q, req->status, id);
	fe_blk_req_free(blk, req);

	if (!(blk->features & (1ull << VIRTIO_BLK_F_FLUSH)))
		return;
	ASSERT_EQ(0, fe_blk_submit_flush(blk, q, &req));
	ASSERT_EQ(0, fe_blk_wait(blk, req, VT_IO_MS));
	EXPECT_EQ(VIRTIO_BLK_S_OK, req->status);
	fe_blk_req_free(blk, req);
}

/*
 * Suspend a device a vhost-vdpa client drives: the kernel's suspend when
 * vhost-vdpa offers it, else the compat endpoint (then only reading the
 * bases). Either way the control socket's GET_VRING_BASE must agree with
 * VHOST_GET_VRING_BASE. Return: the time it took (us).
 */
static inline int64_t vt_suspend(struct __test_metadata *_metadata, struct fe_blk *blk,
				 struct vt_daemon *d, bool *kernel)
{
	uint16_t ctl_bases[FE_BLK_MAX_QUEUES];
	int64_t t0 = vt_now_us(), t1;
	int ret;

	*kernel = blk->vdpa.backend_acked & (1ull << VHOST_BACKEND_F_SUSPEND);
	if (*kernel) {
		ret = fe_blk_suspend(blk);
		t1 = vt_now_us();
		EXPECT_EQ(0, ret) TH_LOG("VHOST_VDPA_SUSPEND + GET_VRING_BASE: %s", strerror(-ret));
		ret = fe_ctl_suspend(d->ctl, blk->num_queues, ctl_bases);
		EXPECT_EQ(0, ret) TH_LOG("compat endpoint after a kernel suspend: %s",
					 strerror(-ret));
	} else {
		ret = fe_ctl_suspend(d->ctl, blk->num_queues, ctl_bases);
		EXPECT_EQ(0, ret) TH_LOG("compat endpoint suspend: %s", strerror(-ret));
		ret = fe_blk_suspend(blk);
		t1 = vt_now_us();
		EXPECT_EQ(0, ret) TH_LOG("VHOST_GET_VRING_BASE: %s", strerror(-ret));
	}
	for (unsigned int i = 0; i < blk->num_queues; i++) {
		EXPECT_EQ(ctl_bases[i], blk->bases[i])
			TH_LOG("ring %u: the control socket says %u, vhost-vdpa %u", i,
			       ctl_bases[i], blk->bases[i]);
		vt_note("%s: ring %u base %u (avail idx %u)", d->name, i, blk->bases[i],
			blk->vqs[i].avail_idx);
	}
	return t1 - t0;
}

#endif
