// SPDX-License-Identifier: GPL-2.0-or-later
/* vblkd: virtio-blk back-end daemon. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <liburing.h>

#include "devices/blk/blk_dev.h"
#include "core/log.h"
#include "vblkd_args.h"
#include "vduse/vdpa_nl.h"
#include "vduse/vduse_dev.h"
#include "vhost-user-compat/vu_server.h"

/* SIGTERM/SIGINT arrive on an fd; blocked before any thread exists, so workers never see them. */
static int stop_signals_fd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL))
		return -1;
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* Fail at start, not at the first guest request, where io_uring is off. */
static int probe_io_uring(void)
{
	struct io_uring ring;
	int ret = io_uring_queue_init(2, &ring, 0);

	if (ret) {
		vb_err("io_uring is unavailable: %s (a kernel of 5.6 or later is needed, and "
		       "sysctl kernel.io_uring_disabled must be 0)", strerror(-ret));
		return ret;
	}
	io_uring_queue_exit(&ring);
	return 0;
}

/*
 * VDUSE: serve /dev/vduse/NAME first (the driver probe that DEV_NEW runs
 * talks to it synchronously), then join the vdpa bus; the control socket,
 * when asked for, is the compatibility endpoint.
 */
static int run_vduse(const struct vblkd_args *args, struct blk_dev *blk, int stop_fd)
{
	struct vduse_dev_opts o = { .name = args->vduse, .state_dir = args->state_dir };
	struct vduse_dev *v = calloc(1, sizeof(*v));
	struct vu_dev vu;
	int ret;

	if (!v)
		return -ENOMEM;
	ret = vduse_dev_create(v, blk, &o);
	if (ret)
		goto out_free;
	ret = vu_server_listen(&vu, blk, NULL, args->control_socket);
	if (ret)
		goto out_close;
	vu.lock = &v->lock;
	vu.extra_features = vduse_dev_features(blk) & ~blk_dev_features(blk);
	vu.ring_stop = vduse_dev_ring_stop;
	vu.ring_start = vduse_dev_ring_start;
	vu.ring_opaque = v;
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
	ret = vu_server_run(&vu, stop_fd);
	vb_info("stopping");
	/* Removal resets the device through the message thread, still running here. */
	if (vdpa_nl_dev_del(args->vduse) == 0)
		vb_info("vduse %s: removed from the vdpa bus", args->vduse);
out_server:
	vu_server_close(&vu);
out_close:
	vduse_dev_close(v, true);
out_free:
	free(v);
	return ret;
}

int main(int argc, char **argv)
{
	struct vblkd_args args;
	struct blk_dev *blk;
	struct vu_dev vu;
	int ret, stop_fd;

	ret = vblkd_args_parse(&args, argc, argv);
	if (ret)
		return ret > 0 ? EXIT_SUCCESS : 2;
	vb_log_level = args.log_level;

	stop_fd = stop_signals_fd();
	if (stop_fd < 0) {
		vb_err("signalfd: %s", strerror(errno));
		return EXIT_FAILURE;
	}
	if (probe_io_uring())
		return EXIT_FAILURE;
	blk = calloc(1, sizeof(*blk));
	if (!blk)
		return EXIT_FAILURE;
	ret = blk_dev_open(blk, &args.blk);
	if (ret)
		goto out_free;
	vb_info("serving %s: %llu sectors, %u queue(s) of up to %u%s%s", args.blk.image,
		(unsigned long long)blk->limits.capacity, args.blk.num_queues,
		args.blk.queue_size, args.blk.read_only ? ", read-only" : "",
		args.blk.direct ? ", O_DIRECT" : "");
	if (args.vduse) {
		ret = run_vduse(&args, blk, stop_fd);
		goto out_close;
	}
	ret = vu_server_listen(&vu, blk, args.vhost_user, args.control_socket);
	if (ret)
		goto out_close;
	ret = vu_server_run(&vu, stop_fd);
	vb_info("stopping");
	vu_server_close(&vu);
out_close:
	blk_dev_close(blk);
out_free:
	free(blk);
	close(stop_fd);
	return ret ? EXIT_FAILURE : EXIT_SUCCESS;
}
