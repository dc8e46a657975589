// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Stalled and greedy peers (issue 10, items 3 and 4): half a header, a
 * payload that never comes, replies never read, many control clients, idle
 * ones. Each stalls only its own connection: the other socket is served
 * meanwhile, the staller is dropped when its time runs out, SIGTERM ends
 * the daemon within 1 s whatever the peers do, and nothing leaks. Also, a
 * transfer belongs to the connection that started it.
 */
#include "kselftest_harness.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "frontend/fe_ctl.h"
#include "state/state.h"
#include "state_util.h"

/* The fixture's daemon: --message-timeout 1, --control-idle-timeout 2. */
#define MSG_TIMEOUT_MS 1000
#define IDLE_TIMEOUT_MS 2000
/* Served "meanwhile": well inside the message timeout. */
#define PROMPT_MS 500

/* A raw connection to @path, or -errno. */
static int peer_connect(const char *path)
{
	struct fe_vu vu;
	int ret = fe_vu_connect(&vu, path, 2000);

	return ret ? ret : vu.sock;
}

/* Send @len bytes of a header of @request with payload @size, and @pass_fd if >= 0. */
static int send_header_fd(int fd, uint32_t request, uint32_t size, size_t len, int pass_fd)
{
	struct vu_hdr h = { .request = request, .flags = VHOST_USER_VERSION, .size = size };
	char control[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { &h, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (pass_fd >= 0) {
		struct cmsghdr *cm;

		mh.msg_control = control;
		mh.msg_controllen = sizeof(control);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
	}
	return sendmsg(fd, &mh, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -errno;
}

/* Part of a message: @len bytes of its header. */
static int send_header_part(int fd, uint32_t request, uint32_t size, size_t len)
{
	return send_header_fd(fd, request, size, len, -1);
}

/* Wait for the daemon to close @fd: ms it took, or -ETIMEDOUT. Replies are read and dropped. */
static int wait_dropped(int fd, int timeout_ms)
{
	int64_t start = vd_now_ms();
	char buf[4096];

	while (vd_now_ms() - start < timeout_ms) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 50) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return (int)(vd_now_ms() - start);
	}
	return -ETIMEDOUT;
}

/* One GET_FEATURES on a new control connection answered within PROMPT_MS: 0 or -errno. */
static int ctl_served(const char *ctl)
{
	struct fe_vu vu;
	uint64_t features;
	int ret = fe_vu_connect(&vu, ctl, 2000);

	if (ret)
		return ret;
	vu.timeout_ms = PROMPT_MS;
	ret = fe_vu_get_features(&vu, &features);
	fe_vu_disconnect(&vu);
	return ret;
}

FIXTURE (stall) {
	char dir[64];
	struct daemon d;
	int fds; /* the daemon's, before the test */
};

FIXTURE_SETUP (stall) {
	static const char *const more[] = { "--message-timeout", "1", "--control-idle-timeout", "2",
					    NULL };
	int ret;

	memset(&self->d, 0, sizeof(self->d));
	self->d.vd.pid = -1;
	if (!vd_binary())
		SKIP(return, "VBLKD is not set: no daemon to test");
	ASSERT_EQ(0, make_ctl_dir(self->dir, sizeof(self->dir)));
	ret = daemon_start_args(&self->d, self->dir, "d", HOST_IMAGE_SIZE, IMAGE_ID, NULL, more);
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, ctl_served(self->d.ctl)); /* both sockets listen */
	self->fds = count_fds(self->d.vd.pid, -1);
	ASSERT_LT(0, self->fds);
}

FIXTURE_TEARDOWN (stall) {
	daemon_down(_metadata, &self->d);
	if (self->dir[0])
		rmdir(self->dir);
}

/* What every test ends with: a front-end served, the fds the daemon had before. */
static void expect_healthy(struct __test_metadata *_metadata, FIXTURE_DATA(stall) * self)
{
	EXPECT_EQ(0, ctl_served(self->d.ctl));
	EXPECT_EQ(0, attach_and_do_io(_metadata, &self->d, 7));
	EXPECT_EQ(self->fds, count_fds(self->d.vd.pid, self->fds));
	EXPECT_TRUE(vd_alive(&self->d.vd));
}

/* @fd stalls; the daemon drops it between the timeout and twice that. */
static void expect_dropped_on_time(struct __test_metadata *_metadata, int fd, int64_t since)
{
	int waited = wait_dropped(fd, 3 * MSG_TIMEOUT_MS);
	int64_t took = vd_now_ms() - since;

	EXPECT_LE(0, waited) TH_LOG("the stalled peer was never dropped");
	EXPECT_LE(MSG_TIMEOUT_MS - 100, took);
	EXPECT_GE(2 * MSG_TIMEOUT_MS + 500, took);
}

