/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Inside the ring: what ring.c (lifecycle) and ring_worker.c (the worker) share. */
#ifndef VB_RING_INT_H
#define VB_RING_INT_H

#include "core/ring.h"

/**
 * vb_ring_worker() - the thread of a started ring
 * @arg:	the ring
 *
 * Runs until the ring is stopped (draining or capturing), or until its
 * event loop fails, which clears the started bit and raises NEEDS_RESET.
 * Return: NULL.
 */
void *vb_ring_worker(void *arg);

/**
 * vb_ring_signal_fd() - add one to an eventfd (a wake-up or a notification)
 * @fd:		the eventfd
 *
 * A failure is logged (rate-limited). Return: 0, or -EAGAIN when the
 * counter is full (the reader wakes anyway), or another -errno.
 */
int vb_ring_signal_fd(int fd);

/**
 * vb_ring_signal_err() - signal the ring's err fd, if it has one
 * @r:		the ring
 *
 * The "err" fault (core/failpoint.h) drops the signal.
 */
void vb_ring_signal_err(struct vb_ring *r);

/**
 * vb_ring_mem_dead() - whether a mapping the ring reads was killed by a SIGBUS
 * @r:		the ring, mapped
 *
 * Its descriptor, avail and used rings, its in-flight slice, the dirty log.
 */
bool vb_ring_mem_dead(const struct vb_ring *r);

#endif
