// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * systemd's socket-activation protocol (sd_listen_fds(3)), read without
 * libsystemd: it is three environment variables.
 */
#include "vblkd_listen_fds.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LISTEN_FDS_START 3
#define LISTEN_FDS_MAX 2 /* the vhost-user and the control socket */

static int env_uint(const char *name, unsigned long max, unsigned long *out)
{
	const char *s = getenv(name);
	char *end;

	if (!s)
		return -ENOENT;
	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || *out > max)
		return -EINVAL;
	return 0;
}

/* Put @fd in the slot @name says, unless the command line filled it. */
static int assign(struct vblkd_args *a, const char *name, int fd)
{
	int *slot = NULL;
	const char *opt = NULL;

	if (!strcmp(name, VBLKD_FDNAME_VHOST_USER) && !a->vduse) {
		slot = &a->vhost_user_fd;
		opt = a->vhost_user ? "--vhost-user" : "--vhost-user-fd";
	} else if (!strcmp(name, VBLKD_FDNAME_CONTROL)) {
		slot = &a->control_socket_fd;
		opt = a->control_socket ? "--control-socket" : "--control-socket-fd";
	}
	if (!slot) {
		fprintf(stderr, "vblkd: LISTEN_FDNAMES: socket '%s' (fd %d): expected %s%s\n", name,
			fd, a->vduse ? "" : VBLKD_FDNAME_VHOST_USER " or ", VBLKD_FDNAME_CONTROL);
		return -EINVAL;
	}
	if (*slot >= 0 || (slot == &a->vhost_user_fd ? !!a->vhost_user : !!a->control_socket)) {
		fprintf(stderr, "vblkd: socket '%s' is both passed by systemd and given by %s\n",
			name, opt);
		return -EINVAL;
	}
	*slot = fd;
	return 0;
}

int vblkd_listen_fds_take(struct vblkd_args *a)
{
	unsigned long pid, n;
	char *names = NULL, *name, *save = NULL;
	int ret;

	if (env_uint("LISTEN_PID", 1ul << 31, &pid) || pid != (unsigned long)getpid())
		return 0; /* not for this process: a parent's, or none */
	ret = env_uint("LISTEN_FDS", 1ul << 16, &n);
	if (ret || !n || n > LISTEN_FDS_MAX) {
		fprintf(stderr, "vblkd: LISTEN_FDS=%s: expected 1-%d sockets\n",
			getenv("LISTEN_FDS") ?: "", LISTEN_FDS_MAX);
		return -EINVAL;
	}
	if (getenv("LISTEN_FDNAMES")) {
		names = strdup(getenv("LISTEN_FDNAMES"));
		if (!names)
			return -ENOMEM;
	}
	name = names ? strtok_r(names, ":", &save) : NULL;
	for (unsigned long i = 0; !ret && i < n; i++) {
		int fd = LISTEN_FDS_START + (int)i;

		if (!names && n == 1) {
			ret = assign(a, a->vduse ? VBLKD_FDNAME_CONTROL : VBLKD_FDNAME_VHOST_USER,
				     fd);
		} else if (!name) {
			fprintf(stderr,
				"vblkd: LISTEN_FDNAMES names fewer than LISTEN_FDS=%lu "
				"sockets\n",
				n);
			ret = -EINVAL;
		} else {
			ret = assign(a, name, fd);
			name = strtok_r(NULL, ":", &save);
		}
	}
	free(names);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return ret;
}
