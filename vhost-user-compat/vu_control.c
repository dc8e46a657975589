// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The control socket's own handlers: what differs from the front-end's
 * when another transport drives the device (VDUSE). Ring control goes
 * through that transport's struct vu_ctl_ops; without one, the front-end
 * socket owns the rings and the control socket refuses to touch them.
 */
#include <errno.h>
#include <string.h>

#include "core/device.h"
#include "core/log.h"
#include "vhost-user-compat/vu_int.h"

int vu_ctl_get_features(struct vu_server *s, struct vu_conn *c, struct vu_msg *m)
{
	return vu_reply_u64(m, vu_offered_features(s));
}

/* The ring a control client names, when this socket may control rings. */
static int ctl_ring(struct vu_server *s, const struct vu_msg *m, unsigned int *index)
{
	if (!s->ctl_ops) {
		vb_err("control client: %s is served on the front-end socket only",
		       vu_request_name(m->hdr.request));
		return -EOPNOTSUPP;
	}
	if (m->payload.state.index >= s->dev->num_queues) {
		vb_err("control client: vring index %u out of range (%u queues)",
		       m->payload.state.index, s->dev->num_queues);
		return -EINVAL;
	}
	*index = m->payload.state.index;
	return 0;
}

/* How this connection's GET_VRING_BASE stops a ring. */
static enum vb_suspend_mode ctl_mode(const struct vu_server *s, const struct vu_conn *c)
{
	if (c->suspend_mode == VU_SUSPEND_DRAIN)
		return VB_SUSPEND_DRAIN;
	if (c->suspend_mode == VU_SUSPEND_CAPTURE ||
	    c->protocol_features & (1ull << VHOST_USER_PROTOCOL_F_GET_VRING_BASE_INFLIGHT))
		return VB_SUSPEND_CAPTURE;
	return s->dev->suspend_mode;
}

int vu_ctl_get_vring_base(struct vu_server *s, struct vu_conn *c, struct vu_msg *m)
{
	unsigned int index;
	uint16_t base;
	int ret = ctl_ring(s, m, &index);

	if (!ret)
		ret = s->ctl_ops->ring_stop(s->ctl_opaque, index, ctl_mode(s, c), &base);
	if (ret)
		return ret;
	m->payload.state.num = base;
	m->hdr.size = sizeof(m->payload.state);
	return VU_REPLY;
}

int vu_ctl_set_vring_enable(struct vu_server *s, struct vu_conn *c, struct vu_msg *m)
{
	unsigned int index;
	uint16_t base;
	int ret = ctl_ring(s, m, &index);

	if (ret)
		return ret;
	if (m->payload.state.num > 1)
		return -EINVAL;
	return m->payload.state.num ?
		       s->ctl_ops->ring_start(s->ctl_opaque, index) :
		       s->ctl_ops->ring_stop(s->ctl_opaque, index, ctl_mode(s, c), &base);
}

int vu_ctl_suspend_mode(struct vu_server *s, struct vu_conn *c, struct vu_msg *m)
{
	if (m->payload.u64 > VU_SUSPEND_CAPTURE) {
		vb_err("suspend mode %llu: use 0 (default), 1 (drain) or 2 (capture)",
		       (unsigned long long)m->payload.u64);
		return -EINVAL;
	}
	c->suspend_mode = (enum vu_suspend_mode)m->payload.u64;
	return 0;
}

int vu_ctl_throttle(struct vu_server *s, struct vu_conn *c, struct vu_msg *m)
{
	struct vu_throttle *t = &m->payload.throttle;
	struct vb_throttle_limits l = { .iops = t->iops, .bps = t->bps, .burst_ms = t->burst_ms };
	int ret;

	if (t->flags & ~VU_THROTTLE_SET) {
		vb_err("unknown throttle flags 0x%llx", (unsigned long long)t->flags);
		return -EINVAL;
	}
	if (t->flags & VU_THROTTLE_SET) {
		ret = vb_dev_set_throttle(s->dev, &l);
		if (ret) {
			vb_err("throttle %llu IOPS, %llu B/s, burst %llu ms: %s",
			       (unsigned long long)l.iops, (unsigned long long)l.bps,
			       (unsigned long long)l.burst_ms, strerror(-ret));
			return ret;
		}
		vb_info("throttle now %llu IOPS, %llu B/s, burst %llu ms (0: unlimited)",
			(unsigned long long)l.iops, (unsigned long long)l.bps,
			(unsigned long long)l.burst_ms);
	}
	vb_dev_get_throttle(s->dev, &l);
	*t = (struct vu_throttle){ .iops = l.iops, .bps = l.bps, .burst_ms = l.burst_ms,
				   .throttled = l.throttled, .throttled_us = l.throttled_us };
	m->hdr.size = sizeof(*t);
	return VU_REPLY;
}