TEST_F (stall, half_a_header_on_the_front_end_socket_stalls_nothing_and_is_dropped) {
	int fd = peer_connect(self->d.vd.sock);
	int64_t since = vd_now_ms();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, send_header_part(fd, VHOST_USER_GET_FEATURES, 0, 6));
	/* The control socket is served while the front-end stalls. */
	EXPECT_EQ(0, ctl_served(self->d.ctl));
	EXPECT_GT(PROMPT_MS, vd_now_ms() - since);
	expect_dropped_on_time(_metadata, fd, since);
	close(fd);
	EXPECT_TRUE(vd_log_contains(&self->d.vd, "dropping the front-end (pid"));
	EXPECT_TRUE(vd_log_contains(&self->d.vd, "6 bytes of a message, then nothing for 1000 ms"));
	expect_healthy(_metadata, self);
}

TEST_F (stall, half_a_header_on_the_control_socket_stalls_nothing_and_is_dropped) {
	int fd = peer_connect(self->d.ctl);
	int64_t since = vd_now_ms();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, send_header_part(fd, VHOST_USER_GET_FEATURES, 0, 11));
	/* A whole front-end bring-up and I/O while the control client stalls. */
	EXPECT_EQ(0, attach_and_do_io(_metadata, &self->d, 3));
	EXPECT_EQ(0, ctl_served(self->d.ctl));
	EXPECT_GT(MSG_TIMEOUT_MS, vd_now_ms() - since);
	expect_dropped_on_time(_metadata, fd, since);
	close(fd);
	EXPECT_TRUE(
		vd_log_contains(&self->d.vd, "11 bytes of a message, then nothing for 1000 ms"));
	expect_healthy(_metadata, self);
}

/* A SET_MEM_TABLE header promising 8 + 32 bytes, and 8 of them. */
TEST_F (stall, a_payload_shorter_than_its_header_promised_is_dropped) {
	uint64_t nregions = 1;
	int fd = peer_connect(self->d.vd.sock);
	int64_t since = vd_now_ms();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, send_header_part(fd, VHOST_USER_SET_MEM_TABLE, 40, sizeof(struct vu_hdr)));
	ASSERT_EQ(8, send(fd, &nregions, 8, MSG_NOSIGNAL));
	EXPECT_EQ(0, ctl_served(self->d.ctl));
	expect_dropped_on_time(_metadata, fd, since);
	close(fd);
	EXPECT_TRUE(vd_log_contains(&self->d.vd, "20 bytes of a message, then nothing"));
	expect_healthy(_metadata, self);
}

/* The largest payload a header may promise, none of which comes, with an fd. */
TEST_F (stall, a_payload_that_never_comes_loses_its_fds_too) {
	int fd = peer_connect(self->d.ctl);
	int64_t since = vd_now_ms();
	int p[2];

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC | O_NONBLOCK));
	ASSERT_EQ(0, send_header_fd(fd, VHOST_USER_SET_DEVICE_STATE_FD, VU_PAYLOAD_MAX,
				    sizeof(struct vu_hdr), p[1]));
	close(p[1]);
	EXPECT_EQ(0, attach_and_do_io(_metadata, &self->d, 4));
	expect_dropped_on_time(_metadata, fd, since);
	close(fd);
	EXPECT_TRUE(vd_log_contains(&self->d.vd, "12 bytes of a message, then nothing"));
	/* The daemon closed the pipe end it got: the read end sees end of file. */
	EXPECT_EQ(0, read(p[0], &since, sizeof(since)));
	close(p[0]);
	expect_healthy(_metadata, self);
}

/* Send @m on @fd as fast as it is taken, never reading: the send error that ended it, or 0. */
static int flood(int fd, const struct vu_msg *m, long *sent)
{
	struct iovec iov[2] = { { (void *)&m->hdr, sizeof(m->hdr) },
				{ (void *)&m->payload, m->hdr.size } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
	int64_t start = vd_now_ms();

	*sent = 0;
	while (vd_now_ms() - start < 10000) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };

		if (sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) > 0)
			(*sent)++;
		else if (errno == EAGAIN)
			poll(&p, 1, 100);
		else
			return errno;
	}
	return 0;
}

/*
 * Requests with a reply, sent as fast as the daemon takes them, replies
 * never read: the daemon drops the peer when its queue is full, and its
 * own sends never block.
 */
