// SPDX-License-Identifier: GPL-2.0-or-later
/* Listening sockets, connection lifetime and the message dispatcher. */
#include "vhost-user-compat/vu_server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/device.h"
#include "core/log.h"
#include "core/sock_policy.h"
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
	return vu_conn_send(c, m);
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
	case VHOST_USER_SET_BACKEND_REQ_FD:
		return VHOST_USER_PROTOCOL_F_BACKEND_REQ;
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
	vu_conn_close(c);
	if (c->reply_fd >= 0)
		close(c->reply_fd);
	c->reply_fd = -1;
	c->protocol_features = 0;
	state_session_abort(&s->xfer, c->id);
	if (c != &s->fe) {
		vb_info("%s disconnected", c->what);
		return;
	}
	/* A new front-end sets everything up again; statistics stay. */
	vb_dev_lock(s->dev);
	vb_dev_reset(s->dev, VB_RESET_ALL);
	vu_inflight_release(s);
	vu_backend_close(s);
	s->fe_protocol_features = 0;
	vb_dev_unlock(s->dev);
	atomic_store(&s->fe_connected, false);
	s->features = 0;
	vb_info("front-end disconnected; waiting for the next one");
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
	s->message_timeout_ms = VU_MESSAGE_TIMEOUT_MS;
	s->idle_timeout_ms = VU_IDLE_TIMEOUT_MS;
	s->backend_fd = -1;
	s->fe_listen.fd = s->ctl_listen.fd = -1;
	s->fe.fd = s->fe.reply_fd = -1;
	state_session_init(&s->xfer);
	/* The front-end socket: one at a time, the next waits in the backlog. */
	ret = path ? vu_listener_open(&s->fe_listen, path, "front-end", 1) : 0;
	if (!ret && ctl_path)
		ret = vu_listener_open(&s->ctl_listen, ctl_path, "control client",
				       VU_CTL_MAX_CLIENTS);
	if (ret) {
		vu_server_free(s);
		return ret;
	}
	*out = s;
	return 0;
}

void vu_server_set_timeouts(struct vu_server *s, unsigned int message_ms, unsigned int idle_ms)
{
	s->message_timeout_ms = message_ms ? (int)message_ms : VU_MESSAGE_TIMEOUT_MS;
	s->idle_timeout_ms = (int)idle_ms;
}

/* A free control slot in *@c: 0, -EBUSY when VU_CTL_MAX_CLIENTS are connected, or -ENOMEM. */
static int ctl_slot(struct vu_server *s, unsigned int *n, struct vu_conn **c)
{
	for (*n = 0; *n < VU_CTL_MAX_CLIENTS; (*n)++) {
		*c = s->ctl[*n];
		if (*c && (*c)->fd < 0)
			return 0;
		if (*c)
			continue;
		*c = calloc(1, sizeof(**c));
		if (!*c)
			return -ENOMEM;
		(*c)->fd = (*c)->reply_fd = -1;
		s->ctl[*n] = *c;
		return 0;
	}
	return -EBUSY;
}

static void conn_accept(struct vu_server *s, struct vu_listener *l)
{
	int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	struct ucred cred = { .pid = 0 };
	socklen_t len = sizeof(cred);
	char what[sizeof(s->fe.what)];
	struct vu_conn *c = &s->fe;
	unsigned int n;
	int ret;

	if (fd < 0) {
		if (errno != EAGAIN && errno != ECONNABORTED)
			vb_warn("%s socket: accept: %s", l->what, strerror(errno));
		return;
	}
	if (!vb_peer_allowed(fd, &vb_sock_policy, l->what)) {
		close(fd);
		return;
	}
	getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len);
	if (l == &s->ctl_listen) {
		ret = ctl_slot(s, &n, &c);
		if (ret == -EBUSY)
			vb_err("refusing a control client (pid %d uid %u): %d are connected",
			       cred.pid, cred.uid, VU_CTL_MAX_CLIENTS);
		else if (ret)
			vb_err("refusing a control client (pid %d uid %u): %s", cred.pid, cred.uid,
			       strerror(-ret));
		if (ret) {
			close(fd);
			return;
		}
		snprintf(what, sizeof(what), "control client %u", n);
	} else {
		snprintf(what, sizeof(what), "front-end");
	}
	vu_conn_open(c, fd, ++s->next_conn_id, what);
	c->pid = cred.pid;
	if (c == &s->fe)
		atomic_store(&s->fe_connected, true);
	vb_info("%s connected (pid %d uid %u)", c->what, cred.pid, cred.uid);
}

