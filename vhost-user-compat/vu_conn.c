// SPDX-License-Identifier: GPL-2.0-or-later
/* A connection's non-blocking receive buffer and reply queue: see vu_conn.h. */
#include "vhost-user-compat/vu_conn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

int64_t vu_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void vu_conn_open(struct vu_conn *c, int fd, uint64_t id, const char *what)
{
	int flags = fcntl(fd, F_GETFL);

	/* An accepted socket inherits nothing: without this, one recv could block the loop. */
	if (flags >= 0)
		fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	c->fd = fd;
	c->id = id;
	c->protocol_features = 0;
	c->suspend_mode = VU_SUSPEND_DEFAULT;
	c->reply_fd = -1;
	c->rx_got = 0;
	c->rx.nfds = 0;
	c->tx_head = c->tx_count = 0;
	c->active_ms = vu_now_ms();
	snprintf(c->what, sizeof(c->what), "%s", what);
}

static void tx_buf_free(struct vu_tx_buf *b)
{
	if (b->fd >= 0)
		close(b->fd);
	free(b);
}

void vu_conn_close(struct vu_conn *c)
{
	if (c->fd < 0)
		return;
	close(c->fd);
	c->fd = -1;
	vu_msg_close_fds(&c->rx);
	c->rx_got = 0;
	while (c->tx_count) {
		tx_buf_free(c->txq[c->tx_head]);
		c->tx_head = (c->tx_head + 1) % VU_TXQ_MAX;
		c->tx_count--;
	}
}

/* Take the fds of one recvmsg() into c->rx; -EMSGSIZE past VU_MAX_FDS. */
static int take_fds(struct vu_conn *c, struct msghdr *mh)
{
	int ret = mh->msg_flags & MSG_CTRUNC ? -EMSGSIZE : 0;

	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		size_t nfds;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		nfds = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfds; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (c->rx.nfds < VU_MAX_FDS) {
				c->rx.fds[c->rx.nfds++] = fd;
			} else {
				close(fd);
				ret = -EMSGSIZE;
			}
		}
	}
	return ret;
}

/* Read up to @len bytes of the message into @dst. Return: bytes, 0 at EOF, -EAGAIN, -errno. */
static ssize_t recv_some(struct vu_conn *c, void *dst, size_t len)
{
	char control[CMSG_SPACE(VU_MAX_FDS * sizeof(int))];
	struct iovec iov = { dst, len };
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control,
		.msg_controllen = sizeof(control),
	};
	ssize_t n;
	int ret;

	do {
		n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	ret = take_fds(c, &mh);
	return ret ? ret : n;
}

int vu_conn_recv(struct vu_conn *c)
{
	const size_t hdr = sizeof(c->rx.hdr);

	for (;;) {
		bool in_hdr = c->rx_got < hdr;
		size_t want = in_hdr ? hdr - c->rx_got : hdr + c->rx.hdr.size - c->rx_got;
		uint8_t *dst = in_hdr ? (uint8_t *)&c->rx.hdr + c->rx_got :
					c->rx.payload.raw + (c->rx_got - hdr);
		ssize_t n;

		if (!want)
			return 1;
		n = recv_some(c, dst, want);
		if (n == -EAGAIN)
			return 0;
		if (n < 0)
			return (int)n;
		if (n == 0)
			return -ECONNRESET;
		c->active_ms = vu_now_ms();
		if (!c->rx_got)
			c->rx_since_ms = c->active_ms;
		c->rx_got += (size_t)n;
		/* The header is complete: its size must be one we can hold. */
		if (in_hdr && c->rx_got == hdr && c->rx.hdr.size > VU_PAYLOAD_MAX)
			return -EMSGSIZE;
	}
}

void vu_conn_rx_done(struct vu_conn *c)
{
	c->rx_got = 0;
	c->rx.nfds = 0;
}

/* sendmsg() without blocking, @fd (if >= 0) with the first byte. Return: bytes or -errno. */
static ssize_t send_some(int sock, struct iovec *iov, int iovcnt, const int *fds, unsigned int nfds)
{
	char control[CMSG_SPACE(VU_MAX_FDS * sizeof(int))] = { 0 };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)iovcnt };
	ssize_t n;

	if (nfds) {
		struct cmsghdr *cm;

		mh.msg_control = control;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	}
	do {
		n = sendmsg(sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? 0 : -errno;
	return n;
}

int vu_conn_send(struct vu_conn *c, const struct vu_msg *m)
{
	struct iovec iov[2] = {
		{ (void *)&m->hdr, sizeof(m->hdr) },
		{ (void *)&m->payload, m->hdr.size },
	};
	size_t total = sizeof(m->hdr) + m->hdr.size;
	struct vu_tx_buf *b;
	ssize_t n = 0;

	if (m->hdr.size > VU_PAYLOAD_MAX || m->nfds > 1)
		return -EINVAL; /* replies carry one fd at most */
	if (!c->tx_count) {
		n = send_some(c->fd, iov, 2, m->fds, m->nfds);
		if (n < 0)
			return (int)n;
		if ((size_t)n == total)
			return 0;
		c->tx_since_ms = vu_now_ms();
	}
	if (c->tx_count == VU_TXQ_MAX)
		return -ENOBUFS;
	b = malloc(sizeof(*b) + total);
	if (!b)
		return -ENOMEM;
	memcpy(b->bytes, &m->hdr, sizeof(m->hdr));
	memcpy(b->bytes + sizeof(m->hdr), &m->payload, m->hdr.size);
	b->len = total;
	b->off = (size_t)n;
	b->fd = -1;
	if (!n && m->nfds) {
		b->fd = fcntl(m->fds[0], F_DUPFD_CLOEXEC, 0);
		if (b->fd < 0) {
			free(b);
			return -errno;
		}
	}
	c->txq[(c->tx_head + c->tx_count) % VU_TXQ_MAX] = b;
	c->tx_count++;
	return 0;
}

int vu_conn_flush(struct vu_conn *c)
{
	while (c->tx_count) {
		struct vu_tx_buf *b = c->txq[c->tx_head];
		struct iovec iov = { b->bytes + b->off, b->len - b->off };
		ssize_t n = send_some(c->fd, &iov, 1, &b->fd, b->fd >= 0);

		if (n < 0)
			return (int)n;
		if (!n)
			return 0;
		c->tx_since_ms = c->active_ms = vu_now_ms();
		if (b->fd >= 0) {
			close(b->fd); /* it went with the first byte */
			b->fd = -1;
		}
		b->off += (size_t)n;
		if (b->off < b->len)
			continue;
		free(b);
		c->tx_head = (c->tx_head + 1) % VU_TXQ_MAX;
		c->tx_count--;
	}
	return 0;
}
