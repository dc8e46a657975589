// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: sequences of VDUSE kernel requests into the transport's
 * handler, as a hostile or buggy kernel (or a fault in it) would send them.
 * There is no kernel here: every ioctl the handler makes fails (fd -1), so
 * the paths that matter are the request decoding, index checks and state
 * transitions. Every answer must carry the request id and a defined result.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "vduse/vduse_int.h"

static struct blk_dev *blk;

static void setup(void)
{
	blk = fuzz_blk_dev(4, 64);
	vb_log_level = -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vduse_dev v;

	if (!blk)
		setup();
	memset(&v, 0, sizeof(v));
	v.dev = blk_dev_vdev(blk);
	v.fd = v.ctl_fd = v.stop_fd = -1;
	strcpy(v.name, "fuzz");
	pthread_mutex_init(&v.iotlb_lock, NULL);
	while (size >= sizeof(struct vduse_dev_request)) {
		struct vduse_dev_request req;
		struct vduse_dev_response resp;

		memcpy(&req, data, sizeof(req));
		data += sizeof(req);
		size -= sizeof(req);
		vduse_dev_handle(&v, &req, &resp);
		if (resp.request_id != req.request_id ||
		    (resp.result != VDUSE_REQ_RESULT_OK && resp.result != VDUSE_REQ_RESULT_FAILED))
			abort();
	}
	vb_dev_reset(blk_dev_vdev(blk), VB_RESET_ALL);
	pthread_mutex_destroy(&v.iotlb_lock);
	return 0;
}
