// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * One handler per vhost-user message, named after it. Handlers validate
 * their payload beyond the size check, take the fds they keep (setting the
 * slot to -1) and return 0, VU_REPLY with msg filled, or -errno.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <linux/virtio_config.h>

#include "core/log.h"
#include "vhost-user-compat/vu_handlers.h"

#define PROTOCOL_FEATURES                                                               \
	(1ull << VHOST_USER_PROTOCOL_F_MQ | 1ull << VHOST_USER_PROTOCOL_F_LOG_SHMFD |   \
	 1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK | 1ull << VHOST_USER_PROTOCOL_F_CONFIG | \
	 1ull << VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD |                                 \
	 1ull << VHOST_USER_PROTOCOL_F_RESET_DEVICE |                                   \
	 1ull << VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS |                            \
	 1ull << VHOST_USER_PROTOCOL_F_STATUS | 1ull << VHOST_USER_PROTOCOL_F_DEVICE_STATE)

uint64_t vu_offered_features(const struct vu_dev *d)
{
	return blk_dev_features(d->blk) | d->extra_features |
	       1ull << VHOST_USER_F_PROTOCOL_FEATURES | 1ull << VHOST_F_LOG_ALL;
}

static int reply_u64(struct vu_msg *m, uint64_t v)
{
	m->hdr.size = sizeof(uint64_t);
	m->payload.u64 = v;
	return VU_REPLY;
}

static int take_fd(struct vu_msg *m, unsigned int i)
{
	int fd;

	if (i >= m->nfds)
		return -1;
	fd = m->fds[i];
	m->fds[i] = -1;
	return fd;
}

static struct blk_queue *queue_of(struct vu_dev *d, uint32_t index)
{
	if (index >= d->blk->opts.num_queues) {
		vb_err("vring index %u out of range (%u queues)", index, d->blk->opts.num_queues);
		return NULL;
	}
	return &d->blk->queues[index];
}

/*
 * Settings a worker reads change only while it is stopped: stop it, change,
 * and restart it if it ran.
 */
static bool queue_hold(struct blk_queue *q)
{
	bool was_started = q->started;

	if (was_started)
		blk_queue_stop(q);
	return was_started;
}

static int queue_release(struct blk_queue *q, bool was_started)
{
	int ret;

	if (!was_started || !blk_queue_ready(q))
		return 0;
	ret = blk_queue_start(q);
	if (ret)
		vb_err("vring %u: cannot restart: %s", q->index, strerror(-ret));
	return ret;
}

int vu_get_features(struct vu_dev *d, struct vu_msg *m)
{
	return reply_u64(m, vu_offered_features(d));
}

int vu_set_features(struct vu_dev *d, struct vu_msg *m)
{
	uint64_t f = m->payload.u64;
	uint32_t mask;

	if (f & ~vu_offered_features(d)) {
		vb_err("SET_FEATURES 0x%llx has bits never offered (0x%llx)", (unsigned long long)f,
		       (unsigned long long)(f & ~vu_offered_features(d)));
		return -EINVAL;
	}
	mask = blk_dev_pause(d->blk);
	d->features = f;
	d->blk->features = f;
	/* Without protocol features a ring is enabled as soon as it exists. */
	if (!(f & (1ull << VHOST_USER_F_PROTOCOL_FEATURES)))
		for (unsigned int i = 0; i < d->blk->opts.num_queues; i++)
			blk_queue_set_enabled(&d->blk->queues[i], true);
	return blk_dev_unpause(d->blk, mask);
}

int vu_set_owner(struct vu_dev *d, struct vu_msg *m)
{
	return 0;
}

int vu_reset_owner(struct vu_dev *d, struct vu_msg *m)
{
	return vu_reset_device(d, m);
}

int vu_reset_device(struct vu_dev *d, struct vu_msg *m)
{
	/* The in-flight region belongs to the connection, not to the rings. */
	for (unsigned int i = 0; i < BLK_MAX_QUEUES; i++) {
		struct blk_queue *q = &d->blk->queues[i];
		struct vb_inflight_queue *region = q->inflight_region;
		uint16_t capacity = q->inflight_capacity;

		blk_queue_reset(q);
		q->inflight_region = region;
		q->inflight_capacity = capacity;
	}
	d->features = 0;
	d->blk->features = 0;
	d->blk->driver_status = 0;
	atomic_store(&d->blk->status, 0);
	return 0;
}

