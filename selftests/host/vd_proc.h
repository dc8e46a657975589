/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A vblkd process for host tests: temp dir with image, socket and log,
 * start from $VBLKD, stop with SIGTERM, /proc probes for leaks.
 */
#ifndef VB_VD_PROC_H
#define VB_VD_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define VD_PATH_MAX 256

struct vd_proc {
	pid_t pid;			/* -1 when not running */
	char dir[64];
	char sock[VD_PATH_MAX];
	char ctl[VD_PATH_MAX];		/* DIR/ctl.sock, for a test that wants one */
	char image[VD_PATH_MAX];
	char log[VD_PATH_MAX];
	off_t log_start;		/* where the current process's log begins */
	char vduse[64];			/* --vduse NAME instead of --vhost-user; "" for vhost-user */
};

/* The daemon binary from $VBLKD, or NULL when unset or empty. */
const char *vd_binary(void);

/**
 * vd_start() - create a temp image of @image_size bytes and start vblkd
 * @extra:	NULL-terminated extra arguments (may be NULL)
 *
 * The image is filled with 0xa5 so reads of zeroed ranges are meaningful.
 * Return: 0 or -errno.
 */
int vd_start(struct vd_proc *vd, uint64_t image_size, const char *const *extra);

/**
 * vd_start_vduse() - as vd_start(), serving VDUSE device @name
 *
 * vblkd gets --vduse @name instead of --vhost-user; vd->sock is unused.
 * Return: 0, -ENAMETOOLONG, or -errno.
 */
int vd_start_vduse(struct vd_proc *vd, const char *name, uint64_t image_size,
		   const char *const *extra);

/**
 * vd_prepare() - the temp dir, paths and image of vd_start(), no process
 * @vduse:	VDUSE device name, or NULL
 *
 * For a test that starts vblkd its own way (vd_launch.h); vd_stop() and
 * vd_cleanup() work on the pid it stores in vd->pid.
 * Return: 0 or -errno (-ENOENT: $VBLKD unset).
 */
int vd_prepare(struct vd_proc *vd, const char *vduse, uint64_t image_size);

/* In a forked child: die with the test, write stdout and stderr to vd->log. */
void vd_child_setup(const struct vd_proc *vd);

/**
 * vd_stop() - SIGTERM, wait up to @timeout_ms, then SIGKILL
 * @status:	wait status
 * Return: 0, or -ETIMEDOUT when SIGKILL was needed.
 */
int vd_stop(struct vd_proc *vd, int timeout_ms, int *status);

/* SIGKILL and reap, as a crash would; 0 or -errno (-ESRCH: not running). */
int vd_kill(struct vd_proc *vd, int *status);

/**
 * vd_restart() - start a new vblkd on the same socket, image and log
 * @extra:	NULL-terminated extra arguments (may be NULL)
 *
 * The previous process must have been stopped or killed. Its log stays;
 * vd_log_contains() then looks only at what the new process writes.
 * Return: 0, -EBUSY while one still runs, or -errno.
 */
int vd_restart(struct vd_proc *vd, const char *const *extra);

/* Has the current process logged a line containing @needle? */
bool vd_log_contains(const struct vd_proc *vd, const char *needle);

/* Remove the temp dir and its files. */
void vd_cleanup(struct vd_proc *vd);

/* Still running (not exited, not a zombie)? */
bool vd_alive(struct vd_proc *vd);

/* Print the daemon log as TAP comment lines. */
void vd_dump_log(const struct vd_proc *vd);

/* CLOCK_MONOTONIC in milliseconds, for tests that time the daemon. */
int64_t vd_now_ms(void);

/* Number of open fds of @pid, or -errno. */
int vd_count_fds(pid_t pid);
/* VmRSS of @pid in KiB, or -errno. */
long vd_rss_kb(pid_t pid);
/* Does @pid map a file whose path contains @name (e.g. "libasan")? */
bool vd_maps_file(pid_t pid, const char *name);

/*
 * Run $VBLKCTL with the arguments @fmt makes (split by the shell), its
 * output thrown away. Return: its exit status, or -1 when VBLKCTL is not
 * set or it did not exit.
 */
int vd_vblkctl(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
