// SPDX-License-Identifier: GPL-2.0-or-later
/* The server's listening sockets: claim the path, bind 0600, listen, remove. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/log.h"
#include "core/sock_policy.h"
#include "vhost-user-compat/vu_int.h"

/* A socket file left by a dead vblkd is replaced; a live one is not. */
static int claim_path(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, ret;

	if (lstat(path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		vb_err("%s exists and is not a socket", path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	strcpy(sa.sun_path, path);
	ret = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	if (!ret) {
		vb_err("%s is in use by another back-end", path);
		return -EADDRINUSE;
	}
	if (unlink(path)) {
		ret = -errno;
		vb_err("cannot remove the stale socket %s: %s", path, strerror(-ret));
		return ret;
	}
	return 0;
}

int vu_listener_open(struct vu_listener *l, const char *path, const char *what, int backlog)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int ret;

	l->path = path;
	l->what = what;
	l->fd = -1;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		vb_err("socket path %s is too long (max %zu)", path, sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	ret = claim_path(path);
	if (ret)
		return ret;
	/* Non-blocking: a peer gone before accept() must not block the loop. */
	l->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (l->fd < 0) {
		ret = -errno;
		vb_err("socket: %s", strerror(-ret));
		return ret;
	}
	/* 0600 unless asked: guest memory and device state go through it */
	ret = vb_sock_bind(l->fd, &sa, &vb_sock_policy);
	if (!ret && listen(l->fd, backlog)) {
		ret = -errno;
		vb_err("cannot listen on %s: %s", path, strerror(-ret));
		unlink(path);
	}
	if (ret) {
		close(l->fd);
		l->fd = -1;
		return ret;
	}
	vb_info("listening on %s (%s)", path, what);
	return 0;
}

void vu_listener_close(struct vu_listener *l)
{
	if (l->fd < 0)
		return;
	close(l->fd);
	if (l->path) /* NULL: an inherited socket, its creator's file */
		unlink(l->path);
	l->fd = -1;
}
