// SPDX-License-Identifier: GPL-2.0-or-later
/* vhost-user message codec: framing, fd passing and per-id validation. */
#include "proto/vu_msg.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

static const char *const vu_names[VHOST_USER_MAX] = {
#define VU_NAME(id, name) [id] = #name,
	VU_MSG_LIST(VU_NAME)
#undef VU_NAME
};

const char *vu_request_name(uint32_t request)
{
	if (request >= VHOST_USER_MAX || !vu_names[request])
		return "UNKNOWN";
	return vu_names[request];
}

int vu_request_has_reply(uint32_t request)
{
	switch (request) {
	case VHOST_USER_GET_FEATURES:
	case VHOST_USER_GET_PROTOCOL_FEATURES:
	case VHOST_USER_GET_VRING_BASE:
	case VHOST_USER_GET_QUEUE_NUM:
	case VHOST_USER_GET_CONFIG:
	case VHOST_USER_GET_INFLIGHT_FD:
	case VHOST_USER_GET_MAX_MEM_SLOTS:
	case VHOST_USER_GET_STATUS:
	case VHOST_USER_SET_LOG_BASE:
	case VHOST_USER_SET_DEVICE_STATE_FD:
	case VHOST_USER_CHECK_DEVICE_STATE:
	case VHOST_USER_VBLKD_THROTTLE:
		return 1;
	default:
		return 0;
	}
}

void vu_msg_close_fds(struct vu_msg *msg)
{
	for (unsigned int i = 0; i < msg->nfds; i++) {
		if (msg->fds[i] >= 0)
			close(msg->fds[i]);
		msg->fds[i] = -1;
	}
	msg->nfds = 0;
}

static int read_full(int sock, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = recv(sock, (char *)buf + done, len - done, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		done += (size_t)n;
	}
	return 0;
}

int vu_msg_recv(int sock, struct vu_msg *msg)
{
	char control[CMSG_SPACE(VU_MAX_FDS * sizeof(int))];
	struct iovec iov = { &msg->hdr, sizeof(msg->hdr) };
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control,
		.msg_controllen = sizeof(control),
	};
	struct cmsghdr *cmsg;
	ssize_t n;
	int ret;

	msg->nfds = 0;
	do {
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ECONNRESET;

	for (cmsg = CMSG_FIRSTHDR(&mh); cmsg; cmsg = CMSG_NXTHDR(&mh, cmsg)) {
		size_t nfds;

		if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		nfds = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfds && msg->nfds < VU_MAX_FDS; i++)
			memcpy(&msg->fds[msg->nfds++], CMSG_DATA(cmsg) + i * sizeof(int),
			       sizeof(int));
	}
	if (mh.msg_flags & MSG_CTRUNC) {
		/* More fds than any message may carry: the sender is broken. */
		ret = -EMSGSIZE;
		goto err_close;
	}
	if ((size_t)n < sizeof(msg->hdr)) {
		ret = read_full(sock, (char *)&msg->hdr + n, sizeof(msg->hdr) - (size_t)n);
		if (ret)
			goto err_close;
	}
	if (msg->hdr.size > VU_PAYLOAD_MAX) {
		ret = -EMSGSIZE;
		goto err_close;
	}
	ret = read_full(sock, &msg->payload, msg->hdr.size);
	if (ret)
		goto err_close;
	return 0;

err_close:
	vu_msg_close_fds(msg);
	return ret;
}

