// SPDX-License-Identifier: GPL-2.0-or-later
/* Start and stop NBD servers for the host tests; run vblkd to its exit status. */
#include "netdisk.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static bool in_path(const char *prog)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", prog);
	return system(cmd) == 0;
}

static int make_dir(struct nd_server *s)
{
	if (s->dir[0])
		return 0;
	snprintf(s->dir, sizeof(s->dir), "/tmp/vblkd-nbd-XXXXXX");
	if (!mkdtemp(s->dir)) {
		s->dir[0] = '\0';
		return -errno;
	}
	snprintf(s->sock, sizeof(s->sock), "%s/nbd.sock", s->dir);
	snprintf(s->uri, sizeof(s->uri), "nbd+unix:///?socket=%s", s->sock);
	return 0;
}

/* Wait up to 5 s until the server accepts on its socket. */
static int wait_listening(struct nd_server *s)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (strlen(s->sock) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, s->sock, strlen(s->sock) + 1);
	for (int i = 0; i < 500; i++) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), ret;

		if (fd < 0)
			return -errno;
		ret = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
		close(fd);
		if (!ret)
			return 0;
		if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
			s->pid = -1;
			return -ECHILD;
		}
		usleep(10 * 1000);
	}
	return -ETIMEDOUT;
}

static int spawn(struct nd_server *s, const char *const *argv)
{
	char log[160];

	unlink(s->sock);
	snprintf(log, sizeof(log), "%s/server.log", s->dir);
	fflush(NULL);
	s->pid = fork();
	if (s->pid < 0)
		return -errno;
	if (!s->pid) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	return wait_listening(s);
}

int nd_nbdkit_start(struct nd_server *s, const char *size)
{
	int ret;

	if (!in_path("nbdkit"))
		return -ENOENT;
	ret = make_dir(s);
	if (ret)
		return ret;
	{
		const char *argv[] = { "nbdkit", "-f",	  "--exit-with-parent",
				       "-U",	 s->sock, "memory",
				       size,	 NULL };

		return spawn(s, argv);
	}
}

int nd_qemu_nbd_start(struct nd_server *s, uint64_t size)
{
	char buf[65536];
	int fd, ret;

	if (!in_path("qemu-nbd"))
		return -ENOENT;
	ret = make_dir(s);
	if (ret)
		return ret;
	snprintf(s->file, sizeof(s->file), "%s/disk.raw", s->dir);
	fd = open(s->file, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	memset(buf, 0xa5, sizeof(buf));
	for (uint64_t done = 0; done < size; done += sizeof(buf))
		if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf)) {
			close(fd);
			return -EIO;
		}
	close(fd);
	{
		/* -t: stays for the next client; -e: one connection per queue. */
		const char *argv[] = { "qemu-nbd", "-t",    "-e",
				       "8",	   "-f",    "raw",
				       "-k",	   s->sock, "--discard=unmap",
				       s->file,	   NULL };

		return spawn(s, argv);
	}
}

void nd_kill(struct nd_server *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
	}
	s->pid = -1;
}

void nd_cleanup(struct nd_server *s)
{
	char cmd[128];

	nd_kill(s);
	if (!s->dir[0])
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
	if (system(cmd))
		fprintf(stderr, "# cannot remove %s\n", s->dir);
	s->dir[0] = '\0';
}

int nd_run_status(const char *const *argv, int timeout_ms, char *out, size_t outlen)
{
	int p[2], status;
	ssize_t n, got = 0;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(p[1], STDOUT_FILENO);
		dup2(p[1], STDERR_FILENO);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	for (int i = 0; i < timeout_ms / 10; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			while (outlen && got < (ssize_t)outlen - 1 &&
			       (n = read(p[0], out + got, outlen - 1 - got)) > 0)
				got += n;
			if (outlen)
				out[got] = '\0';
			close(p[0]);
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		}
		usleep(10 * 1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	close(p[0]);
	return -ETIMEDOUT;
}

int nd_sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int st;

	va_start(ap, fmt);
	if (vsnprintf(cmd, sizeof(cmd), fmt, ap) >= (int)sizeof(cmd)) {
		va_end(ap);
		return -ENAMETOOLONG;
	}
	va_end(ap);
	fflush(NULL);
	st = system(cmd);
	return st < 0 ? -errno : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int nd_ceph_start(char *dir, size_t len, double *secs)
{
	const char *src = getenv("VBLKD_SRC");
	struct timespec t0, t1;

	if (!src || !in_path("ceph-mon") || !in_path("ceph-osd") || !in_path("rbd"))
		return -ENOENT;
	snprintf(dir, len, "/tmp/vblkd-ceph-XXXXXX");
	if (!mkdtemp(dir))
		return -errno;
	/* The script wants a dir of its own: the cluster lives in a subdir. */
	strncat(dir, "/c", len - strlen(dir) - 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* The owner: a test killed by a timeout leaves no daemons behind. */
	if (nd_sh("CEPH_CLUSTER_OWNER=%d '%s/scripts/ceph-cluster.sh' start '%s' >&2",
		  (int)getpid(), src, dir)) {
		nd_ceph_stop(dir);
		return -EIO;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	*secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	return 0;
}

void nd_ceph_stop(const char *dir)
{
	const char *src = getenv("VBLKD_SRC");
	char parent[128];

	if (src)
		nd_sh("'%s/scripts/ceph-cluster.sh' stop '%s'", src, dir);
	snprintf(parent, sizeof(parent), "%s", dir);
	if (strrchr(parent, '/'))
		*strrchr(parent, '/') = '\0';
	nd_sh("rm -rf '%s'", parent);
}

int nd_refused_at_start(const char *image, const char *needle, int timeout_ms, char *out,
			size_t outlen)
{
	const char *argv[] = { getenv("VBLKD"), "--vhost-user", "/tmp/vblkd-never.sock",
			       "--image",	image,		NULL };
	const char *nl;

	if (!argv[0] || nd_run_status(argv, timeout_ms, out, outlen) != 2)
		return -1;
	nl = strchr(out, '\n');
	return strstr(out, needle) && nl && !nl[1] ? 0 : -1;
}