/* Messages one connection may have served in a row before the others get theirs. */
#define VU_BURST 16

/* Read and serve what @c sent; -errno to drop it. */
static int conn_read(struct vu_server *s, struct vu_conn *c)
{
	for (int i = 0; i < VU_BURST; i++) {
		int ret = vu_conn_recv(c);

		if (ret <= 0)
			return ret;
		ret = dispatch(s, c, &c->rx);
		vu_conn_rx_done(c);
		if (ret)
			return ret;
	}
	return 0;
}

static void conn_io(struct vu_server *s, struct vu_conn *c, short revents)
{
	int ret = 0;

	if (revents & POLLOUT)
		ret = vu_conn_flush(c);
	if (!ret && revents & (POLLIN | POLLHUP | POLLERR))
		ret = conn_read(s, c);
	if (!ret)
		return;
	if (ret == -ENOBUFS)
		vb_err("dropping the %s (pid %d): it left %d replies unread", c->what, c->pid,
		       VU_TXQ_MAX);
	else if (ret != -ECONNRESET)
		vb_err("dropping the %s (pid %d): %s", c->what, c->pid, strerror(-ret));
	conn_drop(s, c);
}

/*
 * The fuzz target's way in: the same reads, dispatcher, reply queue and
 * drop as an accepted front-end, on one socket, until the connection ends.
 */
void vu_server_serve_fe_fd(struct vu_server *s, int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	vu_conn_open(&s->fe, fd, ++s->next_conn_id, "front-end");
	while (s->fe.fd >= 0) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		if (vu_conn_tx_pending(&s->fe))
			pfd.events |= POLLOUT;
		if (poll(&pfd, 1, 1000) <= 0) {
			conn_drop(s, &s->fe);
			break;
		}
		conn_io(s, &s->fe, pfd.revents);
	}
}

/*
 * When @c runs out of time: a message started and not finished, replies
 * not read, or for a control client, nothing at all. INT64_MAX: never.
 */
static int64_t conn_deadline(const struct vu_server *s, const struct vu_conn *c)
{
	bool owns_transfer = s->xfer.active && s->xfer.owner == c->id;

	if (vu_conn_rx_partial(c))
		return c->rx_since_ms + s->message_timeout_ms;
	if (vu_conn_tx_pending(c))
		return c->tx_since_ms + s->message_timeout_ms;
	/* A front-end may be quiet for ever; a control client moving a state is not idle. */
	if (c == &s->fe || !s->idle_timeout_ms || owns_transfer)
		return INT64_MAX;
	return c->active_ms + s->idle_timeout_ms;
}

static void conn_expire(struct vu_server *s, struct vu_conn *c, int64_t now)
{
	if (c->fd < 0 || now < conn_deadline(s, c))
		return;
	if (vu_conn_rx_partial(c))
		vb_err("dropping the %s (pid %d): %zu bytes of a message, then nothing for %d ms",
		       c->what, c->pid, c->rx_got, s->message_timeout_ms);
	else if (vu_conn_tx_pending(c))
		vb_err("dropping the %s (pid %d): it has not read its replies for %d ms", c->what,
		       c->pid, s->message_timeout_ms);
	else
		vb_info("dropping the %s (pid %d): idle for %d s", c->what, c->pid,
			s->idle_timeout_ms / 1000);
	conn_drop(s, c);
}

