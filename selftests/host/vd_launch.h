/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vblkd started on listening sockets the test made before spawning it, as
 * systemd's socket activation does: the test connects at once, with no
 * wait for the daemon to create its sockets.
 */
#ifndef VB_VD_LAUNCH_H
#define VB_VD_LAUNCH_H

#include <stdbool.h>

#include "vd_proc.h"

/* How the sockets reach vblkd, always as fds 3 (and 4). */
enum vd_pass {
	VD_PASS_OPTIONS, /* --vhost-user-fd 3 --control-socket-fd 4 */
	VD_PASS_LISTEN_FDS, /* LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES */
};

struct vd_launch {
	const char *const *prefix; /* NULL-terminated command run in front of vblkd, or NULL */
	enum vd_pass pass;
	const char *fdnames; /* VD_PASS_LISTEN_FDS: LISTEN_FDNAMES, or NULL for none */
	bool control; /* a control socket (vd->ctl) too */
	bool control_first; /* the control socket is fd 3, the vhost-user one fd 4 */
};

/**
 * vd_start_launched() - vd_start() on sockets the test listens on first
 * @l:		how to hand them over
 * @extra:	NULL-terminated extra vblkd arguments (may be NULL)
 *
 * vd->sock (and vd->ctl) listen (mode 0600) before the fork; the test's
 * own copies are closed after it, so only vblkd holds them.
 * Return: 0 or -errno.
 */
int vd_start_launched(struct vd_proc *vd, uint64_t image_size, const struct vd_launch *l,
		      const char *const *extra);

#endif