int vu_set_mem_table(struct vu_dev *d, struct vu_msg *m)
{
	const struct vu_mem_table *t = &m->payload.mem;
	uint32_t mask;
	int ret = 0;

	if (m->nfds != t->nregions) {
		vb_err("SET_MEM_TABLE with %u regions but %u fds", t->nregions, m->nfds);
		return -EINVAL;
	}
	mask = blk_dev_pause(d->blk);
	vb_mem_clear(&d->blk->mem);
	for (uint32_t i = 0; i < t->nregions; i++) {
		const struct vu_mem_region *r = &t->regions[i];
		int err = vb_mem_add_take_fd(&d->blk->mem, r->guest_phys_addr, r->memory_size,
					     r->userspace_addr, r->mmap_offset, take_fd(m, i));

		if (err && !ret) {
			vb_err("memory region %u (gpa 0x%llx size 0x%llx): %s", i,
			       (unsigned long long)r->guest_phys_addr,
			       (unsigned long long)r->memory_size, strerror(-err));
			ret = err;
		}
	}
	if (ret) {
		vb_mem_clear(&d->blk->mem);
		return ret;
	}
	return blk_dev_unpause(d->blk, mask);
}

int vu_get_max_mem_slots(struct vu_dev *d, struct vu_msg *m)
{
	return reply_u64(m, VU_MAX_MEM_SLOTS);
}

int vu_add_mem_reg(struct vu_dev *d, struct vu_msg *m)
{
	const struct vu_mem_region *r = &m->payload.mem_reg.region;
	uint32_t mask;
	int ret;

	if (m->nfds != 1)
		return -EINVAL;
	mask = blk_dev_pause(d->blk);
	ret = vb_mem_add_take_fd(&d->blk->mem, r->guest_phys_addr, r->memory_size,
				 r->userspace_addr, r->mmap_offset, take_fd(m, 0));
	if (ret)
		vb_err("ADD_MEM_REG gpa 0x%llx size 0x%llx: %s",
		       (unsigned long long)r->guest_phys_addr, (unsigned long long)r->memory_size,
		       strerror(-ret));
	return blk_dev_unpause(d->blk, mask) ?: ret;
}

int vu_rem_mem_reg(struct vu_dev *d, struct vu_msg *m)
{
	const struct vu_mem_region *r = &m->payload.mem_reg.region;
	uint32_t mask = blk_dev_pause(d->blk);
	int ret = vb_mem_remove(&d->blk->mem, r->guest_phys_addr, r->memory_size);

	if (ret)
		vb_err("REM_MEM_REG gpa 0x%llx size 0x%llx: no such region",
		       (unsigned long long)r->guest_phys_addr, (unsigned long long)r->memory_size);
	return blk_dev_unpause(d->blk, mask) ?: ret;
}

int vu_set_log_base(struct vu_dev *d, struct vu_msg *m)
{
	uint32_t mask;
	int ret;

	if (m->nfds != 1)
		return -EINVAL;
	mask = blk_dev_pause(d->blk);
	ret = vb_dirty_log_map_take_fd(&d->blk->log, take_fd(m, 0), m->payload.log.mmap_size,
				       m->payload.log.mmap_offset);
	ret = blk_dev_unpause(d->blk, mask) ?: ret;
	if (ret) {
		vb_err("cannot map the dirty log: %s", strerror(-ret));
		return ret;
	}
	return reply_u64(m, 0);
}

int vu_set_log_fd(struct vu_dev *d, struct vu_msg *m)
{
	return 0; /* the dispatcher closes the fd: we never signal log updates */
}

int vu_set_vring_num(struct vu_dev *d, struct vu_msg *m)
{
	struct blk_queue *q = queue_of(d, m->payload.state.index);
	uint32_t num = m->payload.state.num;

	if (!q)
		return -EINVAL;
	if (!num || num > d->blk->opts.queue_size || (num & (num - 1))) {
		vb_err("vring %u: size %u is not a power of two up to %u", q->index, num,
		       d->blk->opts.queue_size);
		return -EINVAL;
	}
	if (q->started) {
		vb_err("vring %u: SET_VRING_NUM while started", q->index);
		return -EBUSY;
	}
	q->num = (uint16_t)num;
	return 0;
}