static void flood_without_reading(struct __test_metadata *_metadata, const char *path,
				  const char *ctl_other, struct daemon *d)
{
	struct vu_msg m = { .hdr = { .request = VHOST_USER_GET_FEATURES,
				     .flags = VHOST_USER_VERSION } };
	int fd = peer_connect(path);
	int64_t start = vd_now_ms();
	long sent;
	int err;

	ASSERT_LE(0, fd);
	err = flood(fd, &m, &sent);
	EXPECT_TRUE(err == EPIPE || err == ECONNRESET)
	TH_LOG("after %ld requests in %lld ms: %s", sent, (long long)(vd_now_ms() - start),
	       strerror(err));
	EXPECT_GT(3000, vd_now_ms() - start);
	close(fd);
	EXPECT_TRUE(vd_log_contains(&d->vd, "replies unread"));
	if (ctl_other)
		EXPECT_EQ(0, ctl_served(ctl_other));
}

TEST_F (stall, a_front_end_that_never_reads_its_replies_is_dropped) {
	flood_without_reading(_metadata, self->d.vd.sock, self->d.ctl, &self->d);
	EXPECT_TRUE(vd_log_contains(&self->d.vd, "dropping the front-end (pid"));
	expect_healthy(_metadata, self);
}

TEST_F (stall, a_control_client_that_never_reads_its_replies_is_dropped) {
	flood_without_reading(_metadata, self->d.ctl, NULL, &self->d);
	EXPECT_TRUE(vd_log_contains(&self->d.vd, "dropping the control client 0 (pid"));
	expect_healthy(_metadata, self);
}

/*
 * GET_INFLIGHT_FD replies carry an fd each: those the peer leaves unread,
 * queued in the daemon or in flight in the socket, are all closed when it
 * is dropped.
 */
TEST_F (stall, unread_replies_with_fds_leak_nothing) {
	struct vu_msg m = { .hdr = { .request = VHOST_USER_GET_INFLIGHT_FD,
				     .flags = VHOST_USER_VERSION,
				     .size = sizeof(struct vu_inflight) } };
	struct fe_vu vu;
	long sent;
	int err;

	ASSERT_EQ(0, fe_vu_connect(&vu, self->d.vd.sock, 2000));
	ASSERT_EQ(0, fe_vu_negotiate(&vu, 0, 1ull << VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD, NULL));
	m.payload.inflight = (struct vu_inflight){ .num_queues = NQ, .queue_size = 128 };
	err = flood(vu.sock, &m, &sent);
	EXPECT_TRUE(err == EPIPE || err == ECONNRESET)
	TH_LOG("after %ld requests: %s", sent, strerror(err));
	fe_vu_disconnect(&vu);
	EXPECT_TRUE(vd_log_contains(&self->d.vd, "dropping the front-end (pid"));
	EXPECT_FALSE(vd_log_contains(&self->d.vd, "GET_INFLIGHT_FD failed"));
	expect_healthy(_metadata, self);
}

/*
 * A second front-end waits in the backlog, stalling nothing, and is served
 * when the first leaves.
 */
TEST_F (stall, a_second_front_end_waits_its_turn) {
	struct fe_blk_opts opts = { .num_queues = NQ, .mem_size = 1 << 20 };
	uint8_t buf[4096] = { 9 };
	struct vu_msg reply;
	struct fe_blk first;
	struct fe_vu second;

	ASSERT_EQ(0, fe_blk_open(&first, self->d.vd.sock, &opts));
	ASSERT_EQ(0, fe_vu_connect(&second, self->d.vd.sock, 2000));
	ASSERT_EQ(0, fe_vu_request(&second, VHOST_USER_GET_FEATURES, NULL, 0, NULL, 0));
	second.timeout_ms = PROMPT_MS;
	EXPECT_EQ(-ETIMEDOUT, fe_vu_recv_reply(&second, VHOST_USER_GET_FEATURES, &reply));
	EXPECT_EQ(0, ctl_served(self->d.ctl));
	EXPECT_EQ(VIRTIO_BLK_S_OK, fe_blk_write(&first, 0, 8, buf, sizeof(buf)));
	fe_blk_close(&first);
	second.timeout_ms = 2000;
	EXPECT_EQ(0, fe_vu_recv_reply(&second, VHOST_USER_GET_FEATURES, &reply));
	fe_vu_disconnect(&second);
	expect_healthy(_metadata, self);
}

#define MANY 33 /* the 32 served at once, and one more */

