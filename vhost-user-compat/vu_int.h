/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Inside the vhost-user server: the connections, the two handler tables
 * (front-end socket and control socket) and what their handlers share.
 * Not for users of vu_server.h.
 */
#ifndef VB_VU_INT_H
#define VB_VU_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/mem.h"
#include "proto/vu_msg.h"
#include "state/session.h"
#include "vhost-user-compat/vu_conn.h"
#include "vhost-user-compat/vu_server.h"

struct vu_inflight_shm {
	struct vb_map map; /* guarded: the front-end may shrink a region it handed over */
	uint16_t num_queues;
	uint16_t queue_size;
};

/* Control clients served at once; one more is accepted and closed at once. */
#define VU_CTL_MAX_CLIENTS 32

/* A listening socket: the front-end's or the control socket. */
struct vu_listener {
	const char *path;
	const char *what;
	int fd;
};

struct vu_server {
	struct vb_device *dev;
	struct vu_listener fe_listen;
	struct vu_listener ctl_listen;
	struct vu_conn fe;
	/*
	 * Allocated when first used, then kept: a daemon no control client
	 * reached holds none (each is a message buffer, ~5 KiB), and a slot
	 * the poll loop points at stays valid when its client leaves.
	 */
	struct vu_conn *ctl[VU_CTL_MAX_CLIENTS];
	int message_timeout_ms; /* for a message that started and never finished */
	int idle_timeout_ms; /* for a control client that sends nothing; 0: none */
	uint64_t features; /* acked by the front-end, transport bits included */
	struct vu_inflight_shm inflight;
	struct state_session xfer;
	/* Another transport drives the device (VDUSE): its ring control. */
	const struct vu_ctl_ops *ctl_ops;
	void *ctl_opaque;
	uint64_t next_conn_id;
	/* The back-end channel (SET_BACKEND_REQ_FD), under the device's lock. */
	int backend_fd;
	uint64_t fe_protocol_features; /* copy for other threads, under the device's lock */
	atomic_bool fe_connected; /* read by other threads (vu_server_fe_connected()) */
};

/**
 * vu_listener_open() - listen on @path, mode 0600
 * @l:		filled here; l->fd is -1 on failure
 * @path:	the socket's path; a socket file a dead back-end left is
 *		replaced, one a live back-end listens on is not
 * @what:	how logs name what connects
 * @backlog:	connections the kernel holds before accept()
 *
 * Return: 0, -EADDRINUSE, -EEXIST for a path that is not a socket,
 * -ENAMETOOLONG, or another -errno (logged).
 */
int vu_listener_open(struct vu_listener *l, const char *path, const char *what, int backlog);

/* Close the listening socket and remove its path; harmless when not open. */
void vu_listener_close(struct vu_listener *l);

/* Handlers return this when they filled msg as the reply to send. */
#define VU_REPLY 1

/**
 * typedef vu_handler_fn - one message's handler, on either socket
 * @s:		the server
 * @c:		the connection the message came on
 * @m:		the message, already checked by vu_msg_check() and against the
 *		table's fd limit; the reply is built in place
 *
 * A handler takes the fds it keeps (setting their slot to -1); the
 * dispatcher closes the rest. To send an fd with its reply, a handler sets
 * @c->reply_fd. Front-end handlers run with the device's lock held, except
 * SET_DEVICE_STATE_FD and CHECK_DEVICE_STATE; control handlers take what
 * they need themselves.
 * Return: VU_REPLY when @m holds the reply to send, 0 for success, or
 * -errno (a request that expects a reply then drops the connection).
 */
typedef int (*vu_handler_fn)(struct vu_server *s, struct vu_conn *c, struct vu_msg *m);

/*
 * X(message, handler, most fds it may carry, run with the device's lock): the
 * front-end socket (vu_handlers.c). The device-state messages take the lock
 * themselves, never while they wait for a transfer.
 */
