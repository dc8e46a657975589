// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * One handler per front-end message, named after it. Handlers validate
 * their payload beyond the size check, take the fds they keep (setting the
 * slot to -1) and return 0, VU_REPLY with msg filled, or -errno. They drive
 * the device through core/device.h and core/ring.h only.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "core/device.h"
#include "core/log.h"
#include "state/state.h"
#include "vhost-user-compat/vu_int.h"

#define PROTOCOL_FEATURES                                                                    \
	(1ull << VHOST_USER_PROTOCOL_F_MQ | 1ull << VHOST_USER_PROTOCOL_F_LOG_SHMFD |        \
	 1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK | 1ull << VHOST_USER_PROTOCOL_F_CONFIG |    \
	 1ull << VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD |                                      \
	 1ull << VHOST_USER_PROTOCOL_F_RESET_DEVICE |                                        \
	 1ull << VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS |                                 \
	 1ull << VHOST_USER_PROTOCOL_F_STATUS | 1ull << VHOST_USER_PROTOCOL_F_DEVICE_STATE | \
	 1ull << VHOST_USER_PROTOCOL_F_BACKEND_REQ)

uint64_t vu_offered_features(const struct vu_server *s)
{
	uint64_t extra = s->ctl_ops ? s->ctl_ops->extra_features(s->ctl_opaque) : 0;

	return vb_dev_features(s->dev) | extra | 1ull << VHOST_USER_F_PROTOCOL_FEATURES |
	       1ull << VHOST_F_LOG_ALL;
}

int vu_reply_u64(struct vu_msg *m, uint64_t v)
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

int vu_get_features(struct vu_server *s, struct vu_conn *c, struct vu_msg *m)
{
	return vu_reply_u64(m, vu_offered_features(s));
}

int vu_set_features(struct vu_server *s, struct vu_conn *c, struct vu_msg *m)
{
	uint64_t f = m->payload.u64;
	int ret;

	if (f & ~vu_offered_features(s)) {
		vb_err("SET_FEATURES 0x%llx has bits never offered (0x%llx)", (unsigned long long)f,
		       (unsigned long long)(f & ~vu_offered_features(s)));
		return -EINVAL;
	}
	s->features = f;
	ret = vb_dev_set_features(s->dev, f, f & (1ull << VHOST_F_LOG_ALL));
	/* Without protocol features a ring is enabled as soon as it exists. */
	if (!(f & (1ull << VHOST_USER_F_PROTOCOL_FEATURES)))
		for (unsigned int i = 0; i < s->dev->num_queues; i++)
			vb_ring_enable(&s->dev->rings[i], true);
	return ret;
}

int vu_set_owner(struct vu_server *s, struct vu_conn *c, struct vu_msg *m)
{
	return 0;
}

int vu_reset_owner(struct vu_server *s, struct vu_conn *c, struct vu_msg *m)
{
	return vu_reset_device(s, c, m);
}

int vu_reset_device(struct vu_server *s, struct vu_conn *c, struct vu_msg *m)
{
	/* Memory and the in-flight region belong to the connection: they stay. */
	vb_dev_reset(s->dev, VB_RESET_KEEP_MEMORY);
	s->features = 0;
	return 0;
}

/* Map one region of a memory-table message; the fd is consumed. */
static int add_region(struct vu_server *s, const struct vu_mem_region *r, int fd)
{
	int ret = vb_mem_add_take_fd(&s->dev->mem, r->guest_phys_addr, r->memory_size,
				     r->userspace_addr, r->mmap_offset, fd);

	if (ret)
		vb_err("memory region gpa 0x%llx size 0x%llx: %s",
		       (unsigned long long)r->guest_phys_addr, (unsigned long long)r->memory_size,
		       strerror(-ret));
	return ret;
}

