/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vhost-user wire format (QEMU docs/interop/vhost-user.rst): message ids,
 * payloads and the codec that moves them with their fds over a UNIX socket.
 * Shared by the back-end (vblkd) and the front-end library.
 */
#ifndef VB_VU_MSG_H
#define VB_VU_MSG_H

#include <stddef.h>
#include <stdint.h>

/* X(id, name): every message of the spec, so ids and names never drift. */
#define VU_MSG_LIST(X)                         \
	X(1, GET_FEATURES)                     \
	X(2, SET_FEATURES)                     \
	X(3, SET_OWNER)                        \
	X(4, RESET_OWNER)                      \
	X(5, SET_MEM_TABLE)                    \
	X(6, SET_LOG_BASE)                     \
	X(7, SET_LOG_FD)                       \
	X(8, SET_VRING_NUM)                    \
	X(9, SET_VRING_ADDR)                   \
	X(10, SET_VRING_BASE)                  \
	X(11, GET_VRING_BASE)                  \
	X(12, SET_VRING_KICK)                  \
	X(13, SET_VRING_CALL)                  \
	X(14, SET_VRING_ERR)                   \
	X(15, GET_PROTOCOL_FEATURES)           \
	X(16, SET_PROTOCOL_FEATURES)           \
	X(17, GET_QUEUE_NUM)                   \
	X(18, SET_VRING_ENABLE)                \
	X(19, SEND_RARP)                       \
	X(20, NET_SET_MTU)                     \
	X(21, SET_BACKEND_REQ_FD)              \
	X(22, IOTLB_MSG)                       \
	X(23, SET_VRING_ENDIAN)                \
	X(24, GET_CONFIG)                      \
	X(25, SET_CONFIG)                      \
	X(26, CREATE_CRYPTO_SESSION)           \
	X(27, CLOSE_CRYPTO_SESSION)            \
	X(28, POSTCOPY_ADVISE)                 \
	X(29, POSTCOPY_LISTEN)                 \
	X(30, POSTCOPY_END)                    \
	X(31, GET_INFLIGHT_FD)                 \
	X(32, SET_INFLIGHT_FD)                 \
	X(33, GPU_SET_SOCKET)                  \
	X(34, RESET_DEVICE)                    \
	X(35, VRING_KICK)                      \
	X(36, GET_MAX_MEM_SLOTS)               \
	X(37, ADD_MEM_REG)                     \
	X(38, REM_MEM_REG)                     \
	X(39, SET_STATUS)                      \
	X(40, GET_STATUS)                      \
	X(41, GET_SHARED_OBJECT)               \
	X(42, SET_DEVICE_STATE_FD)             \
	X(43, CHECK_DEVICE_STATE)              \
	X(1000, VBLKD_SUSPEND_MODE)            \
	X(1001, VBLKD_THROTTLE)

enum vu_request {
#define VU_ENUM(id, name) VHOST_USER_##name = id,
	VU_MSG_LIST(VU_ENUM)
#undef VU_ENUM
	VHOST_USER_MAX
};

/**
 * vu_request_name() - the spec's name of a request id, for log lines
 * @request:	a request id from the wire (any value)
 *
 * Return: a static string without the VHOST_USER_ prefix, or "UNKNOWN".
 */
const char *vu_request_name(uint32_t request);

#define VHOST_USER_VERSION 0x1u
#define VHOST_USER_VERSION_MASK 0x3u
#define VHOST_USER_REPLY_MASK (1u << 2)
#define VHOST_USER_NEED_REPLY_MASK (1u << 3)

#define VHOST_USER_F_PROTOCOL_FEATURES 30
#define VHOST_F_LOG_ALL 26

enum vu_protocol_feature {
	VHOST_USER_PROTOCOL_F_MQ = 0,
	VHOST_USER_PROTOCOL_F_LOG_SHMFD = 1,
	VHOST_USER_PROTOCOL_F_RARP = 2,
	VHOST_USER_PROTOCOL_F_REPLY_ACK = 3,
	VHOST_USER_PROTOCOL_F_MTU = 4,
	VHOST_USER_PROTOCOL_F_BACKEND_REQ = 5,
	VHOST_USER_PROTOCOL_F_CROSS_ENDIAN = 6,
	VHOST_USER_PROTOCOL_F_CRYPTO_SESSION = 7,
	VHOST_USER_PROTOCOL_F_PAGEFAULT = 8,
	VHOST_USER_PROTOCOL_F_CONFIG = 9,
	VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD = 10,
	VHOST_USER_PROTOCOL_F_HOST_NOTIFIER = 11,
	VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD = 12,
	VHOST_USER_PROTOCOL_F_RESET_DEVICE = 13,
	VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS = 14,
	VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS = 15,
	VHOST_USER_PROTOCOL_F_STATUS = 16,
	VHOST_USER_PROTOCOL_F_XEN_MMAP = 17,
	VHOST_USER_PROTOCOL_F_SHARED_OBJECT = 18,
	VHOST_USER_PROTOCOL_F_DEVICE_STATE = 19,
	VHOST_USER_PROTOCOL_F_GET_VRING_BASE_INFLIGHT = 20,
};

/* Requests the back-end sends on the channel SET_BACKEND_REQ_FD gave it. */
enum vu_backend_request {
	VHOST_USER_BACKEND_IOTLB_MSG = 1,
	VHOST_USER_BACKEND_CONFIG_CHANGE_MSG = 2,
	VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG = 3,
};

/*
 * vblkd's own messages, served on its control socket only (ids far above
 * the spec's). VBLKD_SUSPEND_MODE (u64: enum vu_suspend_mode) sets how
 * this connection's GET_VRING_BASE stops a ring. VBLKD_THROTTLE
 * (struct vu_throttle) reads the device's throttle, or with
 * VU_THROTTLE_SET changes it; the reply is the throttle afterwards.
 */
