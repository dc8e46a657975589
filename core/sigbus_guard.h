/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Surviving memory that shrinks after hand-over. A front-end may truncate a
 * file it shared (guest memory, the in-flight region, the dirty log) after
 * we mapped it: the next touch of a page past the new end raises SIGBUS.
 * Every such mapping is registered here; on a SIGBUS inside one, the
 * handler maps private zero pages over the whole mapping, marks it dead and
 * returns, so the faulting access is retried and completes on memory that
 * no longer reaches the front-end. The code that touched it then sees the
 * fault (vb_sigbus_take_fault() on that thread, vb_sigbus_dead() or
 * vb_sigbus_addr_dead() from any thread) and fails the queue with
 * NEEDS_RESET. Nothing jumps out of the middle of a function: locks and
 * half-made requests stay consistent. A SIGBUS anywhere else keeps its
 * default action (or the handler installed before ours).
 */
#ifndef VB_SIGBUS_GUARD_H
#define VB_SIGBUS_GUARD_H

#include <stdbool.h>
#include <stddef.h>

/* Mappings guarded at once: every region, the dirty log and the in-flight region. */
#define VB_SIGBUS_SLOTS 128

/**
 * vb_sigbus_register() - guard a shared mapping
 * @base:	its first byte, page-aligned
 * @len:	its length, rounded to the mapping's page size
 *
 * Installs the SIGBUS handler on first use.
 * Return: the slot (>= 0) for vb_sigbus_unregister(), -ENOSPC when every
 * slot is taken, or the sigaction error.
 */
int vb_sigbus_register(void *base, size_t len);

/**
 * vb_sigbus_unregister() - stop guarding a mapping, before it is unmapped
 * @slot:	what vb_sigbus_register() returned, or -1 for none
 */
void vb_sigbus_unregister(int slot);

/**
 * vb_sigbus_dead() - whether the mapping in @slot was replaced after a SIGBUS
 * @slot:	a registered slot, or -1 (never dead)
 *
 * One relaxed load: cheap enough for every address translation.
 */
bool vb_sigbus_dead(int slot);

/**
 * vb_sigbus_addr_dead() - whether @p lies in a mapping replaced after a SIGBUS
 * @p:		any address
 *
 * Scans the slots: for a ring's pointers after vb_sigbus_deaths() moved.
 */
bool vb_sigbus_addr_dead(const void *p);

/**
 * vb_sigbus_deaths() - mappings replaced since the process started
 *
 * A worker compares it with what it saw last, once per loop.
 */
unsigned int vb_sigbus_deaths(void);

/**
 * vb_sigbus_faulted() - whether this thread faulted since the last take
 *
 * Leaves the flag as it is.
 */
bool vb_sigbus_faulted(void);

/**
 * vb_sigbus_take_fault() - whether this thread faulted since the last call
 *
 * Clears the thread's flag: call it before a section to start clean, and
 * after to learn whether the section touched memory that went away.
 */
bool vb_sigbus_take_fault(void);

#endif
