/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The device seam (DESIGN.md "Three seams"): what every device has (rings,
 * guest memory, the dirty log, negotiated features and status) and the ops
 * table a device model implements. Transports drive a struct vb_device and
 * never know which device it is; a device never knows which transport
 * carries it.
 */
#ifndef VB_DEVICE_H
#define VB_DEVICE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/dirty_log.h"
#include "core/mem.h"
#include "core/ring.h"

#define VB_MAX_QUEUES 16

/*
 * --poll-us auto: the cap of the workers' adaptive polling
 * (core/ring_worker.c). It must exceed a driver's turnaround plus a wake-up
 * across CPUs (about 40 us in a VM) for polling to turn itself on.
 */
#define VB_POLL_AUTO_US 64

struct vb_device;
struct state_writer;

/* A device's throttle: limits, and how much requests waited for them. */
struct vb_throttle_limits {
	uint64_t iops; /* requests per second; 0: unlimited */
	uint64_t bps; /* bytes per second; 0: unlimited */
	uint64_t burst_ms; /* how far ahead of the rate a burst may go */
	uint64_t throttled; /* out: requests that waited */
	uint64_t throttled_us; /* out: their total wait */
};

/*
 * What a device model implements. The data-path calls run on a ring's
 * worker; the others on the thread that drives the device, with the
 * device's lock held (vb_dev_lock()). Every entry is mandatory except
 * reset, io_done (for a device that never submits I/O) and the state
 * entries, which go together: a device without save offers no device
 * state, and transports refuse SET_DEVICE_STATE_FD for it.
 */
struct vb_device_ops {
	/* virtio device id (VIRTIO_ID_*); also the state's device type */
	uint32_t type;
	/* bytes of the device's request type, which starts with struct vb_req */
	size_t req_size;
	/* bytes of the configuration space */
	uint32_t config_size;

	/* Device feature bits (virtio bits only; the transport adds its own). */
	uint64_t (*features)(const struct vb_device *d);
	/* Fill len bytes of the configuration space from offset; beyond it reads 0. */
	void (*get_config)(const struct vb_device *d, uint32_t offset, uint8_t *buf, uint32_t len);
	/* Return: 0 or -EINVAL for a field that is not writable. */
	int (*set_config)(struct vb_device *d, uint32_t offset, const uint8_t *buf, uint32_t len);
	/* The device's own part of a reset; rings and memory are the core's. */
	void (*reset)(struct vb_device *d);

	/*
	 * Data path: one walked chain. The device completes it at once with
	 * vb_ring_complete(), or queues I/O with vb_ring_get_sqes() and
	 * vb_ring_submitted(); its completion then comes to io_done() with
	 * the io_uring result. A chain that cannot be a request of this
	 * device: vb_ring_fail().
	 */
	void (*handle)(struct vb_ring *r, struct vb_req *req);
	void (*io_done)(struct vb_ring *r, struct vb_req *req, int res);
	/*
	 * A capture: cancel the request's I/O if it has not reached the disk
	 * (queue an io_uring cancel). Its completion then comes back with
	 * -ECANCELED and the ring keeps the request instead of io_done().
	 * NULL: nothing is cancellable, a capture drains.
	 */
	void (*cancel)(struct vb_ring *r, struct vb_req *req);
	/*
	 * Optional, on the worker's thread: its loop begins (arm the storage
	 * back-end's events on the ring's io_uring; 0 or -errno, which ends
	 * the worker) and ends (nothing is in flight any more).
	 */
	int (*queue_start)(struct vb_ring *r);
	void (*queue_stop)(struct vb_ring *r);

	/*
	 * Throttling, optional: set the limits (0: none) and read them with
	 * the time requests waited. Return: 0 or -EINVAL.
	 */
	int (*set_throttle)(struct vb_device *d, const struct vb_throttle_limits *l);
	void (*get_throttle)(const struct vb_device *d, struct vb_throttle_limits *l);

	/* State (docs/state-format.md): serialise a suspended device. 0 or -errno. */
	int (*save)(struct vb_device *d, struct state_writer *w);
	/* A staging area for a load, or NULL (-ENOMEM). */
	void *(*load_new)(struct vb_device *d);
	void (*load_free)(void *load);
	/* state_section_fn: 0, -ENOENT for an unknown type, or an enum state_err */
	int (*load_section)(void *load, uint16_t type, uint16_t flags, const uint8_t *payload,
			    uint32_t len);
	/* After a verified trailer: STATE_OK or an enum state_err. */
	int (*load_check)(const void *load);
	/* Feature bits the state says were negotiated (the transport vets them). */
	uint64_t (*load_features)(const void *load);
	/* Apply to the suspended device; cannot fail once checked. */
	void (*apply)(struct vb_device *d, const void *load);
};

/* What a transport lends the core: interrupts without a call fd (VDUSE). */
struct vb_transport_ops {
	void (*notify)(void *opaque, unsigned int queue);
};

struct vb_device {
	const struct vb_device_ops *ops;
	unsigned int num_queues;
	unsigned int queue_size; /* largest ring, and longest chain, accepted */
	/* The transport cannot carry config writes (VDUSE): offer no writable field. */
	bool config_readonly;

	/*
	 * Device-wide settings, changed by the thread that drives the device
	 * with the lock held (the vhost-user main loop, the VDUSE message
	 * thread, the control socket). Never held while waiting for a pipe.
	 */
	pthread_mutex_t lock;
	uint64_t features; /* negotiated, transport bits included */
	bool log_all; /* the transport asked for dirty logging (VHOST_F_LOG_ALL) */
	uint8_t driver_status; /* as the driver last set it */
	enum vb_suspend_mode suspend_mode; /* how a suspend stops rings by default */
	unsigned int poll_us; /* the cap of workers' adaptive polling; 0: none */
	atomic_uchar status; /* device-raised bits: NEEDS_RESET */
	struct vb_mem mem;
	struct vb_dirty_log dirty;

