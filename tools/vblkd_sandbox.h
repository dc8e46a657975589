/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What vblkd gives up once it is set up (docs/security.md): capabilities it
 * no longer needs, then every system call outside an allow-list.
 */
#ifndef VB_VBLKD_SANDBOX_H
#define VB_VBLKD_SANDBOX_H

#include <stdbool.h>

/**
 * vblkd_caps_drop() - keep only the capabilities vblkd uses after set-up
 * @vduse:	serving a VDUSE device: CAP_NET_ADMIN stays, for the vdpa
 *		netlink DEV_DEL on exit
 *
 * Clears the bounding and ambient sets and the inheritable set, and leaves
 * the permitted and effective sets at what @vduse needs (nothing for
 * vhost-user). A process without those capabilities keeps what it has.
 * Return: 0, or -errno (logged).
 */
int vblkd_caps_drop(bool vduse);

/**
 * vblkd_seccomp_install() - allow only the system calls of a running vblkd
 *
 * For every thread, the ones running now (TSYNC) and the ones rings start
 * later. A system call outside the list logs its number on stderr and
 * kills the process with SIGSYS; opening a file fails with EACCES instead.
 * Also sets no_new_privs.
 * Return: 0, 1 when this build cannot run under the filter (a sanitizer
 * build; logged), or -errno (logged).
 */
int vblkd_seccomp_install(void);

#endif
