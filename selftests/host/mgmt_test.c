// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The management socket (--mgmt-socket) of a real vblkd: status and stats
 * as I/O runs, hostile lines, many clients at once, suspend/resume and
 * throttle, and an online resize that a vhost-user front-end sees through
 * the back-end channel (CONFIG_CHANGE_MSG) and GET_CONFIG.
 */
#include "kselftest_harness.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <json-c/json.h>

#include "frontend/fe_backend.h"
#include "host_test.h"

#define MGMT_CLIENTS 20

static int mgmt_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

static int mgmt_send(int fd, const char *line)
{
	size_t len = strlen(line);

	return send(fd, line, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

/* One reply line from @fd, parsed; NULL on timeout, EOF or bad JSON. */
static struct json_object *mgmt_recv(int fd)
{
	static char buf[1 << 16];
	size_t off = 0;

	while (off < sizeof(buf) - 1) {
		ssize_t n;

		if (fe_wait_fd(fd, POLLIN, HOST_IO_TIMEOUT_MS))
			return NULL;
		n = recv(fd, buf + off, 1, 0); /* a byte at a time: one line, no more */
		if (n <= 0)
			return NULL;
		if (buf[off] == '\n') {
			buf[off] = '\0';
			return json_tokener_parse(buf);
		}
		off++;
	}
	return NULL;
}

static struct json_object *mgmt_call_fd(int fd, const char *line)
{
	return mgmt_send(fd, line) ? NULL : mgmt_recv(fd);
}

static struct json_object *mgmt_call(const char *path, const char *line)
{
	int fd = mgmt_connect(path);
	struct json_object *r;

	if (fd < 0)
		return NULL;
	r = mgmt_call_fd(fd, line);
	close(fd);
	return r;
}

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	json_object_object_get_ex(o, key, &v);
	return v;
}

static bool ok_of(struct json_object *o)
{
	return o && json_object_get_boolean(get(o, "ok"));
}

static uint64_t u64_at(struct json_object *o, const char *key)
{
	return json_object_get_uint64(get(o, key));
}

static struct json_object *queue_at(struct json_object *o, size_t i)
{
	return json_object_array_get_idx(get(o, "queues"), i);
}

FIXTURE(mgmt) {
	struct vd_proc vd;
	struct fe_blk blk;
	char path[108];
};

FIXTURE_SETUP(mgmt)
{
	struct fe_blk_opts opts = { .num_queues = 2, .queue_size = 128 };
	const char *extra[] = { "--num-queues", "2", "--mgmt-socket", self->path, NULL };

	/* Each test runs in its own process: the pid makes the path unique. */
	snprintf(self->path, sizeof(self->path), "/tmp/vblkd-mgmt-%d.sock", getpid());
	HOST_UP(&self->vd, &self->blk, extra, &opts);
}

FIXTURE_TEARDOWN(mgmt)
{
	host_down(_metadata, &self->vd, &self->blk);
	EXPECT_NE(0, access(self->path, F_OK)) TH_LOG("%s left behind", self->path);
	unlink(self->path);
}

/* Write @n 4 KiB requests on queue @q, then read them back; all must succeed. */
static int do_io(struct fe_blk *blk, unsigned int q, unsigned int n)
{
	uint8_t buf[4096];

	for (unsigned int i = 0; i < 2 * n; i++) {
		struct fe_blk_req *req;
		int ret;

		host_pattern(buf, sizeof(buf), i);
		ret = i < n ? fe_blk_submit_write(blk, q, i * 8, buf, sizeof(buf), &req) :
			      fe_blk_submit_read(blk, q, (i - n) * 8, sizeof(buf), &req);
		if (ret)
			return ret;
		ret = fe_blk_wait(blk, req, HOST_IO_TIMEOUT_MS);
		if (!ret && req->status != VIRTIO_BLK_S_OK)
			ret = -EIO;
		fe_blk_req_free(blk, req);
		if (ret)
			return ret;
	}
	return 0;
}

TEST_F(mgmt, socket_is_private_to_its_owner)
{
	struct stat st;

	ASSERT_EQ(0, stat(self->path, &st));
	EXPECT_TRUE(S_ISSOCK(st.st_mode));
	EXPECT_EQ(0600, st.st_mode & 0777);
}

TEST_F(mgmt, status_reports_transport_queues_and_front_end)
{
	struct json_object *r = mgmt_call(self->path, "{\"cmd\":\"status\",\"id\":42}\n");

	ASSERT_TRUE(ok_of(r));
	EXPECT_STREQ("vhost-user", json_object_get_string(get(r, "transport")));
	EXPECT_EQ(42, u64_at(r, "id"));
	EXPECT_TRUE(json_object_get_boolean(get(r, "frontend_connected")));
	EXPECT_FALSE(json_object_get_boolean(get(r, "suspended")));
	EXPECT_EQ(HOST_IMAGE_SIZE, u64_at(get(r, "device"), "capacity_bytes"));
	EXPECT_EQ(2, json_object_array_length(get(r, "queues")));
	EXPECT_TRUE(json_object_get_boolean(get(queue_at(r, 1), "started")));
	EXPECT_EQ(128, u64_at(queue_at(r, 0), "size"));
	json_object_put(r);
}

TEST_F(mgmt, stats_count_the_requests_each_queue_served)
{
	struct json_object *r, *q0, *q1, *lat;
	uint64_t in_buckets = 0;

	ASSERT_EQ(0, do_io(&self->blk, 0, 5));
	ASSERT_EQ(0, do_io(&self->blk, 1, 2));
	r = mgmt_call(self->path, "{\"cmd\":\"stats\"}\n");
	ASSERT_TRUE(ok_of(r));
	q0 = queue_at(r, 0);
	q1 = queue_at(r, 1);
	EXPECT_EQ(5, u64_at(q0, "write"));
	EXPECT_EQ(5, u64_at(q0, "read"));
	EXPECT_EQ(5 * 4096, u64_at(q0, "write_bytes"));
	EXPECT_EQ(2 * 4096, u64_at(q1, "read_bytes"));
	EXPECT_EQ(0, u64_at(q0, "errors"));
	EXPECT_EQ(0, u64_at(q0, "in_flight"));
	/* fe_blk_open's GET_ID may also count on queue 0. */
	EXPECT_LE(10, u64_at(q0, "requests"));
	EXPECT_EQ(4, u64_at(q1, "requests"));
	lat = get(q0, "latency_log2_us");
	for (size_t b = 0; b < json_object_array_length(lat); b++)
		in_buckets += json_object_get_uint64(json_object_array_get_idx(lat, b));
	EXPECT_EQ(u64_at(q0, "requests"), in_buckets);
	EXPECT_EQ(7, u64_at(get(r, "total"), "write"));
	json_object_put(r);
}

TEST_F(mgmt, hostile_lines_get_error_replies_and_the_connection_goes_on)
{
	static const char *const bad[] = {
		"garbage\n",
		"[1,2,3]\n",
		"{\"cmd\":\"no-such-command\"}\n",
		"{\"cmd\":17}\n",
		"{\"cmd\":\"resize\",\"size\":-1}\n",
		"{\"cmd\":\"resize\",\"size\":\"big\"}\n",
		"{\"cmd\":\"resize\",\"size\":1000}\n",
		"{\"cmd\":\"suspend\",\"mode\":\"nap\"}\n",
		"{\"cmd\":\"throttle\",\"burst_ms\":999999}\n",
		"{\"cmd\":\"status\"} trailing\n",
		"{\"a\":[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]}\n",
		"\n",
		"{\"cmd\":\"resume\"}\n",
	};
	static char huge[100001]; /* a 100000-byte line and its NUL */
	struct json_object *r;
	int fd = mgmt_connect(self->path);

	ASSERT_LE(0, fd);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = mgmt_call_fd(fd, bad[i]);
		ASSERT_NE(NULL, r) TH_LOG("no reply to %s", bad[i]);
		EXPECT_FALSE(ok_of(r)) TH_LOG("accepted %s", bad[i]);
		EXPECT_NE(NULL, get(r, "error"));
		json_object_put(r);
	}
	/* A line far over the cap: one error, and the rest of it is skipped. */
	memset(huge, 'x', sizeof(huge) - 2);
	huge[sizeof(huge) - 2] = '\n';
	ASSERT_EQ(0, mgmt_send(fd, huge));
	r = mgmt_recv(fd);
	ASSERT_NE(NULL, r);
	EXPECT_FALSE(ok_of(r));
	json_object_put(r);
	r = mgmt_call_fd(fd, "{\"cmd\":\"status\"}\n");
	EXPECT_TRUE(ok_of(r)) TH_LOG("the connection did not survive the long line");
	json_object_put(r);
	close(fd);
	EXPECT_TRUE(vd_alive(&self->vd));
	EXPECT_EQ(0, do_io(&self->blk, 0, 1));
}

