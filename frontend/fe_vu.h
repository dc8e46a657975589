/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vhost-user client (the front-end side of QEMU docs/interop/vhost-user.rst):
 * one connection, typed helpers for every message a block front-end sends,
 * and raw send/receive for tests that send malformed messages.
 *
 * Every function returns 0 or -errno. A back-end that answered a REPLY_ACK
 * with a non-zero status gives -EREMOTEIO; a back-end that closed the
 * connection gives -ECONNRESET; no reply within vu->timeout_ms gives
 * -ETIMEDOUT.
 */
#ifndef VB_FE_VU_H
#define VB_FE_VU_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/vu_msg.h"

struct fe_mem;

#define FE_VU_TIMEOUT_MS 5000

struct fe_vu {
	int sock;		/* -1 when not connected */
	int timeout_ms;		/* for every reply */
	uint64_t features;	/* offered by GET_FEATURES */
	uint64_t protocol_features; /* acked by SET_PROTOCOL_FEATURES */
	bool reply_ack;		/* set NEED_REPLY on messages without a reply */
};

/**
 * fe_vu_connect() - connect to a back-end's listening socket
 * @vu:		initialised here
 * @path:	UNIX socket path
 * @wait_ms:	keep retrying this long while the path is missing or refused
 *
 * Resets @vu first (vu->timeout_ms = FE_VU_TIMEOUT_MS). The retries let a
 * client start before its back-end listens.
 * Return: 0, -ENAMETOOLONG, or the connect error once @wait_ms ran out.
 */
int fe_vu_connect(struct fe_vu *vu, const char *path, int wait_ms);

/**
 * fe_wait_fd() - wait for an fd to become ready
 * @fd:		the fd
 * @events:	poll events, e.g. POLLIN
 * @timeout_ms:	how long; EINTR does not end the wait early
 *
 * Return: 0, -ETIMEDOUT, or the poll error.
 */
int fe_wait_fd(int fd, short events, int timeout_ms);

/**
 * fe_vu_disconnect() - close the connection, if any
 * @vu:		the connection; vu->sock is -1 afterwards
 */
void fe_vu_disconnect(struct fe_vu *vu);

/**
 * fe_vu_send_msg() - raw access: send @msg as is
 * @vu:		the connection
 * @msg:	header, payload of hdr.size and nfds fds (not consumed); not
 *		validated, so tests can send malformed messages
 *
 * Return: 0, -ENOTCONN, or the vu_msg_send() error.
 */
int fe_vu_send_msg(struct fe_vu *vu, const struct vu_msg *msg);

/**
 * fe_vu_recv_msg() - raw access: wait up to vu->timeout_ms for any message
 * @vu:		the connection
 * @msg:	out: the message; fds that came with it are left in msg->fds
 *		for the caller (vu_msg_close_fds())
 *
 * Return: 0, -ENOTCONN, -ETIMEDOUT, or the vu_msg_recv() error.
 */
int fe_vu_recv_msg(struct fe_vu *vu, struct vu_msg *msg);

/**
 * fe_vu_recv_reply() - receive the reply to @request
 * @vu:		the connection
 * @request:	the request id the reply must carry
 * @reply:	out: the reply; its fds are the caller's
 *
 * Return: 0, -EPROTO when the reply flag or the id is wrong (its fds are
 * closed), or the fe_vu_recv_msg() error.
 */
int fe_vu_recv_reply(struct fe_vu *vu, uint32_t request, struct vu_msg *reply);

/**
 * fe_vu_request() - send a message that has no reply of its own
 * @vu:		the connection
 * @request:	the request id
 * @payload:	@size bytes
 * @size:	at most VU_PAYLOAD_MAX
 * @fds:	fds to pass (not consumed); may be NULL when @nfds is 0
 * @nfds:	at most VU_MAX_FDS
 *
 * With vu->reply_ack, NEED_REPLY is set and the u64 ack is read back.
 * Return: 0, -EINVAL for a payload or fd count too large, -EREMOTEIO for
 * a failed ack, -EPROTO for a malformed one, or another -errno.
 */
int fe_vu_request(struct fe_vu *vu, uint32_t request, const void *payload, uint32_t size,
		  const int *fds, unsigned int nfds);

/**
 * fe_vu_call() - send a message that has a reply and read it
 * @vu:		the connection
 * @request:	the request id
 * @payload:	@size bytes
 * @size:	at most VU_PAYLOAD_MAX
 * @fds:	fds to pass (not consumed); may be NULL when @nfds is 0
 * @nfds:	at most VU_MAX_FDS
 * @reply:	out: the reply (also the send buffer); its fds are the caller's
 *
 * Return: 0, -EINVAL for a payload or fd count too large, -EPROTO for a
 * reply to something else, or another -errno.
 */