int vu_set_mem_table(struct vu_server *s, struct vu_conn *c, struct vu_msg *m)
{
	const struct vu_mem_table *t = &m->payload.mem;
	uint32_t mask;
	int ret = 0;

	if (m->nfds != t->nregions) {
		vb_err("SET_MEM_TABLE with %u regions but %u fds", t->nregions, m->nfds);
		return -EINVAL;
	}
	mask = vb_dev_pause(s->dev);
	vb_mem_clear(&s->dev->mem);
	for (uint32_t i = 0; i < t->nregions; i++) {
		int err = add_region(s, &t->regions[i], take_fd(m, i));

		if (err && !ret)
			ret = err;
	}
	if (ret) {
		vb_mem_clear(&s->dev->mem);
		/* The rings that ran cannot: they raise NEEDS_RESET. */
		vb_dev_resume(s->dev, mask);
		return ret;
	}
	return vb_dev_resume(s->dev, mask);
}

int vu_get_max_mem_slots(struct vu_server *s, struct vu_conn *c, struct vu_msg *m)
{
	return vu_reply_u64(m, VU_MAX_MEM_SLOTS);
}

int vu_add_mem_reg(struct vu_server *s, struct vu_conn *c, struct vu_msg *m)
{
	uint32_t mask;
	int ret;

	if (m->nfds != 1)
		return -EINVAL;
	mask = vb_dev_pause(s->dev);
	ret = add_region(s, &m->payload.mem_reg.region, take_fd(m, 0));
	return vb_dev_resume(s->dev, mask) ?: ret;
}

int vu_rem_mem_reg(struct vu_server *s, struct vu_conn *c, struct vu_msg *m)
{
	const struct vu_mem_region *r = &m->payload.mem_reg.region;
	uint32_t mask = vb_dev_pause(s->dev);
	int ret = vb_mem_remove(&s->dev->mem, r->guest_phys_addr, r->memory_size);

	if (ret)
		vb_err("REM_MEM_REG gpa 0x%llx size 0x%llx: no such region",
		       (unsigned long long)r->guest_phys_addr, (unsigned long long)r->memory_size);
	return vb_dev_resume(s->dev, mask) ?: ret;
}

int vu_set_log_base(struct vu_server *s, struct vu_conn *c, struct vu_msg *m)
{
	uint32_t mask;
	int ret;

	if (m->nfds != 1)
		return -EINVAL;
	mask = vb_dev_pause(s->dev);
	ret = vb_dirty_log_map_take_fd(&s->dev->dirty, take_fd(m, 0), m->payload.log.mmap_size,
				       m->payload.log.mmap_offset);
	if (ret)
		vb_err("cannot map the dirty log: %s", strerror(-ret));
	ret = vb_dev_resume(s->dev, mask) ?: ret;
	return ret ? ret : vu_reply_u64(m, 0);
}

int vu_set_log_fd(struct vu_server *s, struct vu_conn *c, struct vu_msg *m)
{
	return 0; /* the dispatcher closes the fd: we never signal log updates */
}

static struct vb_ring *ring_of_state(struct vu_server *s, const struct vu_msg *m)
{
	return vb_dev_ring(s->dev, m->payload.state.index);
}

int vu_set_vring_num(struct vu_server *s, struct vu_conn *c, struct vu_msg *m)
{
	struct vb_ring *r = ring_of_state(s, m);

	return r ? vb_ring_set_num(r, m->payload.state.num) : -EINVAL;
}

int vu_set_vring_addr(struct vu_server *s, struct vu_conn *c, struct vu_msg *m)
{
	const struct vu_vring_addr *a = &m->payload.addr;
	struct vb_ring *r = vb_dev_ring(s->dev, a->index);
	struct vb_vq_addrs addrs = {
		.desc_uva = a->desc_user_addr,
		.avail_uva = a->avail_user_addr,
		.used_uva = a->used_user_addr,
		.log_gpa = a->log_guest_addr,
		.log_used = a->flags & VU_VRING_F_LOG,
	};

	return r ? vb_ring_set_addrs(r, &addrs) : -EINVAL;
}