TEST_F(mgmt, many_clients_are_served_while_one_stalls_and_one_never_reads)
{
	int fd[MGMT_CLIENTS], stall = mgmt_connect(self->path), deaf = mgmt_connect(self->path);
	struct json_object *r;

	ASSERT_LE(0, stall);
	ASSERT_LE(0, deaf);
	/* Half a line that never ends, and requests whose replies are never read. */
	ASSERT_EQ(0, mgmt_send(stall, "{\"cmd\":\"sta"));
	for (int i = 0; i < 200; i++)
		if (mgmt_send(deaf, "{\"cmd\":\"stats\"}\n"))
			break;
	for (int i = 0; i < MGMT_CLIENTS; i++) {
		fd[i] = mgmt_connect(self->path);
		ASSERT_LE(0, fd[i]);
		ASSERT_EQ(0, mgmt_send(fd[i], "{\"cmd\":\"status\"}\n"));
	}
	for (int i = 0; i < MGMT_CLIENTS; i++) {
		r = mgmt_recv(fd[i]);
		EXPECT_TRUE(ok_of(r)) TH_LOG("client %d got no reply", i);
		json_object_put(r);
		close(fd[i]);
	}
	/* The daemon's own loop never waited for any of them. */
	EXPECT_EQ(0, do_io(&self->blk, 1, 2));
	close(stall);
	close(deaf);
}

