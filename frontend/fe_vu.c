// SPDX-License-Identifier: GPL-2.0-or-later
/* vhost-user client: connection, message round trips, typed requests. */
#include "frontend/fe_vu.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_config.h>

#include "frontend/fe_mem.h"

static int64_t fe_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int fe_vu_try_connect(const struct sockaddr_un *sun)
{
	int fd, ret;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)sun, sizeof(*sun))) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

int fe_vu_connect(struct fe_vu *vu, const char *path, int wait_ms)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int64_t deadline = fe_now_ms() + wait_ms;
	int fd;

	memset(vu, 0, sizeof(*vu));
	vu->sock = -1;
	vu->timeout_ms = FE_VU_TIMEOUT_MS;
	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);

	for (;;) {
		fd = fe_vu_try_connect(&sun);
		if (fd >= 0)
			break;
		if (fd != -ENOENT && fd != -ECONNREFUSED)
			return fd;
		if (fe_now_ms() >= deadline)
			return fd;
		usleep(10 * 1000);
	}
	vu->sock = fd;
	return 0;
}

void fe_vu_disconnect(struct fe_vu *vu)
{
	if (vu->sock >= 0)
		close(vu->sock);
	vu->sock = -1;
}

int fe_vu_send_msg(struct fe_vu *vu, const struct vu_msg *msg)
{
	if (vu->sock < 0)
		return -ENOTCONN;
	return vu_msg_send(vu->sock, msg);
}

int fe_wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int n;

	do {
		n = poll(&pfd, 1, timeout_ms);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n ? 0 : -ETIMEDOUT;
}

int fe_vu_recv_msg(struct fe_vu *vu, struct vu_msg *msg)
{
	int ret;

	if (vu->sock < 0)
		return -ENOTCONN;
	ret = fe_wait_fd(vu->sock, POLLIN, vu->timeout_ms);
	return ret ? ret : vu_msg_recv(vu->sock, msg);
}

int fe_vu_recv_reply(struct fe_vu *vu, uint32_t request, struct vu_msg *reply)
{
	int ret;

	ret = fe_vu_recv_msg(vu, reply);
	if (ret)
		return ret;
	if (!(reply->hdr.flags & VHOST_USER_REPLY_MASK) || reply->hdr.request != request) {
		vu_msg_close_fds(reply);
		return -EPROTO;
	}
	return 0;
}

static int fe_vu_build(struct vu_msg *msg, uint32_t request, uint32_t flags,
		       const void *payload, uint32_t size, const int *fds, unsigned int nfds)
{
	if (size > VU_PAYLOAD_MAX || nfds > VU_MAX_FDS)
		return -EINVAL;
	memset(&msg->hdr, 0, sizeof(msg->hdr));
	msg->hdr.request = request;
	msg->hdr.flags = VHOST_USER_VERSION | flags;
	msg->hdr.size = size;
	if (size)
		memcpy(msg->payload.raw, payload, size);
	for (unsigned int i = 0; i < nfds; i++)
		msg->fds[i] = fds[i];
	msg->nfds = nfds;
	return 0;
}

int fe_vu_request(struct fe_vu *vu, uint32_t request, const void *payload, uint32_t size,
		  const int *fds, unsigned int nfds)
{
	uint32_t flags = vu->reply_ack ? VHOST_USER_NEED_REPLY_MASK : 0;
	struct vu_msg msg;
	int ret;

	ret = fe_vu_build(&msg, request, flags, payload, size, fds, nfds);
	if (ret)
		return ret;
	ret = fe_vu_send_msg(vu, &msg);
	if (ret || !vu->reply_ack)
		return ret;

	ret = fe_vu_recv_reply(vu, request, &msg);
	if (ret)
		return ret;
	vu_msg_close_fds(&msg);
	if (msg.hdr.size != sizeof(uint64_t))
		return -EPROTO;
	return msg.payload.u64 ? -EREMOTEIO : 0;
}

int fe_vu_call(struct fe_vu *vu, uint32_t request, const void *payload, uint32_t size,
	       const int *fds, unsigned int nfds, struct vu_msg *reply)
{
	int ret;

	ret = fe_vu_build(reply, request, 0, payload, size, fds, nfds);
	if (ret)
		return ret;
	ret = fe_vu_send_msg(vu, reply);
	if (ret)
		return ret;
	return fe_vu_recv_reply(vu, request, reply);
}

int fe_vu_get_u64(struct fe_vu *vu, uint32_t request, uint64_t *val)
{
	struct vu_msg reply;
	int ret;

	ret = fe_vu_call(vu, request, NULL, 0, NULL, 0, &reply);
	if (ret)
		return ret;
	vu_msg_close_fds(&reply);
	if (reply.hdr.size != sizeof(uint64_t))
		return -EPROTO;
	*val = reply.payload.u64;
	return 0;
}

