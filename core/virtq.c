// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/virtq.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "core/log.h"

int vb_vq_map(struct vb_vq *vq, const struct vb_mem *mem, uint16_t num,
	      const struct vb_vq_addrs *addrs)
{
	uint64_t desc_len = (uint64_t)num * sizeof(struct vring_desc);
	uint64_t avail_len = sizeof(struct vring_avail) + (uint64_t)num * 2 + 2;
	uint64_t used_len = sizeof(struct vring_used) + (uint64_t)num * sizeof(struct vring_used_elem) + 2;

	if (!num || num > VB_VQ_MAX_SIZE || (num & (num - 1)))
		return -EINVAL;
	vq->desc = vb_mem_uva_to_host(mem, addrs->desc_uva, desc_len);
	vq->avail = vb_mem_uva_to_host(mem, addrs->avail_uva, avail_len);
	vq->used = vb_mem_uva_to_host(mem, addrs->used_uva, used_len);
	if (!vq->desc || !vq->avail || !vq->used)
		return -EFAULT;
	/*
	 * Aligned front-end addresses (vb_ring_set_addrs()) can still land
	 * misaligned here: a region whose address and file offset disagree
	 * modulo the alignment. The rings are read through typed pointers.
	 */
	if ((uintptr_t)vq->desc % 16 || (uintptr_t)vq->avail % 2 || (uintptr_t)vq->used % 4)
		return -EINVAL;
	vq->num = num;
	if (vq->max_chain < num)
		vq->max_chain = num;
	vq->mem = mem;
	vq->used_gpa = addrs->log_used ? addrs->log_gpa : UINT64_MAX;
	return 0;
}

int vb_vq_pop(struct vb_vq *vq, uint16_t *head)
{
	uint16_t avail_idx = __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE);
	uint16_t pending = (uint16_t)(avail_idx - vq->last_avail_idx);
	uint16_t h;

	if (!pending)
		return 0;
	if (pending > vq->num) {
		vb_err_rl("virtqueue: avail idx %u is %u ahead of %u, ring holds %u", avail_idx,
			  pending, vq->last_avail_idx, vq->num);
		return -EBADMSG;
	}
	h = vq->avail->ring[vq->last_avail_idx & (vq->num - 1)];
	if (h >= vq->num) {
		vb_err_rl("virtqueue: head %u out of ring of %u", h, vq->num);
		return -EBADMSG;
	}
	/* Read from other threads (a VDUSE position query): never a torn or racy store. */
	__atomic_store_n(&vq->last_avail_idx, (uint16_t)(vq->last_avail_idx + 1), __ATOMIC_RELAXED);
	vb_vq_track(vq, h);
	*head = h;
	return 1;
}

void vb_vq_track(struct vb_vq *vq, uint16_t head)
{
	if (!vq->inflight)
		return;
	vq->inflight->desc[head].counter = vq->inflight_counter++;
	__atomic_store_n(&vq->inflight->desc[head].inflight, 1, __ATOMIC_RELEASE);
}

/* Append one descriptor's buffer to the chain. */
static int chain_add(const struct vb_vq *vq, struct vb_chain *c, const struct vring_desc *d,
		     bool *seen_write)
{
	bool write = d->flags & VRING_DESC_F_WRITE;
	int n;

	if (!write && *seen_write) {
		vb_err_rl("virtqueue: readable descriptor after a writable one");
		return -EBADMSG;
	}
	*seen_write |= write;
	if (d->addr + d->len < d->addr) {
		vb_err_rl("virtqueue: descriptor 0x%llx+%u wraps", (unsigned long long)d->addr,
			  d->len);
		return -EBADMSG;
	}
	n = vb_mem_gpa_to_iov(vq->mem, d->addr, d->len, c->iov + c->niov, VB_MAX_IOV - c->niov);
	if (n < 0) {
		vb_err_rl("virtqueue: descriptor 0x%llx+%u %s", (unsigned long long)d->addr,
			  d->len, n == -E2BIG ? "exceeds the segment limit" : "is outside guest memory");
		return -EBADMSG;
	}
	for (int i = 0; i < n; i++) {
		c->gpa[c->niov + i] = d->addr;
		if (i)
			c->gpa[c->niov + i] = c->gpa[c->niov + i - 1] + c->iov[c->niov + i - 1].iov_len;
	}
	c->niov += (uint16_t)n;
	if (!write)
		c->nout = c->niov;
	return 0;
}

static int walk_indirect(const struct vb_vq *vq, const struct vring_desc *ind, struct vb_chain *c,
			 bool *seen_write)
{
	const struct vring_desc *table;
	uint32_t count, i = 0, steps = 0;

	if (!vq->indirect || ind->flags & VRING_DESC_F_NEXT || !ind->len ||
	    ind->len % sizeof(struct vring_desc)) {
		vb_err_rl("virtqueue: bad indirect descriptor (flags 0x%x, len %u)", ind->flags,
			  ind->len);
		return -EBADMSG;
	}
	count = ind->len / sizeof(struct vring_desc);
	if (count > vq->max_chain) {
		vb_err_rl("virtqueue: indirect table of %u descriptors, at most %u allowed", count,
			  vq->max_chain);
		return -EBADMSG;
	}
	table = vb_mem_gpa_to_host(vq->mem, ind->addr, ind->len);
	if (!table) {
		vb_err_rl("virtqueue: indirect table 0x%llx+%u outside guest memory",
			  (unsigned long long)ind->addr, ind->len);
		return -EBADMSG;
	}
	for (;;) {
		struct vring_desc d;
		int ret;

		memcpy(&d, &table[i], sizeof(d)); /* the guest may change it under us */
		if (d.flags & VRING_DESC_F_INDIRECT || ++steps > count) {
			vb_err_rl("virtqueue: nested indirect or loop in indirect table");
			return -EBADMSG;
		}
		ret = chain_add(vq, c, &d, seen_write);
		if (ret)
			return ret;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		if (d.next >= count) {
			vb_err_rl("virtqueue: indirect next %u beyond table of %u", d.next, count);
			return -EBADMSG;
		}
		i = d.next;
	}
}