int vu_set_vring_base(struct vu_server *s, struct vu_conn *c, struct vu_msg *m)
{
	struct vb_ring *r = ring_of_state(s, m);

	if (!r)
		return -EINVAL;
	/* A split ring's index is 16 bits: anything wider is not a position. */
	if (m->payload.state.num > UINT16_MAX) {
		vb_err("vring %u: base %u is wider than a ring index", r->index,
		       m->payload.state.num);
		return -EINVAL;
	}
	return vb_ring_set_base(r, (uint16_t)m->payload.state.num);
}

int vu_get_vring_base(struct vu_server *s, struct vu_conn *c, struct vu_msg *m)
{
	struct vb_ring *r = ring_of_state(s, m);

	if (!r)
		return -EINVAL;
	/*
	 * The ring stays stopped until a new kick fd. With
	 * GET_VRING_BASE_INFLIGHT what has not reached the disk stays in
	 * flight, marked in the in-flight region for the front-end to carry;
	 * otherwise it completes first.
	 */
	if (c->protocol_features & (1ull << VHOST_USER_PROTOCOL_F_GET_VRING_BASE_INFLIGHT))
		m->payload.state.num = vb_ring_stop_mode(r, VB_SUSPEND_CAPTURE);
	else
		m->payload.state.num = vb_ring_stop(r);
	m->hdr.size = sizeof(m->payload.state);
	vb_info("vring %u stopped at avail index %u", r->index, m->payload.state.num);
	return VU_REPLY;
}