int vu_set_vring_addr(struct vu_dev *d, struct vu_msg *m)
{
	const struct vu_vring_addr *a = &m->payload.addr;
	struct blk_queue *q = queue_of(d, a->index);
	bool was;

	if (!q)
		return -EINVAL;
	/* Also sent while running, to switch used-ring logging for migration. */
	was = queue_hold(q);
	q->addrs = (struct vb_vq_addrs){
		.desc_uva = a->desc_user_addr,
		.avail_uva = a->avail_user_addr,
		.used_uva = a->used_user_addr,
		.log_gpa = a->log_guest_addr,
		.log_used = a->flags & VU_VRING_F_LOG,
	};
	q->addr_set = true;
	return queue_release(q, was);
}

int vu_set_vring_base(struct vu_dev *d, struct vu_msg *m)
{
	struct blk_queue *q = queue_of(d, m->payload.state.index);

	if (!q)
		return -EINVAL;
	if (q->started) {
		vb_err("vring %u: SET_VRING_BASE while started", q->index);
		return -EBUSY;
	}
	q->vq.last_avail_idx = (uint16_t)m->payload.state.num;
	return 0;
}

int vu_get_vring_base(struct vu_dev *d, struct vu_msg *m)
{
	struct blk_queue *q = queue_of(d, m->payload.state.index);

	if (!q)
		return -EINVAL;
	if (d->cur->control) {
		uint16_t base;
		int ret = d->ring_stop(d->ring_opaque, q->index, &base);

		if (ret)
			return ret;
		m->payload.state.num = base;
		m->hdr.size = sizeof(m->payload.state);
		return VU_REPLY;
	}
	/* Completes what is in flight, then the ring stays stopped until a new kick fd. */
	m->payload.state.num = blk_queue_stop(q);
	m->hdr.size = sizeof(m->payload.state);
	vb_info("vring %u stopped at avail index %u", q->index, m->payload.state.num);
	return VU_REPLY;
}

/* SET_VRING_KICK/CALL/ERR: an fd for a ring, or the "no fd" flag. */
static int vring_fd(struct vu_dev *d, struct vu_msg *m, struct blk_queue **qp, int *fd)
{
	uint64_t v = m->payload.u64;

	*qp = queue_of(d, (uint32_t)(v & VU_VRING_IDX_MASK));
	if (!*qp)
		return -EINVAL;
	if (v & ~(uint64_t)(VU_VRING_IDX_MASK | VU_VRING_NOFD_MASK))
		return -EINVAL;
	if (v & VU_VRING_NOFD_MASK) {
		*fd = -1;
		return 0;
	}
	if (m->nfds != 1) {
		vb_err("%s without its fd", vu_request_name(m->hdr.request));
		return -EINVAL;
	}
	*fd = take_fd(m, 0);
	return 0;
}

static void replace_fd(int *slot, int fd)
{
	if (*slot >= 0)
		close(*slot);
	*slot = fd;
}

int vu_set_vring_kick(struct vu_dev *d, struct vu_msg *m)
{
	struct blk_queue *q;
	int fd, ret = vring_fd(d, m, &q, &fd);

	if (ret)
		return ret;
	if (fd < 0) {
		vb_err("vring %u: polling without a kick fd is not supported", q->index);
		return -EOPNOTSUPP;
	}
	if (q->started)
		blk_queue_stop(q);
	replace_fd(&q->kick_fd, fd);
	/* The kick fd arms the ring: from here on it is started. */
	ret = blk_queue_start(q);
	if (ret)
		vb_err("vring %u: cannot start: %s", q->index, strerror(-ret));
	return ret;
}

/* Swap a notification fd the worker writes to, with the worker stopped. */
static int set_notify_fd(struct vu_dev *d, struct vu_msg *m, size_t slot_offset)
{
	struct blk_queue *q;
	int fd, ret = vring_fd(d, m, &q, &fd);
	bool was;

	if (ret)
		return ret;
	was = queue_hold(q);
	replace_fd((int *)((char *)q + slot_offset), fd);
	/*
	 * QEMU sends the call fd after the kick: completions made before it
	 * (resubmitted in-flight requests) were signalled to no one. A
	 * spurious interrupt is harmless; a missed one hangs the guest.
	 */
	if (fd >= 0 && slot_offset == offsetof(struct blk_queue, call_fd))
		eventfd_write(fd, 1);
	return queue_release(q, was);
}