TEST_F (stall, sixteen_control_clients_and_more_are_served_at_once) {
	struct fe_vu vu[MANY];
	struct vu_msg reply;
	int i;

	for (i = 0; i < MANY; i++)
		ASSERT_EQ(0, fe_vu_connect(&vu[i], self->d.ctl, 2000));
	/* All ask before any reads: none waits for another to leave. */
	for (i = 0; i < MANY - 1; i++)
		ASSERT_EQ(0, fe_vu_request(&vu[i], VHOST_USER_GET_FEATURES, NULL, 0, NULL, 0));
	/*
	 * The 33rd may already be refused and closed (a loaded machine): its
	 * request then fails to send, and what counts is that it was dropped.
	 */
	(void)fe_vu_request(&vu[MANY - 1], VHOST_USER_GET_FEATURES, NULL, 0, NULL, 0);
	for (i = 0; i < MANY - 1; i++) {
		vu[i].timeout_ms = PROMPT_MS;
		EXPECT_EQ(0, fe_vu_recv_reply(&vu[i], VHOST_USER_GET_FEATURES, &reply))
		TH_LOG("client %d", i);
	}
	/* The 33rd is closed at once, with a log line, not left waiting. */
	EXPECT_LE(0, wait_dropped(vu[MANY - 1].sock, PROMPT_MS));
	EXPECT_TRUE(vd_log_contains(&self->d.vd, "refusing a control client"));
	/* The 32 still connected are each served again, and the front-end too. */
	for (i = 0; i < MANY - 1; i++)
		EXPECT_EQ(0, fe_vu_call(&vu[i], VHOST_USER_GET_FEATURES, NULL, 0, NULL, 0, &reply));
	EXPECT_EQ(0, attach_and_do_io(_metadata, &self->d, 5));
	for (i = 0; i < MANY; i++)
		fe_vu_disconnect(&vu[i]);
	expect_healthy(_metadata, self);
}

TEST_F (stall, an_idle_control_client_is_dropped_after_the_idle_timeout) {
	struct fe_vu vu;
	uint64_t features;
	int64_t since;
	int waited;

	ASSERT_EQ(0, fe_vu_connect(&vu, self->d.ctl, 2000));
	ASSERT_EQ(0, fe_vu_get_features(&vu, &features));
	since = vd_now_ms();
	waited = wait_dropped(vu.sock, 3 * IDLE_TIMEOUT_MS);
	EXPECT_LE(IDLE_TIMEOUT_MS - 200, waited);
	EXPECT_GE(IDLE_TIMEOUT_MS + 1000, vd_now_ms() - since);
	fe_vu_disconnect(&vu);
	EXPECT_TRUE(vd_log_contains(&self->d.vd, "dropping the control client 0 (pid"));
	EXPECT_TRUE(vd_log_contains(&self->d.vd, "idle for 2 s"));
	expect_healthy(_metadata, self);
}

/* A save on @vu into a new pipe; the read end in *@rd. */
static int start_save(struct fe_vu *vu, int *rd)
{
	int p[2], backend_fd = -1, ret;
	uint32_t err = 1;

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	ret = fe_state_set_fd(vu, FE_STATE_SAVE, FE_STATE_PHASE_STOPPED, p[1], &backend_fd, &err);
	close(p[1]);
	if (backend_fd >= 0)
		close(backend_fd);
	*rd = p[0];
	return ret ? ret : (int)err;
}

static uint64_t check_code(struct fe_vu *vu)
{
	uint64_t code = 999;

	return fe_state_check(vu, &code) ? 999 : code;
}

TEST_F (stall, check_on_another_connection_never_reports_someone_elses_transfer) {
	struct fe_vu a, b, c;
	char buf[65536];
	int rd;

	ASSERT_EQ(0, fe_vu_connect(&a, self->d.ctl, 2000));
	ASSERT_EQ(0, fe_vu_connect(&b, self->d.ctl, 2000));
	ASSERT_EQ(0, fe_state_negotiate(&a));
	ASSERT_EQ(0, fe_state_negotiate(&b));

	ASSERT_EQ(0, start_save(&a, &rd));
	EXPECT_EQ(STATE_E_INCOMPLETE, check_code(&b)); /* running, and a's */
	while (read(rd, buf, sizeof(buf)) > 0)
		;
	close(rd);
	EXPECT_EQ(STATE_OK, check_code(&a));
	EXPECT_EQ(STATE_E_INCOMPLETE, check_code(&b)); /* finished, and a's */

	/* a starts another and goes away: the abort is a's, not b's nor c's. */
	ASSERT_EQ(0, start_save(&a, &rd));
	fe_vu_disconnect(&a);
	ASSERT_EQ(0, fe_vu_connect(&c, self->d.ctl, 2000));
	ASSERT_EQ(0, fe_state_negotiate(&c));
	EXPECT_EQ(STATE_E_INCOMPLETE, check_code(&b));
	EXPECT_EQ(STATE_E_INCOMPLETE, check_code(&c));
	close(rd);
	EXPECT_TRUE(vd_log_contains(&self->d.vd, "device-state save failed: "));
	fe_vu_disconnect(&b);
	fe_vu_disconnect(&c);
	expect_healthy(_metadata, self);
}

