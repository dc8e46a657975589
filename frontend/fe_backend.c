// SPDX-License-Identifier: GPL-2.0-or-later
/* The front-end's end of the vhost-user back-end channel. */
#include "frontend/fe_backend.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

int fe_backend_open(struct fe_vu *vu, int *fd)
{
	uint64_t offered, bit = 1ull << VHOST_USER_PROTOCOL_F_BACKEND_REQ;
	int sv[2], ret;

	ret = fe_vu_get_protocol_features(vu, &offered);
	if (ret)
		return ret;
	if (!(offered & bit))
		return -EOPNOTSUPP;
	ret = fe_vu_set_protocol_features(vu, vu->protocol_features | bit);
	if (ret)
		return ret;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -errno;
	ret = fe_vu_request(vu, VHOST_USER_SET_BACKEND_REQ_FD, NULL, 0, &sv[1], 1);
	close(sv[1]);
	if (ret) {
		close(sv[0]);
		return ret;
	}
	*fd = sv[0];
	return 0;
}

int fe_backend_serve_one(int fd, int timeout_ms, uint32_t *request, bool *acked)
{
	struct vu_msg m;
	int ret = fe_wait_fd(fd, POLLIN, timeout_ms);

	*acked = false;
	if (ret)
		return ret;
	ret = vu_msg_recv(fd, &m);
	if (ret)
		return ret;
	vu_msg_close_fds(&m);
	*request = m.hdr.request;
	if (!(m.hdr.flags & VHOST_USER_NEED_REPLY_MASK))
		return 0;
	m.hdr.flags = VHOST_USER_VERSION | VHOST_USER_REPLY_MASK;
	m.hdr.size = sizeof(uint64_t);
	m.payload.u64 = 0;
	m.nfds = 0;
	ret = vu_msg_send(fd, &m);
	*acked = !ret;
	return ret;
}
