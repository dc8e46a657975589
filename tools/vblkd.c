// SPDX-License-Identifier: GPL-2.0-or-later
/* vblkd: virtio-blk back-end daemon. */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <liburing.h>

#include "devices/blk/blk_dev.h"
#include "core/failpoint.h"
#include "core/log.h"
#include "core/sock_policy.h"
#include "core/signals.h"
#include "vblkd_args.h"
#include "vblkd_sandbox.h"
#include "vblkd_mgmt.h"
#include "vduse/vdpa_nl.h"
#include "vduse/vduse_dev.h"
#include "vhost-user-compat/vu_server.h"

/* Fail at start, not at the first guest request, where io_uring is off. */
static int probe_io_uring(void)
{
	struct io_uring ring;
	int ret = io_uring_queue_init(2, &ring, 0);

	if (ret) {
		vb_err("io_uring is unavailable: %s (a kernel of 5.6 or later is needed, and "
		       "sysctl kernel.io_uring_disabled must be 0)",
		       strerror(-ret));
		return ret;
	}
	io_uring_queue_exit(&ring);
	return 0;
}

/* Inherited listening sockets: --vhost-user-fd, --control-socket-fd, systemd's. */
static int take_listen_fds(const struct vblkd_args *args, struct vu_server *s)
{
	int ret = 0;

	if (args->vhost_user_fd >= 0)
		ret = vu_server_take_listen_fd(s, VU_LISTEN_FRONTEND, args->vhost_user_fd);
	if (!ret && args->control_socket_fd >= 0)
		ret = vu_server_take_listen_fd(s, VU_LISTEN_CONTROL, args->control_socket_fd);
	return ret;
}

/*
 * librados (its own threads, TCP to the monitors and OSDs, config files) and
 * libnbd's TCP reconnects (getaddrinfo reads /etc) do things at any time
 * that the allow-list is not written for; NBD over a UNIX socket is not.
 */
static bool serves_over_network(const char *image)
{
	return !strncmp(image, "rbd:", 4) || !strncmp(image, "nbd://", 6) ||
	       !strncmp(image, "nbds://", 7);
}

/*
 * Set-up is over: give up what serving does not need (docs/security.md).
 * VBLKD_TEST_FORBIDDEN_SYSCALL, for the host tests, then tries an open (which
 * the allow-list fails) and a TCP socket (which it kills).
 */
static int enter_sandbox(const struct vblkd_args *args)
{
	int ret = vblkd_caps_drop(args->vduse);

	if (ret)
		return ret;
	if (args->no_seccomp)
		vb_info("seccomp: off (--no-seccomp)");
	else if (serves_over_network(args->blk.image))
		vb_info("seccomp: not installed: the %s back-end opens sockets and files while "
			"serving (docs/security.md)",
			strncmp(args->blk.image, "rbd:", 4) ? "NBD over TCP" : "RBD");
	else if ((ret = vblkd_seccomp_install()) < 0)
		return ret;
	/*
	 * What set-up freed (most of it libseccomp's, building the filter:
	 * ~100 KiB) stays on the heap until something else needs it: give it
	 * back while the daemon waits for its front-end.
	 */
	malloc_trim(0);
	if (getenv("VBLKD_TEST_FORBIDDEN_SYSCALL")) {
		int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);

		vb_info("test: open: %s", fd >= 0 ? "opened" : strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		vb_info("test: socket(AF_INET) returned %d", fd);
		if (fd >= 0)
			close(fd);
	}
	return 0;
}

/* The control socket's ring control for a device VDUSE drives. */
static const struct vu_ctl_ops vduse_ctl_ops = {
	.extra_features = vduse_dev_extra_features,
	.ring_stop = vduse_dev_ring_stop,
	.ring_start = vduse_dev_ring_start,
};

/*
 * VDUSE: serve /dev/vduse/NAME first (the driver probe that DEV_NEW runs
 * talks to it synchronously), then join the vdpa bus; the control socket,
 * when asked for, is the compatibility endpoint.
 */