TEST_F(mgmt, a_client_beyond_the_32nd_is_closed_and_the_others_go_on)
{
	struct json_object *r;
	int fd[33];
	char c;

	/* Each served in turn, so that the server has accepted it before the next. */
	for (int i = 0; i < 32; i++) {
		fd[i] = mgmt_connect(self->path);
		ASSERT_LE(0, fd[i]);
		r = mgmt_call_fd(fd[i], "{\"cmd\":\"resume\"}\n");
		ASSERT_NE(NULL, r) TH_LOG("client %d got no reply", i);
		json_object_put(r);
	}
	fd[32] = mgmt_connect(self->path);
	ASSERT_LE(0, fd[32]);
	ASSERT_EQ(0, fe_wait_fd(fd[32], POLLIN, HOST_IO_TIMEOUT_MS)) TH_LOG("the 33rd stays open");
	EXPECT_GE(0, recv(fd[32], &c, 1, 0)) TH_LOG("the 33rd client was served");
	r = mgmt_call_fd(fd[0], "{\"cmd\":\"status\"}\n");
	EXPECT_TRUE(ok_of(r));
	json_object_put(r);
	for (int i = 0; i < 33; i++)
		close(fd[i]);
	/* A slot freed is a slot taken again. */
	r = mgmt_call(self->path, "{\"cmd\":\"status\"}\n");
	EXPECT_TRUE(ok_of(r));
	json_object_put(r);
}

