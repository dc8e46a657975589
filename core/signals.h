/* SPDX-License-Identifier: GPL-2.0-or-later */
/* How a daemon built on core/ learns it must stop. */
#ifndef VB_SIGNALS_H
#define VB_SIGNALS_H

/**
 * vb_stop_signals_fd() - SIGTERM and SIGINT as a readable fd
 *
 * Blocks both (call it before any thread exists, so that workers never see
 * them) and ignores SIGPIPE, so a peer that goes away is an error return.
 * Return: a non-blocking signalfd, or -1 with errno set.
 */
int vb_stop_signals_fd(void);

#endif
