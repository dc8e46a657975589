/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vdpa bus membership over generic netlink (family "vdpa"): what
 * `vdpa dev add name NAME mgmtdev MGMTDEV` and `vdpa dev del NAME` do.
 * Each call opens and closes its own socket; calls are rare (start, stop).
 */
#ifndef VB_VDPA_NL_H
#define VB_VDPA_NL_H

/**
 * vdpa_nl_dev_add() - add a device of a management device to the vdpa bus
 * @mgmtdev: management device name ("vduse"), or "BUS/DEV"
 * @name: device name (for VDUSE: the name given to VDUSE_CREATE_DEV)
 *
 * The kernel probes the bound driver before it answers, so for VDUSE the
 * caller must already be serving /dev/vduse/@name.
 *
 * Return: 0; -EEXIST when the device is already on the bus; -ENOENT when the
 * kernel has no "vdpa" family (module not loaded); -ENODEV when there is no
 * such management device; -ETIMEDOUT when no answer came in time; another
 * -errno from the kernel (e.g. -EINVAL: no VDUSE device @name ready).
 */
int vdpa_nl_dev_add(const char *mgmtdev, const char *name);

/**
 * vdpa_nl_dev_del() - remove a device from the vdpa bus
 * @name: device name
 *
 * Return: 0; -ENODEV when the device is not on the bus; -ENOENT when the
 * kernel has no "vdpa" family; -ETIMEDOUT or another -errno otherwise.
 */
int vdpa_nl_dev_del(const char *name);

#endif
