/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vblkctl: shared pieces of the command-line tool (vblkctl.c, vblkctl_report.c). */
#ifndef VB_VBLKCTL_H
#define VB_VBLKCTL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "frontend/fe_state.h"
#include "proto/vu_msg.h"

#define CTL_EXIT_OK 0
#define CTL_EXIT_FAIL 1
#define CTL_EXIT_USAGE 2
#define CTL_MAX_QUEUES 16

/* What one command did, for the report. */
struct ctl_result {
	const char *command;		/* "state save", "state load", "migrate", "suspend", "resume" */
	const char *from;		/* the socket saved from, or NULL */
	const char *to;			/* the socket loaded into, or NULL */
	int err;			/* 0 or -errno of the failed step */
	const char *stage;		/* the failed step: "connect", "save", "load", ... */
	const char *where;		/* the socket or file it failed on */
	bool saved, loaded;		/* which of save/load ran (res below valid) */
	struct fe_state_res save;
	struct fe_state_res load;
	uint64_t bytes;			/* state size */
	unsigned int nbases;		/* suspend: ring indices it stopped at */
	uint16_t bases[CTL_MAX_QUEUES];
	const char *mode;		/* suspend: "drain", "capture", or NULL: the daemon's */
	bool throttled;			/* throttle: the fields below are valid */
	struct vu_throttle throttle;
	uint64_t total_us;
};

/**
 * ctl_usage_error() - explain a bad command line on stderr
 * @msg:	what is wrong
 * @arg:	the word at fault, or NULL
 *
 * Return: -EINVAL.
 */
int ctl_usage_error(const char *msg, const char *arg);

/**
 * ctl_report() - tell the user what a command did
 * @out:	where the report goes (flushed)
 * @json:	one JSON object instead of a sentence
 * @r:		the result
 *
 * A failure is explained on stderr, with the back-end's state_err text.
 * With @json the object goes to @out in either case; without it, @out
 * gets a sentence only on success.
 */
void ctl_report(FILE *out, bool json, const struct ctl_result *r);

#endif