int vb_vq_walk(const struct vb_vq *vq, uint16_t head, struct vb_chain *c)
{
	bool seen_write = false;
	uint16_t i = head;
	unsigned int steps = 0;

	c->head = head;
	c->niov = 0;
	c->nout = 0;
	for (;;) {
		struct vring_desc d;
		int ret;

		if (++steps > vq->num) {
			vb_err_rl("virtqueue: chain at head %u loops or exceeds the ring", head);
			return -EBADMSG;
		}
		memcpy(&d, &vq->desc[i], sizeof(d));
		if (d.flags & VRING_DESC_F_INDIRECT)
			return walk_indirect(vq, &d, c, &seen_write);
		ret = chain_add(vq, c, &d, &seen_write);
		if (ret)
			return ret;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		if (d.next >= vq->num) {
			vb_err_rl("virtqueue: next %u beyond ring of %u", d.next, vq->num);
			return -EBADMSG;
		}
		i = d.next;
	}
}

void vb_vq_log_write(const struct vb_vq *vq, uint64_t gpa, uint64_t len)
{
	if (vq->log)
		vb_dirty_log_write(vq->log, gpa, len);
}

void vb_vq_push(struct vb_vq *vq, uint16_t head, uint32_t len)
{
	uint16_t slot = vq->used_idx & (vq->num - 1);
	struct vb_inflight_queue *inf = vq->inflight;

	vq->used->ring[slot].id = head;
	vq->used->ring[slot].len = len;
	if (inf)
		inf->last_batch_head = head;
	__atomic_store_n(&vq->used->idx, ++vq->used_idx, __ATOMIC_RELEASE);
	if (vq->log && vq->used_gpa != UINT64_MAX) {
		vb_dirty_log_write(vq->log,
				   vq->used_gpa + offsetof(struct vring_used, ring) +
					   slot * sizeof(struct vring_used_elem),
				   sizeof(struct vring_used_elem));
		vb_dirty_log_write(vq->log, vq->used_gpa + offsetof(struct vring_used, idx), 2);
	}
	if (inf) {
		__atomic_store_n(&inf->desc[head].inflight, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&inf->used_idx, vq->used_idx, __ATOMIC_RELEASE);
	}
}

bool vb_vq_should_notify(struct vb_vq *vq)
{
	uint16_t old, new;
	bool valid;

	/* The used idx store must be visible before we read the driver's wish. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!vq->event_idx)
		return !(__atomic_load_n(&vq->avail->flags, __ATOMIC_RELAXED) &
			 VRING_AVAIL_F_NO_INTERRUPT);
	old = vq->signalled_used;
	valid = vq->signalled_used_valid;
	new = vq->used_idx;
	vq->signalled_used = new;
	vq->signalled_used_valid = true;
	if (!valid)
		return true;
	/* used_event sits right after the avail ring's entries. */
	return vring_need_event(__atomic_load_n(&vq->avail->ring[vq->num], __ATOMIC_RELAXED), new,
				old);
}

/* used->flags, with the dirty log told: the driver reads it from guest memory. */
static void set_used_flags(struct vb_vq *vq, uint16_t flags)
{
	__atomic_store_n(&vq->used->flags, flags, __ATOMIC_RELAXED);
	if (vq->log && vq->used_gpa != UINT64_MAX)
		vb_dirty_log_write(vq->log, vq->used_gpa + offsetof(struct vring_used, flags), 2);
}

void vb_vq_quiet(struct vb_vq *vq)
{
	/*
	 * With EVENT_IDX there is nothing to write: the avail_event the driver
	 * sees is behind what we took, so it does not kick again.
	 */
	if (vq->quiet || vq->event_idx)
		return;
	vq->quiet = true;
	set_used_flags(vq, VRING_USED_F_NO_NOTIFY);
}

bool vb_vq_arm(struct vb_vq *vq)
{
	if (vq->event_idx) {
		uint16_t *avail_event = (uint16_t *)&vq->used->ring[vq->num];

		__atomic_store_n(avail_event, vq->last_avail_idx, __ATOMIC_RELAXED);
		if (vq->log && vq->used_gpa != UINT64_MAX)
			vb_dirty_log_write(vq->log,
					   vq->used_gpa + offsetof(struct vring_used, ring) +
						   vq->num * sizeof(struct vring_used_elem),
					   2);
	} else if (vq->quiet) {
		set_used_flags(vq, 0);
	}
	vq->quiet = false;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE) != vq->last_avail_idx;
}
