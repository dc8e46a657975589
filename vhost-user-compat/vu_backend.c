// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The back-end's channel to the front-end (vhost-user.rst "Back-end
 * communication"): SET_BACKEND_REQ_FD hands us a socket on which the
 * back-end sends requests, here only BACKEND_CONFIG_CHANGE_MSG after an
 * online resize. A send never blocks (the socket is non-blocking); the
 * wait for the front-end's ack, when REPLY_ACK asks for one, happens with
 * no lock held, because the front-end answers a config change by reading
 * the config space on its own connection (GET_CONFIG), which needs the lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "core/device.h"
#include "core/log.h"
#include "vhost-user-compat/vu_int.h"

/* How long a config change waits for the front-end's ack. */
#define VU_BACKEND_ACK_MS 2000

int vu_set_backend_req_fd(struct vu_server *s, struct vu_conn *c, struct vu_msg *m)
{
	int fd = m->nfds == 1 ? m->fds[0] : -1;
	int fl;

	if (fd < 0) {
		vb_err("SET_BACKEND_REQ_FD without an fd");
		return -EINVAL;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK))
		return -errno;
	m->fds[0] = -1;
	vu_backend_close(s);
	s->backend_fd = fd;
	return 0;
}

void vu_backend_close(struct vu_server *s)
{
	if (s->backend_fd >= 0)
		close(s->backend_fd);
	s->backend_fd = -1;
}

/* The front-end's ack of @request on @fd, within a bound. */
static int wait_ack(int fd, uint32_t request)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct vu_msg reply;
	int ret;

	do {
		ret = poll(&p, 1, VU_BACKEND_ACK_MS);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return -errno;
	if (!ret)
		return -ETIMEDOUT;
	ret = vu_msg_recv(fd, &reply);
	if (ret)
		return ret;
	vu_msg_close_fds(&reply);
	if (reply.hdr.request != request || !(reply.hdr.flags & VHOST_USER_REPLY_MASK) ||
	    reply.hdr.size != sizeof(uint64_t))
		return -EPROTO;
	return reply.payload.u64 ? -EREMOTEIO : 0;
}

int vu_server_config_changed(struct vu_server *s)
{
	struct vu_msg m = { .hdr = { .request = VHOST_USER_BACKEND_CONFIG_CHANGE_MSG,
				     .flags = VHOST_USER_VERSION } };
	int fd = -1, ret;
	bool ack;

	vb_dev_lock(s->dev);
	ack = s->fe_protocol_features & (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK);
	if (s->backend_fd < 0) {
		ret = -ENOTCONN; /* no front-end, or one without BACKEND_REQ */
		goto out_unlock;
	}
	if (ack)
		m.hdr.flags |= VHOST_USER_NEED_REPLY_MASK;
	ret = vu_msg_send(s->backend_fd, &m);
	if (!ret && ack) {
		fd = fcntl(s->backend_fd, F_DUPFD_CLOEXEC, 0);
		if (fd < 0)
			ret = -errno;
	}
out_unlock:
	vb_dev_unlock(s->dev);
	if (ret == -EAGAIN)
		vb_err("front-end: its back-end channel is full; config change not sent");
	if (fd >= 0) {
		ret = wait_ack(fd, VHOST_USER_BACKEND_CONFIG_CHANGE_MSG);
		close(fd);
		if (ret)
			vb_err("front-end: no ack for CONFIG_CHANGE_MSG: %s", strerror(-ret));
	}
	return ret;
}

bool vu_server_fe_connected(const struct vu_server *s)
{
	return atomic_load(&s->fe_connected);
}