enum vu_suspend_mode {
	VU_SUSPEND_DEFAULT = 0, /* vblkd --suspend-mode, or capture with protocol feature 20 */
	VU_SUSPEND_DRAIN = 1,
	VU_SUSPEND_CAPTURE = 2,
};

struct vu_throttle {
	uint64_t flags;
	uint64_t iops;
	uint64_t bps;
	uint64_t burst_ms;
	uint64_t throttled; /* reply: requests that waited */
	uint64_t throttled_us; /* reply: their total wait */
};
#define VU_THROTTLE_SET 0x1ull

/* Fixed limits of this implementation. */
#define VU_MAX_MEM_REGIONS 8 /* in one SET_MEM_TABLE message */
#define VU_MAX_MEM_SLOTS 32 /* with CONFIGURE_MEM_SLOTS */
#define VU_MAX_FDS 8
#define VU_CONFIG_SPACE_MAX 256
#define VU_VRING_IDX_MASK 0xffu
#define VU_VRING_NOFD_MASK (1u << 8)

struct vu_vring_state {
	uint32_t index;
	uint32_t num;
};

struct vu_vring_addr {
	uint32_t index;
	uint32_t flags; /* bit 0: log used ring writes at log_guest_addr */
	uint64_t desc_user_addr;
	uint64_t used_user_addr;
	uint64_t avail_user_addr;
	uint64_t log_guest_addr;
};
#define VU_VRING_F_LOG 0x1u

struct vu_mem_region {
	uint64_t guest_phys_addr;
	uint64_t memory_size;
	uint64_t userspace_addr;
	uint64_t mmap_offset;
};

struct vu_mem_table {
	uint32_t nregions;
	uint32_t padding;
	struct vu_mem_region regions[VU_MAX_MEM_REGIONS];
};

struct vu_mem_reg_msg {
	uint64_t padding;
	struct vu_mem_region region;
};

struct vu_log {
	uint64_t mmap_size;
	uint64_t mmap_offset;
};

struct vu_config {
	uint32_t offset;
	uint32_t size;
	uint32_t flags;
	uint8_t region[VU_CONFIG_SPACE_MAX];
};
#define VU_CONFIG_HDR_SIZE 12u

struct vu_inflight {
	uint64_t mmap_size;
	uint64_t mmap_offset;
	uint16_t num_queues;
	uint16_t queue_size;
};

struct vu_device_state {
	uint32_t transfer_direction; /* 0: save (back-end writes), 1: load */
	uint32_t migration_phase; /* 0: stopped */
};

struct vu_hdr {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
};

#define VU_PAYLOAD_MAX 4096u

struct vu_msg {
	struct vu_hdr hdr;
	union {
		uint64_t u64;
		struct vu_vring_state state;
		struct vu_vring_addr addr;
		struct vu_mem_table mem;
		struct vu_mem_reg_msg mem_reg;
		struct vu_log log;
		struct vu_config config;
		struct vu_inflight inflight;
		struct vu_device_state dev_state;
		struct vu_throttle throttle;
		uint8_t raw[VU_PAYLOAD_MAX];
	} payload;
	int fds[VU_MAX_FDS];
	unsigned int nfds;
};

/**
 * vu_msg_recv() - read one message and the fds that came with it
 * @sock:	connected UNIX stream socket
 * @msg:	filled on success; fds not used by the caller must be closed
 *		with vu_msg_close_fds()
 *
 * The message is not validated: see vu_msg_check(). On failure the fds
 * that came are closed and msg->nfds is 0.
 * Return: 0, -ECONNRESET on EOF (also in the middle of a message),
 * -EMSGSIZE for a payload larger than VU_PAYLOAD_MAX or more than
 * VU_MAX_FDS fds (the stream cannot be resynchronised), or another -errno.
 */
int vu_msg_recv(int sock, struct vu_msg *msg);

/**
 * vu_msg_send() - write one message with msg->nfds fds (not consumed)
 * @sock:	connected UNIX stream socket
 * @msg:	header, msg->hdr.size bytes of payload, and the fds to pass
 *
 * Never raises SIGPIPE.
 * Return: 0, -EINVAL for a payload larger than VU_PAYLOAD_MAX or more than
 * VU_MAX_FDS fds, -EIO for a short write (a dead peer), or another -errno.
 */
int vu_msg_send(int sock, const struct vu_msg *msg);

/**
 * vu_msg_close_fds() - close the fds a message still holds
 * @msg:	the message; entries already taken must be set to -1
 *
 * Leaves msg->nfds at 0, so calling it twice is harmless.
 */
void vu_msg_close_fds(struct vu_msg *msg);

/**
 * vu_request_has_reply() - whether a request always gets a reply
 * @request:	the request id
 *
 * A reply that the spec defines for the request, regardless of
 * NEED_REPLY (REPLY_ACK adds one to any request).
 * Return: 1 when the front-end waits for a reply, else 0.
 */
int vu_request_has_reply(uint32_t request);

/**
 * vu_msg_check() - validate a message header against what its id requires
 * @msg:	a received message
 *
 * Checks the version bits and the payload size; fd counts are the
 * dispatcher's and handlers' to check. A known id this implementation does not handle
 * passes: the dispatcher refuses it.
 * Pure function over bytes: usable from fuzzers and unit tests.
 * Return: 0, -EPROTO for another protocol version, -EOPNOTSUPP for an id
 * outside the spec, or -EINVAL for a payload size the id cannot carry.
 */
int vu_msg_check(const struct vu_msg *msg);

#endif