/* poll()'s timeout: until the first connection runs out of time. */
static int poll_timeout(const struct vu_server *s, int64_t now)
{
	int64_t first = conn_deadline(s, &s->fe);

	if (s->fe.fd < 0)
		first = INT64_MAX;
	for (unsigned int i = 0; i < VU_CTL_MAX_CLIENTS; i++)
		if (s->ctl[i] && s->ctl[i]->fd >= 0 && conn_deadline(s, s->ctl[i]) < first)
			first = conn_deadline(s, s->ctl[i]);
	if (first == INT64_MAX)
		return -1;
	return first <= now ? 0 : (int)(first - now);
}

/* What one poll() waits on: pfd[i] is conn[i]'s socket, or a listener's when conn[i] is NULL. */
struct vu_pollset {
	struct pollfd pfd[3 + VU_CTL_MAX_CLIENTS];
	struct vu_conn *conn[3 + VU_CTL_MAX_CLIENTS];
	nfds_t n;
};

static void pollset_add(struct vu_pollset *p, int fd, struct vu_conn *c)
{
	short events = POLLIN;

	if (fd < 0)
		return;
	if (c && vu_conn_tx_pending(c))
		events |= POLLOUT;
	p->pfd[p->n] = (struct pollfd){ .fd = fd, .events = events };
	p->conn[p->n++] = c;
}

static void pollset_fill(struct vu_server *s, struct vu_pollset *p, int stop_fd)
{
	p->n = 0;
	pollset_add(p, stop_fd, NULL);
	if (s->fe.fd >= 0)
		pollset_add(p, s->fe.fd, &s->fe);
	else
		pollset_add(p, s->fe_listen.fd, NULL);
	pollset_add(p, s->ctl_listen.fd, NULL);
	for (unsigned int i = 0; i < VU_CTL_MAX_CLIENTS; i++)
		if (s->ctl[i])
			pollset_add(p, s->ctl[i]->fd, s->ctl[i]);
}

int vu_server_run(struct vu_server *s, int stop_fd)
{
	struct vu_pollset p;

	s->xfer.interrupt_fd = stop_fd; /* a CHECK that waits gives way to SIGTERM */
	for (;;) {
		int64_t now = vu_now_ms();

		pollset_fill(s, &p, stop_fd);
		if (poll(p.pfd, p.n, poll_timeout(s, now)) < 0) {
			int ret = -errno;

			if (ret == -EINTR)
				continue;
			vb_err("poll: %s", strerror(-ret));
			return ret;
		}
		if (p.pfd[0].revents)
			return 0;
		/* Connections first: a slot one of them frees is not reused before its turn. */
		for (nfds_t i = 1; i < p.n; i++)
			if (p.conn[i] && p.pfd[i].revents && p.conn[i]->fd == p.pfd[i].fd)
				conn_io(s, p.conn[i], p.pfd[i].revents);
		for (nfds_t i = 1; i < p.n; i++) {
			if (p.conn[i] || !p.pfd[i].revents)
				continue;
			if (p.pfd[i].fd == s->ctl_listen.fd)
				conn_accept(s, &s->ctl_listen);
			else if (s->fe.fd < 0)
				conn_accept(s, &s->fe_listen);
		}
		now = vu_now_ms();
		conn_expire(s, &s->fe, now);
		for (unsigned int i = 0; i < VU_CTL_MAX_CLIENTS; i++)
			if (s->ctl[i])
				conn_expire(s, s->ctl[i], now);
	}
}

void vu_server_free(struct vu_server *s)
{
	if (!s)
		return;
	state_session_abort(&s->xfer, 0);
	for (unsigned int i = 0; i < VU_CTL_MAX_CLIENTS; i++) {
		if (s->ctl[i])
			conn_drop(s, s->ctl[i]);
		free(s->ctl[i]);
	}
	vu_listener_close(&s->ctl_listen);
	conn_drop(s, &s->fe);
	vu_listener_close(&s->fe_listen);
	free(s);
}
