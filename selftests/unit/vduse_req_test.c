// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Kernel requests to the VDUSE transport, without a kernel: hostile
 * indices and types get VDUSE_REQ_RESULT_FAILED, never a crash; answers
 * carry the request id; positions come from the rings.
 */
#include "kselftest_harness.h"

#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/virtio_config.h>

#include "core/log.h"
#include "devices/blk/blk_dev.h"
#include "unit_dev.h"
#include "vduse/vduse_int.h"

FIXTURE(vreq) {
	char image[64];
	struct blk_dev *blk;
	struct vb_device *dev;
	struct vduse_dev v;
	struct vduse_dev_request req;
	struct vduse_dev_response resp;
};

FIXTURE_SETUP(vreq)
{
	vb_log_level = VB_LOG_ERR - 1; /* the failures below are expected */
	ASSERT_EQ(0, unit_blk_open(self->image, 2, &self->blk));
	self->dev = blk_dev_vdev(self->blk);
	memset(&self->v, 0, sizeof(self->v));
	self->v.dev = self->dev;
	self->v.fd = self->v.ctl_fd = self->v.stop_fd = -1; /* every ioctl fails: EBADF */
	strcpy(self->v.name, "unit");
	pthread_mutex_init(&self->v.iotlb_lock, NULL);
	memset(&self->req, 0, sizeof(self->req));
	self->req.request_id = 0x1234;
}

FIXTURE_TEARDOWN(vreq)
{
	EXPECT_EQ(0, blk_dev_close(self->blk));
	unlink(self->image);
}

static void handle(struct vduse_dev *v, struct vduse_dev_request *req,
		   struct vduse_dev_response *resp)
{
	memset(resp, 0xa5, sizeof(*resp));
	vduse_dev_handle(v, req, resp);
}

TEST_F(vreq, vq_state_reports_position)
{
	ASSERT_EQ(0, vb_ring_set_base(&self->dev->rings[1], 777));
	self->req.type = VDUSE_GET_VQ_STATE;
	self->req.vq_state.index = 1;
	handle(&self->v, &self->req, &self->resp);
	EXPECT_EQ(0x1234, self->resp.request_id);
	EXPECT_EQ(VDUSE_REQ_RESULT_OK, self->resp.result);
	EXPECT_EQ(1, self->resp.vq_state.index);
	EXPECT_EQ(777, self->resp.vq_state.split.avail_index);
}

TEST_F(vreq, vq_state_bad_index)
{
	uint32_t bad[] = { 2, 16, 1024, 0xffffffff };

	self->req.type = VDUSE_GET_VQ_STATE;
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		self->req.vq_state.index = bad[i];
		handle(&self->v, &self->req, &self->resp);
		EXPECT_EQ(VDUSE_REQ_RESULT_FAILED, self->resp.result);
		EXPECT_EQ(0x1234, self->resp.request_id);
	}
}

TEST_F(vreq, unknown_types_fail)
{
	uint32_t types[] = { 6, 7, 100, 0xffffffff };

	for (unsigned int i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		self->req.type = types[i];
		handle(&self->v, &self->req, &self->resp);
		EXPECT_EQ(VDUSE_REQ_RESULT_FAILED, self->resp.result);
	}
}

TEST_F(vreq, vq_ready_bad_index)
{
	struct vb_vduse_vq_ready r = { .num = 2, .ready = 1 };

	self->req.type = VB_VDUSE_SET_VQ_READY;
	memcpy(&self->req.vq_state, &r, sizeof(r));
	handle(&self->v, &self->req, &self->resp);
	EXPECT_EQ(VDUSE_REQ_RESULT_FAILED, self->resp.result);
	r.num = 0xffffffff;
	memcpy(&self->req.vq_state, &r, sizeof(r));
	handle(&self->v, &self->req, &self->resp);
	EXPECT_EQ(VDUSE_REQ_RESULT_FAILED, self->resp.result);
	/* A valid ring before DRIVER_OK is only recorded. */
	r.num = 1;
	memcpy(&self->req.vq_state, &r, sizeof(r));
	handle(&self->v, &self->req, &self->resp);
	EXPECT_EQ(VDUSE_REQ_RESULT_OK, self->resp.result);
	EXPECT_TRUE(self->v.ready[1]);
}

TEST_F(vreq, group_asid_only_zero)
{
	uint32_t ga[2] = { 0, 0 };

	self->req.type = VB_VDUSE_SET_VQ_GROUP_ASID;
	memcpy(&self->req.vq_state, ga, sizeof(ga));
	handle(&self->v, &self->req, &self->resp);
	EXPECT_EQ(VDUSE_REQ_RESULT_OK, self->resp.result);
	ga[1] = 1;
	memcpy(&self->req.vq_state, ga, sizeof(ga));
	handle(&self->v, &self->req, &self->resp);
	EXPECT_EQ(VDUSE_REQ_RESULT_FAILED, self->resp.result);
}