static int run_vduse(const struct vblkd_args *args, struct blk_dev *blk, int stop_fd)
{
	struct vduse_dev_opts o = { .name = args->vduse, .state_dir = args->state_dir };
	struct vb_device *dev = blk_dev_vdev(blk);
	struct mgmt_server *mgmt = NULL;
	struct vu_server *ctl = NULL;
	struct vduse_dev *v;
	int ret;

	ret = vduse_dev_create(dev, &o, &v);
	if (ret)
		return ret;
	ret = vu_server_new(dev, NULL, args->control_socket, &vduse_ctl_ops, v, &ctl);
	if (ret)
		goto out_close;
	ret = take_listen_fds(args, ctl);
	if (ret)
		goto out_server;
	vu_server_set_timeouts(ctl, args->message_timeout_s * 1000,
			       args->control_idle_timeout_s * 1000);
	ret = vduse_dev_serve(v);
	if (ret)
		goto out_server;
	if (!args->no_vdpa_add) {
		ret = vdpa_nl_dev_add("vduse", args->vduse);
		if (ret == -EEXIST) {
			vb_info("vduse %s: already on the vdpa bus", args->vduse);
		} else if (ret) {
			vb_err("vduse %s: adding it to the vdpa bus: %s", args->vduse,
			       strerror(-ret));
			goto out_server;
		} else {
			vb_info("vduse %s: on the vdpa bus", args->vduse);
		}
	}
	/* The management socket and its thread exist before the sandbox closes. */
	ret = vblkd_mgmt_start_vduse(args->mgmt_socket, blk, v, &mgmt);
	if (!ret)
		ret = enter_sandbox(args) ?: vu_server_run(ctl, stop_fd);
	vb_info("stopping");
	mgmt_server_stop(mgmt);
	/* Removal resets the device through the message thread, still running here. */
	if (vdpa_nl_dev_del(args->vduse) == 0)
		vb_info("vduse %s: removed from the vdpa bus", args->vduse);
out_server:
	vu_server_free(ctl);
out_close:
	vduse_dev_destroy(v, true);
	return ret;
}

int main(int argc, char **argv)
{
	struct vblkd_args args;
	struct mgmt_server *mgmt;
	struct vu_server *vu;
	struct blk_dev *blk;
	int ret, stop_fd;

	ret = vblkd_args_parse(&args, argc, argv);
	if (ret)
		return ret > 0 ? EXIT_SUCCESS : 2;
	vb_log_level = args.log_level;
	vb_log_set_device(args.vduse ? args.vduse : args.blk.image);
	if (vb_faults_from_env())
		return EXIT_FAILURE;
	vb_sock_policy = args.sock;

	stop_fd = vb_stop_signals_fd();
	if (stop_fd < 0) {
		vb_err("signalfd: %s", strerror(errno));
		return EXIT_FAILURE;
	}
	if (probe_io_uring())
		return EXIT_FAILURE;
	ret = blk_dev_open(&blk, &args.blk);
	if (ret) {
		close(stop_fd);
		return 2; /* a disk that cannot be used is bad input, as a bad option is */
	}
	blk_dev_vdev(blk)->suspend_mode = args.suspend_mode;
	blk_dev_vdev(blk)->poll_us = args.poll_us;
	vb_info("serving %s: %llu sectors, %u queue(s) of up to %u%s%s", args.blk.image,
		(unsigned long long)blk->limits.capacity, args.blk.num_queues, args.blk.queue_size,
		args.blk.read_only ? ", read-only" : "", args.blk.direct ? ", O_DIRECT" : "");
	if (args.vduse) {
		ret = run_vduse(&args, blk, stop_fd);
		goto out_close;
	}
	ret = vu_server_new(blk_dev_vdev(blk), args.vhost_user, args.control_socket, NULL, NULL,
			    &vu);
	if (ret)
		goto out_close;
	ret = take_listen_fds(&args, vu);
	if (ret) {
		vu_server_free(vu);
		goto out_close;
	}
	vu_server_set_timeouts(vu, args.message_timeout_s * 1000,
			       args.control_idle_timeout_s * 1000);
	ret = vblkd_mgmt_start_vu(args.mgmt_socket, blk, vu, &mgmt);
	if (!ret)
		ret = enter_sandbox(&args) ?: vu_server_run(vu, stop_fd);
	vb_info("stopping");
	mgmt_server_stop(mgmt);
	vu_server_free(vu);
out_close:
	/* A failed flush of what the guest wrote fails the exit status too. */
	ret = blk_dev_close(blk) ?: ret;
	close(stop_fd);
	return ret ? EXIT_FAILURE : EXIT_SUCCESS;
}
