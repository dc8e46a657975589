// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vdpa bus membership over generic netlink, with libmnl. Every request asks
 * for an ACK, so each exchange ends with an NLMSG_ERROR whose code is the
 * answer; receives are bounded by SO_RCVTIMEO so a stuck kernel call (a
 * driver probe waiting on a daemon that does not answer) cannot hang us.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/vdpa.h>

#include "vduse/vdpa_nl.h"

/*
 * DEV_NEW and DEV_DEL run the driver's probe or remove before the kernel
 * answers; for VDUSE each step may wait for the daemon up to msg_timeout
 * (30 s), and virtio_blk's probe reads the partition table, slowly under
 * emulation. Longer than one msg_timeout, short enough to not hang a test.
 */
#define VDPA_NL_RCV_TIMEOUT_S 45

/* MNL_SOCKET_BUFFER_SIZE is a sysconf() call: a fixed size avoids VLAs. */
#define VDPA_NL_BUF_SIZE 8192

struct vdpa_nl {
	struct mnl_socket *sock;
	unsigned int portid;
	unsigned int seq;
	uint16_t family;
};

static int vdpa_nl_open(struct vdpa_nl *nl)
{
	struct timeval tv = { .tv_sec = VDPA_NL_RCV_TIMEOUT_S };
	int err;

	nl->sock = mnl_socket_open2(NETLINK_GENERIC, SOCK_CLOEXEC);
	if (!nl->sock)
		return -errno;
	if (setsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		err = -errno;
		goto err_close;
	}
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		goto err_close;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (unsigned int)time(NULL);
	return 0;

err_close:
	mnl_socket_close(nl->sock);
	nl->sock = NULL;
	return err;
}

static void vdpa_nl_close(struct vdpa_nl *nl)
{
	mnl_socket_close(nl->sock);
	nl->sock = NULL;
}

static struct nlmsghdr *vdpa_nl_msg(struct vdpa_nl *nl, char *buf, uint16_t type, uint8_t cmd,
				    uint8_t version)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *genl;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++nl->seq;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = cmd;
	genl->version = version;
	return nlh;
}

/*
 * Send @nlh and read until its ACK. Replies before the ACK go to @cb.
 * Return: 0 or -errno (the kernel's error code, -ETIMEDOUT on timeout).
 */
static int vdpa_nl_talk(struct vdpa_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char buf[VDPA_NL_BUF_SIZE];
	unsigned int seq = nlh->nlmsg_seq;
	ssize_t len;
	int ret;

	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		len = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));
		if (len < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return -ETIMEDOUT;
			return -errno;
		}
		/* mnl_cb_run() turns an NLMSG_ERROR into -1 with errno set. */
		errno = 0;
		ret = mnl_cb_run(buf, len, seq, nl->portid, cb, data);
		if (ret < 0)
			return errno ? -errno : -EPROTO;
		if (ret == MNL_CB_STOP)
			return 0;
	}
}

static int vdpa_nl_family_attr(const struct nlattr *attr, void *data)
{
	uint16_t *family = data;

	if (mnl_attr_get_type(attr) != CTRL_ATTR_FAMILY_ID)
		return MNL_CB_OK;
	if (mnl_attr_validate(attr, MNL_TYPE_U16) < 0)
		return MNL_CB_ERROR;
	*family = mnl_attr_get_u16(attr);
	return MNL_CB_OK;
}

static int vdpa_nl_family_cb(const struct nlmsghdr *nlh, void *data)
{
	return mnl_attr_parse(nlh, sizeof(struct genlmsghdr), vdpa_nl_family_attr, data);
}

/* Return: 0, -ENOENT when the kernel has no vdpa family, or -errno. */
static int vdpa_nl_resolve(struct vdpa_nl *nl)
{
	char buf[VDPA_NL_BUF_SIZE];
	struct nlmsghdr *nlh;
	uint16_t family = 0;
	int err;

	nlh = vdpa_nl_msg(nl, buf, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, VDPA_GENL_NAME);
	err = vdpa_nl_talk(nl, nlh, vdpa_nl_family_cb, &family);
	if (err)
		return err;
	if (!family)
		return -EPROTO;
	nl->family = family;
	return 0;
}

/* Open a socket and resolve the family; on failure nothing is left open. */
static int vdpa_nl_start(struct vdpa_nl *nl)
{
	int err;

	err = vdpa_nl_open(nl);
	if (err)
		return err;
	err = vdpa_nl_resolve(nl);
	if (err)
		vdpa_nl_close(nl);
	return err;
}

/* "BUS/DEV" names a management device on a bus; "DEV" one without (vduse). */
static int vdpa_nl_put_mgmtdev(struct nlmsghdr *nlh, size_t buflen, const char *mgmtdev)
{
	const char *dev = mgmtdev;
	const char *slash = strchr(mgmtdev, '/');
	char bus[64];
	size_t n;

	if (slash) {
		n = (size_t)(slash - mgmtdev);
		if (!n || n >= sizeof(bus))
			return -EINVAL;
		memcpy(bus, mgmtdev, n);
		bus[n] = '\0';
		if (!mnl_attr_put_strz_check(nlh, buflen, VDPA_ATTR_MGMTDEV_BUS_NAME, bus))
			return -ENAMETOOLONG;
		dev = slash + 1;
	}
	if (!*dev)
		return -EINVAL;
	if (!mnl_attr_put_strz_check(nlh, buflen, VDPA_ATTR_MGMTDEV_DEV_NAME, dev))
		return -ENAMETOOLONG;
	return 0;
}

/* Only DEV_NEW names the management device: @mgmtdev is NULL for the others. */
static int vdpa_nl_dev_cmd(uint8_t cmd, const char *mgmtdev, const char *name)
{
	char buf[VDPA_NL_BUF_SIZE];
	struct nlmsghdr *nlh;
	struct vdpa_nl nl = { 0 };
	int err;

	err = vdpa_nl_start(&nl);
	if (err)
		return err;
	nlh = vdpa_nl_msg(&nl, buf, nl.family, cmd, VDPA_GENL_VERSION);
	if (mgmtdev) {
		err = vdpa_nl_put_mgmtdev(nlh, sizeof(buf), mgmtdev);
		if (err)
			goto out_close;
	}
	if (!mnl_attr_put_strz_check(nlh, sizeof(buf), VDPA_ATTR_DEV_NAME, name)) {
		err = -ENAMETOOLONG;
		goto out_close;
	}
	err = vdpa_nl_talk(&nl, nlh, NULL, NULL);

out_close:
	vdpa_nl_close(&nl);
	return err;
}

int vdpa_nl_dev_add(const char *mgmtdev, const char *name)
{
	if (!mgmtdev || !*mgmtdev || !name || !*name)
		return -EINVAL;
	return vdpa_nl_dev_cmd(VDPA_CMD_DEV_NEW, mgmtdev, name);
}

int vdpa_nl_dev_del(const char *name)
{
	if (!name || !*name)
		return -EINVAL;
	return vdpa_nl_dev_cmd(VDPA_CMD_DEV_DEL, NULL, name);
}
