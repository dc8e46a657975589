// SPDX-License-Identifier: GPL-2.0-or-later
/* Listening socket, connection lifetime and the message dispatcher. */
#include "vhost-user-compat/vu_server.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/log.h"
#include "vhost-user-compat/vu_handlers.h"

struct vu_handler {
	int (*fn)(struct vu_dev *d, struct vu_msg *m);
	unsigned int max_fds;
};

static const struct vu_handler handlers[VHOST_USER_MAX] = {
#define VU_ENTRY(name, fn_, nfds) [VHOST_USER_##name] = { .fn = fn_, .max_fds = nfds },
	VU_HANDLER_LIST(VU_ENTRY)
#undef VU_ENTRY
};

static const bool control_serves[VHOST_USER_MAX] = {
#define VU_CONTROL(name) [VHOST_USER_##name] = true,
	VU_CONTROL_LIST(VU_CONTROL)
#undef VU_CONTROL
};

static int send_reply(struct vu_conn *c, struct vu_msg *m)
{
	m->hdr.flags = VHOST_USER_VERSION | VHOST_USER_REPLY_MASK;
	return vu_msg_send(c->fd, m);
}

/*
 * A request we cannot serve: answer with a failed ack when the front-end
 * asked for one; when it waits for a reply we cannot give, drop the
 * connection rather than leave it waiting.
 */
static int refuse(struct vu_conn *c, struct vu_msg *m, bool ack, int err)
{
	if (!ack || vu_request_has_reply(m->hdr.request))
		return err;
	m->hdr.size = sizeof(uint64_t);
	m->payload.u64 = 1;
	m->nfds = 0;
	return send_reply(c, m);
}

int vu_dispatch(struct vu_dev *d, struct vu_conn *c, struct vu_msg *m)
{
	uint32_t req = m->hdr.request;
	bool need_reply = m->hdr.flags & VHOST_USER_NEED_REPLY_MASK;
	const char *name = vu_request_name(req);
	const struct vu_handler *h = req < VHOST_USER_MAX ? &handlers[req] : NULL;
	int ret = vu_msg_check(m);

	if (!ret && (!h || !h->fn)) {
		vb_err("front-end sent %s (%u), which vblkd does not implement", name, req);
		ret = -EOPNOTSUPP;
	} else if (!ret && c->control && !control_serves[req] &&
		   !(d->ring_stop && (req == VHOST_USER_GET_VRING_BASE ||
				      req == VHOST_USER_SET_VRING_ENABLE))) {
		vb_err("control socket client sent %s (%u), which only the front-end socket serves",
		       name, req);
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
		return refuse(c, m, need_reply, ret);
	}

	vb_dbg("%s%s", c->control ? "control: " : "", name);
	d->cur = c;
	d->reply_fd = -1;
	/* Only the handler: a client slow to read its reply must not hold the device. */
	if (d->lock)
		pthread_mutex_lock(d->lock);
	ret = h->fn(d, m);
	if (d->lock)
		pthread_mutex_unlock(d->lock);
	vu_msg_close_fds(m); /* what the handler did not take */
	if (ret == VU_REPLY && d->reply_fd >= 0) {
		m->fds[0] = d->reply_fd;
		m->nfds = 1;
	}
	if (ret < 0) {
		vb_warn("%s failed: %s", name, strerror(-ret));
		if (vu_request_has_reply(req))
			return ret;
	}
	if (ret == VU_REPLY) {
		ret = send_reply(c, m);
		vu_msg_close_fds(m);
		d->reply_fd = -1;
		return ret;
	}
	if (d->reply_fd >= 0)
		close(d->reply_fd);
	if (!need_reply)
		return 0;
	m->hdr.size = sizeof(uint64_t);
	m->payload.u64 = ret ? 1 : 0;
	return send_reply(c, m);
}

