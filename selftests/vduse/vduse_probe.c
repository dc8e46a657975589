// SPDX-License-Identifier: GPL-2.0
/*
 * vduse_probe: report what /dev/vduse/control offers.  Built on the host with
 * `gcc -static` and run in the test guest (selftests/vduse/probe.sh).
 *
 * Prints one "key: value" line per fact:
 *   api_version: N          VDUSE_GET_API_VERSION on a fresh open
 *   set_api_version N: ok|errno   VDUSE_SET_API_VERSION, one fresh open each
 *   features: 0x...|errno   VDUSE_GET_FEATURES (after setting the highest
 *                           accepted API version; newer kernels only)
 * Exit 0 if the control device opened and GET_API_VERSION worked.
 *
 * bookworm's linux-libc-dev is 6.1: vduse/vduse_abi.h has the newer constants.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "proto/vduse_abi.h"

static const char *ctl = "/dev/vduse/control";

static int open_ctl(void)
{
	int fd = open(ctl, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		printf("open: %s: %s\n", ctl, strerror(errno));
	return fd;
}

int main(int argc, char **argv)
{
	__u64 v = 0, feat = 0;
	int fd, best = -1;

	if (argc > 1)
		ctl = argv[1];
	fd = open_ctl();
	if (fd < 0)
		return 1;
	if (ioctl(fd, VDUSE_GET_API_VERSION, &v) < 0) {
		printf("api_version: error %s\n", strerror(errno));
		close(fd);
		return 1;
	}
	printf("api_version: %" PRIu64 "\n", (uint64_t)v);
	close(fd);

	for (__u64 try = 0; try <= 3; try++) {
		int rc;

		fd = open_ctl();
		if (fd < 0)
			return 1;
		rc = ioctl(fd, VDUSE_SET_API_VERSION, &try);
		printf("set_api_version %" PRIu64 ": %s\n", (uint64_t)try,
		       rc < 0 ? strerror(errno) : "ok");
		if (rc == 0)
			best = (int)try;
		close(fd);
	}

	fd = open_ctl();
	if (fd < 0)
		return 1;
	if (best >= 0) {
		v = (__u64)best;
		ioctl(fd, VDUSE_SET_API_VERSION, &v);
	}
	if (ioctl(fd, VDUSE_GET_FEATURES, &feat) < 0) {
		printf("features (api %d): error %s\n", best, strerror(errno));
	} else {
		printf("features (api %d): 0x%" PRIx64 "%s%s\n", best, (uint64_t)feat,
		       feat & (1ULL << VDUSE_F_QUEUE_READY) ? " QUEUE_READY" : "",
		       feat & (1ULL << VDUSE_F_SUSPEND) ? " SUSPEND" : "");
	}
	close(fd);
	return 0;
}
