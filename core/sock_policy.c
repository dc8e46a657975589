// SPDX-License-Identifier: GPL-2.0-or-later
/* Socket file permissions and the SO_PEERCRED check on every accepted peer. */
#include "core/sock_policy.h"

#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"

struct vb_sock_policy vb_sock_policy = { .mode = 0600, .gid = (gid_t)-1 };

int vb_sock_bind(int fd, const struct sockaddr_un *sa, const struct vb_sock_policy *p)
{
	const char *path = sa->sun_path;
	mode_t old_mask;
	int ret;

	/* Mode 0 at creation: no one but root connects before the chmod below. */
	old_mask = umask(0777);
	ret = bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) ? -errno : 0;
	umask(old_mask);
	if (ret) {
		vb_err("cannot bind %s: %s", path, strerror(-ret));
		return ret;
	}
	/* Group before mode: a group-open mode never applies to the creator's group. */
	if (p->gid != (gid_t)-1 && lchown(path, (uid_t)-1, p->gid)) {
		ret = -errno;
		vb_err("%s: cannot give it group %u: %s", path, p->gid, strerror(-ret));
		goto err_unlink;
	}
	if (chmod(path, p->mode)) {
		ret = -errno;
		vb_err("%s: cannot set mode %04o: %s", path, p->mode, strerror(-ret));
		goto err_unlink;
	}
	return 0;

err_unlink:
	unlink(path);
	return ret;
}

bool vb_peer_allowed(int fd, const struct vb_sock_policy *p, const char *what)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (!p->n_uids)
		return true;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len)) {
		vb_warn("%s refused: its credentials are unreadable: %s", what, strerror(errno));
		return false;
	}
	for (unsigned int i = 0; i < p->n_uids; i++)
		if (p->uids[i] == cred.uid)
			return true;
	vb_warn("%s refused: uid %u (pid %d) is not in --allow-uid", what, cred.uid, cred.pid);
	return false;
}

/* A decimal id up to UINT32_MAX - 1 ((uid_t)-1 means "none" to the kernel). */
static int parse_id(const char *s, char **end, unsigned int *out)
{
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, end, 10);
	if (errno || v >= 0xffffffffUL)
		return -EINVAL;
	*out = (unsigned int)v;
	return 0;
}

int vb_sock_policy_parse_uids(struct vb_sock_policy *p, const char *s)
{
	unsigned int n = 0;
	char *end;

	for (;;) {
		unsigned int uid;

		if (n == VB_ALLOW_UIDS_MAX || parse_id(s, &end, &uid))
			return -EINVAL;
		p->uids[n++] = uid;
		if (!*end)
			break;
		if (*end != ',')
			return -EINVAL;
		s = end + 1;
	}
	p->n_uids = n;
	return 0;
}

int vb_sock_policy_parse_mode(struct vb_sock_policy *p, const char *s)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '7')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 8);
	if (errno || *end || v > 0777)
		return -EINVAL;
	p->mode = (mode_t)v;
	return 0;
}

int vb_sock_policy_parse_group(struct vb_sock_policy *p, const char *s)
{
	unsigned int gid;
	struct group *g;
	char *end;

	if (!parse_id(s, &end, &gid) && !*end) {
		p->gid = gid;
		return 0;
	}
	g = getgrnam(s);
	if (!g)
		return -EINVAL;
	p->gid = g->gr_gid;
	return 0;
}
