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

/* Lay out a queue of @num entries in @mem and create its eventfds. */
int fe_vq_init(struct fe_vq *vq, struct fe_mem *mem, unsigned int index, unsigned int num);
void fe_vq_fini(struct fe_vq *vq);

/*
 * fe_vq_setup() - tell the back-end about the ring
 *
 * SET_VRING_NUM, SET_VRING_ADDR, SET_VRING_BASE(@base), SET_VRING_CALL,
 * SET_VRING_ERR, SET_VRING_KICK, then SET_VRING_ENABLE(1) when @enable.
 * The driver's own indices are reset to @base.
 */
int fe_vq_setup(struct fe_vq *vq, struct fe_vu *vu, uint16_t base, bool enable);

/*
 * fe_vq_resume() - hand the ring as it is to a new back-end
 *
 * The same messages as fe_vq_setup(), but the driver keeps its indices,
 * descriptors and requests. SET_VRING_BASE is used->idx, as QEMU sends it
 * when GET_VRING_BASE on a dead back-end failed.
 */
int fe_vq_resume(struct fe_vq *vq, struct fe_vu *vu, bool enable);

/*
 * fe_vq_restart() - hand the ring as it is to a back-end, from @base
 *
 * As fe_vq_resume(), but SET_VRING_BASE is @base: the avail index that
 * GET_VRING_BASE returned when the ring was stopped (a resumed source, or a
 * migration destination).
 */
int fe_vq_restart(struct fe_vq *vq, struct fe_vu *vu, uint16_t base, bool enable);

/*
 * The same over vhost-vdpa: VHOST_SET_VRING_NUM, _ADDR (IOVAs), _BASE,
 * _CALL, _KICK, then VHOST_VDPA_SET_VRING_ENABLE(1) when @enable; vhost-vdpa
 * has no err eventfd. fe_vq_setup_vdpa() resets the driver's indices to
 * @base, fe_vq_restart_vdpa() keeps them (a re-attach or a resume).
 */
int fe_vq_setup_vdpa(struct fe_vq *vq, struct fe_vdpa *vdpa, uint16_t base, bool enable);
int fe_vq_restart_vdpa(struct fe_vq *vq, struct fe_vdpa *vdpa, uint16_t base, bool enable);

/**
 * fe_vq_add() - put one chain of @n buffers on the avail ring (no kick)
 *
 * Device-readable buffers must come before device-writable ones.
 * Return: the head index, -ENOSPC when descriptors run out, -EINVAL.
 */
int fe_vq_add(struct fe_vq *vq, const struct fe_vq_buf *bufs, unsigned int n, void *cookie);
int fe_vq_kick(struct fe_vq *vq);

/**
 * fe_vq_get_used() - collect one used entry, freeing its chain
 * Return: 0 with *@cookie and *@len set, or -EAGAIN when nothing is used.
 */
int fe_vq_get_used(struct fe_vq *vq, void **cookie, uint32_t *len);

/* Wait up to @timeout_ms for the call eventfd; 0 or -ETIMEDOUT. */
int fe_vq_wait_call(struct fe_vq *vq, int timeout_ms);
/* Wait up to @timeout_ms for the err eventfd; 0 or -ETIMEDOUT. */
int fe_vq_wait_err(struct fe_vq *vq, int timeout_ms);

/*
 * Raw hooks for malformed chains: take @n descriptors off the free list
 * (they are never returned), write them with fe_vq_desc(), then publish a
 * head and kick. -ENOSPC when fewer than @n are free.
 */
int fe_vq_take(struct fe_vq *vq, unsigned int n, uint16_t *idx);
struct vring_desc *fe_vq_desc(struct fe_vq *vq, uint16_t i);
void fe_vq_publish(struct fe_vq *vq, uint16_t head);

#endif
