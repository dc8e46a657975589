// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * testdevd: the checksum test device (testdev.h) behind the vhost-user
 * transport, unchanged. Usage: testdevd --socket PATH [--queues N]
 * [--queue-size N]. SIGTERM or SIGINT stops it; it exits 0 when it stopped
 * cleanly.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/device.h"
#include "core/log.h"
#include "core/signals.h"
#include "selftests/host/testdev.h"
#include "vhost-user-compat/vu_server.h"

/* A count from the command line. Return: 0, or -EINVAL when @s is not one. */
static int parse_count(const char *s, unsigned int *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || !v || v > 65536)
		return -EINVAL;
	*out = (unsigned int)v;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: testdevd --socket PATH [--queues N] [--queue-size N]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "queues", required_argument, NULL, 'q' },
		{ "queue-size", required_argument, NULL, 'z' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	unsigned int queues = 1, queue_size = 256;
	const char *path = NULL;
	struct vb_device *dev;
	struct vu_server *s;
	int ret, c, stop_fd;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			path = optarg;
			break;
		case 'q':
			if (parse_count(optarg, &queues))
				goto bad_usage;
			break;
		case 'z':
			if (parse_count(optarg, &queue_size))
				goto bad_usage;
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		default:
			goto bad_usage;
		}
	}
	if (!path || optind != argc)
		goto bad_usage;

	vb_log_set_device("testdev");
	stop_fd = vb_stop_signals_fd();
	if (stop_fd < 0) {
		vb_err("signalfd: %s", strerror(errno));
		return EXIT_FAILURE;
	}
	dev = testdev_new(queues, queue_size);
	if (!dev) {
		vb_err("cannot create a checksum device of %u queue(s) of up to %u", queues,
		       queue_size);
		ret = -EINVAL;
		goto out_close;
	}
	ret = vu_server_new(dev, path, NULL, NULL, NULL, &s);
	if (ret)
		goto out_free;
	vb_info("serving a checksum device on %s: %u queue(s) of up to %u", path, queues,
		queue_size);
	ret = vu_server_run(s, stop_fd);
	vb_info("stopping");
	vu_server_free(s);
out_free:
	testdev_free(dev);
out_close:
	close(stop_fd);
	return ret ? EXIT_FAILURE : EXIT_SUCCESS;

bad_usage:
	usage(stderr);
	return 2;
}
