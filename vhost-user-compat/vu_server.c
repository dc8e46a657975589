// SPDX-License-Identifier: GPL-2.0-or-later
/* Listening socket, connection lifetime and the message dispatcher. */
#include "vu_server.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "vu_handlers.h"

struct vu_handler {
	int (*fn)(struct vu_dev *d, struct vu_msg *m);
	unsigned int max_fds;
};

static const struct vu_handler handlers[VHOST_USER_MAX] = {
#define VU_ENTRY(name, fn_, nfds) [VHOST_USER_##name] = { .fn = fn_, .max_fds = nfds },
	VU_HANDLER_LIST(VU_ENTRY)
#undef VU_ENTRY
};

static int send_reply(struct vu_dev *d, struct vu_msg *m)
{
	m->hdr.flags = VHOST_USER_VERSION | VHOST_USER_REPLY_MASK;
	return vu_msg_send(d->conn_fd, m);
}

/*
 * A request we cannot serve: answer with a failed ack when the front-end
 * asked for one; when it waits for a reply we cannot give, drop the
 * connection rather than leave it waiting.
 */
static int refuse(struct vu_dev *d, struct vu_msg *m, bool ack, int err)
{
	if (!ack || vu_request_has_reply(m->hdr.request))
		return err;
	m->hdr.size = sizeof(uint64_t);
	m->payload.u64 = 1;
	m->nfds = 0;
	return send_reply(d, m);
}

int vu_dispatch(struct vu_dev *d, struct vu_msg *m)
{
	uint32_t req = m->hdr.request;
	bool need_reply = m->hdr.flags & VHOST_USER_NEED_REPLY_MASK;
	const char *name = vu_request_name(req);
	const struct vu_handler *h = req < VHOST_USER_MAX ? &handlers[req] : NULL;
	int ret = vu_msg_check(m);

	if (!ret && (!h || !h->fn)) {
		vb_err("front-end sent %s (%u), which vblkd does not implement", name, req);
		ret = -EOPNOTSUPP;
	} else if (ret) {
		vb_err("front-end sent a malformed %s (%u): payload %u bytes, %u fds", name, req,
		       m->hdr.size, m->nfds);
	} else if (m->nfds > h->max_fds) {
		vb_err("front-end sent %s with %u fds, at most %u allowed", name, m->nfds,
		       h->max_fds);
		ret = -EINVAL;
	}
	if (ret) {
		vu_msg_close_fds(m);
		return refuse(d, m, need_reply, ret);
	}

	vb_dbg("%s", name);
	ret = h->fn(d, m);
	if (ret != VU_REPLY)
		vu_msg_close_fds(m);
	if (ret < 0) {
		vb_warn("%s failed: %s", name, strerror(-ret));
		if (vu_request_has_reply(req))
			return ret;
	}
	if (ret == VU_REPLY) {
		ret = send_reply(d, m);
		vu_msg_close_fds(m);
		return ret;
	}
	if (!need_reply)
		return 0;
	m->hdr.size = sizeof(uint64_t);
	m->payload.u64 = ret ? 1 : 0;
	return send_reply(d, m);
}

void vu_dev_disconnect(struct vu_dev *d)
{
	if (d->conn_fd < 0)
		return;
	close(d->conn_fd);
	d->conn_fd = -1;
	blk_dev_reset(d->blk);
	vu_inflight_release(d);
	d->features = 0;
	d->protocol_features = 0;
	d->status = 0;
	vb_info("front-end disconnected; waiting for the next one");
}

/* A socket file left by a dead vblkd is replaced; a live one is not. */
static int claim_path(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, ret;

	if (lstat(path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		vb_err("%s exists and is not a socket", path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	strcpy(sa.sun_path, path);
	ret = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	if (!ret) {
		vb_err("%s is in use by another back-end", path);
		return -EADDRINUSE;
	}
	return unlink(path) ? -errno : 0;
}

int vu_server_listen(struct vu_dev *d, struct blk_dev *blk, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old_mask;
	int ret;

	memset(d, 0, sizeof(*d));
	d->blk = blk;
	d->path = path;
	d->listen_fd = d->conn_fd = -1;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		vb_err("socket path %s is too long (max %zu)", path, sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	ret = claim_path(path);
	if (ret)
		return ret;
	d->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (d->listen_fd < 0)
		return -errno;
	old_mask = umask(0177); /* the socket is 0600: guest memory goes through it */
	ret = bind(d->listen_fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old_mask);
	if (ret || listen(d->listen_fd, 1)) {
		ret = -errno;
		vb_err("cannot listen on %s: %s", path, strerror(-ret));
		close(d->listen_fd);
		d->listen_fd = -1;
		return ret;
	}
	vb_info("listening on %s", path);
	return 0;
}

static void accept_conn(struct vu_dev *d)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0) {
		vb_warn("accept: %s", strerror(errno));
		return;
	}
	d->conn_fd = fd;
	if (!getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		vb_info("front-end connected (pid %d uid %u)", cred.pid, cred.uid);
}

int vu_server_run(struct vu_dev *d, int stop_fd)
{
	struct vu_msg msg;

	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = stop_fd, .events = POLLIN },
			{ .fd = d->conn_fd >= 0 ? d->conn_fd : d->listen_fd, .events = POLLIN },
		};
		int ret;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (pfd[0].revents)
			return 0;
		if (!pfd[1].revents)
			continue;
		if (d->conn_fd < 0) {
			accept_conn(d);
			continue;
		}
		ret = vu_msg_recv(d->conn_fd, &msg);
		if (!ret)
			ret = vu_dispatch(d, &msg);
		if (ret) {
			if (ret != -ECONNRESET)
				vb_err("dropping the front-end: %s", strerror(-ret));
			vu_dev_disconnect(d);
		}
	}
}

void vu_server_close(struct vu_dev *d)
{
	vu_dev_disconnect(d);
	if (d->listen_fd >= 0) {
		close(d->listen_fd);
		unlink(d->path);
	}
	d->listen_fd = -1;
}
