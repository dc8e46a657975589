/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Driver side of one split virtqueue in guest memory: descriptor free list,
 * avail publishing, used collection, kick/call/err eventfds. Also the raw
 * hooks tests use to place hand-crafted descriptor chains.
 */
#ifndef VB_FE_VQ_H
#define VB_FE_VQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/virtio_ring.h>

struct fe_mem;
struct fe_vu;
struct fe_vdpa;

struct fe_vq_buf {
	const void *addr;	/* inside guest memory */
	uint32_t len;
	bool write;		/* device writes it (VRING_DESC_F_WRITE) */
};

struct fe_vq {
	unsigned int index;
	unsigned int num;
	struct fe_mem *mem;
	void *ring;		/* desc + avail + used, page-aligned in guest memory */
	size_t ring_size;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t free_head;
	unsigned int num_free;
	uint16_t avail_idx;	/* next avail->idx to publish */
	uint16_t last_used;	/* next used entry to collect */
	void **cookie;		/* per head */
	int kick_fd;		/* eventfds, -1 when unset */
	int call_fd;
	int err_fd;
};

/**
 * fe_vq_init() - lay out a queue in guest memory and create its eventfds
 * @vq:		the queue
 * @mem:	guest memory the rings are allocated from
 * @index:	its queue index
 * @num:	entries, a power of two up to 32768
 *
 * On failure @vq holds nothing (its fds are -1).
 * Return: 0, -EINVAL for a bad size, -ENOMEM, or the eventfd error.
 */
int fe_vq_init(struct fe_vq *vq, struct fe_mem *mem, unsigned int index, unsigned int num);

/**
 * fe_vq_fini() - close the eventfds and give the rings back to guest memory
 * @vq:		the queue
 */
void fe_vq_fini(struct fe_vq *vq);

/**
 * fe_vq_setup() - tell the back-end about the ring
 * @vq:		the queue
 * @vu:		the connection
 * @base:	the first avail index
 * @enable:	send SET_VRING_ENABLE(1) at the end
 *
 * SET_VRING_NUM, SET_VRING_ADDR, SET_VRING_BASE(@base), SET_VRING_CALL,
 * SET_VRING_ERR, SET_VRING_KICK, then SET_VRING_ENABLE(1) when @enable.
 * The driver's own indices are reset to @base.
 * Return: 0 or the first message's error.
 */
int fe_vq_setup(struct fe_vq *vq, struct fe_vu *vu, uint16_t base, bool enable);

/**
 * fe_vq_resume() - hand the ring as it is to a new back-end
 * @vq:		the queue
 * @vu:		the new connection
 * @enable:	send SET_VRING_ENABLE(1) at the end
 *
 * The same messages as fe_vq_setup(), but the driver keeps its indices,
 * descriptors and requests. SET_VRING_BASE is used->idx, as QEMU sends it
 * when GET_VRING_BASE on a dead back-end failed.
 * Return: 0 or the first message's error.
 */
int fe_vq_resume(struct fe_vq *vq, struct fe_vu *vu, bool enable);

/**
 * fe_vq_restart() - hand the ring as it is to a back-end, from @base
 * @vq:		the queue
 * @vu:		the connection
 * @base:	the avail index GET_VRING_BASE returned when the ring stopped
 * @enable:	send SET_VRING_ENABLE(1) at the end
 *
 * As fe_vq_resume(), but SET_VRING_BASE is @base (a resumed source, or a
 * migration destination).
 * Return: 0 or the first message's error.
 */
int fe_vq_restart(struct fe_vq *vq, struct fe_vu *vu, uint16_t base, bool enable);

/*
 * The same over vhost-vdpa: VHOST_SET_VRING_NUM, _ADDR (IOVAs), _BASE,
 * _CALL, _KICK, then VHOST_VDPA_SET_VRING_ENABLE(1) when @enable; vhost-vdpa
 * has no err eventfd.
 */

