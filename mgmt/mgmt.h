/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The management socket: JSON lines (one request object per line, one
 * reply object per line) on a UNIX socket of its own, served by its own
 * thread so that no client, however slow or hostile, ever blocks the
 * daemon's main loop or its workers. docs/mgmt-protocol.md has the
 * commands and their replies.
 */
#ifndef VB_MGMT_H
#define VB_MGMT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/ring.h"

struct blk_dev;
struct mgmt_server;

/*
 * What the transport lends the management socket. Every entry may be
 * NULL; each call takes the transport's own locks and holds none on return.
 */
struct mgmt_ops {
	const char *transport; /* "vhost-user" or "vduse", for status */
	void *opaque;
	/*
	 * Ring control of a device another thread drives (VDUSE), as the
	 * control socket has it; NULL: the core stops and restarts the rings.
	 */
	int (*ring_stop)(void *opaque, unsigned int index, enum vb_suspend_mode mode,
			 uint16_t *base);
	int (*ring_start)(void *opaque, unsigned int index);
	/* Raise a config-change interrupt. 0, -ENOTCONN without a driver, or -errno. */
	int (*config_changed)(void *opaque);
	/* Whether a front-end is connected; NULL: a driver set DRIVER_OK. */
	bool (*connected)(void *opaque);
};

/**
 * mgmt_server_start() - listen on @path and serve it from a thread
 * @blk:	the device
 * @path:	the socket, created mode 0600; a stale one is replaced
 * @ops:	the transport's part (copied)
 * @out:	the server
 *
 * Return: 0, -EADDRINUSE when a live daemon listens on @path, -EEXIST for
 * a path that is not a socket, or -errno (logged).
 */
int mgmt_server_start(struct blk_dev *blk, const char *path, const struct mgmt_ops *ops,
		      struct mgmt_server **out);

/**
 * mgmt_server_stop() - end the thread, close every client, remove the socket
 * @m:		the server, or NULL
 *
 * Rings the management socket suspended stay as they are.
 */
void mgmt_server_stop(struct mgmt_server *m);

#endif
