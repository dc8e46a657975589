/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One connection of the vhost-user server, front-end or control client:
 * a receive buffer that collects a message and its fds across as many
 * reads as the peer needs, and a bounded queue of replies the peer has not
 * read yet. Nothing here blocks: a peer that stalls half way through a
 * message, or never reads its replies, costs only its own connection.
 */
#ifndef VB_VU_CONN_H
#define VB_VU_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/vu_msg.h"

/* Replies a peer may leave unread before it is dropped. */
#define VU_TXQ_MAX 64

/* A reply, or the rest of one, the socket could not take yet. */
struct vu_tx_buf {
	size_t len;
	size_t off;
	int fd; /* sent with the first byte; -1 when none or already sent */
	uint8_t bytes[];
};

struct vu_conn {
	char what[40]; /* "front-end" or "control client N", for logs */
	int fd; /* -1 when the slot is free */
	int pid; /* the peer's, from SO_PEERCRED, for logs */
	uint64_t id; /* this connection, for the state session: never 0, never reused */
	uint64_t protocol_features;
	enum vu_suspend_mode suspend_mode; /* VBLKD_SUSPEND_MODE, control socket only */
	int reply_fd; /* an fd a handler sends with its reply; the dispatcher closes it */
	/* Receiving: hdr then payload, rx_got bytes of both so far. */
	struct vu_msg rx;
	size_t rx_got;
	int64_t rx_since_ms; /* when the first byte of rx came */
	int64_t active_ms; /* when the peer last sent a byte or read a reply */
	/* Sending: a ring of replies the socket did not take. */
	struct vu_tx_buf *txq[VU_TXQ_MAX];
	unsigned int tx_head;
	unsigned int tx_count;
	int64_t tx_since_ms; /* when the queue last moved */
};

/* CLOCK_MONOTONIC in milliseconds. */
int64_t vu_now_ms(void);

/**
 * vu_conn_open() - start using a connection slot for an accepted socket
 * @c:		a free slot (fd -1)
 * @fd:		the socket, made non-blocking here; owned by @c from here on
 * @id:		the connection's id
 * @what:	how logs name it
 */
void vu_conn_open(struct vu_conn *c, int fd, uint64_t id, const char *what);

/**
 * vu_conn_close() - close the socket, drop unsent replies and a partial message
 * @c:		the connection; a free slot afterwards (calling it twice is harmless)
 */
void vu_conn_close(struct vu_conn *c);

/**
 * vu_conn_recv() - read what the socket has of the next message
 * @c:		the connection
 *
 * Return: 1 with a whole message in c->rx (its fds the caller's; call
 * vu_conn_rx_done() before the next vu_conn_recv()), 0 when the socket has
 * no more bytes for now, -ECONNRESET on end of file, -EMSGSIZE for a
 * payload larger than VU_PAYLOAD_MAX or more than VU_MAX_FDS fds, or
 * another -errno.
 */
int vu_conn_recv(struct vu_conn *c);

/* Forget the message vu_conn_recv() returned; its fds must have been taken or closed. */
void vu_conn_rx_done(struct vu_conn *c);

/**
 * vu_conn_send() - send a message, queueing what the socket cannot take now
 * @c:		the connection
 * @m:		the message; its fds are not consumed (a queued one is duplicated)
 *
 * Return: 0, -ENOBUFS when VU_TXQ_MAX replies already wait (a peer that does
 * not read), -EINVAL for a message too large, or the socket's error.
 */
int vu_conn_send(struct vu_conn *c, const struct vu_msg *m);

/**
 * vu_conn_flush() - send what the queue holds, as far as the socket takes it
 * @c:		the connection
 *
 * Return: 0 (also when some stays queued) or the socket's error.
 */
int vu_conn_flush(struct vu_conn *c);

/* Whether replies wait in the queue (poll for POLLOUT). */
static inline bool vu_conn_tx_pending(const struct vu_conn *c)
{
	return c->tx_count;
}

/* Whether a message has started to arrive and is not complete. */
static inline bool vu_conn_rx_partial(const struct vu_conn *c)
{
	return c->rx_got;
}

#endif