int fe_vu_set_u64(struct fe_vu *vu, uint32_t request, uint64_t val)
{
	return fe_vu_request(vu, request, &val, sizeof(val), NULL, 0);
}

int fe_vu_get_features(struct fe_vu *vu, uint64_t *features)
{
	int ret;

	ret = fe_vu_get_u64(vu, VHOST_USER_GET_FEATURES, features);
	if (!ret)
		vu->features = *features;
	return ret;
}

int fe_vu_set_features(struct fe_vu *vu, uint64_t features)
{
	return fe_vu_set_u64(vu, VHOST_USER_SET_FEATURES, features);
}

int fe_vu_get_protocol_features(struct fe_vu *vu, uint64_t *features)
{
	return fe_vu_get_u64(vu, VHOST_USER_GET_PROTOCOL_FEATURES, features);
}

int fe_vu_set_protocol_features(struct fe_vu *vu, uint64_t features)
{
	int ret;

	/* The ack mode starts with the next message, never this one. */
	ret = fe_vu_set_u64(vu, VHOST_USER_SET_PROTOCOL_FEATURES, features);
	if (ret)
		return ret;
	vu->protocol_features = features;
	vu->reply_ack = features & (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK);
	return 0;
}

int fe_vu_set_owner(struct fe_vu *vu)
{
	return fe_vu_request(vu, VHOST_USER_SET_OWNER, NULL, 0, NULL, 0);
}

int fe_vu_reset_device(struct fe_vu *vu)
{
	return fe_vu_request(vu, VHOST_USER_RESET_DEVICE, NULL, 0, NULL, 0);
}

int fe_vu_get_queue_num(struct fe_vu *vu, uint64_t *num)
{
	return fe_vu_get_u64(vu, VHOST_USER_GET_QUEUE_NUM, num);
}

int fe_vu_negotiate(struct fe_vu *vu, uint64_t want, uint64_t want_proto, uint64_t *acked)
{
	uint64_t offered, proto, ack;
	int ret;

	ret = fe_vu_set_owner(vu);
	if (ret)
		return ret;
	ret = fe_vu_get_features(vu, &offered);
	if (ret)
		return ret;

	want |= 1ull << VIRTIO_F_VERSION_1 | 1ull << VHOST_USER_F_PROTOCOL_FEATURES;
	ack = offered & want;
	if (ack & (1ull << VHOST_USER_F_PROTOCOL_FEATURES)) {
		ret = fe_vu_get_protocol_features(vu, &proto);
		if (ret)
			return ret;
		ret = fe_vu_set_protocol_features(vu, proto & want_proto);
		if (ret)
			return ret;
	}
	ret = fe_vu_set_features(vu, ack);
	if (ret)
		return ret;
	if (acked)
		*acked = ack;
	return 0;
}

int fe_vu_negotiate_protocol(struct fe_vu *vu, uint64_t want, uint64_t need)
{
	uint64_t features, proto;
	int ret;

	ret = fe_vu_get_features(vu, &features);
	if (ret)
		return ret;
	if (!(features & (1ull << VHOST_USER_F_PROTOCOL_FEATURES)))
		return -EOPNOTSUPP;
	ret = fe_vu_get_protocol_features(vu, &proto);
	if (ret)
		return ret;
	if ((proto & need) != need)
		return -EOPNOTSUPP;
	return fe_vu_set_protocol_features(vu, proto & want);
}

int fe_vu_set_mem_table(struct fe_vu *vu, const struct fe_mem *mem)
{
	struct vu_mem_table table = {
		.nregions = 1,
		.regions[0] = {
			.guest_phys_addr = mem->gpa,
			.memory_size = mem->size,
			.userspace_addr = fe_mem_uaddr(mem->va),
			.mmap_offset = 0,
		},
	};
	uint32_t size = 8 + sizeof(struct vu_mem_region);

	return fe_vu_request(vu, VHOST_USER_SET_MEM_TABLE, &table, size, &mem->fd, 1);
}

static int fe_vu_set_state(struct fe_vu *vu, uint32_t request, unsigned int index,
			   unsigned int num)
{
	struct vu_vring_state st = { .index = index, .num = num };

	return fe_vu_request(vu, request, &st, sizeof(st), NULL, 0);
}

int fe_vu_set_vring_num(struct fe_vu *vu, unsigned int index, unsigned int num)
{
	return fe_vu_set_state(vu, VHOST_USER_SET_VRING_NUM, index, num);
}

int fe_vu_set_vring_base(struct fe_vu *vu, unsigned int index, unsigned int base)
{
	return fe_vu_set_state(vu, VHOST_USER_SET_VRING_BASE, index, base);
}

