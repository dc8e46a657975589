/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A tiny virtio-blk driver over a vhost-user connection or a vhost-vdpa
 * device: brings the device up (features, memory, queues), submits requests
 * whose headers, data and status bytes live in guest memory, and reaps
 * completions. Requests, suspend, resume and adopt work on either transport.
 */
#ifndef VB_FE_BLK_H
#define VB_FE_BLK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/virtio_blk.h>

#include "frontend/fe_mem.h"
#include "frontend/fe_vdpa.h"
#include "frontend/fe_vq.h"
#include "frontend/fe_vu.h"
#include "proto/inflight.h"

#define FE_BLK_MAX_QUEUES 16
#define FE_BLK_SECTOR 512u

struct fe_blk_opts {
	unsigned int num_queues;	/* 0: 1 */
	unsigned int queue_size;	/* 0: 128 */
	uint64_t mem_size;		/* 0: 16 MiB */
	int connect_wait_ms;		/* 0: 5000 */
	bool no_enable;			/* leave rings disabled */
	bool inflight;			/* GET/SET_INFLIGHT_FD before the rings (vhost-user) */
	bool capture;			/* GET_VRING_BASE_INFLIGHT: a suspend leaves requests
					 * in flight, marked in the in-flight region */
	uint64_t drop_features;		/* device features not to ask for (vhost-user) */
};

struct fe_blk_ops;

struct fe_blk_req {
	unsigned int queue;
	uint32_t type;
	int head;
	bool done;
	uint8_t status;			/* valid once done */
	uint32_t used_len;
	void *data;			/* guest memory, data_len bytes */
	size_t data_len;
	struct virtio_blk_outhdr *hdr;	/* guest memory page, status byte after it */
	uint8_t *status_byte;
};

struct fe_blk {
	struct fe_blk_opts opts;	/* as opened, for fe_blk_reconnect() */
	const struct fe_blk_ops *ops;	/* the transport */
	struct fe_vu vu;		/* vhost-user: sock -1 over vhost-vdpa */
	struct fe_vdpa vdpa;		/* vhost-vdpa: fd -1 over vhost-user */
	struct fe_mem mem;
	unsigned int num_queues;
	struct fe_vq vqs[FE_BLK_MAX_QUEUES];
	uint64_t features;		/* acked */
	struct virtio_blk_config config;
	struct vu_inflight inflight;	/* with opts->inflight */
	int inflight_fd;		/* -1 without */
	void *inflight_va;
	bool shared;			/* mem and vqs belong to a peer (fe_blk_open_peer) */
	uint16_t bases[FE_BLK_MAX_QUEUES]; /* from the last fe_blk_suspend() */
};

/**
 * fe_blk_open() - connect to a vhost-user-blk back-end and start its queues
 * @blk:	initialised here
 * @path:	the back-end's socket
 * @opts:	queues, sizes and bring-up choices (NULL: the defaults)
 *
 * Return: 0 or -errno; on failure everything is released.
 */
int fe_blk_open(struct fe_blk *blk, const char *path, const struct fe_blk_opts *opts);

/**
 * fe_blk_close() - drop the connection or device and free what @blk owns
 * @blk:	the driver, open or failed
 *
 * Guest memory and rings a peer owns (after fe_blk_open_peer(), or for
 * the source of fe_blk_adopt()) are left to that peer.
 */
void fe_blk_close(struct fe_blk *blk);

/**
 * fe_blk_reconnect() - attach to a new back-end, as QEMU does after a reconnect
 * @blk:	an open vhost-user driver
 * @path:	the new back-end's socket
 *
 * Keeps guest memory, rings, requests and the in-flight region; connects to
 * @path, renegotiates (the features must not change), then SET_INFLIGHT_FD
 * with the kept region, SET_MEM_TABLE, and each ring again with
 * SET_VRING_BASE = its used->idx. Requests still on the rings complete
 * through fe_blk_wait() as usual.
 * Return: 0 or -errno; on failure the connection is closed, the rest kept
 * for another try or fe_blk_close().
 */
int fe_blk_reconnect(struct fe_blk *blk, const char *path);

/**
 * fe_blk_open_peer() - attach to a second back-end over @src's guest memory
 * @dst:	initialised here
 * @path:	the second back-end's socket
 * @src:	an open driver whose options and memory @dst takes
 *
 * Connects to @path and negotiates as @src did (the features must match:
 * -EPROTO), reads the config, sets up a fresh in-flight region when @src
 * has one, and sends SET_MEM_TABLE with @src's memory; starts no ring. This
 * is a migration destination waiting for the back-end state: the rings
 * come over with fe_blk_adopt(), then fe_blk_resume() starts them.
 * @dst borrows @src's memory: close @dst before or after @src, both work.
 * Return: 0 or -errno; on failure @dst is released.
 */
