/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * VDUSE transport: the block device as a kernel virtio device. vblkd
 * creates (or re-attaches to) /dev/vduse/NAME, answers the kernel's
 * requests on a thread of its own, maps IOVAs through VDUSE_IOTLB_GET_FD
 * and raises interrupts with VDUSE_VQ_INJECT_IRQ. Adding the device to the
 * vdpa bus (netlink) is the caller's step, after vduse_dev_serve().
 */
#ifndef VB_VDUSE_DEV_H
#define VB_VDUSE_DEV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/blk/blk_dev.h"
#include "proto/vduse_abi.h"

struct vduse_dev_opts {
	const char *name;
	const char *state_dir; /* NULL: no in-flight log, no recovery after a crash */
};

/* The in-flight log file under --state-dir: a header, then one region per queue. */
struct vduse_log_header {
	uint64_t magic;
	uint32_t version;
	uint16_t num_queues;
	uint16_t queue_size;
	uint64_t features; /* as the driver acked them */
	uint8_t driver_status;
	uint8_t suspended; /* a restart keeps the rings stopped */
	uint8_t padding1[2];
	uint32_t held;
	uint8_t padding[32];
};

struct vduse_dev {
	struct blk_dev *blk;
	char name[VDUSE_NAME_MAX];
	const char *state_dir;
	int ctl_fd; /* /dev/vduse/control */
	int fd; /* /dev/vduse/NAME */
	uint64_t api_version;
	uint64_t vduse_features; /* negotiated VDUSE_F_* bits */
	uint8_t status; /* as the driver last set it through the kernel */
	bool reattached; /* the device outlived a previous vblkd */
	bool suspended; /* VDUSE_SUSPEND: rings stay stopped until reset */
	bool ran; /* reached DRIVER_OK since the last reset */
	bool ready[BLK_MAX_QUEUES]; /* VDUSE_F_QUEUE_READY: the driver's word */
	uint32_t held; /* rings the control socket stopped */
	uint32_t positioned; /* rings whose start index was taken since DRIVER_OK */

	/* The in-flight log (a MAP_SHARED file mapping), or NULL. */
	struct vduse_log_header *log;
	size_t log_len;

	pthread_mutex_t lock; /* the device, against the control socket */
	pthread_mutex_t iotlb_lock; /* the memory map, against the workers' misses */
	pthread_t thread;
	bool thread_running;
	int stop_fd; /* eventfd: ends the message thread */
};

/**
 * vduse_dev_create() - create /dev/vduse/NAME, or re-attach to it
 * Negotiates the API version and VDUSE features, creates the device with
 * the block device's features and configuration, sets up its queues and
 * opens it. A device that already exists (a previous vblkd died) is
 * re-attached: its rings are rebuilt from VQ_GET_INFO and the in-flight log.
 * Return: 0 or -errno (logged).
 */
int vduse_dev_create(struct vduse_dev *v, struct blk_dev *blk, const struct vduse_dev_opts *o);

/* Features the device offers through VDUSE: no CONFIG_WCE (the config space is read-only). */
uint64_t vduse_dev_features(const struct blk_dev *blk);

/* Start the message thread. Return: 0 or -errno. */
int vduse_dev_serve(struct vduse_dev *v);

/* Stop the thread, quiesce the device; destroy it in the kernel when @destroy. */
void vduse_dev_close(struct vduse_dev *v, bool destroy);

/* The compatibility endpoint's ring control (vhost-user GET_VRING_BASE / SET_VRING_ENABLE). */
int vduse_dev_ring_stop(void *opaque, unsigned int index, uint16_t *base);
int vduse_dev_ring_start(void *opaque, unsigned int index);

/*
 * One request from the kernel, answered into @resp. Needs no fd beyond
 * v->fd for the ioctls a request implies, so it can be driven by tests.
 */
struct vduse_dev_request;
struct vduse_dev_response;
void vduse_dev_handle(struct vduse_dev *v, const struct vduse_dev_request *req,
		      struct vduse_dev_response *resp);

/* IOTLB: map every range the kernel has (vduse_iotlb.c). Return: 0 or -errno. */
int vduse_iotlb_map_all(struct vduse_dev *v);
/* vb_mem's miss hook: map the IOTLB entry holding @iova. Return: 0 or -EFAULT. */
int vduse_iotlb_miss(void *opaque, uint64_t iova);
/* Forget the mappings that overlap [start, last]. */
void vduse_iotlb_drop(struct vduse_dev *v, uint64_t start, uint64_t last);

/*
 * The in-flight log under --state-dir (vduse_log.c): the spec's in-flight
 * regions in a file, so a vblkd started after a crash resubmits what the
 * dead one had taken from the rings. @keep: a re-attach, use what is there.
 */
int vduse_log_open(struct vduse_dev *v, bool keep);
struct vb_inflight_queue *vduse_log_queue(struct vduse_dev *v, unsigned int index);
/* Driver status, features and stopped rings, for a re-attach. */
void vduse_log_record(struct vduse_dev *v);
/* Forget every ring's in-flight state (a driver reset). */
void vduse_log_reset(struct vduse_dev *v);
/* @remove: the device is gone, so is its log. */
void vduse_log_close(struct vduse_dev *v, bool remove);

#endif
