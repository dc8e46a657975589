/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VB_VBLKD_ARGS_H
#define VB_VBLKD_ARGS_H

#include <stdbool.h>

#include "core/sock_policy.h"
#include "devices/blk/blk_dev.h"

struct vblkd_args {
	const char *vhost_user;
	const char *control_socket;
	int vhost_user_fd; /* an inherited listening socket, or -1 */
	int control_socket_fd; /* an inherited listening socket, or -1 */
	const char *mgmt_socket; /* JSON lines (mgmt/mgmt.h), or NULL */
	const char *vduse; /* device name */
	const char *state_dir;
	bool no_vdpa_add;
	bool no_seccomp;
	struct vb_sock_policy sock; /* --socket-mode, --socket-group, --allow-uid */
	struct blk_opts blk;
	enum vb_suspend_mode suspend_mode;
	unsigned int poll_us;
	int log_level;
	unsigned int message_timeout_s; /* a message started and not finished */
	unsigned int control_idle_timeout_s; /* 0: control clients may idle for ever */
};

/**
 * vblkd_args_parse() - vblkd's command line
 * @a:		out: the parsed arguments
 * @argc:	as main() got it
 * @argv:	as main() got it
 *
 * --image and exactly one of --vhost-user (or --vhost-user-fd, or a socket
 * systemd passes) or --vduse are required; --no-vdpa-add and --state-dir go
 * with --vduse only. Bad input is
 * explained on stderr; --help and --version print to stdout.
 * Return: 0 to run, 1 when --help/--version was served, -EINVAL on bad input.
 */
int vblkd_args_parse(struct vblkd_args *a, int argc, char **argv);

#endif