int vu_set_vring_call(struct vu_dev *d, struct vu_msg *m)
{
	return set_notify_fd(d, m, offsetof(struct blk_queue, call_fd));
}

int vu_set_vring_err(struct vu_dev *d, struct vu_msg *m)
{
	return set_notify_fd(d, m, offsetof(struct blk_queue, err_fd));
}

int vu_get_protocol_features(struct vu_dev *d, struct vu_msg *m)
{
	return reply_u64(m, PROTOCOL_FEATURES);
}

int vu_set_protocol_features(struct vu_dev *d, struct vu_msg *m)
{
	if (m->payload.u64 & ~PROTOCOL_FEATURES) {
		vb_err("SET_PROTOCOL_FEATURES 0x%llx has bits never offered",
		       (unsigned long long)m->payload.u64);
		return -EINVAL;
	}
	d->cur->protocol_features = m->payload.u64;
	return 0;
}

int vu_get_queue_num(struct vu_dev *d, struct vu_msg *m)
{
	return reply_u64(m, d->blk->opts.num_queues);
}

int vu_set_vring_enable(struct vu_dev *d, struct vu_msg *m)
{
	struct blk_queue *q = queue_of(d, m->payload.state.index);

	if (!q || m->payload.state.num > 1)
		return -EINVAL;
	if (d->cur->control) {
		uint16_t base;

		return m->payload.state.num ? d->ring_start(d->ring_opaque, q->index)
					    : d->ring_stop(d->ring_opaque, q->index, &base);
	}
	blk_queue_set_enabled(q, m->payload.state.num);
	return 0;
}

int vu_get_config(struct vu_dev *d, struct vu_msg *m)
{
	struct vu_config *c = &m->payload.config;

	if (c->offset > VU_CONFIG_SPACE_MAX || c->size > VU_CONFIG_SPACE_MAX - c->offset)
		return -EINVAL;
	blk_dev_get_config(d->blk, c->offset, c->region, c->size);
	return VU_REPLY;
}

int vu_set_config(struct vu_dev *d, struct vu_msg *m)
{
	struct vu_config *c = &m->payload.config;

	return blk_dev_set_config(d->blk, c->offset, c->region, c->size);
}

int vu_get_inflight_fd(struct vu_dev *d, struct vu_msg *m)
{
	int fd, ret = vu_inflight_create(d, &m->payload.inflight, &fd);

	if (ret)
		return ret;
	d->reply_fd = fd;
	return VU_REPLY;
}

int vu_set_inflight_fd(struct vu_dev *d, struct vu_msg *m)
{
	if (m->nfds != 1)
		return -EINVAL;
	return vu_inflight_attach_take_fd(d, &m->payload.inflight, take_fd(m, 0));
}

int vu_set_status(struct vu_dev *d, struct vu_msg *m)
{
	if (m->payload.u64 > 0xff)
		return -EINVAL;
	d->blk->driver_status = (uint8_t)m->payload.u64;
	if (!d->blk->driver_status)
		atomic_store(&d->blk->status, 0); /* a driver reset clears NEEDS_RESET */
	return 0;
}

int vu_get_status(struct vu_dev *d, struct vu_msg *m)
{
	return reply_u64(m, d->blk->driver_status | atomic_load(&d->blk->status));
}

/* Reply: bits 0-7 the error, bit 8 "no fd": vblkd never offers its own fd. */
int vu_set_device_state_fd(struct vu_dev *d, struct vu_msg *m)
{
	const struct vu_device_state *s = &m->payload.dev_state;
	int err;

	if (m->nfds != 1) {
		vb_err("SET_DEVICE_STATE_FD without its fd");
		err = STATE_E_IO;
	} else {
		err = vu_state_start_take_fd(d, s->transfer_direction, s->migration_phase,
					     take_fd(m, 0));
	}
	return reply_u64(m, (uint64_t)(err & 0xff) | 1ull << 8);
}

int vu_check_device_state(struct vu_dev *d, struct vu_msg *m)
{
	return reply_u64(m, (uint64_t)vu_state_check(d));
}