TEST_F(mgmt, suspend_holds_requests_until_resume)
{
	struct json_object *r = mgmt_call(self->path, "{\"cmd\":\"suspend\",\"mode\":\"drain\"}\n");
	struct fe_blk_req *req;

	ASSERT_TRUE(ok_of(r));
	EXPECT_EQ(2, json_object_array_length(get(r, "bases")));
	json_object_put(r);
	r = mgmt_call(self->path, "{\"cmd\":\"status\"}\n");
	EXPECT_TRUE(json_object_get_boolean(get(r, "suspended")));
	EXPECT_TRUE(json_object_get_boolean(get(r, "mgmt_suspended")));
	json_object_put(r);

	ASSERT_EQ(0, fe_blk_submit_read(&self->blk, 0, 0, 4096, &req));
	EXPECT_NE(0, fe_blk_wait(&self->blk, req, HOST_QUIET_MS)) TH_LOG("served while suspended");
	r = mgmt_call(self->path, "{\"cmd\":\"resume\"}\n");
	EXPECT_TRUE(ok_of(r));
	json_object_put(r);
	ASSERT_EQ(0, fe_blk_wait(&self->blk, req, HOST_IO_TIMEOUT_MS));
	EXPECT_EQ(VIRTIO_BLK_S_OK, req->status);
	fe_blk_req_free(&self->blk, req);
}

TEST_F(mgmt, throttle_is_set_and_read_back)
{
	struct json_object *r =
		mgmt_call(self->path, "{\"cmd\":\"throttle\",\"iops\":500,\"burst_ms\":100}\n");

	ASSERT_TRUE(ok_of(r));
	EXPECT_EQ(500, u64_at(r, "iops"));
	EXPECT_EQ(0, u64_at(r, "bps"));
	json_object_put(r);
	r = mgmt_call(self->path, "{\"cmd\":\"throttle\"}\n");
	EXPECT_EQ(500, u64_at(r, "iops"));
	EXPECT_EQ(100, u64_at(r, "burst_ms"));
	json_object_put(r);
}

static uint64_t config_capacity(struct fe_blk *blk)
{
	uint64_t cap = 0;

	fe_vu_get_config(&blk->vu, offsetof(struct virtio_blk_config, capacity), &cap, sizeof(cap));
	return le64toh(cap);
}

/*
 * The request runs on a thread of its own: the daemon waits for our ack of
 * CONFIG_CHANGE_MSG before it replies, as QEMU's main loop would ack it.
 */
struct resize_call {
	const char *path;
	char line[128];
	struct json_object *reply;
};

static void *resize_thread(void *arg)
{
	struct resize_call *c = arg;

	c->reply = mgmt_call(c->path, c->line);
	return NULL;
}