static void conn_drop(struct vu_dev *d, struct vu_conn *c)
{
	if (c->fd < 0)
		return;
	close(c->fd);
	c->fd = -1;
	c->protocol_features = 0;
	vu_state_abort(d, c);
	if (c->control) {
		vb_info("control client disconnected");
		return;
	}
	/* A new front-end sets everything up again; statistics stay. */
	blk_dev_reset(d->blk);
	vu_inflight_release(d);
	d->features = 0;
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

static int conn_listen(struct vu_conn *c, const char *path, bool control)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old_mask;
	int ret;

	c->path = path;
	c->control = control;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		vb_err("socket path %s is too long (max %zu)", path, sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	ret = claim_path(path);
	if (ret)
		return ret;
	c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->listen_fd < 0)
		return -errno;
	old_mask = umask(0177); /* 0600: guest memory and device state go through it */
	ret = bind(c->listen_fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old_mask);
	if (ret || listen(c->listen_fd, 1)) {
		ret = -errno;
		vb_err("cannot listen on %s: %s", path, strerror(-ret));
		close(c->listen_fd);
		c->listen_fd = -1;
		return ret;
	}
	vb_info("listening on %s%s", path, control ? " (control)" : "");
	return 0;
}

int vu_server_listen(struct vu_dev *d, struct blk_dev *blk, const char *path,
		     const char *ctl_path)
{
	int ret;

	memset(d, 0, sizeof(*d));
	d->blk = blk;
	d->fe.listen_fd = d->fe.fd = -1;
	d->ctl.listen_fd = d->ctl.fd = -1;
	d->xfer.fd = d->xfer.abort_fd = -1;
	d->last_result = STATE_E_INCOMPLETE;
	ret = path ? conn_listen(&d->fe, path, false) : 0;
	if (ret || !ctl_path)
		return ret;
	ret = conn_listen(&d->ctl, ctl_path, true);
	if (ret)
		vu_server_close(d);
	return ret;
}

static void conn_accept(struct vu_conn *c)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0) {
		vb_warn("accept: %s", strerror(errno));
		return;
	}
	c->fd = fd;
	if (!getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		vb_info("%s connected (pid %d uid %u)", c->control ? "control client" : "front-end",
			cred.pid, cred.uid);
}

static void conn_serve(struct vu_dev *d, struct vu_conn *c)
{
	struct vu_msg msg;
	int ret;

	if (c->fd < 0) {
		conn_accept(c);
		return;
	}
	ret = vu_msg_recv(c->fd, &msg);
	if (!ret)
		ret = vu_dispatch(d, c, &msg);
	if (ret) {
		if (ret != -ECONNRESET)
			vb_err("dropping the %s: %s", c->control ? "control client" : "front-end",
			       strerror(-ret));
		conn_drop(d, c);
	}
}

static int conn_poll_fd(const struct vu_conn *c)
{
	return c->fd >= 0 ? c->fd : c->listen_fd;
}

int vu_server_run(struct vu_dev *d, int stop_fd)
{
	for (;;) {
		struct pollfd pfd[3] = {
			{ .fd = stop_fd, .events = POLLIN },
			{ .fd = conn_poll_fd(&d->fe), .events = POLLIN },
			{ .fd = conn_poll_fd(&d->ctl), .events = POLLIN },
		};

		if (poll(pfd, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (pfd[0].revents)
			return 0;
		if (pfd[1].revents)
			conn_serve(d, &d->fe);
		if (pfd[2].revents)
			conn_serve(d, &d->ctl);
	}
}

static void conn_close(struct vu_dev *d, struct vu_conn *c)
{
	conn_drop(d, c);
	if (c->listen_fd >= 0) {
		close(c->listen_fd);
		unlink(c->path);
	}
	c->listen_fd = -1;
}

void vu_server_close(struct vu_dev *d)
{
	vu_state_abort(d, NULL);
	conn_close(d, &d->ctl);
	conn_close(d, &d->fe);
}
