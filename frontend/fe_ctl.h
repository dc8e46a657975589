/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vblkd's control socket as the suspend of a VDUSE device (the compat
 * endpoint): kernels without VDUSE suspend (6.12) give vhost-vdpa no way to
 * stop the daemon, so the VMM stops it here. On that socket, in vhost-user
 * framing, GET_VRING_BASE stops one ring and replies with its next avail
 * index (every ring stopped: the device is suspended, and the indices
 * VHOST_GET_VRING_BASE then reads are stable), and SET_VRING_ENABLE with
 * num 1 starts a ring stopped that way again. The state messages
 * (fe_state.h) work on the same connection.
 *
 * Every function returns 0 or -errno; -EREMOTEIO when vblkd refused.
 */
#ifndef VB_FE_CTL_H
#define VB_FE_CTL_H

#include <stdint.h>

#include "proto/vu_msg.h"

struct fe_vu;

/**
 * fe_ctl_negotiate() - protocol negotiation on a control connection
 * @vu:		a connection to the control socket
 *
 * On a new connection: GET_FEATURES, GET_PROTOCOL_FEATURES, then
 * SET_PROTOCOL_FEATURES with those of DEVICE_STATE and REPLY_ACK the
 * back-end offers (REPLY_ACK so a refused restart shows). A connection
 * that negotiated already is left as it is.
 * Return: 0, -EOPNOTSUPP without F_PROTOCOL_FEATURES, or another -errno.
 */
int fe_ctl_negotiate(struct fe_vu *vu);

/**
 * fe_ctl_stop_rings() - GET_VRING_BASE on rings 0..@nqueues-1
 * @vu:		a connection to the control socket (negotiated here if new)
 * @nqueues:	how many rings
 * @bases:	out: one next-avail index per ring
 *
 * Return: 0, -EPROTO for an index beyond 16 bits, or another -errno.
 */
int fe_ctl_stop_rings(struct fe_vu *vu, unsigned int nqueues, uint16_t *bases);

/**
 * fe_ctl_start_rings() - SET_VRING_ENABLE(1) on rings 0..@nqueues-1
 * @vu:		a connection to the control socket (negotiated here if new)
 * @nqueues:	how many rings
 *
 * Return: 0 or -errno; -EREMOTEIO when vblkd refused a restart.
 */
int fe_ctl_start_rings(struct fe_vu *vu, unsigned int nqueues);

/**
 * fe_ctl_suspend() - fe_ctl_stop_rings() over a connection of its own
 * @ctl_path:	the control socket
 * @nqueues:	how many rings
 * @bases:	out: one next-avail index per ring
 *
 * Return: 0 or -errno.
 */
int fe_ctl_suspend(const char *ctl_path, unsigned int nqueues, uint16_t *bases);

/**
 * fe_ctl_resume() - fe_ctl_start_rings() over a connection of its own
 * @ctl_path:	the control socket
 * @nqueues:	how many rings
 *
 * Return: 0 or -errno.
 */
int fe_ctl_resume(const char *ctl_path, unsigned int nqueues);

/**
 * fe_ctl_set_suspend_mode() - how this connection's GET_VRING_BASE stops rings
 * @vu:		a connection to the control socket (negotiated here if new)
 * @mode:	VU_SUSPEND_DEFAULT (the daemon's --suspend-mode), _DRAIN or _CAPTURE
 *
 * Sends vblkd's own VBLKD_SUSPEND_MODE. Return: 0 or -errno.
 */
int fe_ctl_set_suspend_mode(struct fe_vu *vu, enum vu_suspend_mode mode);

/**
 * fe_ctl_throttle() - read, or change, the device's throttle
 * @vu:		a connection to the control socket (negotiated here if new)
 * @set:	the new limits with VU_THROTTLE_SET in flags, or NULL to read
 * @out:	out: the throttle afterwards, with what it cost so far
 *
 * Sends vblkd's own VBLKD_THROTTLE. Return: 0, -EPROTO for a reply of
 * another size, -ECONNRESET when the daemon refused, or another -errno.
 */
int fe_ctl_throttle(struct fe_vu *vu, const struct vu_throttle *set, struct vu_throttle *out);

#endif