/* SET_VRING_KICK/CALL/ERR: a ring and an fd, or the "no fd" flag. */
static int vring_fd(struct vu_server *s, struct vu_msg *m, struct vb_ring **rp, int *fd)
{
	uint64_t v = m->payload.u64;

	*rp = vb_dev_ring(s->dev, (uint32_t)(v & VU_VRING_IDX_MASK));
	if (!*rp)
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

int vu_set_vring_kick(struct vu_server *s, struct vu_conn *c, struct vu_msg *m)
{
	struct vb_ring *r;
	int fd, ret = vring_fd(s, m, &r, &fd);

	if (ret)
		return ret;
	if (fd < 0) {
		vb_err("vring %u: polling without a kick fd is not supported", r->index);
		return -EOPNOTSUPP;
	}
	ret = vb_ring_set_fd_take(r, VB_RING_KICK, fd);
	if (ret)
		return ret; /* refused: the ring goes on with the kick fd it had */
	/* The kick fd arms the ring: from here on it is started. */
	return vb_ring_start(r);
}

int vu_set_vring_call(struct vu_server *s, struct vu_conn *c, struct vu_msg *m)
{
	struct vb_ring *r;
	int fd, ret = vring_fd(s, m, &r, &fd);

	return ret ? ret : vb_ring_set_fd_take(r, VB_RING_CALL, fd);
}

int vu_set_vring_err(struct vu_server *s, struct vu_conn *c, struct vu_msg *m)
{
	struct vb_ring *r;
	int fd, ret = vring_fd(s, m, &r, &fd);

	return ret ? ret : vb_ring_set_fd_take(r, VB_RING_ERR, fd);
}

/*
 * A device without state ops has no state to transfer; one without a
 * cancel op cannot leave requests in flight at GET_VRING_BASE
 * (GET_VRING_BASE_INFLIGHT, which goes with INFLIGHT_SHMFD).
 */
static uint64_t protocol_features(const struct vu_server *s)
{
	uint64_t f = PROTOCOL_FEATURES;

	if (!s->dev->ops->save)
		f &= ~(1ull << VHOST_USER_PROTOCOL_F_DEVICE_STATE);
	if (s->dev->ops->cancel)
		f |= 1ull << VHOST_USER_PROTOCOL_F_GET_VRING_BASE_INFLIGHT;
	return f;
}

int vu_get_protocol_features(struct vu_server *s, struct vu_conn *c, struct vu_msg *m)
{
	return vu_reply_u64(m, protocol_features(s));
}

int vu_set_protocol_features(struct vu_server *s, struct vu_conn *c, struct vu_msg *m)
{
	const uint64_t inflight = 1ull << VHOST_USER_PROTOCOL_F_GET_VRING_BASE_INFLIGHT |
				  1ull << VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD;

	if (m->payload.u64 & ~protocol_features(s)) {
		vb_err("SET_PROTOCOL_FEATURES 0x%llx has bits never offered",
		       (unsigned long long)m->payload.u64);
		return -EINVAL;
	}
	if ((m->payload.u64 & inflight) == (1ull << VHOST_USER_PROTOCOL_F_GET_VRING_BASE_INFLIGHT)) {
		vb_err("GET_VRING_BASE_INFLIGHT without INFLIGHT_SHMFD: nowhere to keep the requests");
		return -EINVAL;
	}
	c->protocol_features = m->payload.u64;
	if (c == &s->fe)
		s->fe_protocol_features = m->payload.u64;
	return 0;
}

int vu_get_queue_num(struct vu_server *s, struct vu_conn *c, struct vu_msg *m)
{
	return vu_reply_u64(m, s->dev->num_queues);
}

int vu_set_vring_enable(struct vu_server *s, struct vu_conn *c, struct vu_msg *m)
{
	struct vb_ring *r = ring_of_state(s, m);

	if (!r || m->payload.state.num > 1)
		return -EINVAL;
	vb_ring_enable(r, m->payload.state.num);
	return 0;
}

int vu_get_config(struct vu_server *s, struct vu_conn *c, struct vu_msg *m)
{
	struct vu_config *cfg = &m->payload.config;

	if (cfg->offset > VU_CONFIG_SPACE_MAX || cfg->size > VU_CONFIG_SPACE_MAX - cfg->offset)
		return -EINVAL;
	vb_dev_get_config(s->dev, cfg->offset, cfg->region, cfg->size);
	return VU_REPLY;
}

int vu_set_config(struct vu_server *s, struct vu_conn *c, struct vu_msg *m)
{
	struct vu_config *cfg = &m->payload.config;

	return vb_dev_set_config(s->dev, cfg->offset, cfg->region, cfg->size);
}

int vu_get_inflight_fd(struct vu_server *s, struct vu_conn *c, struct vu_msg *m)
{
	int fd, ret = vu_inflight_create(s, &m->payload.inflight, &fd);

	if (ret)
		return ret;
	c->reply_fd = fd;
	return VU_REPLY;
}

int vu_set_inflight_fd(struct vu_server *s, struct vu_conn *c, struct vu_msg *m)
{
	if (m->nfds != 1)
		return -EINVAL;
	return vu_inflight_attach_take_fd(s, &m->payload.inflight, take_fd(m, 0));
}

int vu_set_status(struct vu_server *s, struct vu_conn *c, struct vu_msg *m)
{
	if (m->payload.u64 > 0xff)
		return -EINVAL;
	vb_dev_set_driver_status(s->dev, (uint8_t)m->payload.u64);
	return 0;
}

int vu_get_status(struct vu_server *s, struct vu_conn *c, struct vu_msg *m)
{
	return vu_reply_u64(m, vb_dev_status(s->dev));
}

/* Reply: bits 0-7 the error, bit 8 "no fd": vblkd never offers its own fd. */
int vu_set_device_state_fd(struct vu_server *s, struct vu_conn *c, struct vu_msg *m)
{
	const struct vu_device_state *ds = &m->payload.dev_state;
	enum state_err err;

	if (m->nfds != 1) {
		vb_err("SET_DEVICE_STATE_FD without its fd");
		err = STATE_E_IO;
	} else {
		err = vu_state_start_take_fd(s, c, ds->transfer_direction, ds->migration_phase,
					     take_fd(m, 0));
	}
	return vu_reply_u64(m, (uint64_t)(err & 0xff) | 1ull << 8);
}

int vu_check_device_state(struct vu_server *s, struct vu_conn *c, struct vu_msg *m)
{
	return vu_reply_u64(m, (uint64_t)vu_state_check(s, c));
}
