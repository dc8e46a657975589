// SPDX-License-Identifier: GPL-2.0-or-later
/* Driver side of a split virtqueue living in the front-end's guest memory. */
#include "frontend/fe_vq.h"

#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "frontend/fe_mem.h"
#include "frontend/fe_vdpa.h"
#include "frontend/fe_vu.h"

static void fe_vq_reset_free(struct fe_vq *vq)
{
	for (unsigned int i = 0; i < vq->num; i++)
		vq->desc[i].next = htole16((uint16_t)(i + 1));
	vq->free_head = 0;
	vq->num_free = vq->num;
}

static void fe_vq_close_fds(struct fe_vq *vq)
{
	int *fds[] = { &vq->kick_fd, &vq->call_fd, &vq->err_fd };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

int fe_vq_init(struct fe_vq *vq, struct fe_mem *mem, unsigned int index, unsigned int num)
{
	int ret;

	memset(vq, 0, sizeof(*vq));
	vq->kick_fd = vq->call_fd = vq->err_fd = -1;
	if (!num || num > 32768 || (num & (num - 1)))
		return -EINVAL;

	vq->index = index;
	vq->num = num;
	vq->mem = mem;
	vq->ring_size = vring_size(num, FE_MEM_PAGE);
	vq->ring = fe_mem_alloc(mem, vq->ring_size);
	if (!vq->ring)
		return -ENOMEM;
	vq->desc = vq->ring;
	vq->avail = (void *)((uint8_t *)vq->ring + num * sizeof(struct vring_desc));
	vq->used = (void *)(((uintptr_t)&vq->avail->ring[num] + sizeof(uint16_t) +
			     FE_MEM_PAGE - 1) & ~(uintptr_t)(FE_MEM_PAGE - 1));

	vq->cookie = calloc(num, sizeof(*vq->cookie));
	if (!vq->cookie) {
		ret = -ENOMEM;
		goto err_free_ring;
	}

	vq->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vq->call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vq->err_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vq->kick_fd < 0 || vq->call_fd < 0 || vq->err_fd < 0) {
		ret = -errno;
		goto err_close_fds;
	}
	fe_vq_reset_free(vq);
	return 0;

err_close_fds:
	fe_vq_close_fds(vq);
	free(vq->cookie);
	vq->cookie = NULL;
err_free_ring:
	fe_mem_free(mem, vq->ring, vq->ring_size);
	vq->ring = NULL;
	return ret;
}

void fe_vq_fini(struct fe_vq *vq)
{
	fe_vq_close_fds(vq);
	free(vq->cookie);
	vq->cookie = NULL;
	if (vq->ring)
		fe_mem_free(vq->mem, vq->ring, vq->ring_size);
	vq->ring = NULL;
}

/* The ring messages of a setup, in QEMU's order, with SET_VRING_BASE(@base). */
static int fe_vq_send_setup(struct fe_vq *vq, struct fe_vu *vu, uint16_t base, bool enable)
{
	int ret;

	ret = fe_vu_set_vring_num(vu, vq->index, vq->num);
	if (ret)
		return ret;
	ret = fe_vu_set_vring_addr(vu, vq->index, fe_mem_uaddr(vq->desc),
				   fe_mem_uaddr(vq->avail), fe_mem_uaddr(vq->used));
	if (ret)
		return ret;
	ret = fe_vu_set_vring_base(vu, vq->index, base);
	if (ret)
		return ret;
	ret = fe_vu_set_vring_call(vu, vq->index, vq->call_fd);
	if (ret)
		return ret;
	ret = fe_vu_set_vring_err(vu, vq->index, vq->err_fd);
	if (ret)
		return ret;
	ret = fe_vu_set_vring_kick(vu, vq->index, vq->kick_fd);
	if (ret)
		return ret;
	if (!enable)
		return 0;
	return fe_vu_set_vring_enable(vu, vq->index, true);
}

int fe_vq_setup(struct fe_vq *vq, struct fe_vu *vu, uint16_t base, bool enable)
{
	vq->avail_idx = base;
	vq->last_used = base;
	vq->avail->idx = htole16(base);
	vq->used->idx = htole16(base);
	return fe_vq_send_setup(vq, vu, base, enable);
}

int fe_vq_resume(struct fe_vq *vq, struct fe_vu *vu, bool enable)
{
	uint16_t used_idx = le16toh(__atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE));

	return fe_vq_send_setup(vq, vu, used_idx, enable);
}

int fe_vq_restart(struct fe_vq *vq, struct fe_vu *vu, uint16_t base, bool enable)
{
	return fe_vq_send_setup(vq, vu, base, enable);
}

