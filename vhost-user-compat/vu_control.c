// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The control socket's own handlers: what differs from the front-end's
 * when another transport drives the device (VDUSE). Ring control goes
 * through that transport's struct vu_ctl_ops; without one, the front-end
 * socket owns the rings and the control socket refuses to touch them.
 */
#include <errno.h>

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

int vu_ctl_get_vring_base(struct vu_server *s, struct vu_conn *c, struct vu_msg *m)
{
	unsigned int index;
	uint16_t base;
	int ret = ctl_ring(s, m, &index);

	if (!ret)
		ret = s->ctl_ops->ring_stop(s->ctl_opaque, index, &base);
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
	return m->payload.state.num ? s->ctl_ops->ring_start(s->ctl_opaque, index) :
				      s->ctl_ops->ring_stop(s->ctl_opaque, index, &base);
}