int fe_blk_open_peer(struct fe_blk *dst, const char *path, const struct fe_blk *src);

/**
 * fe_blk_open_vdpa() - open a vhost-vdpa device and start its queues
 * @blk:	initialised here
 * @dev_path:	/dev/vhost-vdpa-N
 * @opts:	queues, sizes and bring-up choices (NULL: the defaults)
 *
 * SET_OWNER, backend features, device features (VERSION_1 and
 * ACCESS_PLATFORM required), the config space, guest memory mapped at its
 * gpa through the IOTLB, every ring from index 0, then DRIVER_OK.
 * opts->inflight is vhost-user only (-EOPNOTSUPP); opts->connect_wait_ms
 * is unused.
 * Return: 0 or -errno; on failure everything is released.
 */
int fe_blk_open_vdpa(struct fe_blk *blk, const char *dev_path, const struct fe_blk_opts *opts);

/**
 * fe_blk_open_vdpa_peer() - re-attach @src's guest to another vhost-vdpa device
 * @dst:	initialised here
 * @dev_path:	/dev/vhost-vdpa-N of the new device
 * @src:	a suspended driver, on either transport
 * @bases:	one next-avail index per queue for the new device; NULL: @src->bases
 *
 * The migration destination of a vhost-vdpa client (or of a vhost-user one:
 * @src's transport does not matter): opens @dev_path, negotiates the
 * features @src has (-EPROTO when they differ), maps @src's guest memory,
 * then takes over @src's rings as fe_blk_adopt() does and starts them at
 * @bases, keeping the driver's indices and requests, and sets DRIVER_OK.
 * Requests still on the rings complete through @dst. @src must be
 * suspended and stays open, borrowing: close it after, or before @dst.
 * Return: 0 or -errno; on failure @dst is released and @src owns its rings.
 */
int fe_blk_open_vdpa_peer(struct fe_blk *dst, const char *dev_path, struct fe_blk *src,
			  const uint16_t *bases);

/**
 * fe_blk_suspend() - stop the device and read every ring's base
 * @blk:	the driver; blk->bases receives the bases
 *
 * vhost-user: GET_VRING_BASE every ring; the back-end completes what it took
 * and stops.
 * vhost-vdpa: VHOST_VDPA_SUSPEND when the backend offers SUSPEND, then
 * VHOST_GET_VRING_BASE every ring. Without SUSPEND the kernel cannot stop
 * the device and the bases are only stable if the caller quiesced it some
 * other way first (fe_ctl_suspend() on vblkd's control socket).
 * Return: 0 or -errno.
 */
int fe_blk_suspend(struct fe_blk *blk);

/**
 * fe_blk_resume() - start every ring again from blk->bases
 * @blk:	a suspended driver
 *
 * Keeps the driver's indices and requests.
 * vhost-user: the ring messages again, then DRIVER_OK.
 * vhost-vdpa: VHOST_VDPA_RESUME after a kernel suspend when RESUME is
 * offered; otherwise as QEMU does, reset, negotiate the same features, remap
 * guest memory, set the rings up from blk->bases and DRIVER_OK. A device
 * quiesced with fe_ctl_suspend() also wants fe_ctl_resume().
 * Return: 0 or -errno.
 */
int fe_blk_resume(struct fe_blk *blk);

/**
 * fe_blk_adopt() - move the rings of a suspended @src to its peer @dst
 * @dst:	the peer (fe_blk_open_peer()); takes the rings and their bases
 * @src:	the suspended source
 *
 * @dst owns memory and rings from now on, @src only borrows.
 */
void fe_blk_adopt(struct fe_blk *dst, struct fe_blk *src);

/**
 * fe_blk_inflight_queue() - queue @q's in-flight region as the front-end maps it
 * @blk:	the driver
 * @q:		the queue
 *
 * Each queue takes mmap_size / num_queues bytes of the region.
 * Return: the region, or NULL without one or for @q out of range.
 */
struct vb_inflight_queue *fe_blk_inflight_queue(struct fe_blk *blk, unsigned int q);

/*
 * Submit (and kick) one request. *@req is owned by the caller until
 * fe_blk_req_free(). Each returns 0, -EINVAL for a queue out of range,
 * -ENOMEM when guest memory runs out, -ENOSPC when the ring is full, or
 * the kick's error: then *@req is set, for the request is on the ring.
 */

/**
 * fe_blk_submit_read() - VIRTIO_BLK_T_IN
 * @blk:	the driver
 * @q:		the queue
 * @sector:	first 512-byte sector
 * @len:	bytes, read into req->data
 * @req:	out: the request
 *
 * Return: see above.
 */
