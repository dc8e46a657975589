/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VB_VBLKD_LISTEN_FDS_H
#define VB_VBLKD_LISTEN_FDS_H

#include "vblkd_args.h"

/* LISTEN_FDNAMES a socket unit gives vblkd's sockets (FileDescriptorName=). */
#define VBLKD_FDNAME_VHOST_USER "vhost-user"
#define VBLKD_FDNAME_CONTROL "control"

/**
 * vblkd_listen_fds_take() - the sockets systemd's socket activation passes
 * @a:		the parsed command line; its vhost_user_fd and control_socket_fd
 *		are set from the environment
 *
 * Honours LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES as sd_listen_fds(3)
 * describes them: fds from 3 on, each named "vhost-user" or "control". One
 * unnamed fd is the vhost-user socket (the control socket with --vduse).
 * The variables are removed from the environment. A socket given both
 * here and on the command line, an unknown name or a bad count is refused
 * and explained on stderr.
 * Return: 0 (also when the environment holds nothing for this process) or
 * -EINVAL.
 */
int vblkd_listen_fds_take(struct vblkd_args *a);

#endif
