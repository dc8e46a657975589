/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vblkd --vduse on the kernel's vdpa bus, for vdpa_test.c: the daemon
 * started and its device awaited, the device handed to vhost_vdpa through
 * sysfs, drivers_autoprobe, a saved state's contents, time. Nothing here
 * checks with the harness (vdpa_check.h does): only one file of a program
 * may include kselftest_harness.h.
 */
#ifndef VB_VDPA_UTIL_H
#define VB_VDPA_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frontend/fe_blk.h"
#include "selftests/host/vd_proc.h"

#define VT_NQ 2
#define VT_IMAGE_SIZE (64ull << 20)
#define VT_MEM_SIZE (64ull << 20)
#define VT_WAIT_MS 30000		/* TCG guests are slow */
#define VT_IMAGE_ID "vdpa-test-disk"
#define VT_SYS_VDPA "/sys/bus/vdpa"
#define VT_NCOUNTERS 10
#define VT_CNT_WRITES 1			/* docs/state-format.md, COUNTERS */

bool vt_have_vduse(void);

/* A TAP comment that survives the harness's _exit() of the test process. */
void __attribute__((format(printf, 1, 2))) vt_note(const char *fmt, ...);

int64_t vt_now_us(void);
double vt_ms(int64_t from_us, int64_t to_us);

/* sysfs */

/* The driver NAME is bound to, or -ENOENT when unbound. */
int vt_driver_of(const char *name, char *drv, size_t len);

/*
 * Hand NAME to vhost_vdpa: unbind it from whatever took it (virtio_vdpa
 * when autoprobe is on), pin it with driver_override so no other driver
 * grabs it on a reprobe, bind. @dev gets /dev/vhost-vdpa-N.
 */
int vt_bind_vhost(const char *name, char *dev, size_t len);

/* Off: a new vdpa device waits unbound (for a state load) until bound by hand. */
int vt_autoprobe(bool on);

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
int vt_daemon_start(struct vt_daemon *d, const char *dir, const char *name, const char *image);

/**
 * vt_daemon_start_args() - vt_daemon_start() with more vblkd arguments
 * @d:		the daemon
 * @dir:	where its control socket goes
 * @name:	the VDUSE device name
 * @image:	another daemon's image to share, or NULL for its own
 * @more:	NULL-terminated extra arguments (at most 15), or NULL
 *
 * Return: 0 or -errno.
 */
int vt_daemon_start_args(struct vt_daemon *d, const char *dir, const char *name,
			 const char *image, const char *const *more);

void vt_print_features(const char *who, const struct fe_blk *blk);

/* The state blob: QUEUE and COUNTERS sections, trailer verified. */

struct vt_state {
	unsigned int nqueues;
	uint16_t last_avail[FE_BLK_MAX_QUEUES];
	uint16_t used_idx[FE_BLK_MAX_QUEUES];
	uint16_t inflight[FE_BLK_MAX_QUEUES];
	bool have_counters;
	uint64_t counters[VT_NCOUNTERS];
};

/* Return: STATE_OK or the reader's enum state_err. */
int vt_parse_state(const uint8_t *buf, size_t len, struct vt_state *st);

#endif
