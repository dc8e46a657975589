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

/* Exit status of vblkd run with @argv (NULL-terminated) within @timeout_ms, or -errno. */
int nd_run_status(const char *const *argv, int timeout_ms, char *out, size_t outlen);

#endif