int fe_vu_set_vring_enable(struct fe_vu *vu, unsigned int index, bool enable)
{
	return fe_vu_set_state(vu, VHOST_USER_SET_VRING_ENABLE, index, enable);
}

int fe_vu_set_vring_addr(struct fe_vu *vu, unsigned int index, uint64_t desc_uaddr,
			 uint64_t avail_uaddr, uint64_t used_uaddr)
{
	struct vu_vring_addr addr = {
		.index = index,
		.desc_user_addr = desc_uaddr,
		.avail_user_addr = avail_uaddr,
		.used_user_addr = used_uaddr,
	};

	return fe_vu_request(vu, VHOST_USER_SET_VRING_ADDR, &addr, sizeof(addr), NULL, 0);
}

int fe_vu_get_vring_base(struct fe_vu *vu, unsigned int index, unsigned int *base)
{
	struct vu_vring_state st = { .index = index };
	struct vu_msg reply;
	int ret;

	ret = fe_vu_call(vu, VHOST_USER_GET_VRING_BASE, &st, sizeof(st), NULL, 0, &reply);
	if (ret)
		return ret;
	vu_msg_close_fds(&reply);
	if (reply.hdr.size != sizeof(st) || reply.payload.state.index != index)
		return -EPROTO;
	*base = reply.payload.state.num;
	return 0;
}

static int fe_vu_set_vring_fd(struct fe_vu *vu, uint32_t request, unsigned int index, int fd)
{
	uint64_t val = index & VU_VRING_IDX_MASK;

	if (fd < 0) {
		val |= VU_VRING_NOFD_MASK;
		return fe_vu_request(vu, request, &val, sizeof(val), NULL, 0);
	}
	return fe_vu_request(vu, request, &val, sizeof(val), &fd, 1);
}

int fe_vu_set_vring_kick(struct fe_vu *vu, unsigned int index, int fd)
{
	return fe_vu_set_vring_fd(vu, VHOST_USER_SET_VRING_KICK, index, fd);
}

int fe_vu_set_vring_call(struct fe_vu *vu, unsigned int index, int fd)
{
	return fe_vu_set_vring_fd(vu, VHOST_USER_SET_VRING_CALL, index, fd);
}

int fe_vu_set_vring_err(struct fe_vu *vu, unsigned int index, int fd)
{
	return fe_vu_set_vring_fd(vu, VHOST_USER_SET_VRING_ERR, index, fd);
}

int fe_vu_get_config(struct fe_vu *vu, uint32_t offset, void *buf, uint32_t size)
{
	struct vu_config cfg = { .offset = offset, .size = size };
	struct vu_msg reply;
	int ret;

	if (size > VU_CONFIG_SPACE_MAX)
		return -EINVAL;
	ret = fe_vu_call(vu, VHOST_USER_GET_CONFIG, &cfg, VU_CONFIG_HDR_SIZE + size, NULL, 0,
			 &reply);
	if (ret)
		return ret;
	vu_msg_close_fds(&reply);
	if (reply.hdr.size != VU_CONFIG_HDR_SIZE + size || reply.payload.config.size != size)
		return -EPROTO;
	memcpy(buf, reply.payload.config.region, size);
	return 0;
}

int fe_vu_get_status(struct fe_vu *vu, uint8_t *status)
{
	uint64_t val;
	int ret;

	ret = fe_vu_get_u64(vu, VHOST_USER_GET_STATUS, &val);
	if (!ret)
		*status = (uint8_t)val;
	return ret;
}

int fe_vu_set_status(struct fe_vu *vu, uint8_t status)
{
	return fe_vu_set_u64(vu, VHOST_USER_SET_STATUS, status);
}

int fe_vu_get_inflight_fd(struct fe_vu *vu, struct vu_inflight *inflight, int *fd)
{
	struct vu_msg reply;
	int ret;

	ret = fe_vu_call(vu, VHOST_USER_GET_INFLIGHT_FD, inflight, sizeof(*inflight), NULL, 0,
			 &reply);
	if (ret)
		return ret;
	if (reply.hdr.size != sizeof(*inflight) || reply.nfds != 1) {
		vu_msg_close_fds(&reply);
		return -EPROTO;
	}
	*inflight = reply.payload.inflight;
	*fd = reply.fds[0];
	reply.nfds = 0;
	return 0;
}

int fe_vu_set_inflight_fd(struct fe_vu *vu, const struct vu_inflight *inflight, int fd)
{
	return fe_vu_request(vu, VHOST_USER_SET_INFLIGHT_FD, inflight, sizeof(*inflight), &fd, 1);
}
