/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Inside the management socket: what the server (mgmt_server.c) and the commands share. */
#ifndef VB_MGMT_INT_H
#define VB_MGMT_INT_H

#include <json-c/json.h>

#include "mgmt/mgmt.h"

struct mgmt_server_state {
	struct blk_dev *blk;
	struct mgmt_ops ops;
	/* Rings the suspend command stopped, for resume. Management thread only. */
	uint32_t suspended_mask;
	bool suspended;
};

/**
 * mgmt_cmd_run() - answer one request line
 * @st:		the device and transport
 * @line:	the request, without its newline, NUL-terminated (hostile)
 * @len:	its length
 *
 * Return: the reply object (the caller puts it), never NULL except on
 * -ENOMEM; a malformed or unknown request gets an error reply.
 */
struct json_object *mgmt_cmd_run(struct mgmt_server_state *st, const char *line, size_t len);

/**
 * mgmt_error() - an error reply
 * @err:	-errno
 * @why:	what went wrong, for a human
 */
struct json_object *mgmt_error(int err, const char *why);

#endif
