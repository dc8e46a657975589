/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Inside the VDUSE transport: the handle, and what vduse_dev.c,
 * vduse_iotlb.c and vduse_inflight.c share. Not for users of vduse_dev.h
 * (unit tests and fuzzers drive vduse_dev_handle() through it).
 */
#ifndef VB_VDUSE_INT_H
#define VB_VDUSE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/device.h"
#include "proto/vduse_abi.h"
#include "vduse/vduse_dev.h"

/* The in-flight file under --state-dir: this header, then one region per queue. */
struct vduse_inflight_header {
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

/*
 * Fields below the device's lock (vb_dev_lock()) are changed by the message
 * thread and by the control socket's ring control; neither holds it while
 * rings drain.
 */
struct vduse_dev {
	struct vb_device *dev;
	char name[VDUSE_NAME_MAX];
	const char *state_dir;
	int ctl_fd; /* /dev/vduse/control */
	int fd; /* /dev/vduse/NAME */
	uint64_t api_version;
	uint64_t vduse_features; /* negotiated VDUSE_F_* bits */

	/* Under the device's lock. */
	uint8_t status; /* as the driver last set it through the kernel */
	bool reattached; /* the device outlived a previous vblkd */
	bool suspended; /* VDUSE_SUSPEND: rings stay stopped until reset */
	bool ran; /* reached DRIVER_OK since the last reset */
	bool remapping; /* an IOTLB update has the rings paused */
	bool ready[VB_MAX_QUEUES]; /* VDUSE_F_QUEUE_READY: the driver's word */
	uint32_t held; /* rings the control socket stopped */
	uint32_t start_after_remap; /* rings the control socket restarted meanwhile */
	uint32_t positioned; /* rings whose start index was taken since DRIVER_OK */

	/* The in-flight file (a MAP_SHARED file mapping), or NULL. */
	struct vduse_inflight_header *inflight;
	size_t inflight_len;

	pthread_mutex_t iotlb_lock; /* the memory map, against the workers' misses */
	pthread_t thread;
	bool thread_running;
	int stop_fd; /* eventfd: ends the message thread */
};

/**
 * vduse_dev_handle() - answer one request from the kernel
 * @v:		the handle
 * @req:	the request (hostile: every index is checked)
 * @resp:	out: the response, with the request's id
 *
 * Needs no fd beyond v->fd for the ioctls a request implies, so tests can
 * drive it. Takes the device's lock itself, never across a drain.
 */
void vduse_dev_handle(struct vduse_dev *v, const struct vduse_dev_request *req,
		      struct vduse_dev_response *resp);

/**
 * vduse_driver_ok() - the driver set DRIVER_OK: read the features, map the
 * IOTLB and start every ring the driver made ready
 * @v:		the handle, with the device's lock held
 */
void vduse_driver_ok(struct vduse_dev *v);

/* IOTLB (vduse_iotlb.c): each entry is one region whose gpa and uva are the IOVA. */

/**
 * vduse_iotlb_map_all() - map every range the kernel's IOTLB has
 * @v:		the handle; no ring may run
 *
 * A stale mapping that overlaps a new entry is dropped first, which is why
 * no ring may run. Entries already mapped are left alone; read-only
 * entries stay unmapped (logged), and a descriptor into them fails.
 * Return: 0, or -errno when the kernel refused (-EIO for an entry other
 * than the one asked for).
 */
int vduse_iotlb_map_all(struct vduse_dev *v);

/**
 * vduse_iotlb_miss() - vb_mem's miss hook: map the IOTLB entry holding @iova
 * @opaque:	the handle
 * @iova:	the address no region holds
 *
 * Runs on the workers while rings run (virtio_vdpa's bounce area enters
 * the IOTLB only when the driver maps its first buffer, after DRIVER_OK),
 * and on the message thread to map a ring before it starts. A stale
 * mapping in the way is not dropped here; the entry then stays unmapped
 * until the IOTLB update that follows.
 * Return: 0 when an entry holds @iova (the caller's retry tells whether it
 * could be mapped), or -EFAULT.
 */
int vduse_iotlb_miss(void *opaque, uint64_t iova);

/**
 * vduse_iotlb_drop() - forget the mappings that overlap an IOVA range
 * @v:		the handle; no ring may run
 * @start:	first IOVA
 * @last:	last IOVA, inclusive (UINT64_MAX allowed)
 */
void vduse_iotlb_drop(struct vduse_dev *v, uint64_t start, uint64_t last);

/**
 * vduse_iotlb_clear() - forget every mapping
 * @v:		the handle; no ring may run
 *
 * For a reset: a ring may move, so nothing mapped before may be trusted.
 */
void vduse_iotlb_clear(struct vduse_dev *v);

/*
 * The in-flight file under --state-dir (vduse_inflight.c): the spec's
 * in-flight regions in a file, so a vblkd started after a crash resubmits
 * what the dead one had taken from the rings.
 */

/**
 * vduse_inflight_open() - open or create DIR/NAME.inflight and map it
 * @v:		the handle, with state_dir set
 * @keep:	a re-attach: use what is there
 *
 * A kept file whose size or header does not fit this device's geometry is
 * started empty (logged). The mapping is MAP_SHARED, so what the workers
 * record survives a kill -9 in the page cache.
 * Return: 0, -ENAMETOOLONG for a path too long (not logged), or another
 * -errno (logged).
 */
int vduse_inflight_open(struct vduse_dev *v, bool keep);

/**
 * vduse_inflight_queue() - one queue's region in the in-flight file
 * @v:		the handle, with the file open
 * @index:	a queue index below the device's num_queues (not checked)
 *
 * Return: the region, laid out for rings of the device's queue_size.
 */
struct vb_inflight_queue *vduse_inflight_queue(struct vduse_dev *v, unsigned int index);

/**
 * vduse_inflight_record() - save the device-wide state a re-attach needs
 * @v:		the handle
 *
 * Driver status, features, the suspended flag and the rings the control
 * socket holds stopped. Nothing without a file.
 */
void vduse_inflight_record(struct vduse_dev *v);

/**
 * vduse_inflight_reset() - forget every ring's in-flight records
 * @v:		the handle
 *
 * For a driver reset; the header stays. Nothing without a file.
 */
void vduse_inflight_reset(struct vduse_dev *v);

/**
 * vduse_inflight_close() - unmap the in-flight file
 * @v:		the handle; nothing when no file is open
 * @remove:	the device is gone: remove its file too
 */
void vduse_inflight_close(struct vduse_dev *v, bool remove);

#endif