TEST_F(mgmt, resize_reaches_the_front_end_through_config_change_and_get_config)
{
	struct resize_call call = { .path = self->path };
	uint64_t grown = 2 * HOST_IMAGE_SIZE, shrunk = HOST_IMAGE_SIZE / 2;
	uint8_t buf[4096];
	struct fe_blk_req *req;
	uint32_t request = 0;
	pthread_t th;
	struct stat st;
	bool acked;
	int bfd;

	ASSERT_EQ(0, fe_backend_open(&self->blk.vu, &bfd));
	snprintf(call.line, sizeof(call.line), "{\"cmd\":\"resize\",\"size\":%llu}\n",
		 (unsigned long long)grown);
	ASSERT_EQ(0, pthread_create(&th, NULL, resize_thread, &call));
	EXPECT_EQ(0, fe_backend_serve_one(bfd, HOST_IO_TIMEOUT_MS, &request, &acked));
	EXPECT_EQ(VHOST_USER_BACKEND_CONFIG_CHANGE_MSG, request);
	EXPECT_TRUE(acked) TH_LOG("REPLY_ACK was negotiated: the back-end should want an ack");
	pthread_join(th, NULL);
	ASSERT_TRUE(ok_of(call.reply));
	EXPECT_TRUE(json_object_get_boolean(get(call.reply, "notified")));
	json_object_put(call.reply);

	EXPECT_EQ(grown / 512, config_capacity(&self->blk));
	ASSERT_EQ(0, stat(self->vd.image, &st));
	EXPECT_EQ(grown, (uint64_t)st.st_size) TH_LOG("the image file did not grow");
	/* The new end is served. */
	host_pattern(buf, sizeof(buf), 7);
	ASSERT_EQ(0, fe_blk_submit_write(&self->blk, 1, grown / 512 - 8, buf, sizeof(buf), &req));
	ASSERT_EQ(0, fe_blk_wait(&self->blk, req, HOST_IO_TIMEOUT_MS));
	EXPECT_EQ(VIRTIO_BLK_S_OK, req->status);
	fe_blk_req_free(&self->blk, req);

	/* Shrinking: the file stays, requests past the new end fail. */
	snprintf(call.line, sizeof(call.line), "{\"cmd\":\"resize\",\"size\":%llu}\n",
		 (unsigned long long)shrunk);
	ASSERT_EQ(0, pthread_create(&th, NULL, resize_thread, &call));
	EXPECT_EQ(0, fe_backend_serve_one(bfd, HOST_IO_TIMEOUT_MS, &request, &acked));
	pthread_join(th, NULL);
	EXPECT_TRUE(ok_of(call.reply));
	json_object_put(call.reply);
	EXPECT_EQ(shrunk / 512, config_capacity(&self->blk));
	ASSERT_EQ(0, stat(self->vd.image, &st));
	EXPECT_EQ(grown, (uint64_t)st.st_size);
	ASSERT_EQ(0, fe_blk_submit_read(&self->blk, 0, shrunk / 512, 4096, &req));
	ASSERT_EQ(0, fe_blk_wait(&self->blk, req, HOST_IO_TIMEOUT_MS));
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, req->status);
	fe_blk_req_free(&self->blk, req);
	close(bfd);
}

TEST_F(mgmt, resize_without_a_back_end_channel_still_resizes)
{
	struct json_object *r = mgmt_call(self->path, "{\"cmd\":\"resize\",\"size\":33554432}\n");

	ASSERT_TRUE(ok_of(r));
	EXPECT_FALSE(json_object_get_boolean(get(r, "notified")));
	json_object_put(r);
	EXPECT_EQ(33554432 / 512, config_capacity(&self->blk));
}

/* vblkctl's exit status, with its output thrown away. */
static int vblkctl(const char *args)
{
	char cmd[1024];
	int status;

	if (!getenv("VBLKCTL"))
		return -1;
	snprintf(cmd, sizeof(cmd), "\"$VBLKCTL\" %s >/dev/null 2>&1", args);
	status = system(cmd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_F(mgmt, vblkctl_exit_status_says_what_happened)
{
	char args[512];

	if (!getenv("VBLKCTL"))
		SKIP(return, "VBLKCTL is not set");
	snprintf(args, sizeof(args), "status --socket %s", self->path);
	EXPECT_EQ(0, vblkctl(args));
	snprintf(args, sizeof(args), "stats --socket %s --json --watch 1 --count 2", self->path);
	EXPECT_EQ(0, vblkctl(args));
	snprintf(args, sizeof(args), "resize --socket %s --size 1000", self->path);
	EXPECT_EQ(1, vblkctl(args));
	snprintf(args, sizeof(args), "resize --socket %s --size 24M", self->path);
	EXPECT_EQ(0, vblkctl(args));
	EXPECT_EQ((24ull << 20) / 512, config_capacity(&self->blk));
	snprintf(args, sizeof(args), "throttle --mgmt-socket %s --iops 100", self->path);
	EXPECT_EQ(0, vblkctl(args));
	EXPECT_EQ(2, vblkctl("resize --socket /nonexistent"));
	EXPECT_EQ(3, vblkctl("status --socket /nonexistent/mgmt.sock"));
}

TEST_HARNESS_MAIN
