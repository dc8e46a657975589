/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vhost-user back-end for any device (core/device.h): the front-end socket
 * (one front-end at a time) and the control socket, the compatibility
 * endpoint that serves the device-state messages on a second connection.
 */
#ifndef VB_VU_SERVER_H
#define VB_VU_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/ring.h"

struct vb_device;
struct vu_server;

/*
 * How the control socket reaches a device another transport drives (VDUSE).
 * Each call takes that transport's own locks; none is held on return.
 */
struct vu_ctl_ops {
	/* Device bits the transport offers on top of the device's. */
	uint64_t (*extra_features)(void *opaque);
	/* GET_VRING_BASE: stop a ring (draining or capturing), report where it stopped. */
	int (*ring_stop)(void *opaque, unsigned int index, enum vb_suspend_mode mode,
			 uint16_t *base);
	/* SET_VRING_ENABLE 1: restart a ring ring_stop stopped. */
	int (*ring_start)(void *opaque, unsigned int index);
};

/**
 * vu_server_new() - listen for a front-end, a control client, or both
 * @dev:	the device to serve
 * @path:	the front-end socket, or NULL (a device another transport drives,
 *		or a socket vu_server_take_listen_fd() gives)
 * @ctl_path:	the control socket, or NULL
 * @ctl_ops:	ring control for the control socket when another transport
 *		drives the device; NULL when @path serves it
 * @ctl_opaque:	passed to @ctl_ops
 * @out:	the server
 *
 * The sockets get vb_sock_policy's mode (0600 unless the command line
 * says otherwise) and group: guest memory and device state pass through
 * them. Each accepted peer must pass vb_peer_allowed(). A socket file a
 * dead back-end left behind is replaced; one a live back-end listens on
 * is not.
 * Return: 0, -EADDRINUSE for a socket in use, -EEXIST for a path that is
 * not a socket, or another -errno (logged).
 */
int vu_server_new(struct vb_device *dev, const char *path, const char *ctl_path,
		  const struct vu_ctl_ops *ctl_ops, void *ctl_opaque, struct vu_server **out);

/* The two sockets a server listens on. */
enum vu_socket { VU_LISTEN_FRONTEND, VU_LISTEN_CONTROL };

/**
 * vu_server_take_listen_fd() - listen on a socket another process made
 * @s:		a server made without a path for @which
 * @which:	the front-end or the control socket
 * @fd:		a listening AF_UNIX stream socket (systemd's, a harness's);
 *		taken in every case, closed on failure
 *
 * The socket file is left alone when the server is freed: its creator owns
 * it, and its mode.
 * Return: 0, -ENOTSOCK or -EINVAL for an fd that is not a listening
 * AF_UNIX stream socket, -EBUSY when @which already listens, or another
 * -errno (logged).
 */
int vu_server_take_listen_fd(struct vu_server *s, enum vu_socket which, int fd);
/* A message that started arriving must be complete within this, or the peer is dropped. */
#define VU_MESSAGE_TIMEOUT_MS 5000
/* A control client that sends nothing this long is dropped. */
#define VU_IDLE_TIMEOUT_MS 60000

/**
 * vu_server_set_timeouts() - change how long a peer may stall
 * @s:		the server
 * @message_ms:	for a message started and not finished, and for replies
 *		a peer leaves unread; 0: VU_MESSAGE_TIMEOUT_MS
 * @idle_ms:	for a control client that sends nothing (one that owns a
 *		transfer in progress is never idle); 0: no limit
 *
 * Without this call, the defaults above apply.
 */
void vu_server_set_timeouts(struct vu_server *s, unsigned int message_ms, unsigned int idle_ms);

/**
 * vu_server_run() - serve until @stop_fd is readable
 * @s:		the server
 * @stop_fd:	an fd that becomes readable to stop (a signalfd)
 *
 * Serves one front-end and up to 32 control clients at once, without
 * ever blocking on a peer: a peer that stalls in the middle of a message,
 * leaves its replies unread, or (a control client) sits idle, is dropped
 * when its time runs out. A connection that fails is dropped (a
 * front-end's drop resets the device) and the next one is accepted; the loop itself ends only on
 * @stop_fd or a failing poll.
 * Return: 0 when stopped, or the poll error.
 */
int vu_server_run(struct vu_server *s, int stop_fd);

/**
 * vu_server_serve_fe_fd() - serve one front-end connection to its end
 * @s:		a server with no front-end socket of its own (path NULL)
 * @fd:		a connected socket, taken; the peer has sent everything and
 *		shut down its writing side
 *
 * The fuzz target's way in (selftests/fuzz/vu_session_fuzz.c): the same
 * dispatcher and connection drop as a front-end accepted on a socket.
 */
void vu_server_serve_fe_fd(struct vu_server *s, int fd);

/**
 * vu_server_config_changed() - tell the front-end the config space changed
 * @s:		the server
 *
 * Sends BACKEND_CONFIG_CHANGE_MSG on the back-end channel without
 * blocking, and waits a bounded time for the ack when REPLY_ACK was
 * negotiated, with no lock held. Any thread may call it.
 * Return: 0, -ENOTCONN without a front-end that gave a back-end channel
 * (VHOST_USER_PROTOCOL_F_BACKEND_REQ), -EAGAIN when the channel is full,
 * -ETIMEDOUT or -EREMOTEIO for a missing or failed ack, or -errno.
 */
int vu_server_config_changed(struct vu_server *s);

/**
 * vu_server_fe_connected() - whether a front-end holds the vhost-user socket
 * @s:		the server; any thread
 */
bool vu_server_fe_connected(const struct vu_server *s);

/**
 * vu_server_free() - drop the connections, remove the sockets
 * @s:		the server, or NULL
 *
 * A front-end's disconnection resets the device; a transfer in progress is
 * aborted.
 */
void vu_server_free(struct vu_server *s);

#endif
