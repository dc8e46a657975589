/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-blk request decoding: from a walked descriptor chain to an I/O
 * operation, or to a status to return at once. Pure: no fds, no threads,
 * callable from unit tests and fuzzers.
 */
#ifndef VB_BLK_REQ_H
#define VB_BLK_REQ_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include <linux/time_types.h>

#include "backends/backend.h"
#include "core/ring.h"

#define BLK_SECTOR 512u
#define BLK_SERIAL_LEN 20 /* VIRTIO_BLK_ID_BYTES */
#define BLK_MAX_DISCARD_SECTORS (1u << 22)

struct blk_limits {
	_Atomic uint64_t capacity; /* 512-byte sectors; a resize changes it while rings run */
	uint32_t lbs_sectors; /* logical block size in sectors */
	bool read_only;
	const char *serial; /* BLK_SERIAL_LEN bytes, NUL padded */
};

struct blk_req {
	struct vb_req vreq; /* first: the ring's part */
	struct vb_bio io; /* the back-end's I/O: op, offset, len, data */
	struct iovec data[VB_MAX_IOV];
	uint64_t data_gpa[VB_MAX_IOV];
	uint32_t type;
	uint8_t *status;
	uint64_t status_gpa;
	uint32_t written; /* bytes the device writes into the chain, status included */
	/* The wait in front of its I/O (throttle, --io-delay-ms), if any. */
	struct __kernel_timespec wait_ts;
	bool waiting;
};

/**
 * blk_req_parse() - decode the request held in r->vreq.chain
 * @r:		the request; every field after vreq is set here
 * @lim:	the disk's size, block size, read-only flag and serial
 *
 * The chain is the guest's: every length and sector is checked against
 * @lim before anything is set up for I/O.
 * Return: -EBADMSG when the chain cannot even carry a header and a status
 * byte (the queue is broken); otherwise a VIRTIO_BLK_S_* status. With
 * VIRTIO_BLK_S_OK and r->io.op != VB_BIO_NONE, the I/O is still to be done;
 * with VB_BIO_NONE the request is complete (GET_ID) or failed.
 */
int blk_req_parse(struct blk_req *r, const struct blk_limits *lim);

/**
 * blk_iov_read() - copy bytes out of an iovec array
 * @iov:	the array
 * @n:		its entries
 * @skip:	bytes to skip first
 * @buf:	out: up to @len bytes
 * @len:	room in @buf
 *
 * Return: bytes copied; less than @len when the iovecs end first.
 */
size_t blk_iov_read(const struct iovec *iov, unsigned int n, size_t skip, void *buf, size_t len);

#endif
