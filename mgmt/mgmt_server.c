// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The management socket's server: a listening socket and up to
 * MGMT_MAX_CLIENTS non-blocking clients, served by one thread that polls
 * them. Each client has a bounded input buffer (a line longer than
 * MGMT_LINE_MAX is answered with an error and skipped) and a bounded
 * output buffer; while a reply waits to be read, the client's next request
 * waits too, so a client that never reads costs at most one reply. A
 * client idle for MGMT_IDLE_MS is closed.
 */
#include "mgmt/mgmt.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/log.h"
#include "core/sock_policy.h"
#include "mgmt/mgmt_int.h"
#include "core/ring_stats.h"

#define MGMT_MAX_CLIENTS 32
#define MGMT_LINE_MAX 4096
#define MGMT_OUT_MAX (64 * 1024)
#define MGMT_IDLE_MS 60000

struct mgmt_client {
	int fd;
	size_t in_len;
	bool skipping; /* the rest of a line that was too long */
	char in[MGMT_LINE_MAX + 1];
	char *out;
	size_t out_len, out_off;
	uint64_t last_ns;
};

struct mgmt_server {
	struct mgmt_server_state st;
	const char *path;
	int listen_fd;
	int stop_fd;
	pthread_t thread;
	/*
	 * Allocated when first used, then kept: a socket no client reached
	 * holds none of the 4 KiB line buffers.
	 */
	struct mgmt_client *clients[MGMT_MAX_CLIENTS];
};

static void client_close(struct mgmt_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/* Queue a reply line; one that does not fit the bound becomes an error reply. */
static void client_reply(struct mgmt_client *c, struct json_object *reply)
{
	const char *s;
	size_t len;

	if (!reply)
		reply = mgmt_error(-ENOMEM, "out of memory");
	s = reply ? json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN) : NULL;
	len = s ? strlen(s) : 0;
	if (len + 1 > MGMT_OUT_MAX) {
		json_object_put(reply);
		reply = mgmt_error(-EMSGSIZE, "reply too large");
		s = json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN);
		len = strlen(s);
	}
	free(c->out);
	c->out = malloc(len + 1);
	c->out_off = c->out_len = 0;
	if (c->out) {
		memcpy(c->out, s, len);
		c->out[len] = '\n';
		c->out_len = len + 1;
	}
	json_object_put(reply);
}

/* Answer the first complete line in the input buffer, if any. */
static void client_process(struct mgmt_server *m, struct mgmt_client *c)
{
	char *nl = memchr(c->in, '\n', c->in_len);
	size_t len;

	if (!nl) {
		if (c->in_len < MGMT_LINE_MAX)
			return;
		client_reply(c, mgmt_error(-EMSGSIZE, "request line longer than 4096 bytes"));
		c->skipping = true;
		c->in_len = 0;
		return;
	}
	len = (size_t)(nl - c->in);
	*nl = '\0';
	if (c->skipping)
		c->skipping = false; /* the tail of the long line: already answered */
	else
		client_reply(c, mgmt_cmd_run(&m->st, c->in, len));
	c->in_len -= len + 1;
	memmove(c->in, nl + 1, c->in_len);
}

/* Return: false when the client must be closed. */
static bool client_read(struct mgmt_server *m, struct mgmt_client *c)
{
	ssize_t n;

	if (c->in_len == MGMT_LINE_MAX) {
		client_process(m, c);
		return true;
	}
	n = recv(c->fd, c->in + c->in_len, MGMT_LINE_MAX - c->in_len, MSG_DONTWAIT);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	if (n == 0)
		return false;
	c->in_len += (size_t)n;
	if (c->skipping) {
		char *nl = memchr(c->in, '\n', c->in_len);

		if (!nl) {
			c->in_len = 0;
			return true;
		}
		c->skipping = false;
		c->in_len -= (size_t)(nl + 1 - c->in);
		memmove(c->in, nl + 1, c->in_len);
	}
	client_process(m, c);
	return true;
}

static bool client_write(struct mgmt_server *m, struct mgmt_client *c)
{
	ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
			 MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	c->out_off += (size_t)n;
	if (c->out_off == c->out_len) {
		free(c->out);
		c->out = NULL;
		c->out_off = c->out_len = 0;
		client_process(m, c); /* a request that came with the last one */
	}
	return true;
}

/* A free client slot in *@out: 0, -EBUSY when MGMT_MAX_CLIENTS are connected, or -ENOMEM. */
static int client_slot(struct mgmt_server *m, struct mgmt_client **out)
{
	for (unsigned int i = 0; i < MGMT_MAX_CLIENTS; i++) {
		struct mgmt_client *c = m->clients[i];

		if (c && c->fd >= 0)
			continue;
		if (!c) {
			c = calloc(1, sizeof(*c));
			if (!c)
				return -ENOMEM;
			c->fd = -1;
			m->clients[i] = c;
		}
		*out = c;
		return 0;
	}
	return -EBUSY;
}

