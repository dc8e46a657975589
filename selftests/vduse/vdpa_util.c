// SPDX-License-Identifier: GPL-2.0-or-later
/* vblkd --vduse on the vdpa bus for vdpa_test: sysfs, daemons, state blobs, time. */
#include "vdpa_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "devices/blk/blk_state.h"
#include "state/state.h"
#include "proto/vduse_abi.h"

bool vt_have_vduse(void)
{
	return !access("/dev/vduse/control", F_OK);
}

void vt_note(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

int64_t vt_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

double vt_ms(int64_t from_us, int64_t to_us)
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

int vt_driver_of(const char *name, char *drv, size_t len)
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

/*
 * Wait for NAME on the vdpa bus while vblkd @vd lives. The sysfs entry
 * appears before the driver probe that DEV_NEW runs; a test that toggles
 * drivers_autoprobe or rebinds NAME must wait for DEV_NEW to return, which
 * vblkd logs ("on the vdpa bus").
 */
static int vt_wait_device(struct vd_proc *vd, const char *name, int timeout_ms)
{
	char path[PATH_MAX];
	int64_t end = vt_now_us() + (int64_t)timeout_ms * 1000;

	snprintf(path, sizeof(path), VT_SYS_VDPA "/devices/%s", name);
	while (access(path, F_OK) || !vd_log_contains(vd, "on the vdpa bus")) {
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

int vt_bind_vhost(const char *name, char *dev, size_t len)
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

int vt_autoprobe(bool on)
{
	return vt_write_file(VT_SYS_VDPA "/drivers_autoprobe", on ? "1" : "0");
}

/* Daemons */

int vt_daemon_start(struct vt_daemon *d, const char *dir, const char *name, const char *image)
{
	return vt_daemon_start_args(d, dir, name, image, NULL);
}

int vt_daemon_start_args(struct vt_daemon *d, const char *dir, const char *name,
			 const char *image, const char *const *more)
{
	const char *extra[24] = {
		"--num-queues", "2", "--control-socket", d->ctl, "--image-id", VT_IMAGE_ID,
	};
	unsigned int n = 6;
	int ret;

	for (; more && *more && n < 21; more++)
		extra[n++] = *more;
	if (image) {
		extra[n++] = "--image";
		extra[n++] = image;
	}
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

void vt_print_features(const char *who, const struct fe_blk *blk)
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

/* The state blob */

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

int vt_parse_state(const uint8_t *buf, size_t len, struct vt_state *st)
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