int fe_vu_call(struct fe_vu *vu, uint32_t request, const void *payload, uint32_t size,
	       const int *fds, unsigned int nfds, struct vu_msg *reply);

/* Features and ownership. */

/**
 * fe_vu_get_u64() - send a request whose reply is one u64
 * @vu:		the connection
 * @request:	the request id (no payload)
 * @val:	out: the value
 *
 * Fds that came with the reply are closed.
 * Return: 0, -EPROTO for a reply of another size, or another -errno.
 */
int fe_vu_get_u64(struct fe_vu *vu, uint32_t request, uint64_t *val);

/**
 * fe_vu_set_u64() - send a request whose payload is one u64
 * @vu:		the connection
 * @request:	the request id
 * @val:	the value
 *
 * Return: as fe_vu_request().
 */
int fe_vu_set_u64(struct fe_vu *vu, uint32_t request, uint64_t val);

/**
 * fe_vu_get_features() - GET_FEATURES
 * @vu:		the connection; vu->features records the answer
 * @features:	out: the offered bits
 *
 * Return: 0 or -errno.
 */
int fe_vu_get_features(struct fe_vu *vu, uint64_t *features);

/**
 * fe_vu_set_features() - SET_FEATURES
 * @vu:		the connection
 * @features:	the acked bits
 *
 * Return: 0 or -errno.
 */
int fe_vu_set_features(struct fe_vu *vu, uint64_t features);

/**
 * fe_vu_get_protocol_features() - GET_PROTOCOL_FEATURES
 * @vu:		the connection
 * @features:	out: the offered protocol bits
 *
 * Return: 0 or -errno.
 */
int fe_vu_get_protocol_features(struct fe_vu *vu, uint64_t *features);

/**
 * fe_vu_set_protocol_features() - SET_PROTOCOL_FEATURES
 * @vu:		the connection
 * @features:	the acked protocol bits
 *
 * On success records them in vu->protocol_features, and turns
 * vu->reply_ack on when REPLY_ACK is among them: the ack mode starts with
 * the next message, never this one.
 * Return: 0 or -errno.
 */
int fe_vu_set_protocol_features(struct fe_vu *vu, uint64_t features);

/**
 * fe_vu_set_owner() - SET_OWNER
 * @vu:		the connection
 *
 * Return: 0 or -errno.
 */
int fe_vu_set_owner(struct fe_vu *vu);

/**
 * fe_vu_reset_device() - RESET_DEVICE
 * @vu:		the connection
 *
 * Return: 0 or -errno.
 */
int fe_vu_reset_device(struct fe_vu *vu);

/**
 * fe_vu_get_queue_num() - GET_QUEUE_NUM (with protocol feature MQ)
 * @vu:		the connection
 * @num:	out: the queues the back-end offers
 *
 * Return: 0 or -errno.
 */
int fe_vu_get_queue_num(struct fe_vu *vu, uint64_t *num);

/**
 * fe_vu_negotiate() - SET_OWNER and feature negotiation in QEMU's order
 * @vu:		the connection
 * @want:	device features the caller understands; VERSION_1 and
 *		F_PROTOCOL_FEATURES are added when offered
 * @want_proto:	protocol features the caller understands
 * @acked:	features set with SET_FEATURES (may be NULL)
 *
 * REPLY_ACK, when acked, turns on vu->reply_ack.
 * Return: 0 or -errno.
 */
int fe_vu_negotiate(struct fe_vu *vu, uint64_t want, uint64_t want_proto, uint64_t *acked);

/**
 * fe_vu_negotiate_protocol() - GET_FEATURES, GET/SET_PROTOCOL_FEATURES only
 * @vu:		the connection
 * @want:	protocol features the caller understands; the offered ones are set
 * @need:	those of @want the caller cannot go on without
 *
 * For a back-end another front-end owns and set up (a control socket), so
 * no SET_OWNER and no SET_FEATURES. A back-end without F_PROTOCOL_FEATURES
 * or any of @need gives -EOPNOTSUPP.
 * Return: 0, -EOPNOTSUPP, or another -errno.
 */
int fe_vu_negotiate_protocol(struct fe_vu *vu, uint64_t want, uint64_t need);

/**
 * fe_vu_set_mem_table() - SET_MEM_TABLE with the one region of @mem
 * @vu:		the connection
 * @mem:	guest memory; its fd is passed, not consumed
 *
 * Return: 0 or -errno.
 */
int fe_vu_set_mem_table(struct fe_vu *vu, const struct fe_mem *mem);

/* Rings. An fd of -1 sends the NOFD flag instead of an fd. */

/**
 * fe_vu_set_vring_num() - SET_VRING_NUM
 * @vu:		the connection
 * @index:	the ring
 * @num:	its size
 *
 * Return: 0 or -errno.
 */
