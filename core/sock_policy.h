/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Who may use the sockets vblkd listens on: their file mode and group, and
 * the peer uids accepted. Every listening socket (front-end, control,
 * management) binds with vb_sock_bind() and checks each accepted peer with
 * vb_peer_allowed().
 */
#ifndef VB_SOCK_POLICY_H
#define VB_SOCK_POLICY_H

#include <stdbool.h>
#include <sys/types.h>
#include <sys/un.h>

#define VB_ALLOW_UIDS_MAX 32

struct vb_sock_policy {
	mode_t mode; /* of the socket file; 0600 by default */
	gid_t gid; /* group of the socket file, or (gid_t)-1 to keep the creator's */
	unsigned int n_uids; /* 0: any peer the file mode lets connect */
	uid_t uids[VB_ALLOW_UIDS_MAX];
};

/* The daemon's policy: set from the command line before any socket exists. */
extern struct vb_sock_policy vb_sock_policy;

/**
 * vb_sock_bind() - bind @fd to @sa with @p's mode and group
 * @fd:		an AF_UNIX socket
 * @sa:		the address; its sun_path is the file created
 * @p:		the policy
 *
 * The file is created with mode 0 and only then given @p's group and mode,
 * so it is never more open than asked, not even for a moment.
 * Return: 0, or -errno (logged; the file is removed again on a failure
 * after bind).
 */
int vb_sock_bind(int fd, const struct sockaddr_un *sa, const struct vb_sock_policy *p);

/**
 * vb_peer_allowed() - whether the peer of the accepted socket @fd may stay
 * @fd:		an accepted AF_UNIX socket
 * @p:		the policy
 * @what:	names the socket in the log line of a refusal ("front-end")
 *
 * Reads SO_PEERCRED. A refused peer is logged with its uid and pid; the
 * caller closes @fd. A peer whose credentials cannot be read is refused
 * whenever @p has a uid list.
 * Return: true to serve the peer.
 */
bool vb_peer_allowed(int fd, const struct vb_sock_policy *p, const char *what);

/**
 * vb_sock_policy_parse_uids() - --allow-uid UID[,UID...]
 * @p:		the policy whose list is replaced
 * @s:		decimal uids separated by commas
 *
 * Return: 0, or -EINVAL for an empty list, a bad number, or more than
 * VB_ALLOW_UIDS_MAX uids.
 */
int vb_sock_policy_parse_uids(struct vb_sock_policy *p, const char *s);

/**
 * vb_sock_policy_parse_mode() - --socket-mode MODE, octal, at most 0777
 * Return: 0, or -EINVAL.
 */
int vb_sock_policy_parse_mode(struct vb_sock_policy *p, const char *s);

/**
 * vb_sock_policy_parse_group() - --socket-group GROUP, a name or a gid
 * Return: 0, or -EINVAL for a name the group database does not know.
 */
int vb_sock_policy_parse_group(struct vb_sock_policy *p, const char *s);

#endif
