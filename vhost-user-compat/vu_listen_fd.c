// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Listening sockets another process made: systemd's socket units, or a
 * harness that must connect the moment it has spawned vblkd. The fd is
 * checked to be what vu_server would have made itself (a listening
 * AF_UNIX stream socket); its file and mode stay its creator's business.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/log.h"
#include "vhost-user-compat/vu_int.h"

static int sockopt_int(int fd, int opt, int *val)
{
	socklen_t len = sizeof(*val);

	return getsockopt(fd, SOL_SOCKET, opt, val, &len) ? -errno : 0;
}

static int check_listener(int fd, const char *what)
{
	int domain = 0, type = 0, listening = 0, ret;
	struct stat st;

	if (fstat(fd, &st)) {
		ret = -errno;
		vb_err("%s: fd %d: %s", what, fd, strerror(-ret));
		return ret;
	}
	if (!S_ISSOCK(st.st_mode)) {
		vb_err("%s: fd %d is not a socket", what, fd);
		return -ENOTSOCK;
	}
	ret = sockopt_int(fd, SO_DOMAIN, &domain)     ?:
		      sockopt_int(fd, SO_TYPE, &type) ?:
							sockopt_int(fd, SO_ACCEPTCONN, &listening);
	if (ret) {
		vb_err("%s: fd %d: getsockopt: %s", what, fd, strerror(-ret));
		return ret;
	}
	if (domain != AF_UNIX || type != SOCK_STREAM || !listening) {
		vb_err("%s: fd %d is not a listening AF_UNIX stream socket", what, fd);
		return -EINVAL;
	}
	return 0;
}

int vu_server_take_listen_fd(struct vu_server *s, enum vu_socket which, int fd)
{
	struct vu_listener *c = which == VU_LISTEN_CONTROL ? &s->ctl_listen : &s->fe_listen;
	const char *what = which == VU_LISTEN_CONTROL ? "control" : "front-end";
	struct sockaddr_un sa = { 0 };
	socklen_t len = sizeof(sa) - 1; /* keeps sun_path NUL-terminated */
	int ret;

	c->what = what;
	if (c->fd >= 0) {
		vb_err("%s: a socket is already listening", c->what);
		ret = -EBUSY;
		goto err_close;
	}
	ret = check_listener(fd, c->what);
	if (ret)
		goto err_close;
	/*
	 * Inherited without O_CLOEXEC, as systemd passes it; non-blocking like
	 * the sockets the server makes, so a peer gone before accept() cannot
	 * block the loop.
	 */
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)) {
		ret = -errno;
		vb_err("%s: fd %d: fcntl: %s", c->what, fd, strerror(-ret));
		goto err_close;
	}
	c->fd = fd;
	c->path = NULL; /* not ours to remove */
	if (getsockname(fd, (struct sockaddr *)&sa, &len) || !sa.sun_path[0])
		strcpy(sa.sun_path, "an unnamed socket");
	vb_info("listening on inherited fd %d, %s (%s)", fd, sa.sun_path, c->what);
	return 0;

err_close:
	close(fd);
	return ret;
}