int vu_msg_send(int sock, const struct vu_msg *msg)
{
	char control[CMSG_SPACE(VU_MAX_FDS * sizeof(int))] = { 0 };
	struct iovec iov[2] = {
		{ (void *)&msg->hdr, sizeof(msg->hdr) },
		{ (void *)&msg->payload, msg->hdr.size },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
	size_t total = sizeof(msg->hdr) + msg->hdr.size;
	ssize_t n;

	if (msg->hdr.size > VU_PAYLOAD_MAX || msg->nfds > VU_MAX_FDS)
		return -EINVAL;
	if (msg->nfds) {
		struct cmsghdr *cmsg;

		mh.msg_control = control;
		mh.msg_controllen = CMSG_SPACE(msg->nfds * sizeof(int));
		cmsg = CMSG_FIRSTHDR(&mh);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(msg->nfds * sizeof(int));
		memcpy(CMSG_DATA(cmsg), msg->fds, msg->nfds * sizeof(int));
	}
	do {
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n != total)
		return -EIO; /* messages are small; a short write means a dead peer */
	return 0;
}

/* Payload size a request must carry exactly; -1 when variable, checked below. */
static int vu_expected_size(uint32_t request)
{
	switch (request) {
	case VHOST_USER_GET_FEATURES:
	case VHOST_USER_SET_OWNER:
	case VHOST_USER_RESET_OWNER:
	case VHOST_USER_GET_PROTOCOL_FEATURES:
	case VHOST_USER_GET_QUEUE_NUM:
	case VHOST_USER_RESET_DEVICE:
	case VHOST_USER_GET_MAX_MEM_SLOTS:
	case VHOST_USER_GET_STATUS:
	case VHOST_USER_CHECK_DEVICE_STATE:
	case VHOST_USER_SET_BACKEND_REQ_FD:
		return 0;
	case VHOST_USER_SET_FEATURES:
	case VHOST_USER_SET_PROTOCOL_FEATURES:
	case VHOST_USER_SET_VRING_KICK:
	case VHOST_USER_SET_VRING_CALL:
	case VHOST_USER_SET_VRING_ERR:
	case VHOST_USER_SET_STATUS:
	case VHOST_USER_VBLKD_SUSPEND_MODE:
		return sizeof(uint64_t);
	case VHOST_USER_VBLKD_THROTTLE:
		return sizeof(struct vu_throttle);
	case VHOST_USER_SET_VRING_NUM:
	case VHOST_USER_SET_VRING_BASE:
	case VHOST_USER_GET_VRING_BASE:
	case VHOST_USER_SET_VRING_ENABLE:
		return sizeof(struct vu_vring_state);
	case VHOST_USER_SET_VRING_ADDR:
		return sizeof(struct vu_vring_addr);
	case VHOST_USER_SET_LOG_BASE:
		return sizeof(struct vu_log);
	case VHOST_USER_ADD_MEM_REG:
	case VHOST_USER_REM_MEM_REG:
		return sizeof(struct vu_mem_reg_msg);
	case VHOST_USER_GET_INFLIGHT_FD:
	case VHOST_USER_SET_INFLIGHT_FD:
		return sizeof(struct vu_inflight);
	case VHOST_USER_SET_DEVICE_STATE_FD:
		return sizeof(struct vu_device_state);
	default:
		return -1;
	}
}

int vu_msg_check(const struct vu_msg *msg)
{
	uint32_t req = msg->hdr.request, size = msg->hdr.size;
	int expect;

	if ((msg->hdr.flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION)
		return -EPROTO;
	/* Ids the spec (or vblkd) never assigned, the gap below vblkd's own included. */
	if (req == 0 || req >= VHOST_USER_MAX || !vu_names[req])
		return -EOPNOTSUPP;

	expect = vu_expected_size(req);
	if (expect >= 0)
		return size == (uint32_t)expect ? 0 : -EINVAL;

	switch (req) {
	case VHOST_USER_SET_MEM_TABLE:
		if (size < 8 || msg->payload.mem.nregions > VU_MAX_MEM_REGIONS ||
		    size != 8 + msg->payload.mem.nregions * sizeof(struct vu_mem_region))
			return -EINVAL;
		return 0;
	case VHOST_USER_GET_CONFIG:
	case VHOST_USER_SET_CONFIG:
		if (size < VU_CONFIG_HDR_SIZE || msg->payload.config.size > VU_CONFIG_SPACE_MAX ||
		    size != VU_CONFIG_HDR_SIZE + msg->payload.config.size)
			return -EINVAL;
		return 0;
	default:
		return 0; /* unsupported ids are refused by the dispatcher */
	}
}