/*
 * SIGTERM with every kind of stalled peer at once, on a daemon whose
 * timeouts would not drop any of them for minutes, and the main loop in a
 * CHECK_DEVICE_STATE that waits (up to 2 s) for a load that never comes.
 */
TEST (sigterm_ends_the_daemon_within_a_second_whatever_the_peers_do) {
	static const char *const more[] = { "--message-timeout", "600", "--control-idle-timeout",
					    "0", NULL };
	struct vu_hdr h = { .request = VHOST_USER_GET_FEATURES, .flags = VHOST_USER_VERSION };
	int fds[40], n = 0, status = 0, ret, pipe_fds[2], backend_fd = -1;
	struct daemon d = { .vd.pid = -1 };
	struct fe_vu load;
	uint32_t err = 1;
	char dir[64];
	int64_t t0;

	if (!vd_binary())
		SKIP(return, "VBLKD is not set: no daemon to test");
	ASSERT_EQ(0, make_ctl_dir(dir, sizeof(dir)));
	ASSERT_EQ(0, daemon_start_args(&d, dir, "d", HOST_IMAGE_SIZE, IMAGE_ID, NULL, more));
	ASSERT_EQ(0, ctl_served(d.ctl));

	/* A front-end with half a header. */
	fds[n] = peer_connect(d.vd.sock);
	ASSERT_LE(0, fds[n]);
	ASSERT_EQ(0, send_header_part(fds[n++], VHOST_USER_GET_FEATURES, 0, 5));
	/* A control client whose payload never comes, and one that never reads. */
	fds[n] = peer_connect(d.ctl);
	ASSERT_LE(0, fds[n]);
	ASSERT_EQ(0, send_header_part(fds[n++], VHOST_USER_VBLKD_THROTTLE, 48, 12));
	fds[n] = peer_connect(d.ctl);
	ASSERT_LE(0, fds[n]);
	for (int i = 0; i < 2000; i++)
		if (send(fds[n], &h, sizeof(h), MSG_DONTWAIT | MSG_NOSIGNAL) != sizeof(h))
			break;
	n++;
	/* A load whose bytes never come, and a CHECK that waits for them. */
	ASSERT_EQ(0, fe_vu_connect(&load, d.ctl, 2000));
	ASSERT_EQ(0, fe_state_negotiate(&load));
	ASSERT_EQ(0, pipe2(pipe_fds, O_CLOEXEC));
	ASSERT_EQ(0, fe_state_set_fd(&load, FE_STATE_LOAD, FE_STATE_PHASE_STOPPED, pipe_fds[0],
				     &backend_fd, &err));
	ASSERT_EQ(0, err);
	close(pipe_fds[0]);
	ASSERT_EQ(0, send_header_part(load.sock, VHOST_USER_CHECK_DEVICE_STATE, 0,
				      sizeof(struct vu_hdr)));
	/* Sixteen idle control clients, and more in the backlog. */
	for (int i = 0; i < 16 + 8; i++) {
		fds[n] = peer_connect(d.ctl);
		ASSERT_LE(0, fds[n++]);
	}
	usleep(300 * 1000); /* let the daemon take them all in, and start waiting in CHECK */
	ASSERT_TRUE(vd_alive(&d.vd));

	t0 = vd_now_ms();
	ret = vd_stop(&d.vd, 5000, &status);
	EXPECT_EQ(0, ret);
	EXPECT_GT(1000, vd_now_ms() - t0)
	TH_LOG("SIGTERM took %lld ms", (long long)(vd_now_ms() - t0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	for (int i = 0; i < n; i++)
		close(fds[i]);
	close(pipe_fds[1]);
	fe_vu_disconnect(&load);
	if (_metadata->exit_code == KSFT_FAIL)
		vd_dump_log(&d.vd);
	vd_cleanup(&d.vd);
	unlink(d.ctl);
	rmdir(dir);
}

TEST_HARNESS_MAIN
