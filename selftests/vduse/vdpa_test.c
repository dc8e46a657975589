// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vblkd --vduse driven through the kernel's vhost-vdpa by frontend/'s
 * vhost-vdpa client (issue 4, items 6b, 6c, 6e): I/O on a device rebound
 * to vhost_vdpa; a migration to a second vblkd on a new VDUSE device, with
 * the suspend done by the kernel (VHOST_VDPA_SUSPEND, where vhost-vdpa
 * offers it) or by vblkd's control socket, and the state moved through the
 * control sockets; corrupt states refused by a destination that stays
 * usable. Runs inside a guest (selftests/vduse/run-suite.sh, as root);
 * without /dev/vduse/control every test is skipped.
 */
#include "kselftest_harness.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "blk_state.h"
#include "fe_ctl.h"
#include "fe_state.h"
#include "host_test.h"
#include "state.h"
#include "vduse_abi.h"

#define VT_NQ 2
#define VT_IMAGE_SIZE (64ull << 20)
#define VT_MEM_SIZE (64ull << 20)
#define VT_CHUNK (64u << 10)		/* bytes per request */
#define VT_DEPTH 16			/* requests in flight, over all queues */
#define VT_WAIT_MS 30000		/* TCG guests are slow */
#define VT_IO_MS 20000
#define VT_IMAGE_ID "vdpa-test-disk"
#define VT_SYS_VDPA "/sys/bus/vdpa"
#define VT_NCOUNTERS 10
#define VT_CNT_WRITES 1			/* docs/state-format.md, COUNTERS */

static bool vt_have_vduse(void)
{
	return !access("/dev/vduse/control", F_OK);
}

/* A TAP comment that survives the harness's _exit() of the test process. */
static void __attribute__((format(printf, 1, 2))) vt_note(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static int64_t vt_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static double vt_ms(int64_t from_us, int64_t to_us)
{
	return (double)(to_us - from_us) / 1000.0;
}

/* sysfs */

static int vt_write_file(const char *path, const char *val)
{
	ssize_t n;
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != strlen(val))
		ret = -EIO;
	close(fd);
	return ret;
}

