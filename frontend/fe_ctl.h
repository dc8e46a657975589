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

struct fe_vu;

/*
 * On a new connection: GET_FEATURES, GET_PROTOCOL_FEATURES, then
 * SET_PROTOCOL_FEATURES with those of DEVICE_STATE and REPLY_ACK the
 * back-end offers (REPLY_ACK so a refused restart shows). A connection
 * that negotiated already is left as it is.
 */
int fe_ctl_negotiate(struct fe_vu *vu);

/* GET_VRING_BASE on rings 0..@nqueues-1; @bases gets one index per ring. */
int fe_ctl_stop_rings(struct fe_vu *vu, unsigned int nqueues, uint16_t *bases);
/* SET_VRING_ENABLE(1) on rings 0..@nqueues-1. */
int fe_ctl_start_rings(struct fe_vu *vu, unsigned int nqueues);

/* The same, each over its own connection to the control socket @ctl_path. */
int fe_ctl_suspend(const char *ctl_path, unsigned int nqueues, uint16_t *bases);
int fe_ctl_resume(const char *ctl_path, unsigned int nqueues);

#endif
