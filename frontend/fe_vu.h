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
 */
int fe_vu_connect(struct fe_vu *vu, const char *path, int wait_ms);

/* Wait up to @timeout_ms for @events on @fd, retrying EINTR; 0, -ETIMEDOUT or -errno. */
int fe_wait_fd(int fd, short events, int timeout_ms);
void fe_vu_disconnect(struct fe_vu *vu);

/* Raw access: send @msg as is (header, payload of hdr.size, nfds fds). */
int fe_vu_send_msg(struct fe_vu *vu, const struct vu_msg *msg);
/*
 * Wait up to vu->timeout_ms for any message. Fds that came with it are left
 * in msg->fds for the caller (vu_msg_close_fds()).
 */
int fe_vu_recv_msg(struct fe_vu *vu, struct vu_msg *msg);
/* Receive the reply to @request: checks the reply flag and the id (-EPROTO). */
int fe_vu_recv_reply(struct fe_vu *vu, uint32_t request, struct vu_msg *reply);

/**
 * fe_vu_request() - send a message that has no reply of its own
 *
 * With vu->reply_ack, NEED_REPLY is set and the u64 ack is read back.
 * @fds may be NULL when @nfds is 0.
 */
int fe_vu_request(struct fe_vu *vu, uint32_t request, const void *payload, uint32_t size,
		  const int *fds, unsigned int nfds);
/* Send a message that has a reply and read it into @reply (fds: caller's). */
int fe_vu_call(struct fe_vu *vu, uint32_t request, const void *payload, uint32_t size,
	       const int *fds, unsigned int nfds, struct vu_msg *reply);

/* Features and ownership. */
int fe_vu_get_u64(struct fe_vu *vu, uint32_t request, uint64_t *val);
int fe_vu_set_u64(struct fe_vu *vu, uint32_t request, uint64_t val);
int fe_vu_get_features(struct fe_vu *vu, uint64_t *features);
int fe_vu_set_features(struct fe_vu *vu, uint64_t features);
int fe_vu_get_protocol_features(struct fe_vu *vu, uint64_t *features);
int fe_vu_set_protocol_features(struct fe_vu *vu, uint64_t features);
int fe_vu_set_owner(struct fe_vu *vu);
int fe_vu_reset_device(struct fe_vu *vu);
int fe_vu_get_queue_num(struct fe_vu *vu, uint64_t *num);

/**
 * fe_vu_negotiate() - SET_OWNER and feature negotiation in QEMU's order
 * @want:	device features the caller understands; VERSION_1 and
 *		F_PROTOCOL_FEATURES are added when offered
 * @want_proto:	protocol features the caller understands
 * @acked:	features set with SET_FEATURES (may be NULL)
 *
 * REPLY_ACK, when acked, turns on vu->reply_ack.
 */
int fe_vu_negotiate(struct fe_vu *vu, uint64_t want, uint64_t want_proto, uint64_t *acked);

/**
 * fe_vu_negotiate_protocol() - GET_FEATURES, GET/SET_PROTOCOL_FEATURES only
 * @want:	protocol features the caller understands; the offered ones are set
 * @need:	those of @want the caller cannot go on without
 *
 * For a back-end another front-end owns and set up (a control socket), so
 * no SET_OWNER and no SET_FEATURES. A back-end without F_PROTOCOL_FEATURES
 * or any of @need gives -EOPNOTSUPP.
 */
int fe_vu_negotiate_protocol(struct fe_vu *vu, uint64_t want, uint64_t need);

/* SET_MEM_TABLE with the one region of @mem. */
int fe_vu_set_mem_table(struct fe_vu *vu, const struct fe_mem *mem);

/* Rings. An fd of -1 sends the NOFD flag instead of an fd. */
int fe_vu_set_vring_num(struct fe_vu *vu, unsigned int index, unsigned int num);
int fe_vu_set_vring_addr(struct fe_vu *vu, unsigned int index, uint64_t desc_uaddr,
			 uint64_t avail_uaddr, uint64_t used_uaddr);
int fe_vu_set_vring_base(struct fe_vu *vu, unsigned int index, unsigned int base);
int fe_vu_get_vring_base(struct fe_vu *vu, unsigned int index, unsigned int *base);
int fe_vu_set_vring_kick(struct fe_vu *vu, unsigned int index, int fd);
int fe_vu_set_vring_call(struct fe_vu *vu, unsigned int index, int fd);
int fe_vu_set_vring_err(struct fe_vu *vu, unsigned int index, int fd);
int fe_vu_set_vring_enable(struct fe_vu *vu, unsigned int index, bool enable);

/* Device config space, status, inflight region. */
int fe_vu_get_config(struct fe_vu *vu, uint32_t offset, void *buf, uint32_t size);
int fe_vu_get_status(struct fe_vu *vu, uint8_t *status);
int fe_vu_set_status(struct fe_vu *vu, uint8_t status);

/**
 * fe_vu_get_inflight_fd() - GET_INFLIGHT_FD
 * @inflight:	in: num_queues, queue_size; out: the back-end's answer
 * @fd:		out: the shared-memory fd, owned by the caller
 */
int fe_vu_get_inflight_fd(struct fe_vu *vu, struct vu_inflight *inflight, int *fd);
/* SET_INFLIGHT_FD; @fd is not consumed. */
int fe_vu_set_inflight_fd(struct fe_vu *vu, const struct vu_inflight *inflight, int fd);

#endif
