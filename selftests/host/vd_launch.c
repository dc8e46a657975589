// SPDX-License-Identifier: GPL-2.0-or-later
/* Start vblkd on listening sockets the test made (vd_launch.h). */
#include "vd_launch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define VL_MAX_ARGS 40

static int vl_listen(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, ret = 0;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || chmod(path, 0600) || listen(fd, 8))
		ret = -errno;
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

/* In the child: the sockets become fds 3 and 4 without O_CLOEXEC, then exec. */
static void vl_exec(const struct vd_proc *vd, const struct vd_launch *l, const int *fds, int nfds,
		    const char *const *extra)
{
	const char *argv[VL_MAX_ARGS];
	char count[16], pid[16];
	int n = 0, high[2];

	vd_child_setup(vd);
	/* Above 4 first: a socket may already sit on the other's target. */
	for (int i = 0; i < nfds; i++)
		high[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 10);
	for (int i = 0; i < nfds; i++)
		if (high[i] < 0 || dup2(high[i], 3 + i) < 0)
			_exit(126);
	for (const char *const *p = l->prefix; p && *p && n < VL_MAX_ARGS - 12; p++)
		argv[n++] = *p;
	argv[n++] = vd_binary();
	argv[n++] = "--image";
	argv[n++] = vd->image;
	if (l->pass == VD_PASS_OPTIONS) {
		argv[n++] = l->control_first ? "--control-socket-fd" : "--vhost-user-fd";
		argv[n++] = "3";
		if (nfds == 2) {
			argv[n++] = l->control_first ? "--vhost-user-fd" : "--control-socket-fd";
			argv[n++] = "4";
		}
	} else {
		snprintf(count, sizeof(count), "%d", nfds);
		snprintf(pid, sizeof(pid), "%d", (int)getpid());
		setenv("LISTEN_FDS", count, 1);
		setenv("LISTEN_PID", pid, 1);
		if (l->fdnames)
			setenv("LISTEN_FDNAMES", l->fdnames, 1);
		else
			unsetenv("LISTEN_FDNAMES");
	}
	for (; extra && *extra && n < VL_MAX_ARGS - 1; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;
	execvp(argv[0], (char *const *)argv);
	fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

int vd_start_launched(struct vd_proc *vd, uint64_t image_size, const struct vd_launch *l,
		      const char *const *extra)
{
	int fds[2] = { -1, -1 }, nfds = l->control ? 2 : 1, vu, ret;

	ret = vd_prepare(vd, NULL, image_size);
	if (ret)
		return ret;
	vu = l->control && l->control_first ? 1 : 0;
	fds[vu] = vl_listen(vd->sock);
	if (l->control)
		fds[1 - vu] = vl_listen(vd->ctl);
	ret = fds[0] < 0 ? fds[0] : fds[1] < 0 && l->control ? fds[1] : 0;
	if (!ret) {
		fflush(NULL);
		vd->pid = fork();
		if (vd->pid == 0)
			vl_exec(vd, l, fds, nfds, extra);
		if (vd->pid < 0) {
			vd->pid = -1;
			ret = -errno;
		}
	}
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (ret)
		vd_cleanup(vd);
	return ret;
}
