/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vblkctl: progress of a state transfer on a terminal. Nothing is shown
 * unless standard error is a terminal and the transfer has lasted a second;
 * then one line is rewritten in place (bytes moved, rate) at most five
 * times a second, and ended when the transfer ends.
 */
#ifndef VB_VBLKCTL_PROGRESS_H
#define VB_VBLKCTL_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "frontend/fe_state.h"

struct ctl_progress {
	const char *what; /* "saving", "loading" */
	bool tty;
	bool shown;
	uint64_t t0_ms, last_ms, after_ms;
	uint64_t bytes;
	/* The sink or source the progress wraps. */
	fe_state_sink_fn sink;
	fe_state_source_fn source;
	void *opaque;
};

/**
 * ctl_progress_init() - start counting a transfer
 * @p:		the progress
 * @what:	a verb for the line ("saving")
 * @sink:	the real sink, for ctl_progress_sink(); or NULL
 * @source:	the real source, for ctl_progress_source(); or NULL
 * @opaque:	theirs
 *
 * VBLKCTL_PROGRESS_AFTER_MS (default 1000) says how long a transfer runs
 * before it is shown, for tests.
 */
void ctl_progress_init(struct ctl_progress *p, const char *what, fe_state_sink_fn sink,
		       fe_state_source_fn source, void *opaque);

/* A fe_state_sink_fn: counts, shows, and hands the bytes on to p->sink. */
int ctl_progress_sink(void *opaque, const void *buf, size_t len);

/* A fe_state_source_fn: takes bytes from p->source, counts, shows. */
ssize_t ctl_progress_source(void *opaque, void *buf, size_t len);

/**
 * ctl_progress_end() - end the line, if one was shown
 * @p:		the progress
 */
void ctl_progress_end(struct ctl_progress *p);

#endif
