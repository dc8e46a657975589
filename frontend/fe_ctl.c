// SPDX-License-Identifier: GPL-2.0-or-later
/* Suspend and resume of a VDUSE device through vblkd's control socket. */
#include "frontend/fe_ctl.h"

#include <errno.h>

#include "frontend/fe_vu.h"

#define FE_CTL_CONNECT_MS 5000

int fe_ctl_negotiate(struct fe_vu *vu)
{
	const uint64_t want = 1ull << VHOST_USER_PROTOCOL_F_DEVICE_STATE |
			      1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK;

	if (vu->features)
		return 0;
	return fe_vu_negotiate_protocol(vu, want, 0);
}

int fe_ctl_stop_rings(struct fe_vu *vu, unsigned int nqueues, uint16_t *bases)
{
	unsigned int base;
	int ret;

	ret = fe_ctl_negotiate(vu);
	if (ret)
		return ret;
	for (unsigned int i = 0; i < nqueues; i++) {
		ret = fe_vu_get_vring_base(vu, i, &base);
		if (ret)
			return ret;
		if (base > UINT16_MAX)
			return -EPROTO;
		bases[i] = (uint16_t)base;
	}
	return 0;
}

int fe_ctl_start_rings(struct fe_vu *vu, unsigned int nqueues)
{
	int ret;

	ret = fe_ctl_negotiate(vu);
	if (ret)
		return ret;
	for (unsigned int i = 0; i < nqueues; i++) {
		ret = fe_vu_set_vring_enable(vu, i, true);
		if (ret)
			return ret;
	}
	return 0;
}

int fe_ctl_suspend(const char *ctl_path, unsigned int nqueues, uint16_t *bases)
{
	struct fe_vu vu;
	int ret;

	ret = fe_vu_connect(&vu, ctl_path, FE_CTL_CONNECT_MS);
	if (ret)
		return ret;
	ret = fe_ctl_stop_rings(&vu, nqueues, bases);
	fe_vu_disconnect(&vu);
	return ret;
}

int fe_ctl_resume(const char *ctl_path, unsigned int nqueues)
{
	struct fe_vu vu;
	int ret;

	ret = fe_vu_connect(&vu, ctl_path, FE_CTL_CONNECT_MS);
	if (ret)
		return ret;
	ret = fe_ctl_start_rings(&vu, nqueues);
	fe_vu_disconnect(&vu);
	return ret;
}

int fe_ctl_set_suspend_mode(struct fe_vu *vu, enum vu_suspend_mode mode)
{
	int ret = fe_ctl_negotiate(vu);

	return ret ? ret : fe_vu_set_u64(vu, VHOST_USER_VBLKD_SUSPEND_MODE, mode);
}

int fe_ctl_throttle(struct fe_vu *vu, const struct vu_throttle *set, struct vu_throttle *out)
{
	struct vu_throttle query = { 0 };
	struct vu_msg reply;
	int ret;

	ret = fe_ctl_negotiate(vu);
	if (ret)
		return ret;
	ret = fe_vu_call(vu, VHOST_USER_VBLKD_THROTTLE, set ? set : &query, sizeof(query), NULL,
			 0, &reply);
	if (ret)
		return ret;
	vu_msg_close_fds(&reply);
	if (reply.hdr.size != sizeof(*out))
		return -EPROTO;
	*out = reply.payload.throttle;
	return 0;
}
