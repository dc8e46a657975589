// SPDX-License-Identifier: GPL-2.0-or-later
/* Listening sockets, connection lifetime and the message dispatcher. */
#include "vhost-user-compat/vu_server.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/device.h"
#include "core/log.h"
#include "vhost-user-compat/vu_int.h"

struct vu_handler {
	vu_handler_fn fn;
	unsigned int max_fds;
	bool lock; /* run with the device's lock held */
};

static const struct vu_handler fe_handlers[VHOST_USER_MAX] = {
#define VU_ENTRY(name, fn_, nfds, lock_) \
	[VHOST_USER_##name] = { .fn = fn_, .max_fds = nfds, .lock = lock_ },
	VU_HANDLER_LIST(VU_ENTRY)
};

static const struct vu_handler ctl_handlers[VHOST_USER_MAX] = { VU_CONTROL_LIST(VU_ENTRY)
#undef VU_ENTRY
};

static int send_reply(struct vu_conn *c, struct vu_msg *m)
{
	m->hdr.flags = VHOST_USER_VERSION | VHOST_USER_REPLY_MASK;
	return vu_msg_send(c->fd, m);
}

/*
 * A request we cannot serve: answer with a failed ack when the peer asked
 * for one; when it waits for a reply we cannot give, drop the connection
 * rather than leave it waiting.
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

/*
 * The protocol feature a request belongs to (vhost-user.rst): a front-end
 * that did not negotiate it gets a refusal, not the service. -1: none.
 */
static int protocol_feature_of(uint32_t req)
{
	switch (req) {
	case VHOST_USER_GET_QUEUE_NUM:
		return VHOST_USER_PROTOCOL_F_MQ;
	case VHOST_USER_SET_LOG_BASE:
		return VHOST_USER_PROTOCOL_F_LOG_SHMFD;
	case VHOST_USER_GET_CONFIG:
	case VHOST_USER_SET_CONFIG:
		return VHOST_USER_PROTOCOL_F_CONFIG;
	case VHOST_USER_GET_INFLIGHT_FD:
	case VHOST_USER_SET_INFLIGHT_FD:
		return VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD;
	case VHOST_USER_RESET_DEVICE:
		return VHOST_USER_PROTOCOL_F_RESET_DEVICE;
	case VHOST_USER_GET_MAX_MEM_SLOTS:
	case VHOST_USER_ADD_MEM_REG:
	case VHOST_USER_REM_MEM_REG:
		return VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS;
	case VHOST_USER_SET_STATUS:
	case VHOST_USER_GET_STATUS:
		return VHOST_USER_PROTOCOL_F_STATUS;
	case VHOST_USER_SET_DEVICE_STATE_FD:
	case VHOST_USER_CHECK_DEVICE_STATE:
		return VHOST_USER_PROTOCOL_F_DEVICE_STATE;
	default:
		return -1;
	}
}

/* The handler for @m on @c, or NULL with the refusal logged. */
static const struct vu_handler *handler_of(const struct vu_conn *c, const struct vu_handler *table,
					   struct vu_msg *m, int *err)
{
	uint32_t req = m->hdr.request;
	const char *name = vu_request_name(req);
	const struct vu_handler *h = req < VHOST_USER_MAX ? &table[req] : NULL;

	*err = vu_msg_check(m);
	if (*err) {
		vb_err("%s sent a malformed %s (%u): payload %u bytes, %u fds", c->what, name, req,
		       m->hdr.size, m->nfds);
		return NULL;
	}
	if (!h || !h->fn) {
		vb_err("%s sent %s (%u), which this socket does not serve", c->what, name, req);
		*err = -EOPNOTSUPP;
		return NULL;
	}
	if (protocol_feature_of(req) >= 0 &&
	    !(c->protocol_features & (1ull << protocol_feature_of(req)))) {
		vb_err("%s sent %s without negotiating protocol feature %d", c->what, name,
		       protocol_feature_of(req));
		*err = -EPROTO;
		return NULL;
	}
	if (m->nfds > h->max_fds) {
		vb_err("%s sent %s with %u fds, at most %u allowed", c->what, name, m->nfds,
		       h->max_fds);
		*err = -EINVAL;
		return NULL;
	}
	return h;
}

/**
 * dispatch() - handle one received message, sending its reply or ack
 * @s:		the server
 * @c:		the connection it came on
 * @m:		the message
 *
 * Return: 0 to go on, or -errno when the connection must be dropped.
 */
static int dispatch(struct vu_server *s, struct vu_conn *c, struct vu_msg *m)
{
	bool need_reply = m->hdr.flags & VHOST_USER_NEED_REPLY_MASK;
	const char *name = vu_request_name(m->hdr.request);
	bool front_end = c == &s->fe;
	const struct vu_handler *h;
	char context[64];
	int ret;

	h = handler_of(c, front_end ? fe_handlers : ctl_handlers, m, &ret);
	if (!h) {
		vu_msg_close_fds(m);
		return refuse(c, m, need_reply, ret);
	}
	snprintf(context, sizeof(context), "%s %s", c->what, name);
	vb_log_context(context);
	vb_dbg("received");
	c->reply_fd = -1;
	/* For the handler alone: a peer slow to read its reply must not hold the device. */
	if (h->lock)
		vb_dev_lock(s->dev);
	ret = h->fn(s, c, m);
	if (h->lock)
		vb_dev_unlock(s->dev);
	vu_msg_close_fds(m); /* what the handler did not take */
	/* One line per failure: the handler's own, or this one. */
	if (ret < 0 && !vb_log_context_errors())
		vb_err("failed: %s", strerror(-ret));
	vb_log_context(NULL);
	if (ret < 0) {
		if (c->reply_fd >= 0)
			close(c->reply_fd);
		c->reply_fd = -1;
		if (vu_request_has_reply(m->hdr.request))
			return ret;
	} else if (ret == VU_REPLY) {
		if (c->reply_fd >= 0) {
			m->fds[0] = c->reply_fd;
			m->nfds = 1;
		}
		c->reply_fd = -1;
		ret = send_reply(c, m);
		vu_msg_close_fds(m);
		return ret;
	}
	if (!need_reply)
		return 0;
	m->hdr.size = sizeof(uint64_t);
	m->payload.u64 = ret ? 1 : 0;
	return send_reply(c, m);
}

static void conn_drop(struct vu_server *s, struct vu_conn *c)
{
	if (c->fd < 0)
		return;
	close(c->fd);
	c->fd = -1;
	c->protocol_features = 0;
	state_session_abort(&s->xfer, c->id);
	if (c != &s->fe) {
		vb_info("control client disconnected");
		return;
	}
	/* A new front-end sets everything up again; statistics stay. */
	vb_dev_lock(s->dev);
	vb_dev_reset(s->dev, VB_RESET_ALL);
	vu_inflight_release(s);
	vb_dev_unlock(s->dev);
	s->features = 0;
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
	if (unlink(path)) {
		ret = -errno;
		vb_err("cannot remove the stale socket %s: %s", path, strerror(-ret));
		return ret;
	}
	return 0;
}

static int conn_listen(struct vu_conn *c, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old_mask;
	int ret;

	c->path = path;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		vb_err("socket path %s is too long (max %zu)", path, sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	ret = claim_path(path);
	if (ret)
		return ret;
	c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->listen_fd < 0) {
		ret = -errno;
		vb_err("socket: %s", strerror(-ret));
		return ret;
	}
	old_mask = umask(0177); /* 0600: guest memory and device state go through it */
	ret = bind(c->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	umask(old_mask);
	if (!ret && listen(c->listen_fd, 1))
		ret = -errno;
	if (ret) {
		vb_err("cannot listen on %s: %s", path, strerror(-ret));
		close(c->listen_fd);
		c->listen_fd = -1;
		return ret;
	}
	vb_info("listening on %s (%s)", path, c->what);
	return 0;
}

static void conn_init(struct vu_conn *c, const char *what)
{
	memset(c, 0, sizeof(*c));
	c->what = what;
	c->listen_fd = c->fd = c->reply_fd = -1;
}

int vu_server_new(struct vb_device *dev, const char *path, const char *ctl_path,
		  const struct vu_ctl_ops *ctl_ops, void *ctl_opaque, struct vu_server **out)
{
	struct vu_server *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		return -ENOMEM;
	s->dev = dev;
	s->ctl_ops = ctl_ops;
	s->ctl_opaque = ctl_opaque;
	conn_init(&s->fe, "front-end");
	conn_init(&s->ctl, "control client");
	state_session_init(&s->xfer);
	ret = path ? conn_listen(&s->fe, path) : 0;
	if (!ret && ctl_path)
		ret = conn_listen(&s->ctl, ctl_path);
	if (ret) {
		vu_server_free(s);
		return ret;
	}
	*out = s;
	return 0;
}

static void conn_accept(struct vu_server *s, struct vu_conn *c)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0) {
		vb_warn("%s socket: accept: %s", c->what, strerror(errno));
		return;
	}
	c->fd = fd;
	c->id = ++s->next_conn_id;
	if (!getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		vb_info("%s connected (pid %d uid %u)", c->what, cred.pid, cred.uid);
}

static void conn_serve(struct vu_server *s, struct vu_conn *c)
{
	struct vu_msg msg;
	int ret;

	if (c->fd < 0) {
		conn_accept(s, c);
		return;
	}
	ret = vu_msg_recv(c->fd, &msg);
	if (!ret)
		ret = dispatch(s, c, &msg);
	if (ret) {
		if (ret != -ECONNRESET)
			vb_err("dropping the %s: %s", c->what, strerror(-ret));
		conn_drop(s, c);
	}
}

static int conn_poll_fd(const struct vu_conn *c)
{
	return c->fd >= 0 ? c->fd : c->listen_fd;
}

int vu_server_run(struct vu_server *s, int stop_fd)
{
	for (;;) {
		struct pollfd pfd[3] = {
			{ .fd = stop_fd, .events = POLLIN },
			{ .fd = conn_poll_fd(&s->fe), .events = POLLIN },
			{ .fd = conn_poll_fd(&s->ctl), .events = POLLIN },
		};

		if (poll(pfd, 3, -1) < 0) {
			int ret = -errno;

			if (ret == -EINTR)
				continue;
			vb_err("poll: %s", strerror(-ret));
			return ret;
		}
		if (pfd[0].revents)
			return 0;
		if (pfd[1].revents)
			conn_serve(s, &s->fe);
		if (pfd[2].revents)
			conn_serve(s, &s->ctl);
	}
}

static void conn_close(struct vu_server *s, struct vu_conn *c)
{
	conn_drop(s, c);
	if (c->listen_fd >= 0) {
		close(c->listen_fd);
		if (c->path) /* NULL: an inherited socket, its creator's file */
			unlink(c->path);
	}
	c->listen_fd = -1;
}

void vu_server_free(struct vu_server *s)
{
	if (!s)
		return;
	state_session_abort(&s->xfer, 0);
	conn_close(s, &s->ctl);
	conn_close(s, &s->fe);
	free(s);
}
