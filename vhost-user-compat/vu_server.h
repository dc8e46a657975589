/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vhost-user back-end: the front-end socket (one front-end at a time), the
 * control socket (the compatibility endpoint: device-state messages while a
 * front-end holds the other one), the dispatcher and per-connection state.
 */
#ifndef VB_VU_SERVER_H
#define VB_VU_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/blk/blk_dev.h"
#include "state/state.h"
#include "proto/vu_msg.h"

struct vu_inflight_shm {
	void *base;
	size_t len;
	uint16_t num_queues;
	uint16_t queue_size;
};

struct vu_conn {
	const char *path;
	int listen_fd;
	int fd;
	bool control; /* serves only the device-state subset */
	uint64_t protocol_features;
};

/* One SET_DEVICE_STATE_FD transfer, moved by its own thread. */
struct vu_transfer {
	bool active; /* thread started and not yet joined */
	atomic_bool finished;
	pthread_t thread;
	int fd;
	int abort_fd;
	uint32_t direction;
	const struct vu_conn *owner;
	struct state_writer w; /* save: the serialised device */
	struct state_reader r; /* load */
	struct blk_state_load *load;
	int result; /* enum state_err, once finished */
};

struct vu_dev {
	struct blk_dev *blk;
	struct vu_conn fe;
	struct vu_conn ctl;
	struct vu_conn *cur; /* the connection whose message is being handled */
	int reply_fd; /* an fd a handler sends with its reply; the dispatcher closes it */
	uint64_t features; /* acked, transport bits included */
	struct vu_inflight_shm inflight;
	struct vu_transfer xfer;
	int last_result; /* what CHECK_DEVICE_STATE reports when no transfer runs */

	/*
	 * Set when another transport owns the rings (VDUSE): the control
	 * socket then also serves GET_VRING_BASE (stop a ring, reply with its
	 * index) and SET_VRING_ENABLE (1 restarts a ring stopped that way).
	 */
	int (*ring_stop)(void *opaque, unsigned int index, uint16_t *base);
	int (*ring_start)(void *opaque, unsigned int index);
	void *ring_opaque;
	/* Device bits another transport offers on top (VDUSE: ACCESS_PLATFORM). */
	uint64_t extra_features;
	/* Held around each message when another thread also drives the device. */
	pthread_mutex_t *lock;
};

/* Feature bits offered to a front-end: the device's and the transport's. */
uint64_t vu_offered_features(const struct vu_dev *d);

/* Handlers return this when they filled msg as the reply to send. */
#define VU_REPLY 1

/* path (the front-end socket) and ctl_path (the control socket) may each be NULL. */
int vu_server_listen(struct vu_dev *d, struct blk_dev *blk, const char *path,
		     const char *ctl_path);
/* Serve until stop_fd is readable. Return: 0 or -errno. */
int vu_server_run(struct vu_dev *d, int stop_fd);
void vu_server_close(struct vu_dev *d);

/**
 * vu_dispatch() - handle one received message, sending its reply or ack
 * Return: 0 to go on, or -errno when the connection must be dropped.
 */
int vu_dispatch(struct vu_dev *d, struct vu_conn *c, struct vu_msg *msg);

int vu_inflight_create(struct vu_dev *d, struct vu_inflight *req, int *fd_out);
int vu_inflight_attach_take_fd(struct vu_dev *d, const struct vu_inflight *req, int fd);
void vu_inflight_release(struct vu_dev *d);

/* Device-state transfers (vu_state.c); results are enum state_err. */
int vu_state_start_take_fd(struct vu_dev *d, uint32_t direction, uint32_t phase, int fd);
int vu_state_check(struct vu_dev *d);
/* Abort the running transfer, if owner is NULL or started it. */
void vu_state_abort(struct vu_dev *d, const struct vu_conn *owner);

#endif