static int fe_vq_send_setup_vdpa(struct fe_vq *vq, struct fe_vdpa *vdpa, uint16_t base,
				 bool enable)
{
	int ret;

	ret = fe_vdpa_set_vring_num(vdpa, vq->index, vq->num);
	if (ret)
		return ret;
	ret = fe_vdpa_set_vring_addr(vdpa, vq->index, fe_mem_gpa(vq->mem, vq->desc),
				     fe_mem_gpa(vq->mem, vq->avail), fe_mem_gpa(vq->mem, vq->used));
	if (ret)
		return ret;
	ret = fe_vdpa_set_vring_base(vdpa, vq->index, base);
	if (ret)
		return ret;
	ret = fe_vdpa_set_vring_call(vdpa, vq->index, vq->call_fd);
	if (ret)
		return ret;
	ret = fe_vdpa_set_vring_kick(vdpa, vq->index, vq->kick_fd);
	if (ret)
		return ret;
	if (!enable)
		return 0;
	return fe_vdpa_set_vring_enable(vdpa, vq->index, true);
}

int fe_vq_setup_vdpa(struct fe_vq *vq, struct fe_vdpa *vdpa, uint16_t base, bool enable)
{
	vq->avail_idx = base;
	vq->last_used = base;
	vq->avail->idx = htole16(base);
	vq->used->idx = htole16(base);
	return fe_vq_send_setup_vdpa(vq, vdpa, base, enable);
}

int fe_vq_restart_vdpa(struct fe_vq *vq, struct fe_vdpa *vdpa, uint16_t base, bool enable)
{
	return fe_vq_send_setup_vdpa(vq, vdpa, base, enable);
}

int fe_vq_take(struct fe_vq *vq, unsigned int n, uint16_t *idx)
{
	if (n > vq->num_free)
		return -ENOSPC;
	for (unsigned int i = 0; i < n; i++) {
		idx[i] = vq->free_head;
		vq->free_head = le16toh(vq->desc[idx[i]].next);
	}
	vq->num_free -= n;
	return 0;
}

struct vring_desc *fe_vq_desc(struct fe_vq *vq, uint16_t i)
{
	return &vq->desc[i % vq->num];
}

void fe_vq_publish(struct fe_vq *vq, uint16_t head)
{
	vq->avail->ring[vq->avail_idx % vq->num] = htole16(head);
	/* The entry must be visible before the index that covers it. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	vq->avail_idx++;
	__atomic_store_n(&vq->avail->idx, htole16(vq->avail_idx), __ATOMIC_RELEASE);
}

int fe_vq_add(struct fe_vq *vq, const struct fe_vq_buf *bufs, unsigned int n, void *cookie)
{
	uint16_t head, i;

	if (!n)
		return -EINVAL;
	if (n > vq->num_free)
		return -ENOSPC;

	head = i = vq->free_head;
	for (unsigned int k = 0; k < n; k++) {
		struct vring_desc *d = &vq->desc[i];
		uint16_t next = le16toh(d->next);

		d->addr = htole64(fe_mem_gpa(vq->mem, bufs[k].addr));
		d->len = htole32(bufs[k].len);
		d->flags = htole16((bufs[k].write ? VRING_DESC_F_WRITE : 0) |
				   (k + 1 < n ? VRING_DESC_F_NEXT : 0));
		i = next;
	}
	/* The last descriptor keeps its stale free-list link; F_NEXT is clear. */
	vq->free_head = i;
	vq->num_free -= n;
	vq->cookie[head] = cookie;
	fe_vq_publish(vq, head);
	return head;
}

int fe_vq_kick(struct fe_vq *vq)
{
	uint64_t one = 1;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (write(vq->kick_fd, &one, sizeof(one)) != sizeof(one))
		return -errno;
	return 0;
}

static void fe_vq_free_chain(struct fe_vq *vq, uint16_t head)
{
	uint16_t i = head;
	unsigned int n = 1;

	while (le16toh(vq->desc[i].flags) & VRING_DESC_F_NEXT && n < vq->num) {
		i = le16toh(vq->desc[i].next) % vq->num;
		n++;
	}
	vq->desc[i].next = htole16(vq->free_head);
	vq->free_head = head;
	vq->num_free += n;
}

int fe_vq_get_used(struct fe_vq *vq, void **cookie, uint32_t *len)
{
	uint16_t used_idx = le16toh(__atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE));
	struct vring_used_elem *e;
	uint32_t id;

	if (used_idx == vq->last_used)
		return -EAGAIN;
	e = &vq->used->ring[vq->last_used % vq->num];
	id = le32toh(e->id);
	vq->last_used++;
	if (id >= vq->num)
		return -EPROTO;	/* the back-end returned a head we never gave */
	*len = le32toh(e->len);
	*cookie = vq->cookie[id];
	vq->cookie[id] = NULL;
	fe_vq_free_chain(vq, (uint16_t)id);
	return 0;
}

static int fe_wait_eventfd(int fd, int timeout_ms)
{
	uint64_t val;
	int ret = fe_wait_fd(fd, POLLIN, timeout_ms);

	if (ret)
		return ret;
	if (read(fd, &val, sizeof(val)) < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}

int fe_vq_wait_call(struct fe_vq *vq, int timeout_ms)
{
	return fe_wait_eventfd(vq->call_fd, timeout_ms);
}

int fe_vq_wait_err(struct fe_vq *vq, int timeout_ms)
{
	return fe_wait_eventfd(vq->err_fd, timeout_ms);
}
