/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The front-end's end of the back-end channel (vhost-user.rst "Back-end
 * communication"): hand the back-end a socket with SET_BACKEND_REQ_FD,
 * then answer what it sends there (BACKEND_CONFIG_CHANGE_MSG).
 */
#ifndef VB_FE_BACKEND_H
#define VB_FE_BACKEND_H

#include <stdint.h>

#include "frontend/fe_vu.h"

/**
 * fe_backend_open() - negotiate BACKEND_REQ and give the back-end its channel
 * @vu:		a connection with protocol features negotiated
 * @fd:		out: our end of the channel (the caller closes it)
 *
 * Adds VHOST_USER_PROTOCOL_F_BACKEND_REQ to the protocol features already
 * acked, then sends SET_BACKEND_REQ_FD with one end of a socketpair.
 * Return: 0, -EOPNOTSUPP when the back-end does not offer BACKEND_REQ, or
 * -errno.
 */
int fe_backend_open(struct fe_vu *vu, int *fd);

/**
 * fe_backend_serve_one() - receive one back-end request and ack it
 * @fd:		our end of the channel
 * @timeout_ms:	how long to wait for it
 * @request:	out: its id (enum vu_backend_request)
 * @acked:	out: whether it asked for an ack (NEED_REPLY) and got one (0)
 *
 * Return: 0, -ETIMEDOUT, or -errno.
 */
int fe_backend_serve_one(int fd, int timeout_ms, uint32_t *request, bool *acked);

#endif