/* A status walk whose DRIVER_OK cannot reach the kernel: no crash, reset works. */
TEST_F(vreq, status_walk_and_reset)
{
	uint8_t walk[] = { VIRTIO_CONFIG_S_ACKNOWLEDGE, VIRTIO_CONFIG_S_ACKNOWLEDGE |
			   VIRTIO_CONFIG_S_DRIVER, 0x0b, 0x0f, 0 };

	self->req.type = VDUSE_SET_STATUS;
	for (unsigned int i = 0; i < sizeof(walk); i++) {
		self->req.s.status = walk[i];
		handle(&self->v, &self->req, &self->resp);
		EXPECT_EQ(VDUSE_REQ_RESULT_OK, self->resp.result);
		EXPECT_EQ(walk[i], self->dev->driver_status);
		EXPECT_EQ(walk[i], self->v.status);
	}
	EXPECT_TRUE(vb_dev_suspended(self->dev));
}

/* A reset before anything ran keeps positions a state load put there. */
TEST_F(vreq, reset_before_run_keeps_loaded_position)
{
	ASSERT_EQ(0, vb_ring_set_base(&self->dev->rings[0], 42));
	self->req.type = VDUSE_SET_STATUS;
	self->req.s.status = 0;
	handle(&self->v, &self->req, &self->resp);
	EXPECT_EQ(VDUSE_REQ_RESULT_OK, self->resp.result);
	EXPECT_EQ(42, vb_ring_avail_idx(&self->dev->rings[0]));
}

TEST_F(vreq, iotlb_update_ranges)
{
	self->req.type = VDUSE_UPDATE_IOTLB;
	self->req.iova.start = 0x2000;
	self->req.iova.last = 0x1000; /* empty: the kernel hears it failed */
	handle(&self->v, &self->req, &self->resp);
	EXPECT_EQ(0x1234, self->resp.request_id);
	EXPECT_EQ(VDUSE_REQ_RESULT_FAILED, self->resp.result);
	self->req.iova.start = 0;
	self->req.iova.last = UINT64_MAX;
	handle(&self->v, &self->req, &self->resp);
	EXPECT_EQ(VDUSE_REQ_RESULT_OK, self->resp.result);
}

/* An UPDATE_IOTLB range that ends at the top of the IOVA space drops what it covers. */
TEST_F(vreq, iotlb_drop_to_the_top)
{
	int fd = memfd_create("vreq", MFD_CLOEXEC);

	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, ftruncate(fd, 0x1000));
	ASSERT_EQ(0, vb_mem_add_take_fd(&self->dev->mem, 0x2000, 0x1000, 0x2000, 0, fd));
	vduse_iotlb_drop(&self->v, 0x3000, UINT64_MAX);
	EXPECT_EQ(1, self->dev->mem.nregions);
	vduse_iotlb_drop(&self->v, 0x1000, UINT64_MAX);
	EXPECT_EQ(0, self->dev->mem.nregions);
}

/*
 * A ring that really runs (memfd memory, a kick eventfd, a worker): SUSPEND
 * stops it, and a restart through the control socket's ring control does
 * not start it again while the device is suspended.
 */
TEST_F(vreq, suspend_stops_a_running_ring_and_keeps_it_stopped)
{
	struct vb_ring *r = &self->dev->rings[0];

	ASSERT_EQ(0, unit_ring_setup(self->dev, 0, 0));
	ASSERT_EQ(0, vb_ring_start(r));
	ASSERT_TRUE(vb_ring_is_started(r));
	ASSERT_FALSE(vb_dev_suspended(self->dev));

	self->req.type = VB_VDUSE_SUSPEND;
	handle(&self->v, &self->req, &self->resp);
	EXPECT_EQ(VDUSE_REQ_RESULT_OK, self->resp.result);
	EXPECT_TRUE(self->v.suspended);
	EXPECT_FALSE(vb_ring_is_started(r));
	EXPECT_TRUE(vb_dev_suspended(self->dev));

	/* The control socket stops and restarts it: a suspended device stays so. */
	self->v.status = VIRTIO_CONFIG_S_DRIVER_OK;
	EXPECT_EQ(0, vduse_dev_ring_stop(&self->v, 0, VB_SUSPEND_DRAIN, &(uint16_t){ 0 }));
	EXPECT_NE(0, self->v.held & 1);
	vduse_dev_ring_start(&self->v, 0);
	EXPECT_EQ(0, self->v.held & 1);
	EXPECT_FALSE(vb_ring_is_started(r));
}

/* GET_VQ_STATE reads a running ring's position without waiting for it. */
TEST_F(vreq, vq_state_of_a_running_ring_answers)
{
	struct vb_ring *r = &self->dev->rings[0];

	ASSERT_EQ(0, unit_ring_setup(self->dev, 0, 5));
	ASSERT_EQ(0, vb_ring_start(r));
	self->req.type = VDUSE_GET_VQ_STATE;
	self->req.vq_state.index = 0;
	handle(&self->v, &self->req, &self->resp);
	EXPECT_EQ(VDUSE_REQ_RESULT_OK, self->resp.result);
	EXPECT_EQ(5, self->resp.vq_state.split.avail_index);
	EXPECT_EQ(5, vb_ring_stop(r));
}

TEST_HARNESS_MAIN