	const struct vb_transport_ops *transport;
	void *transport_opaque;

	struct vb_ring rings[VB_MAX_QUEUES];
};

/**
 * vb_dev_init() - the generic part of a device, rings stopped
 * @d:		the device (embedded in the device model's own struct)
 * @ops:	the device model
 * @num_queues:	queues offered, up to VB_MAX_QUEUES
 * @queue_size:	largest ring accepted, up to VB_VQ_MAX_SIZE
 *
 * Return: 0 or -EINVAL.
 */
int vb_dev_init(struct vb_device *d, const struct vb_device_ops *ops, unsigned int num_queues,
		unsigned int queue_size);

/**
 * vb_dev_fini() - stop every ring, unmap memory, free the rings' locks
 * @d:		the device
 */
void vb_dev_fini(struct vb_device *d);

/**
 * vb_dev_lock() - take the device's lock
 * @d:		the device
 */
void vb_dev_lock(struct vb_device *d);

/**
 * vb_dev_unlock() - release the device's lock
 * @d:		the device
 */
void vb_dev_unlock(struct vb_device *d);

/**
 * vb_dev_ring() - a ring by index, checked
 * @d:		the device
 * @index:	queue index from a peer (hostile)
 *
 * Return: the ring, or NULL (logged) when out of range.
 */
struct vb_ring *vb_dev_ring(struct vb_device *d, uint32_t index);

/**
 * vb_dev_features() - the device model's feature bits
 * @d:		the device
 */
uint64_t vb_dev_features(const struct vb_device *d);

/**
 * vb_dev_get_config() - read the configuration space
 * @d:		the device
 * @offset:	first byte
 * @buf:	out
 * @len:	bytes
 */
void vb_dev_get_config(const struct vb_device *d, uint32_t offset, uint8_t *buf, uint32_t len);

/**
 * vb_dev_set_config() - write the configuration space
 * @d:		the device
 * @offset:	first byte
 * @buf:	bytes to write
 * @len:	how many
 *
 * Return: 0 or -EINVAL.
 */
int vb_dev_set_config(struct vb_device *d, uint32_t offset, const uint8_t *buf, uint32_t len);

/**
 * vb_dev_set_features() - the features the driver acked
 * @d:		the device
 * @features:	all acked bits, transport bits included
 * @log_all:	the transport logs dirty pages
 *
 * Running rings are paused around the change (they read the ring format).
 * Return: 0 or the error of restarting a ring.
 */
int vb_dev_set_features(struct vb_device *d, uint64_t features, bool log_all);

/**
 * vb_dev_set_driver_status() - the status byte the driver wrote
 * @d:		the device
 * @status:	the byte; 0 also clears NEEDS_RESET
 */
void vb_dev_set_driver_status(struct vb_device *d, uint8_t status);

/**
 * vb_dev_status() - the status byte the driver reads
 * @d:		the device
 *
 * Return: the driver's bits and NEEDS_RESET when the device raised it.
 */
uint8_t vb_dev_status(const struct vb_device *d);

/**
 * vb_dev_needs_reset() - a ring hit an error the driver must reset to clear
 * @d:		the device
 */
void vb_dev_needs_reset(struct vb_device *d);

/**
 * vb_dev_pause() - stop every started ring for a device-wide change
 * @d:		the device
 *
 * What was taken from the rings completes first.
 * Return: the set of rings that ran, for vb_dev_resume().
 */
uint32_t vb_dev_pause(struct vb_device *d);

/**
 * vb_dev_suspend() - stop every started ring, draining or capturing
 * @d:		the device
 * @mode:	how the rings stop (see vb_ring_stop_mode())
 *
 * Return: the set of rings that ran, for vb_dev_resume().
 */
uint32_t vb_dev_suspend(struct vb_device *d, enum vb_suspend_mode mode);

/**
 * vb_dev_set_throttle() - change the device's throttle while it runs
 * @d:		the device
 * @l:		new limits (the out fields are ignored)
 *
 * Return: 0, -EINVAL for impossible limits, -EOPNOTSUPP for a device
 * without a throttle.
 */
int vb_dev_set_throttle(struct vb_device *d, const struct vb_throttle_limits *l);

/**
 * vb_dev_get_throttle() - the device's throttle and what it cost
 * @d:		the device
 * @l:		out; all zero for a device without a throttle
 */
void vb_dev_get_throttle(const struct vb_device *d, struct vb_throttle_limits *l);

/**
 * vb_dev_resume() - restart the rings vb_dev_pause() stopped
 * @d:		the device
 * @mask:	what vb_dev_pause() returned
 *
 * Return: 0, or the first start error (every ring is tried).
 */
int vb_dev_resume(struct vb_device *d, uint32_t mask);

/* How much of the device vb_dev_reset() forgets. */
enum vb_reset {
	VB_RESET_ALL, /* rings, memory, dirty log, features, status */
	VB_RESET_KEEP_MEMORY, /* vhost-user RESET_DEVICE: memory and dirty log stay */
	VB_RESET_KEEP_RINGS, /* stop the rings but keep their position (a state load) */
};

/**
 * vb_dev_reset() - the device as a new driver finds it
 * @d:		the device
 * @how:	what to keep
 *
 * In-flight regions stay attached: they belong to the transport.
 */
void vb_dev_reset(struct vb_device *d, enum vb_reset how);

/**
 * vb_dev_suspended() - whether no ring is started
 * @d:		the device
 *
 * Return: true when the device writes nothing and can be saved.
 */
bool vb_dev_suspended(const struct vb_device *d);

#endif