int fe_vu_set_vring_num(struct fe_vu *vu, unsigned int index, unsigned int num);

/**
 * fe_vu_set_vring_addr() - SET_VRING_ADDR, without used-ring logging
 * @vu:		the connection
 * @index:	the ring
 * @desc_uaddr:	descriptor table, as a front-end virtual address
 * @avail_uaddr: avail ring, likewise
 * @used_uaddr:	used ring, likewise
 *
 * Return: 0 or -errno.
 */
int fe_vu_set_vring_addr(struct fe_vu *vu, unsigned int index, uint64_t desc_uaddr,
			 uint64_t avail_uaddr, uint64_t used_uaddr);

/**
 * fe_vu_set_vring_base() - SET_VRING_BASE
 * @vu:		the connection
 * @index:	the ring
 * @base:	the next avail index the back-end processes
 *
 * Return: 0 or -errno.
 */
int fe_vu_set_vring_base(struct fe_vu *vu, unsigned int index, unsigned int base);

/**
 * fe_vu_get_vring_base() - GET_VRING_BASE: stop a ring, learn where it stopped
 * @vu:		the connection
 * @index:	the ring
 * @base:	out: the next avail index the back-end would have processed
 *
 * Return: 0, -EPROTO for a reply of another size or ring, or another
 * -errno.
 */
int fe_vu_get_vring_base(struct fe_vu *vu, unsigned int index, unsigned int *base);

/**
 * fe_vu_set_vring_kick() - SET_VRING_KICK
 * @vu:		the connection
 * @index:	the ring
 * @fd:		the eventfd (not consumed), or -1 for NOFD
 *
 * Return: 0 or -errno.
 */
int fe_vu_set_vring_kick(struct fe_vu *vu, unsigned int index, int fd);

/**
 * fe_vu_set_vring_call() - SET_VRING_CALL
 * @vu:		the connection
 * @index:	the ring
 * @fd:		the eventfd (not consumed), or -1 for NOFD
 *
 * Return: 0 or -errno.
 */
int fe_vu_set_vring_call(struct fe_vu *vu, unsigned int index, int fd);

/**
 * fe_vu_set_vring_err() - SET_VRING_ERR
 * @vu:		the connection
 * @index:	the ring
 * @fd:		the eventfd (not consumed), or -1 for NOFD
 *
 * Return: 0 or -errno.
 */
int fe_vu_set_vring_err(struct fe_vu *vu, unsigned int index, int fd);

/**
 * fe_vu_set_vring_enable() - SET_VRING_ENABLE
 * @vu:		the connection
 * @index:	the ring
 * @enable:	the enabled bit
 *
 * Return: 0 or -errno.
 */
int fe_vu_set_vring_enable(struct fe_vu *vu, unsigned int index, bool enable);

/* Device config space, status, inflight region. */

/**
 * fe_vu_get_config() - GET_CONFIG
 * @vu:		the connection
 * @offset:	first byte of the config space
 * @buf:	out: @size bytes
 * @size:	at most VU_CONFIG_SPACE_MAX
 *
 * Return: 0, -EINVAL for a size too large, -EPROTO for a reply of another
 * size, or another -errno.
 */
int fe_vu_get_config(struct fe_vu *vu, uint32_t offset, void *buf, uint32_t size);

/**
 * fe_vu_get_status() - GET_STATUS
 * @vu:		the connection
 * @status:	out: the device status byte
 *
 * Return: 0 or -errno.
 */
int fe_vu_get_status(struct fe_vu *vu, uint8_t *status);

/**
 * fe_vu_set_status() - SET_STATUS
 * @vu:		the connection
 * @status:	the device status byte
 *
 * Return: 0 or -errno.
 */
int fe_vu_set_status(struct fe_vu *vu, uint8_t status);

/**
 * fe_vu_get_inflight_fd() - GET_INFLIGHT_FD
 * @vu:		the connection
 * @inflight:	in: num_queues, queue_size; out: the back-end's answer
 * @fd:		out: the shared-memory fd, owned by the caller
 *
 * Return: 0, -EPROTO for a reply without exactly one fd or of another
 * size, or another -errno.
 */
int fe_vu_get_inflight_fd(struct fe_vu *vu, struct vu_inflight *inflight, int *fd);

/**
 * fe_vu_set_inflight_fd() - SET_INFLIGHT_FD
 * @vu:		the connection
 * @inflight:	the region's size, offset and geometry
 * @fd:		the region; not consumed
 *
 * Return: 0 or -errno.
 */
int fe_vu_set_inflight_fd(struct fe_vu *vu, const struct vu_inflight *inflight, int fd);

#endif
