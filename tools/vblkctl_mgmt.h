/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vblkctl's commands over a daemon's --mgmt-socket (JSON lines): status,
 * stats, resize, and suspend, resume and throttle when --mgmt-socket is
 * given (vblkctl_mgmt.c; the human view in vblkctl_mgmt_show.c).
 */
#ifndef VB_VBLKCTL_MGMT_H
#define VB_VBLKCTL_MGMT_H

#include <stdbool.h>
#include <stdio.h>

#include <json-c/json.h>

/* The management commands' own exit status: the daemon could not be asked. */
#define CTL_EXIT_NOANSWER 3

extern const char ctl_mgmt_usage[];

/**
 * ctl_mgmt_wanted() - whether this command line is for the management socket
 * @argc:	as main() got it
 * @argv:	as main() got it
 *
 * Return: true for status, stats and resize, and for any command given
 * --mgmt-socket.
 */
bool ctl_mgmt_wanted(int argc, char **argv);

/**
 * ctl_mgmt_main() - run a management command
 * @argc:	as main() got it
 * @argv:	as main() got it
 *
 * Return: the exit status: 0 success, 1 the daemon answered with an error,
 * 2 bad command line, 3 no answer (connect, timeout, a malformed reply).
 */
int ctl_mgmt_main(int argc, char **argv);

/**
 * ctl_mgmt_show() - print a successful reply for a human
 * @out:	where
 * @cmd:	the command it answers
 * @reply:	the daemon's reply object
 * @prev:	stats --watch: the previous stats reply, for rates; or NULL
 * @interval:	seconds between @prev and @reply
 */
void ctl_mgmt_show(FILE *out, const char *cmd, struct json_object *reply, struct json_object *prev,
		   double interval);

#endif