static void server_accept(struct mgmt_server *m)
{
	int fd = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	struct mgmt_client *c;
	int ret;

	if (fd < 0)
		return;
	/* --allow-uid: the same peers as the other sockets. */
	if (!vb_peer_allowed(fd, &vb_sock_policy, "management client")) {
		close(fd);
		return;
	}
	ret = client_slot(m, &c);
	if (ret) {
		if (ret == -EBUSY)
			vb_warn("management socket: more than %d clients; closing the newest",
				MGMT_MAX_CLIENTS);
		else
			vb_warn("management socket: closing a new client: %s", strerror(-ret));
		close(fd);
		return;
	}
	c->fd = fd;
	c->last_ns = vb_now_ns();
}

static void *server_thread(void *arg)
{
	struct mgmt_server *m = arg;
	struct pollfd pfd[MGMT_MAX_CLIENTS + 2];

	for (;;) {
		uint64_t now;

		pfd[0] = (struct pollfd){ .fd = m->stop_fd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = m->listen_fd, .events = POLLIN };
		for (unsigned int i = 0; i < MGMT_MAX_CLIENTS; i++) {
			struct mgmt_client *c = m->clients[i];

			/* A pending reply holds back the next request. */
			pfd[i + 2] = (struct pollfd){ .fd = c ? c->fd : -1,
						      .events = c && c->out ? POLLOUT : POLLIN };
		}
		if (poll(pfd, MGMT_MAX_CLIENTS + 2, 1000) < 0 && errno != EINTR) {
			vb_err("management socket: poll: %s", strerror(errno));
			return NULL;
		}
		if (pfd[0].revents)
			return NULL;
		now = vb_now_ns();
		for (unsigned int i = 0; i < MGMT_MAX_CLIENTS; i++) {
			struct mgmt_client *c = m->clients[i];
			bool ok = true;

			if (!c || c->fd < 0 || pfd[i + 2].fd != c->fd)
				continue;
			if (pfd[i + 2].revents & POLLOUT)
				ok = client_write(m, c);
			else if (pfd[i + 2].revents & POLLIN)
				ok = client_read(m, c);
			else if (pfd[i + 2].revents)
				ok = false; /* POLLHUP, POLLERR with nothing to read */
			if (pfd[i + 2].revents)
				c->last_ns = now;
			else if (now - c->last_ns > MGMT_IDLE_MS * 1000000ull)
				ok = false;
			if (!ok)
				client_close(c);
		}
		/* After the clients: the slots of those that left are free again. */
		if (pfd[1].revents)
			server_accept(m);
	}
}

/* A stale socket (no one listens) is replaced; a live one or another file is not. */
static int mgmt_claim(const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, live;

	if (lstat(sa->sun_path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	live = !connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (live)
		return -EADDRINUSE;
	return unlink(sa->sun_path) ? -errno : 0;
}

static int mgmt_listen(struct mgmt_server *m)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int ret;

	if (strlen(m->path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, m->path);
	ret = mgmt_claim(&sa);
	if (ret)
		return ret;
	m->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (m->listen_fd < 0)
		return -errno;
	/* 0600 unless asked (--socket-mode/--socket-group): it suspends and resizes the disk */
	ret = vb_sock_bind(m->listen_fd, &sa, &vb_sock_policy);
	if (!ret && listen(m->listen_fd, MGMT_MAX_CLIENTS)) {
		ret = -errno;
		unlink(sa.sun_path);
	}
	return ret;
}

int mgmt_server_start(struct blk_dev *blk, const char *path, const struct mgmt_ops *ops,
		      struct mgmt_server **out)
{
	struct mgmt_server *m = calloc(1, sizeof(*m));
	int ret;

	if (!m)
		return -ENOMEM;
	m->st.blk = blk;
	m->st.ops = *ops;
	m->path = path;
	m->listen_fd = m->stop_fd = -1;
	ret = mgmt_listen(m);
	if (ret) {
		vb_err("management socket %s: %s", path, strerror(-ret));
		if (m->listen_fd >= 0)
			close(m->listen_fd);
		free(m);
		return ret;
	}
	m->stop_fd = eventfd(0, EFD_CLOEXEC);
	ret = m->stop_fd < 0 ? -errno : -pthread_create(&m->thread, NULL, server_thread, m);
	if (ret) {
		vb_err("management socket %s: cannot start its thread: %s", path, strerror(-ret));
		if (m->stop_fd >= 0)
			close(m->stop_fd);
		close(m->listen_fd);
		unlink(path);
		free(m);
		return ret;
	}
	vb_info("listening on %s (management, JSON lines)", path);
	*out = m;
	return 0;
}

void mgmt_server_stop(struct mgmt_server *m)
{
	uint64_t one = 1;

	if (!m)
		return;
	if (write(m->stop_fd, &one, sizeof(one)) != sizeof(one))
		vb_warn("management socket: cannot stop its thread: %s", strerror(errno));
	pthread_join(m->thread, NULL);
	for (unsigned int i = 0; i < MGMT_MAX_CLIENTS; i++) {
		if (m->clients[i])
			client_close(m->clients[i]);
		free(m->clients[i]);
	}
	close(m->stop_fd);
	close(m->listen_fd);
	unlink(m->path);
	free(m);
}