#define VU_HANDLER_LIST(X)                                        \
	X(GET_FEATURES, vu_get_features, 0, 1)                       \
	X(SET_FEATURES, vu_set_features, 0, 1)                       \
	X(SET_OWNER, vu_set_owner, 0, 1)                             \
	X(RESET_OWNER, vu_reset_owner, 0, 1)                         \
	X(SET_MEM_TABLE, vu_set_mem_table, VU_MAX_MEM_REGIONS, 1)    \
	X(SET_LOG_BASE, vu_set_log_base, 1, 1)                       \
	X(SET_LOG_FD, vu_set_log_fd, 1, 1)                           \
	X(SET_VRING_NUM, vu_set_vring_num, 0, 1)                     \
	X(SET_VRING_ADDR, vu_set_vring_addr, 0, 1)                   \
	X(SET_VRING_BASE, vu_set_vring_base, 0, 1)                   \
	X(GET_VRING_BASE, vu_get_vring_base, 0, 1)                   \
	X(SET_VRING_KICK, vu_set_vring_kick, 1, 1)                   \
	X(SET_VRING_CALL, vu_set_vring_call, 1, 1)                   \
	X(SET_VRING_ERR, vu_set_vring_err, 1, 1)                     \
	X(GET_PROTOCOL_FEATURES, vu_get_protocol_features, 0, 1)     \
	X(SET_PROTOCOL_FEATURES, vu_set_protocol_features, 0, 1)     \
	X(GET_QUEUE_NUM, vu_get_queue_num, 0, 1)                     \
	X(SET_VRING_ENABLE, vu_set_vring_enable, 0, 1)               \
	X(GET_CONFIG, vu_get_config, 0, 1)                           \
	X(SET_CONFIG, vu_set_config, 0, 1)                           \
	X(GET_INFLIGHT_FD, vu_get_inflight_fd, 0, 1)                 \
	X(SET_INFLIGHT_FD, vu_set_inflight_fd, 1, 1)                 \
	X(RESET_DEVICE, vu_reset_device, 0, 1)                       \
	X(GET_MAX_MEM_SLOTS, vu_get_max_mem_slots, 0, 1)             \
	X(ADD_MEM_REG, vu_add_mem_reg, 1, 1)                         \
	X(REM_MEM_REG, vu_rem_mem_reg, 1, 1)                         \
	X(SET_STATUS, vu_set_status, 0, 1)                           \
	X(GET_STATUS, vu_get_status, 0, 1)                           \
	X(SET_BACKEND_REQ_FD, vu_set_backend_req_fd, 1, 1)           \
	X(SET_DEVICE_STATE_FD, vu_set_device_state_fd, 1, 0)         \
	X(CHECK_DEVICE_STATE, vu_check_device_state, 0, 0)

/*
 * The control socket (vu_control.c): the device-state subset, and for a
 * device another transport drives, GET_VRING_BASE (stop a ring, reply with
 * its index) and SET_VRING_ENABLE (1 restarts a ring stopped that way).
 */
#define VU_CONTROL_LIST(X)                                        \
	X(GET_FEATURES, vu_ctl_get_features, 0, 0)                   \
	X(GET_PROTOCOL_FEATURES, vu_get_protocol_features, 0, 0)     \
	X(SET_PROTOCOL_FEATURES, vu_set_protocol_features, 0, 0)     \
	X(SET_DEVICE_STATE_FD, vu_set_device_state_fd, 1, 0)         \
	X(CHECK_DEVICE_STATE, vu_check_device_state, 0, 0)           \
	X(GET_VRING_BASE, vu_ctl_get_vring_base, 0, 0)               \
	X(SET_VRING_ENABLE, vu_ctl_set_vring_enable, 0, 0)           \
	X(VBLKD_SUSPEND_MODE, vu_ctl_suspend_mode, 0, 0)             \
	X(VBLKD_THROTTLE, vu_ctl_throttle, 0, 0)

/* Every handler in both lists is a vu_handler_fn, documented there. */
#define VU_DECLARE(name, fn, nfds, lock) \
	int fn(struct vu_server *s, struct vu_conn *c, struct vu_msg *m);