/**
 * fe_vq_setup_vdpa() - tell a vhost-vdpa device about the ring
 * @vq:		the queue
 * @vdpa:	the device
 * @base:	the first avail index; the driver's indices are reset to it
 * @enable:	enable the ring at the end
 *
 * Return: 0 or the first ioctl's error.
 */
int fe_vq_setup_vdpa(struct fe_vq *vq, struct fe_vdpa *vdpa, uint16_t base, bool enable);

/**
 * fe_vq_restart_vdpa() - hand the ring as it is to a vhost-vdpa device
 * @vq:		the queue
 * @vdpa:	the device
 * @base:	the next avail index the device processes
 * @enable:	enable the ring at the end
 *
 * The driver keeps its indices, descriptors and requests (a re-attach or
 * a resume).
 * Return: 0 or the first ioctl's error.
 */
int fe_vq_restart_vdpa(struct fe_vq *vq, struct fe_vdpa *vdpa, uint16_t base, bool enable);

/**
 * fe_vq_add() - put one chain of @n buffers on the avail ring (no kick)
 * @vq:		the queue
 * @bufs:	the buffers, each inside guest memory
 * @n:		how many
 * @cookie:	handed back by fe_vq_get_used() for this chain
 *
 * Device-readable buffers must come before device-writable ones.
 * Return: the head index, -ENOSPC when descriptors run out, -EINVAL for
 * an empty chain.
 */
int fe_vq_add(struct fe_vq *vq, const struct fe_vq_buf *bufs, unsigned int n, void *cookie);

/**
 * fe_vq_kick() - signal the kick eventfd
 * @vq:		the queue
 *
 * Return: 0 or the write error.
 */
int fe_vq_kick(struct fe_vq *vq);

/**
 * fe_vq_get_used() - collect one used entry, freeing its chain
 * @vq:		the queue
 * @cookie:	out: what fe_vq_add() was given (NULL for a raw chain)
 * @len:	out: the bytes the device says it wrote
 *
 * Return: 0 with *@cookie and *@len set, -EAGAIN when nothing is used, or
 * -EPROTO when the device used a head outside the ring (the entry is
 * skipped).
 */
int fe_vq_get_used(struct fe_vq *vq, void **cookie, uint32_t *len);

/**
 * fe_vq_wait_call() - wait for the call eventfd, and clear it
 * @vq:		the queue
 * @timeout_ms:	how long
 *
 * Return: 0, -ETIMEDOUT, or another -errno.
 */
int fe_vq_wait_call(struct fe_vq *vq, int timeout_ms);

/**
 * fe_vq_wait_err() - wait for the err eventfd, and clear it
 * @vq:		the queue
 * @timeout_ms:	how long
 *
 * Return: 0, -ETIMEDOUT, or another -errno.
 */
int fe_vq_wait_err(struct fe_vq *vq, int timeout_ms);

/*
 * Raw hooks for malformed chains: take @n descriptors off the free list
 * (they are never returned), write them with fe_vq_desc(), then publish a
 * head and kick.
 */

/**
 * fe_vq_take() - take descriptors off the free list for a raw chain
 * @vq:		the queue
 * @n:		how many; they never return to the free list
 * @idx:	out: @n descriptor indices
 *
 * Return: 0, or -ENOSPC when fewer than @n are free.
 */
int fe_vq_take(struct fe_vq *vq, unsigned int n, uint16_t *idx);

/**
 * fe_vq_desc() - a descriptor to write by hand
 * @vq:		the queue
 * @i:		its index, taken modulo the ring size
 *
 * Return: the descriptor, in guest memory (fields little-endian).
 */
struct vring_desc *fe_vq_desc(struct fe_vq *vq, uint16_t i);

/**
 * fe_vq_publish() - put @head on the avail ring (no kick)
 * @vq:		the queue
 * @head:	any value: it is not checked, so tests can publish bad heads
 */
void fe_vq_publish(struct fe_vq *vq, uint16_t head);

#endif
