/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vhost-user back-end: a listening UNIX socket serving one front-end at a
 * time, the message dispatcher and the per-connection protocol state.
 */
#ifndef VB_VU_SERVER_H
#define VB_VU_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blk_dev.h"
#include "vu_msg.h"

struct vu_inflight_shm {
	void *base;
	size_t len;
	uint16_t num_queues;
	uint16_t queue_size;
};

struct vu_dev {
	struct blk_dev *blk;
	const char *path;
	int listen_fd;
	int conn_fd;
	uint64_t features; /* acked, transport bits included */
	uint64_t protocol_features;
	uint8_t status;
	struct vu_inflight_shm inflight;
};

/* Handlers return this when they filled msg as the reply to send. */
#define VU_REPLY 1

int vu_server_listen(struct vu_dev *d, struct blk_dev *blk, const char *path);
/* Serve until stop_fd is readable. Return: 0 or -errno. */
int vu_server_run(struct vu_dev *d, int stop_fd);
void vu_server_close(struct vu_dev *d);

/**
 * vu_dispatch() - handle one received message, sending its reply or ack
 * Return: 0 to go on, or -errno when the connection must be dropped.
 */
int vu_dispatch(struct vu_dev *d, struct vu_msg *msg);

/* Forget everything the front-end set up (on disconnect). */
void vu_dev_disconnect(struct vu_dev *d);

int vu_inflight_create(struct vu_dev *d, struct vu_inflight *req, int *fd_out);
int vu_inflight_attach_take_fd(struct vu_dev *d, const struct vu_inflight *req, int fd);
void vu_inflight_release(struct vu_dev *d);

#endif