VU_HANDLER_LIST(VU_DECLARE)
VU_DECLARE(, vu_ctl_get_features, , )
VU_DECLARE(, vu_ctl_get_vring_base, , )
VU_DECLARE(, vu_ctl_set_vring_enable, , )
VU_DECLARE(, vu_ctl_suspend_mode, , )
VU_DECLARE(, vu_ctl_throttle, , )
#undef VU_DECLARE

/**
 * vu_offered_features() - feature bits offered to a front-end
 * @s:		the server
 *
 * Return: the device's bits, the transport's, and for a device another
 * transport drives, that transport's extra bits.
 */
uint64_t vu_offered_features(const struct vu_server *s);

/**
 * vu_reply_u64() - fill @m as a reply carrying one u64
 * @m:		the message
 * @v:		the value
 *
 * Return: VU_REPLY.
 */
int vu_reply_u64(struct vu_msg *m, uint64_t v);

/**
 * vu_backend_close() - forget the back-end channel (vu_backend.c)
 * @s:		the server, with the device's lock held
 */
void vu_backend_close(struct vu_server *s);

/* The in-flight region (vu_inflight_shm.c). */

/**
 * vu_inflight_create() - GET_INFLIGHT_FD: a fresh, zeroed region
 * @s:		the server
 * @req:	in: num_queues and queue_size; out: mmap_size and mmap_offset
 * @fd_out:	out: the sealed memfd to send to the front-end (the caller's)
 *
 * The region replaces any earlier one and is attached to the first
 * num_queues rings, with the running rings paused around the change.
 * Return: 0, -EINVAL for a geometry this device cannot have or a ring
 * larger than queue_size, the error of making, sealing or mapping the
 * memfd, or the error of restarting a ring.
 */
int vu_inflight_create(struct vu_server *s, struct vu_inflight *req, int *fd_out);

/**
 * vu_inflight_attach_take_fd() - SET_INFLIGHT_FD: adopt a region from before
 * @s:		the server
 * @req:	the geometry, size and offset the front-end sent
 * @fd:		the region; always consumed
 *
 * The region a previous back-end recorded into, handed back after a
 * reconnect: it replaces any earlier one, with the running rings paused
 * around the change. Its records are hostile and are validated when a
 * ring starts.
 * Return: 0, -EINVAL for a geometry this device cannot have, a ring larger
 * than queue_size, a size other than the geometry's or a file too short,
 * the fstat or mmap error, or the error of restarting a ring.
 */
int vu_inflight_attach_take_fd(struct vu_server *s, const struct vu_inflight *req, int fd);

/**
 * vu_inflight_release() - detach the region from every ring and unmap it
 * @s:		the server; no ring may be started
 */
void vu_inflight_release(struct vu_server *s);

/**
 * vu_state_start_take_fd() - SET_DEVICE_STATE_FD: start a transfer
 * @s:		the server
 * @c:		the connection that asked, which alone may CHECK it
 * @direction:	0 save, 1 load
 * @phase:	0 (stopped), the only phase defined
 * @fd:		the pipe end; always consumed
 *
 * A transfer in progress is aborted first: a new one replaces it. A save
 * serialises the device here, with its lock held; a save or a load is
 * refused (STATE_E_BUSY) unless every ring is stopped. A refusal is
 * recorded as what a later CHECK reports.
 * Return: STATE_OK or the enum state_err that refused it.
 */
enum state_err vu_state_start_take_fd(struct vu_server *s, const struct vu_conn *c,
				      uint32_t direction, uint32_t phase, int fd);

/**
 * vu_state_check() - CHECK_DEVICE_STATE: the result of @c's transfer
 * @s:		the server
 * @c:		the connection that asks
 *
 * Waits a bounded time for the bytes to finish moving, with no lock held,
 * then applies a load to the suspended device. Nothing is applied when a
 * ring started meanwhile (STATE_E_BUSY) or the state carries features this
 * server never offered (STATE_E_CONTENT).
 * Return: an enum state_err.
 */
enum state_err vu_state_check(struct vu_server *s, const struct vu_conn *c);

#endif