int fe_blk_submit_read(struct fe_blk *blk, unsigned int q, uint64_t sector, size_t len,
		       struct fe_blk_req **req);

/**
 * fe_blk_submit_write() - VIRTIO_BLK_T_OUT
 * @blk:	the driver
 * @q:		the queue
 * @sector:	first 512-byte sector
 * @buf:	@len bytes, copied into guest memory
 * @len:	bytes
 * @req:	out: the request
 *
 * Return: see above.
 */
int fe_blk_submit_write(struct fe_blk *blk, unsigned int q, uint64_t sector, const void *buf,
			size_t len, struct fe_blk_req **req);

/**
 * fe_blk_submit_flush() - VIRTIO_BLK_T_FLUSH
 * @blk:	the driver
 * @q:		the queue
 * @req:	out: the request
 *
 * Return: see above.
 */
int fe_blk_submit_flush(struct fe_blk *blk, unsigned int q, struct fe_blk_req **req);

/**
 * fe_blk_submit_discard() - VIRTIO_BLK_T_DISCARD of one segment
 * @blk:	the driver
 * @q:		the queue
 * @sector:	first 512-byte sector
 * @nsectors:	how many
 * @req:	out: the request
 *
 * Return: see above.
 */
int fe_blk_submit_discard(struct fe_blk *blk, unsigned int q, uint64_t sector,
			  uint32_t nsectors, struct fe_blk_req **req);

/**
 * fe_blk_submit_write_zeroes() - VIRTIO_BLK_T_WRITE_ZEROES of one segment
 * @blk:	the driver
 * @q:		the queue
 * @sector:	first 512-byte sector
 * @nsectors:	how many
 * @unmap:	set VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP
 * @req:	out: the request
 *
 * Return: see above.
 */
int fe_blk_submit_write_zeroes(struct fe_blk *blk, unsigned int q, uint64_t sector,
			       uint32_t nsectors, bool unmap, struct fe_blk_req **req);

/**
 * fe_blk_submit_get_id() - VIRTIO_BLK_T_GET_ID
 * @blk:	the driver
 * @q:		the queue
 * @req:	out: the request; the serial lands in req->data
 *
 * Return: see above.
 */
int fe_blk_submit_get_id(struct fe_blk *blk, unsigned int q, struct fe_blk_req **req);

/**
 * fe_blk_reap() - collect completions of queue @q
 * @blk:	the driver
 * @q:		the queue
 * @timeout_ms:	how long to wait when nothing is used yet
 *
 * Waits on the call eventfd up to @timeout_ms when nothing is used yet.
 * Raw chains a test placed are collected but not counted.
 * Return: number of requests completed (> 0), -ETIMEDOUT, -EINVAL for a
 * queue out of range, -EPROTO for a used head outside the ring, or -errno.
 */
int fe_blk_reap(struct fe_blk *blk, unsigned int q, int timeout_ms);

/**
 * fe_blk_wait() - reap until @req is done
 * @blk:	the driver
 * @req:	a submitted request
 * @timeout_ms:	how long in all
 *
 * Return: 0, -ETIMEDOUT, or the fe_blk_reap() error.
 */
int fe_blk_wait(struct fe_blk *blk, struct fe_blk_req *req, int timeout_ms);

/**
 * fe_blk_req_free() - free a request and its guest memory
 * @blk:	the driver
 * @req:	the request, or NULL
 *
 * A request still on the ring is not freed (the device may still write
 * its memory): it leaks rather than risk a use after free.
 */
void fe_blk_req_free(struct fe_blk *blk, struct fe_blk_req *req);

/* Synchronous helpers: submit, wait up to 5 s, copy out, free. */

/**
 * fe_blk_read() - read sectors synchronously
 * @blk:	the driver
 * @q:		the queue
 * @sector:	first 512-byte sector
 * @buf:	out: @len bytes (written only when the wait succeeds)
 * @len:	bytes
 *
 * Return: the virtio-blk status byte (>= 0) or -errno.
 */
int fe_blk_read(struct fe_blk *blk, unsigned int q, uint64_t sector, void *buf, size_t len);

/**
 * fe_blk_write() - write sectors synchronously
 * @blk:	the driver
 * @q:		the queue
 * @sector:	first 512-byte sector
 * @buf:	@len bytes
 * @len:	bytes
 *
 * Return: the virtio-blk status byte (>= 0) or -errno.
 */
int fe_blk_write(struct fe_blk *blk, unsigned int q, uint64_t sector, const void *buf,
		 size_t len);

/**
 * fe_blk_vq() - the queue under request queue @q, for raw descriptor placement
 * @blk:	the driver
 * @q:		the queue
 *
 * Return: the queue, or NULL for @q out of range.
 */
struct fe_vq *fe_blk_vq(struct fe_blk *blk, unsigned int q);

#endif