static int vt_read_file(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* The driver NAME is bound to, or -ENOENT when unbound. */
static int vt_driver_of(const char *name, char *drv, size_t len)
{
	char path[PATH_MAX], target[PATH_MAX];
	const char *base;
	ssize_t n;

	snprintf(path, sizeof(path), VT_SYS_VDPA "/devices/%s/driver", name);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	base = strrchr(target, '/');
	if ((size_t)snprintf(drv, len, "%s", base ? base + 1 : target) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* Wait for NAME on the vdpa bus while vblkd @vd lives. */
static int vt_wait_device(struct vd_proc *vd, const char *name, int timeout_ms)
{
	char path[PATH_MAX];
	int64_t end = vt_now_us() + (int64_t)timeout_ms * 1000;

	snprintf(path, sizeof(path), VT_SYS_VDPA "/devices/%s", name);
	while (access(path, F_OK)) {
		if (!vd_alive(vd))
			return -ECHILD;
		if (vt_now_us() >= end)
			return -ETIMEDOUT;
		usleep(20 * 1000);
	}
	return 0;
}

/* The vhost-vdpa-N child of NAME in sysfs, once vhost_vdpa created it. */
static int vt_find_vhost_node(const char *name, char *node, size_t len, int timeout_ms)
{
	char path[PATH_MAX];
	int64_t end = vt_now_us() + (int64_t)timeout_ms * 1000;
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), VT_SYS_VDPA "/devices/%s", name);
	for (;;) {
		d = opendir(path);
		if (!d)
			return -errno;
		while ((de = readdir(d))) {
			if (!strncmp(de->d_name, "vhost-vdpa-", 11)) {
				int n = snprintf(node, len, "%s", de->d_name);

				closedir(d);
				return (size_t)n < len ? 0 : -ENAMETOOLONG;
			}
		}
		closedir(d);
		if (vt_now_us() >= end)
			return -ETIMEDOUT;
		usleep(20 * 1000);
	}
}

/* /dev/@node from devtmpfs, or made from its sysfs "dev" when it never shows. */
static int vt_dev_node(const char *name, const char *node, char *dev, size_t len)
{
	char path[PATH_MAX], majmin[32];
	unsigned int maj, min;
	int ret;

	if ((size_t)snprintf(dev, len, "/dev/%s", node) >= len)
		return -ENAMETOOLONG;
	for (int i = 0; i < 100; i++) {
		if (!access(dev, F_OK))
			return 0;
		usleep(20 * 1000);
	}
	snprintf(path, sizeof(path), VT_SYS_VDPA "/devices/%s/%s/dev", name, node);
	ret = vt_read_file(path, majmin, sizeof(majmin));
	if (ret)
		return ret;
	if (sscanf(majmin, "%u:%u", &maj, &min) != 2)
		return -EPROTO;
	if (mknod(dev, S_IFCHR | 0600, makedev(maj, min)) && errno != EEXIST)
		return -errno;
	return 0;
}

/*
 * Hand NAME to vhost_vdpa: unbind it from whatever took it (virtio_vdpa
 * when autoprobe is on), pin it with driver_override so no other driver
 * grabs it on a reprobe, bind. @dev gets /dev/vhost-vdpa-N.
 */
static int vt_bind_vhost(const char *name, char *dev, size_t len)
{
	char path[PATH_MAX], drv[64], node[64];
	bool bound = false;
	int ret;

	ret = vt_driver_of(name, drv, sizeof(drv));
	if (!ret && strcmp(drv, "vhost_vdpa")) {
		snprintf(path, sizeof(path), VT_SYS_VDPA "/drivers/%s/unbind", drv);
		ret = vt_write_file(path, name);
		if (ret)
			return ret;
	} else if (!ret) {
		bound = true;
	}
	snprintf(path, sizeof(path), VT_SYS_VDPA "/devices/%s/driver_override", name);
	ret = vt_write_file(path, "vhost_vdpa");
	if (ret && ret != -ENOENT)
		return ret;
	if (!bound) {
		ret = vt_write_file(VT_SYS_VDPA "/drivers/vhost_vdpa/bind", name);
		if (ret)
			return ret;
	}
	ret = vt_find_vhost_node(name, node, sizeof(node), 5000);
	if (ret)
		return ret;
	return vt_dev_node(name, node, dev, len);
}

/* Off: a new vdpa device waits unbound (for a state load) until bound by hand. */
static int vt_autoprobe(bool on)
{
	return vt_write_file(VT_SYS_VDPA "/drivers_autoprobe", on ? "1" : "0");
}

/* Daemons */

struct vt_daemon {
	struct vd_proc vd;
	char name[32];
	char ctl[VD_PATH_MAX];
	char dev[64];			/* /dev/vhost-vdpa-N once bound */
	bool up;
};

/*
 * vblkd --vduse @name with VT_NQ queues, a control socket in @dir and the
 * test's image identity, on @image when given (another daemon's), else its
 * own; then wait for the device on the vdpa bus.
 */
static int vt_daemon_start(struct vt_daemon *d, const char *dir, const char *name,
			   const char *image)
{
	const char *extra[] = {
		"--num-queues", "2", "--control-socket", d->ctl, "--image-id", VT_IMAGE_ID,
		image ? "--image" : NULL, image, NULL,
	};
	int ret;

	snprintf(d->name, sizeof(d->name), "%s", name);
	if ((size_t)snprintf(d->ctl, sizeof(d->ctl), "%s/%s.ctl", dir, name) >= sizeof(d->ctl))
		return -ENAMETOOLONG;
	/* A second --image overrides the one vd_start_vduse() gives. */
	ret = vd_start_vduse(&d->vd, name, VT_IMAGE_SIZE, extra);
	if (ret)
		return ret;
	d->up = true;
	return vt_wait_device(&d->vd, name, VT_WAIT_MS);
}

/*
 * SIGTERM: vblkd removes the device from the bus and exits 0. Every
 * vhost-vdpa fd on the device must be closed first: vhost_vdpa's remove
 * waits for the last one.
 */
static void vt_daemon_down(struct __test_metadata *_metadata, struct vt_daemon *d)
{
	char path[PATH_MAX];
	int status = 0, ret;

	if (!d->up)
		return;
	if (d->vd.pid > 0) {
		ret = vd_stop(&d->vd, 15000, &status);
		EXPECT_EQ(0, ret) TH_LOG("%s: stopping vblkd: %s", d->name,
					 ret == -ETIMEDOUT ? "no exit within 15 s of SIGTERM"
							   : strerror(-ret));
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
			TH_LOG("%s: vblkd exit status 0x%x", d->name, status);
		snprintf(path, sizeof(path), VT_SYS_VDPA "/devices/%s", d->name);
		EXPECT_NE(0, access(path, F_OK)) TH_LOG("%s left on the vdpa bus", d->name);
	}
	if (_metadata->exit_code == KSFT_FAIL || getenv("VBLKD_TEST_LOG"))
		vd_dump_log(&d->vd);
	vd_cleanup(&d->vd);
	unlink(d->ctl);
	d->up = false;
}

/* I/O with patterns: chunk i of a run gets host_pattern(seed + i). */

/* Largest request the device takes: its size_max when it has one. */
static size_t vt_chunk(const struct fe_blk *blk)
{
	size_t chunk = VT_CHUNK;

	if (blk->features & (1ull << VIRTIO_BLK_F_SIZE_MAX) && blk->config.size_max &&
	    blk->config.size_max < chunk)
		chunk = blk->config.size_max & ~(size_t)(FE_BLK_SECTOR - 1);
	return chunk;
}

/*
 * Write (or, with @verify, read and compare) @bytes from @sector with up to
 * VT_DEPTH requests in flight, spread over every queue. Return: the number of
 * requests, or -1 after a failed expectation.
 */
static int vt_io(struct __test_metadata *_metadata, struct fe_blk *blk, uint64_t sector,
		 size_t bytes, uint32_t seed, bool verify)
{
	size_t chunk = vt_chunk(blk), nchunks = (bytes + chunk - 1) / chunk;
	struct fe_blk_req *req[VT_DEPTH];
	uint8_t *buf = malloc(chunk);
	int ret, count = 0, failed = 0;

	if (!buf)
		return -1;
	for (size_t first = 0; first < nchunks && !failed; first += VT_DEPTH) {
		unsigned int n = 0;

		for (size_t i = first; i < nchunks && n < VT_DEPTH; i++, n++) {
			uint64_t s = sector + i * (chunk / FE_BLK_SECTOR);
			unsigned int q = (unsigned int)(i % blk->num_queues);

			if (verify) {
				ret = fe_blk_submit_read(blk, q, s, chunk, &req[n]);
			} else {
				host_pattern(buf, chunk, seed + (uint32_t)i);
				ret = fe_blk_submit_write(blk, q, s, buf, chunk, &req[n]);
			}
			EXPECT_EQ(0, ret) TH_LOG("submit %s of chunk %zu: %s",
						 verify ? "read" : "write", i, strerror(-ret));
			if (ret) {
				failed = 1;
				break;
			}
		}
		for (unsigned int k = 0; k < n; k++) {
			size_t i = first + k;

			ret = fe_blk_wait(blk, req[k], VT_IO_MS);
			EXPECT_EQ(0, ret) TH_LOG("chunk %zu never completed: %s", i, strerror(-ret));
			if (ret) {
				failed = 1;	/* the request stays on the ring, with its memory */
				continue;
			}
			EXPECT_EQ(VIRTIO_BLK_S_OK, req[k]->status) TH_LOG("chunk %zu", i);
			if (req[k]->status != VIRTIO_BLK_S_OK)
				failed = 1;
			if (verify && req[k]->status == VIRTIO_BLK_S_OK) {
				host_pattern(buf, chunk, seed + (uint32_t)i);
				EXPECT_EQ(0, memcmp(buf, req[k]->data, chunk))
					TH_LOG("chunk %zu (sector %llu) reads back wrong", i,
					       (unsigned long long)(sector + i * (chunk / FE_BLK_SECTOR)));
				if (memcmp(buf, req[k]->data, chunk))
					failed = 1;
			}
			fe_blk_req_free(blk, req[k]);
			count++;
		}
	}
	free(buf);
	return failed ? -1 : count;
}

/* GET_ID and FLUSH on queue @q: both OK. */
static void vt_get_id_and_flush(struct __test_metadata *_metadata, struct fe_blk *blk,
				unsigned int q)
{
	char id[VIRTIO_BLK_ID_BYTES + 1] = "";
	struct fe_blk_req *req;

	ASSERT_EQ(0, fe_blk_submit_get_id(blk, q, &req));
	ASSERT_EQ(0, fe_blk_wait(blk, req, VT_IO_MS));
	EXPECT_EQ(VIRTIO_BLK_S_OK, req->status);
	memcpy(id, req->data, VIRTIO_BLK_ID_BYTES);
	vt_note("GET_ID on queue %u: status %u, \"%s\"", q, req->status, id);
	fe_blk_req_free(blk, req);

	if (!(blk->features & (1ull << VIRTIO_BLK_F_FLUSH)))
		return;
	ASSERT_EQ(0, fe_blk_submit_flush(blk, q, &req));
	ASSERT_EQ(0, fe_blk_wait(blk, req, VT_IO_MS));
	EXPECT_EQ(VIRTIO_BLK_S_OK, req->status);
	fe_blk_req_free(blk, req);
}

static void vt_print_features(const char *who, const struct fe_blk *blk)
{
	const struct fe_vdpa *v = &blk->vdpa;

	vt_note("%s: backend features offered 0x%llx, acked 0x%llx; SUSPEND %s, RESUME %s",
		who, (unsigned long long)v->backend_offered,
		(unsigned long long)v->backend_acked,
		v->backend_offered & (1ull << VHOST_BACKEND_F_SUSPEND) ? "offered" : "not offered",
		v->backend_offered & (1ull << VHOST_BACKEND_F_RESUME) ? "offered" : "not offered");
	vt_note("%s: device features offered 0x%llx, acked 0x%llx; %u vqs, ring max %u, "
		"config %u bytes, IOVA 0x%llx-0x%llx", who,
		(unsigned long long)v->features, (unsigned long long)blk->features, v->nvqs,
		v->vring_max, v->config_size, (unsigned long long)v->iova_first,
		(unsigned long long)v->iova_last);
}

/* The state blob: QUEUE and COUNTERS sections, trailer verified. */

struct vt_state {
	unsigned int nqueues;
	uint16_t last_avail[FE_BLK_MAX_QUEUES];
	uint16_t used_idx[FE_BLK_MAX_QUEUES];
	uint16_t inflight[FE_BLK_MAX_QUEUES];
	bool have_counters;
	uint64_t counters[VT_NCOUNTERS];
};

static int vt_on_section(void *opaque, uint16_t type, uint16_t flags, const uint8_t *p,
			 uint32_t len)
{
	struct vt_state *st = opaque;
	uint16_t q;
	uint32_t n;

	if (type == BLK_SEC_QUEUE) {
		if (len < 12)
			return STATE_E_CONTENT;
		q = state_get_le16(p);
		if (q >= FE_BLK_MAX_QUEUES)
			return STATE_E_CONTENT;
		st->last_avail[q] = state_get_le16(p + 6);
		st->used_idx[q] = state_get_le16(p + 8);
		st->inflight[q] = state_get_le16(p + 10);
		st->nqueues++;
	} else if (type == BLK_SEC_COUNTERS) {
		if (len < 4)
			return STATE_E_CONTENT;
		n = state_get_le32(p);
		if (n > (len - 4) / 8)
			return STATE_E_CONTENT;
		for (uint32_t i = 0; i < n && i < VT_NCOUNTERS; i++)
			st->counters[i] = state_get_le64(p + 4 + 8 * i);
		st->have_counters = true;
	}
	return 0;
}

/* Return: STATE_OK or the reader's enum state_err. */
static int vt_parse_state(const uint8_t *buf, size_t len, struct vt_state *st)
{
	struct state_reader r;
	int ret;

	memset(st, 0, sizeof(*st));
	if (state_reader_init(&r, BLK_STATE_DEVICE_TYPE, vt_on_section, st))
		return STATE_E_CONTENT;
	ret = state_reader_feed(&r, buf, len);
	if (ret == STATE_OK)
		ret = state_reader_finish(&r);
	state_reader_fini(&r);
	return ret;
}

/*
 * One transfer over a new connection to @ctl (save into *@out, or load
 * @in). Return: 0, vblkd's refusal (> 0: SET_DEVICE_STATE_FD's error bits,
 * else CHECK_DEVICE_STATE's code), or -errno.
 */
static int vt_transfer(const char *ctl, uint8_t **out, size_t *out_len, const void *in,
		       size_t in_len, uint64_t *us)
{
	struct fe_state_res res;
	struct fe_vu vu;
	int ret;

	ret = fe_vu_connect(&vu, ctl, 5000);
	if (ret)
		return ret;
	vu.timeout_ms = VT_WAIT_MS;
	if (out)
		ret = fe_state_save_buf(&vu, out, out_len, &res);
	else
		ret = fe_state_load_buf(&vu, in, in_len, &res);
	fe_vu_disconnect(&vu);
	if (us)
		*us = res.total_us;
	if (ret == -EREMOTEIO)
		return res.set_err ? (int)res.set_err : (int)res.check;
	return ret;
}

/*
 * Suspend a device a vhost-vdpa client drives: the kernel's suspend when
 * vhost-vdpa offers it, else the compat endpoint (then only reading the
 * bases). Either way the control socket's GET_VRING_BASE must agree with
 * VHOST_GET_VRING_BASE. Return: the time it took (us).
 */
static int64_t vt_suspend(struct __test_metadata *_metadata, struct fe_blk *blk,
			  struct vt_daemon *d, bool *kernel)
{
	uint16_t ctl_bases[FE_BLK_MAX_QUEUES];
	int64_t t0 = vt_now_us(), t1;
	int ret;

	*kernel = blk->vdpa.backend_acked & (1ull << VHOST_BACKEND_F_SUSPEND);
	if (*kernel) {
		ret = fe_blk_suspend(blk);
		t1 = vt_now_us();
		EXPECT_EQ(0, ret) TH_LOG("VHOST_VDPA_SUSPEND + GET_VRING_BASE: %s", strerror(-ret));
		ret = fe_ctl_suspend(d->ctl, blk->num_queues, ctl_bases);
		EXPECT_EQ(0, ret) TH_LOG("compat endpoint after a kernel suspend: %s",
					 strerror(-ret));
	} else {
		ret = fe_ctl_suspend(d->ctl, blk->num_queues, ctl_bases);
		EXPECT_EQ(0, ret) TH_LOG("compat endpoint suspend: %s", strerror(-ret));
		ret = fe_blk_suspend(blk);
		t1 = vt_now_us();
		EXPECT_EQ(0, ret) TH_LOG("VHOST_GET_VRING_BASE: %s", strerror(-ret));
	}
	for (unsigned int i = 0; i < blk->num_queues; i++) {
		EXPECT_EQ(ctl_bases[i], blk->bases[i])
			TH_LOG("ring %u: the control socket says %u, vhost-vdpa %u", i,
			       ctl_bases[i], blk->bases[i]);
		vt_note("%s: ring %u base %u (avail idx %u)", d->name, i, blk->bases[i],
			blk->vqs[i].avail_idx);
	}
	return t1 - t0;
}

/* 6b: I/O */

FIXTURE(io) {
	char dir[64];
	struct vt_daemon d;
	struct fe_blk blk;
	bool blk_open;
};

FIXTURE_SETUP(io)
{
	if (!vt_have_vduse())
		SKIP(return, "no /dev/vduse/control: VDUSE tests run in the guest (run-suite.sh)");
	ASSERT_NE(NULL, vd_binary()) TH_LOG("VBLKD is not set");
	snprintf(self->dir, sizeof(self->dir), "/tmp/vblkd-vdpa-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
}

FIXTURE_TEARDOWN(io)
{
	/* An ASSERT's longjmp leaves this set: the first EXPECT here would log. */
	_metadata->trigger = 0;
	if (self->blk_open)
		fe_blk_close(&self->blk);
	vt_daemon_down(_metadata, &self->d);
	if (self->dir[0])
		rmdir(self->dir);
}

/* vblkd --vduse @name, rebound to vhost_vdpa, a client on it. */
static void io_up(struct __test_metadata *_metadata, FIXTURE_DATA(io) *self, const char *name)
{
	struct fe_blk_opts opts = { .num_queues = VT_NQ, .mem_size = VT_MEM_SIZE };
	char drv[64] = "none";
	int ret;

	ret = vt_daemon_start(&self->d, self->dir, name, NULL);
	if (ret)
		vd_dump_log(&self->d.vd);
	ASSERT_EQ(0, ret) TH_LOG("vblkd --vduse %s: %s", name, strerror(-ret));
	vt_driver_of(name, drv, sizeof(drv));
	vt_note("%s on the vdpa bus, bound to %s", name, drv);
	ret = vt_bind_vhost(name, self->d.dev, sizeof(self->d.dev));
	ASSERT_EQ(0, ret) TH_LOG("bind %s to vhost_vdpa: %s", name, strerror(-ret));
	ret = fe_blk_open_vdpa(&self->blk, self->d.dev, &opts);
	ASSERT_EQ(0, ret) TH_LOG("fe_blk_open_vdpa(%s): %s", self->d.dev, strerror(-ret));
	self->blk_open = true;
}

TEST_F_TIMEOUT(io, rebound_to_vhost_vdpa_serves_io_on_every_queue, 300)
{
	const size_t bytes = 4u << 20;

	io_up(_metadata, self, "vt-io");
	vt_print_features(self->d.dev, &self->blk);
	EXPECT_EQ(VT_IMAGE_SIZE / FE_BLK_SECTOR, self->blk.config.capacity);
	EXPECT_TRUE(self->blk.features & (1ull << VIRTIO_F_ACCESS_PLATFORM));

	int64_t t0 = vt_now_us();
	int writes = vt_io(_metadata, &self->blk, 0, bytes, 1000, false);

	ASSERT_LT(0, writes);
	int64_t t1 = vt_now_us();
	int reads = vt_io(_metadata, &self->blk, 0, bytes, 1000, true);

	ASSERT_LT(0, reads);
	int64_t t2 = vt_now_us();

	vt_note("%zu KiB in %d writes: %.1f ms; read back and compared in %d reads: %.1f ms",
		bytes >> 10, writes, vt_ms(t0, t1), reads, vt_ms(t1, t2));
	for (unsigned int q = 0; q < VT_NQ; q++)
		vt_get_id_and_flush(_metadata, &self->blk, q);
}

/*
 * Suspended, the device leaves new requests alone; resumed (7.3: reset and
 * DRIVER_OK from the bases, as QEMU does; 6.12: the compat endpoint restarts
 * the rings it stopped), it serves them and carries on.
 */
TEST_F_TIMEOUT(io, suspended_device_serves_nothing_until_resumed, 300)
{
	enum { NREQ = 4 };
	struct fe_blk_req *req[NREQ];
	uint16_t ctl_bases[FE_BLK_MAX_QUEUES];
	uint8_t buf[4096];
	bool kernel;
	int ret;

	io_up(_metadata, self, "vt-res");
	ASSERT_LT(0, vt_io(_metadata, &self->blk, 0, 256u << 10, 40, false));
	kernel = self->blk.vdpa.backend_acked & (1ull << VHOST_BACKEND_F_SUSPEND);
	if (!kernel) {
		ret = fe_ctl_suspend(self->d.ctl, VT_NQ, ctl_bases);
		ASSERT_EQ(0, ret) TH_LOG("compat endpoint suspend: %s", strerror(-ret));
	}
	ret = fe_blk_suspend(&self->blk);
	ASSERT_EQ(0, ret) TH_LOG("fe_blk_suspend: %s", strerror(-ret));
	vt_note("vt-res suspended by %s at bases %u, %u", kernel ? "the kernel" : "the compat endpoint",
		self->blk.bases[0], self->blk.bases[1]);

	for (unsigned int i = 0; i < NREQ; i++) {
		host_pattern(buf, sizeof(buf), 50 + i);
		ASSERT_EQ(0, fe_blk_submit_write(&self->blk, i % VT_NQ, 4096 + i * 8, buf,
						 sizeof(buf), &req[i]));
	}
	usleep(300 * 1000);
	for (unsigned int q = 0; q < VT_NQ; q++)
		fe_blk_reap(&self->blk, q, 0);
	for (unsigned int i = 0; i < NREQ; i++) {
		EXPECT_FALSE(req[i]->done) TH_LOG("the suspended device served write %u", i);
	}

	int64_t t0 = vt_now_us();

	if (kernel)
		ret = fe_blk_resume(&self->blk);
	else
		ret = fe_ctl_resume(self->d.ctl, VT_NQ);
	ASSERT_EQ(0, ret) TH_LOG("resume: %s", strerror(-ret));
	vt_note("resumed by %s in %.1f ms",
		!kernel ? "the compat endpoint (SET_VRING_ENABLE 1)" :
		fe_vdpa_backend_has(&self->blk.vdpa, VHOST_BACKEND_F_RESUME) ?
			"VHOST_VDPA_RESUME" : "reset + DRIVER_OK from the bases",
		vt_ms(t0, vt_now_us()));
	/* Queued while suspended, never kicked again: still served. */
	for (unsigned int i = 0; i < NREQ; i++) {
		ASSERT_EQ(0, fe_blk_wait(&self->blk, req[i], VT_IO_MS)) TH_LOG("write %u", i);
		EXPECT_EQ(VIRTIO_BLK_S_OK, req[i]->status);
		fe_blk_req_free(&self->blk, req[i]);
	}
	EXPECT_LT(0, vt_io(_metadata, &self->blk, 0, 256u << 10, 40, true));
	for (unsigned int i = 0; i < NREQ; i++) {
		uint8_t got[4096];

		host_pattern(buf, sizeof(buf), 50 + i);
		ASSERT_EQ(VIRTIO_BLK_S_OK, fe_blk_read(&self->blk, (i + 1) % VT_NQ, 4096 + i * 8,
						       got, sizeof(got)));
		EXPECT_EQ(0, memcmp(buf, got, sizeof(got))) TH_LOG("write %u", i);
	}
}

/* 6c and 6e: two daemons on one image, a client moving from the first to the second */

FIXTURE(mig) {
	char dir[64];
	struct vt_daemon src, dst;
	struct fe_blk sblk, dblk;
	bool sblk_open, dblk_open;
	bool autoprobe_off;
	uint8_t *blob;
	size_t blob_len;
	int writes;			/* write requests the client sent to the source */
};

FIXTURE_SETUP(mig)
{
	if (!vt_have_vduse())
		SKIP(return, "no /dev/vduse/control: VDUSE tests run in the guest (run-suite.sh)");
	ASSERT_NE(NULL, vd_binary()) TH_LOG("VBLKD is not set");
	snprintf(self->dir, sizeof(self->dir), "/tmp/vblkd-vdpa-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
}

FIXTURE_TEARDOWN(mig)
{
	/* An ASSERT's longjmp leaves this set: the first EXPECT here would log. */
	_metadata->trigger = 0;
	if (self->dblk_open)
		fe_blk_close(&self->dblk);
	if (self->sblk_open)
		fe_blk_close(&self->sblk);
	vt_daemon_down(_metadata, &self->dst);
	vt_daemon_down(_metadata, &self->src);
	if (self->autoprobe_off)
		vt_autoprobe(true);
	free(self->blob);
	if (self->dir[0])
		rmdir(self->dir);
}

/* Source @name bound to vhost_vdpa, a client on it, 2 MiB written with seed 1. */
static void mig_source_up(struct __test_metadata *_metadata, FIXTURE_DATA(mig) *self,
			  const char *name)
{
	struct fe_blk_opts opts = { .num_queues = VT_NQ, .mem_size = VT_MEM_SIZE };
	int ret;

	ret = vt_daemon_start(&self->src, self->dir, name, NULL);
	if (ret)
		vd_dump_log(&self->src.vd);
	ASSERT_EQ(0, ret) TH_LOG("vblkd --vduse %s: %s", name, strerror(-ret));
	ret = vt_bind_vhost(name, self->src.dev, sizeof(self->src.dev));
	ASSERT_EQ(0, ret) TH_LOG("bind %s to vhost_vdpa: %s", name, strerror(-ret));
	ret = fe_blk_open_vdpa(&self->sblk, self->src.dev, &opts);
	ASSERT_EQ(0, ret) TH_LOG("fe_blk_open_vdpa(%s): %s", self->src.dev, strerror(-ret));
	self->sblk_open = true;
	vt_print_features(name, &self->sblk);

	self->writes = vt_io(_metadata, &self->sblk, 0, 2u << 20, 1, false);
	ASSERT_LT(0, self->writes);
}

/* Destination @name on the source's image, left unbound for the state load. */
static void mig_dest_up(struct __test_metadata *_metadata, FIXTURE_DATA(mig) *self,
			const char *name)
{
	char drv[64];
	int ret;

	int probe_ret;

	ret = vt_autoprobe(false);
	ASSERT_EQ(0, ret) TH_LOG("drivers_autoprobe off: %s", strerror(-ret));
	self->autoprobe_off = true;
	ret = vt_daemon_start(&self->dst, self->dir, name, self->src.vd.image);
	/* Back on before any ASSERT: later guest tests count on autoprobe. */
	probe_ret = vt_autoprobe(true);
	self->autoprobe_off = probe_ret != 0;
	EXPECT_EQ(0, probe_ret) TH_LOG("drivers_autoprobe on: %s", strerror(-probe_ret));
	if (ret)
		vd_dump_log(&self->dst.vd);
	ASSERT_EQ(0, ret) TH_LOG("vblkd --vduse %s: %s", name, strerror(-ret));
	EXPECT_EQ(-ENOENT, vt_driver_of(name, drv, sizeof(drv)))
		TH_LOG("%s was bound to %s although autoprobe is off", name, drv);
}

/*
 * Suspend the source, check the saved state against the client's view and
 * keep it in self->blob. Return: suspend and save times (us).
 */
static void mig_suspend_and_save(struct __test_metadata *_metadata, FIXTURE_DATA(mig) *self,
				 int64_t *suspend_us, int64_t *save_us)
{
	struct vt_state st;
	uint64_t us = 0;
	bool kernel;
	int ret;

	*suspend_us = vt_suspend(_metadata, &self->sblk, &self->src, &kernel);
	vt_note("%s suspended by %s", self->src.name,
		kernel ? "the kernel (VHOST_VDPA_SUSPEND)" : "the compat endpoint");
	ASSERT_EQ(0, _metadata->exit_code);

	ret = vt_transfer(self->src.ctl, &self->blob, &self->blob_len, NULL, 0, &us);
	*save_us = (int64_t)us;
	ASSERT_EQ(0, ret) TH_LOG("save from %s: %d (%s)", self->src.name, ret,
				 ret > 0 ? state_err_str(ret) : strerror(-ret));
	ASSERT_EQ(STATE_OK, vt_parse_state(self->blob, self->blob_len, &st));
	EXPECT_EQ(VT_NQ, st.nqueues);
	for (unsigned int i = 0; i < VT_NQ; i++) {
		EXPECT_EQ(self->sblk.bases[i], st.last_avail[i]) TH_LOG("state ring %u", i);
		EXPECT_EQ(0, st.inflight[i]) TH_LOG("ring %u drained", i);
	}
	ASSERT_TRUE(st.have_counters);
	EXPECT_EQ((uint64_t)self->writes, st.counters[VT_CNT_WRITES])
		TH_LOG("writes counted by the source");
	vt_note("%s state: %zu bytes, %llu reads, %llu writes", self->src.name, self->blob_len,
		(unsigned long long)st.counters[0], (unsigned long long)st.counters[1]);
}

/* Load @buf into the destination's control socket: 0 or the refusal / -errno. */
static int mig_load(FIXTURE_DATA(mig) *self, const void *buf, size_t len, uint64_t *us)
{
	return vt_transfer(self->dst.ctl, NULL, NULL, buf, len, us);
}

/* Bind the destination, re-attach the client with the saved bases, drop the source. */
static int64_t mig_reattach(struct __test_metadata *_metadata, FIXTURE_DATA(mig) *self,
			    int64_t *bind_us)
{
	int64_t t0 = vt_now_us(), t1, t2;
	int ret;

	ret = vt_bind_vhost(self->dst.name, self->dst.dev, sizeof(self->dst.dev));
	t1 = vt_now_us();
	*bind_us = t1 - t0;
	ASSERT_EQ(0, ret) TH_LOG("bind %s to vhost_vdpa: %s", self->dst.name, strerror(-ret));
	ret = fe_blk_open_vdpa_peer(&self->dblk, self->dst.dev, &self->sblk, NULL);
	t2 = vt_now_us();
	ASSERT_EQ(0, ret) TH_LOG("fe_blk_open_vdpa_peer(%s): %s", self->dst.dev,
				 strerror(-ret));
	self->dblk_open = true;
	/* The source only borrows now: closing it resets the old device only. */
	fe_blk_close(&self->sblk);
	self->sblk_open = false;
	return t2 - t1;
}

/* Suspend the destination and read its write counter from a save. */
static uint64_t mig_dest_writes(struct __test_metadata *_metadata, FIXTURE_DATA(mig) *self)
{
	struct vt_state st;
	uint8_t *blob = NULL;
	size_t len = 0;
	bool kernel;
	int ret;

	vt_suspend(_metadata, &self->dblk, &self->dst, &kernel);
	ret = vt_transfer(self->dst.ctl, &blob, &len, NULL, 0, NULL);
	EXPECT_EQ(0, ret) TH_LOG("save from %s: %d", self->dst.name, ret);
	if (ret)
		return 0;
	ret = vt_parse_state(blob, len, &st);
	free(blob);
	EXPECT_EQ(STATE_OK, ret);
	EXPECT_TRUE(st.have_counters);
	return st.counters[VT_CNT_WRITES];
}

TEST_F_TIMEOUT(mig, client_moves_to_a_new_device_with_the_state_and_keeps_its_data, 400)
{
	int64_t suspend_us, save_us, bind_us, reattach_us, t0;
	uint64_t load_us = 0, dwrites;
	int ret, writes2;

	mig_source_up(_metadata, self, "vt-mig-a");
	/* The destination waits ready before the downtime starts, as a VMM's would. */
	mig_dest_up(_metadata, self, "vt-mig-b");

	t0 = vt_now_us();
	mig_suspend_and_save(_metadata, self, &suspend_us, &save_us);
	ret = mig_load(self, self->blob, self->blob_len, &load_us);
	ASSERT_EQ(0, ret) TH_LOG("load into %s: %d (%s)", self->dst.name, ret,
				 ret > 0 ? state_err_str(ret) : strerror(-ret));
	reattach_us = mig_reattach(_metadata, self, &bind_us);
	int64_t total_us = vt_now_us() - t0;

	vt_note("migration timing: suspend %.1f ms, save %.1f ms (%zu bytes), load %.1f ms, "
		"bind %.1f ms, re-attach %.1f ms, total %.1f ms",
		vt_ms(0, suspend_us), vt_ms(0, save_us), self->blob_len,
		vt_ms(0, (int64_t)load_us), vt_ms(0, bind_us), vt_ms(0, reattach_us),
		vt_ms(0, total_us));

	/* The destination carries on where the source stopped. */
	writes2 = vt_io(_metadata, &self->dblk, 8192, 2u << 20, 2, false);
	ASSERT_LT(0, writes2);
	EXPECT_LT(0, vt_io(_metadata, &self->dblk, 0, 2u << 20, 1, true))
		TH_LOG("data written through the source");
	EXPECT_LT(0, vt_io(_metadata, &self->dblk, 8192, 2u << 20, 2, true))
		TH_LOG("data written through the destination");
	vt_get_id_and_flush(_metadata, &self->dblk, 1);

	dwrites = mig_dest_writes(_metadata, self);
	EXPECT_EQ((uint64_t)(self->writes + writes2), dwrites)
		TH_LOG("destination write counter: %d before, %d after the migration",
		       self->writes, writes2);
	vt_note("write requests: %d on the source, %d on the destination, counted %llu",
		self->writes, writes2, (unsigned long long)dwrites);
}

TEST_F_TIMEOUT(mig, corrupt_states_are_refused_and_the_destination_stays_usable, 400)
{
	static const struct { const char *what; size_t at; } flips[] = {
		{ "magic", 0 },
		{ "a section's payload", 0 },	/* the middle, set below */
		{ "the CRC", 0 },		/* the last byte, set below */
	};
	int64_t suspend_us, save_us, bind_us;
	uint8_t *bad;
	int ret;

	mig_source_up(_metadata, self, "vt-bad-a");
	mig_dest_up(_metadata, self, "vt-bad-b");
	mig_suspend_and_save(_metadata, self, &suspend_us, &save_us);
	bad = malloc(self->blob_len);
	ASSERT_NE(NULL, bad);

	for (size_t k = 0; k < sizeof(flips) / sizeof(flips[0]); k++) {
		size_t at = k == 1 ? self->blob_len / 2 : k == 2 ? self->blob_len - 1 : 0;

		memcpy(bad, self->blob, self->blob_len);
		bad[at] ^= 0x40;
		ret = mig_load(self, bad, self->blob_len, NULL);
		EXPECT_LT(0, ret) TH_LOG("a flipped byte in %s (offset %zu) was not refused: %d",
					 flips[k].what, at, ret);
		vt_note("flipped byte in %s (offset %zu): refused with %d (%s)", flips[k].what,
			at, ret, ret > 0 ? state_err_str(ret) : strerror(-ret));
	}
	for (size_t cut = 1; cut < self->blob_len; cut = cut * 4 + 3) {
		ret = mig_load(self, self->blob, self->blob_len - cut, NULL);
		EXPECT_LT(0, ret) TH_LOG("a state %zu bytes short was not refused: %d", cut, ret);
		vt_note("truncated by %zu bytes: refused with %d (%s)", cut, ret,
			ret > 0 ? state_err_str(ret) : strerror(-ret));
	}
	free(bad);
	ASSERT_TRUE(vd_alive(&self->dst.vd)) TH_LOG("%s died on a corrupt state", self->dst.name);

	/* Nothing of the refused loads stuck: the good state loads and the device serves. */
	ret = mig_load(self, self->blob, self->blob_len, NULL);
	ASSERT_EQ(0, ret) TH_LOG("the good state after the corrupt ones: %d (%s)", ret,
				 ret > 0 ? state_err_str(ret) : strerror(-ret));
	mig_reattach(_metadata, self, &bind_us);
	EXPECT_LT(0, vt_io(_metadata, &self->dblk, 0, 2u << 20, 1, true));
	EXPECT_LT(0, vt_io(_metadata, &self->dblk, 16384, 1u << 20, 7, false));
	EXPECT_LT(0, vt_io(_metadata, &self->dblk, 16384, 1u << 20, 7, true));
}

int main(int argc, char **argv)
{
	pid_t pid;
	int status;

	if (vt_have_vduse())
		return test_harness_run(argc, argv);
	/*
	 * Every test skips, and this harness then exits 0; kselftest's code
	 * for "skipped" is 4, which the suite needs to tell a host run from a
	 * guest run.
	 */
	fflush(NULL);
	pid = fork();
	if (pid == 0)
		return test_harness_run(argc, argv);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return KSFT_FAIL;
	if (!WIFEXITED(status))
		return KSFT_FAIL;
	return WEXITSTATUS(status) == KSFT_PASS ? KSFT_SKIP : WEXITSTATUS(status);
}
