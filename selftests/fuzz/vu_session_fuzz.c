// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: a whole vhost-user front-end session from bytes. The
 * input is a run of messages, each sent on a socketpair with the fds it
 * asks for; the server (vu_server.c's dispatcher and every handler, the
 * device and its ring workers) serves the other end until the harness's
 * end is shut, then drops the connection as it drops a front-end that goes
 * away, which resets the device for the next input.
 *
 * One message in the input:
 *   u8  ctl	  bits 0-3: fds to attach (9 and more: one too many);
 *		  bit 7: a memory image follows
 *   [u16 len, len bytes]  the image, copied to the start of every memfd
 *		  this message carries (rings and requests for the workers)
 *   struct vu_hdr	  request, flags, size, as sent
 *   payload		  size bytes, or what is left of the input
 *
 * The fds are the harness's own, of the kind the request takes: memfds of
 * MEMFD_SIZE for memory regions, the log and the in-flight region; a pipe
 * end (the other one closed) for a state transfer; eventfds for the rest,
 * a kick fd holding one kick. Every input must leave no fd behind.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "proto/vu_msg.h"
#include "vhost-user-compat/vu_server.h"

#define MEMFD_SIZE (64u << 10)
#define MAX_MSGS 32 /* the replies must fit in the socket's buffer: nobody reads them meanwhile */
#define FDS_MAX (VU_MAX_FDS + 1)

static struct blk_dev *blk;
static struct vu_server *srv;

static int lowest_fd(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		abort();
	close(fd);
	return fd;
}

static void setup(void)
{
	/* Quiet, unless a session is to be followed: VU_SESSION_FUZZ_LOG=1. */
	vb_log_level = getenv("VU_SESSION_FUZZ_LOG") ? VB_LOG_DEBUG : -1;
	signal(SIGPIPE, SIG_IGN); /* a state save into a pipe nobody reads */
	blk = fuzz_blk_dev(2, 64);
	if (vu_server_new(blk_dev_vdev(blk), NULL, NULL, NULL, NULL, &srv))
		abort();
}

static int make_memfd(const uint8_t *image, size_t len)
{
	int fd = memfd_create("vu-session-fuzz", MFD_CLOEXEC);

	if (fd < 0 || ftruncate(fd, MEMFD_SIZE))
		abort();
	if (len && pwrite(fd, image, len, 0) != (ssize_t)len)
		abort();
	return fd;
}

/* A pipe end of the direction the payload asks for; the other end is closed. */
static int make_pipe_end(const struct vu_msg *m)
{
	int p[2], load = m->hdr.size >= 4 && m->payload.dev_state.transfer_direction == 1;

	if (pipe2(p, O_CLOEXEC))
		abort();
	close(p[load ? 1 : 0]);
	return p[load ? 0 : 1];
}

static int make_fd(const struct vu_msg *m, const uint8_t *image, size_t image_len)
{
	switch (m->hdr.request) {
	case VHOST_USER_SET_MEM_TABLE:
	case VHOST_USER_ADD_MEM_REG:
	case VHOST_USER_REM_MEM_REG:
	case VHOST_USER_SET_LOG_BASE:
	case VHOST_USER_SET_INFLIGHT_FD:
		return make_memfd(image, image_len);
	case VHOST_USER_SET_DEVICE_STATE_FD:
		return make_pipe_end(m);
	default: {
		int fd = eventfd(m->hdr.request == VHOST_USER_SET_VRING_KICK, EFD_CLOEXEC);

		if (fd < 0)
			abort();
		return fd;
	}
	}
}

/* Send the message with @nfds fresh fds, then close the harness's copies. */
static void send_msg(int sock, const struct vu_msg *m, size_t payload_len, unsigned int nfds,
		     const uint8_t *image, size_t image_len)
{
	char control[CMSG_SPACE(FDS_MAX * sizeof(int))] = { 0 };
	struct iovec iov[2] = { { (void *)&m->hdr, sizeof(m->hdr) },
				{ (void *)&m->payload, payload_len } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
	int fds[FDS_MAX];

	for (unsigned int i = 0; i < nfds; i++)
		fds[i] = make_fd(m, image, image_len);
	if (nfds) {
		struct cmsghdr *cmsg;

		mh.msg_control = control;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cmsg = CMSG_FIRSTHDR(&mh);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cmsg), fds, nfds * sizeof(int));
	}
	if (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0)
		abort(); /* the server has not read anything yet: the buffer holds it all */
	for (unsigned int i = 0; i < nfds; i++)
		close(fds[i]);
}

/* Take one message off the input; false when it is used up. */
static bool next_msg(int sock, const uint8_t **data, size_t *size)
{
	static struct vu_msg m;
	const uint8_t *image = NULL;
	size_t image_len = 0, payload_len;
	unsigned int nfds;
	uint8_t ctl;

	if (*size < 1 + sizeof(m.hdr))
		return false;
	ctl = **data;
	(*data)++;
	(*size)--;
	nfds = ctl & 0xf;
	if (nfds > FDS_MAX)
		nfds = FDS_MAX;
	if (ctl & 0x80) {
		if (*size < 2)
			return false;
		image_len = (*data)[0] | (size_t)(*data)[1] << 8;
		*data += 2;
		*size -= 2;
		if (image_len > *size)
			image_len = *size;
		image = *data;
		*data += image_len;
		*size -= image_len;
		if (*size < sizeof(m.hdr))
			return false;
	}
	memcpy(&m.hdr, *data, sizeof(m.hdr));
	*data += sizeof(m.hdr);
	*size -= sizeof(m.hdr);
	payload_len = m.hdr.size < *size ? m.hdr.size : *size;
	if (payload_len > sizeof(m.payload))
		payload_len = sizeof(m.payload);
	memset(&m.payload, 0, sizeof(m.payload));
	memcpy(&m.payload, *data, payload_len);
	*data += payload_len;
	*size -= payload_len;
	send_msg(sock, &m, payload_len, nfds, image, image_len);
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int sv[2], lowest_free_fd;

	if (!srv)
		setup();
	lowest_free_fd = lowest_fd();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		abort();
	for (int i = 0; i < MAX_MSGS && next_msg(sv[0], &data, &size); i++)
		;
	/* End of the session: the server reads to here, then drops the front-end. */
	shutdown(sv[0], SHUT_WR);
	vu_server_serve_fe_fd(srv, sv[1]);
	close(sv[0]); /* with the replies and the fds they carry */
	if (lowest_fd() != lowest_free_fd)
		abort(); /* the session left an fd open */
	return 0;
}
