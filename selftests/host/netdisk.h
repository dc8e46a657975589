/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Network disk servers for the host tests: nbdkit's memory plugin and
 * qemu-nbd on a file, each on a UNIX socket in a temp dir, and a throwaway
 * single-node Ceph cluster (scripts/ceph-cluster.sh). Each helper returns
 * -ENOENT when its program is not installed, so a test can SKIP.
 */
#ifndef VB_NETDISK_H
#define VB_NETDISK_H

#include <stdint.h>
#include <sys/types.h>

struct nd_server {
	pid_t pid;
	char dir[64];
	char sock[128];
	char uri[192]; /* nbd+unix:///?socket=... */
	char file[128]; /* qemu-nbd's image */
};

/* nbdkit memory SIZE (e.g. "16M") on dir/nbd.sock; a new dir unless s->dir is set. */
int nd_nbdkit_start(struct nd_server *s, const char *size);

/* qemu-nbd on dir/disk.raw of @size bytes, filled with 0xa5. */
int nd_qemu_nbd_start(struct nd_server *s, uint64_t size);

/* SIGKILL the server and reap it; its dir stays for a restart. */
void nd_kill(struct nd_server *s);

/* Kill if running, remove the dir and its files. */
void nd_cleanup(struct nd_server *s);

/**
 * nd_ceph_start() - a single-node cluster in a new temp dir (scripts/ceph-cluster.sh)
 * @dir:	out: the dir; its ceph.conf is what every client takes
 * @len:	room in @dir
 * @secs:	out: how long the start took
 *
 * Return: 0, -ENOENT when Ceph or $VBLKD_SRC is missing, or -EIO.
 */
int nd_ceph_start(char *dir, size_t len, double *secs);

/* Stop the cluster by its pid files and remove @dir. */
void nd_ceph_stop(const char *dir);

/* Run a shell command (printf-style), its output to stderr as is; its exit status. */
int nd_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Exit status of vblkd run with @argv (NULL-terminated) within @timeout_ms, or -errno. */
int nd_run_status(const char *const *argv, int timeout_ms, char *out, size_t outlen);

/**
 * nd_refused_at_start() - vblkd on @image must exit 2 within @timeout_ms
 *			   with one line that contains @needle
 * @out:	vblkd's output, for the test's log
 *
 * Return: 0, or -1 when it did not.
 */
int nd_refused_at_start(const char *image, const char *needle, int timeout_ms, char *out,
			size_t outlen);

#endif
