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
 * A failure is logged (rate-limited); the counter cannot overflow in practice.
 */
void vb_ring_signal_fd(int fd);

#endif
