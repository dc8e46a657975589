// SPDX-License-Identifier: GPL-2.0-or-later
/* Start, stop and probe vblkd processes for the host tests. */
#include "vd_proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define VD_MAX_ARGS 32

const char *vd_binary(void)
{
	const char *bin = getenv("VBLKD");

	return bin && *bin ? bin : NULL;
}

static int vd_make_image(const char *path, uint64_t size)
{
	char buf[65536];
	uint64_t done = 0;
	int fd, ret = 0;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	memset(buf, 0xa5, sizeof(buf));
	while (done < size) {
		size_t n = size - done < sizeof(buf) ? size - done : sizeof(buf);
		ssize_t w = write(fd, buf, n);

		if (w < 0) {
			ret = -errno;
			break;
		}
		done += (uint64_t)w;
	}
	close(fd);
	return ret;
}

void vd_child_setup(const struct vd_proc *vd)
{
	int fd;

	/* The daemon must not outlive a test killed by the harness timeout. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	fd = open(vd->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
	}
}

static void vd_exec(const struct vd_proc *vd, const char *bin, const char *const *extra)
{
	const char *argv[VD_MAX_ARGS];
	int n = 0;

	vd_child_setup(vd);
	argv[n++] = bin;
	argv[n++] = vd->vduse[0] ? "--vduse" : "--vhost-user";
	argv[n++] = vd->vduse[0] ? vd->vduse : vd->sock;
	argv[n++] = "--image";
	argv[n++] = vd->image;
	for (; extra && *extra && n < VD_MAX_ARGS - 1; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;
	execv(bin, (char *const *)argv);
	fprintf(stderr, "exec %s: %s\n", bin, strerror(errno));
	_exit(127);
}

/* Fork and exec the daemon on vd's socket, image and log. */
static int vd_spawn(struct vd_proc *vd, const char *bin, const char *const *extra)
{
	fflush(NULL);
	vd->pid = fork();
	if (vd->pid < 0) {
		vd->pid = -1;
		return -errno;
	}
	if (vd->pid == 0)
		vd_exec(vd, bin, extra);
	return 0;
}

int vd_prepare(struct vd_proc *vd, const char *vduse, uint64_t image_size)
{
	int ret;

	memset(vd, 0, sizeof(*vd));
	vd->pid = -1;
	if (!vd_binary())
		return -ENOENT;
	if (vduse && (size_t)snprintf(vd->vduse, sizeof(vd->vduse), "%s", vduse) >=
			     sizeof(vd->vduse))
		return -ENAMETOOLONG;

	snprintf(vd->dir, sizeof(vd->dir), "/tmp/vblkd-host-XXXXXX");
	if (!mkdtemp(vd->dir)) {
		vd->dir[0] = '\0';
		return -errno;
	}
	snprintf(vd->sock, sizeof(vd->sock), "%s/vu.sock", vd->dir);
	snprintf(vd->ctl, sizeof(vd->ctl), "%s/ctl.sock", vd->dir);
	snprintf(vd->image, sizeof(vd->image), "%s/disk.img", vd->dir);
	snprintf(vd->log, sizeof(vd->log), "%s/vblkd.log", vd->dir);

	ret = vd_make_image(vd->image, image_size);
	if (ret)
		vd_cleanup(vd);
	return ret;
}

/* vd_start() with an optional VDUSE device name. */
static int vd_start_as(struct vd_proc *vd, const char *vduse, uint64_t image_size,
		       const char *const *extra)
{
	int ret = vd_prepare(vd, vduse, image_size);

	if (ret)
		return ret;
	ret = vd_spawn(vd, vd_binary(), extra);
	if (ret)
		vd_cleanup(vd);
	return ret;
}

int vd_start(struct vd_proc *vd, uint64_t image_size, const char *const *extra)
{
	return vd_start_as(vd, NULL, image_size, extra);
}

int vd_start_vduse(struct vd_proc *vd, const char *name, uint64_t image_size,
		   const char *const *extra)
{
	return vd_start_as(vd, name, image_size, extra);
}

int64_t vd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int vd_stop(struct vd_proc *vd, int timeout_ms, int *status)
{
	int64_t deadline = vd_now_ms() + timeout_ms;
	pid_t r;

	*status = 0;
	if (vd->pid <= 0)
		return -ESRCH;
	kill(vd->pid, SIGTERM);
	for (;;) {
		r = waitpid(vd->pid, status, WNOHANG);
		if (r == vd->pid)
			break;
		if (r < 0) {
			vd->pid = -1;
			return -errno;
		}
		if (vd_now_ms() >= deadline) {
			kill(vd->pid, SIGKILL);
			waitpid(vd->pid, status, 0);
			vd->pid = -1;
			return -ETIMEDOUT;
		}
		usleep(10 * 1000);
	}
	vd->pid = -1;
	return 0;
}

int vd_kill(struct vd_proc *vd, int *status)
{
	*status = 0;
	if (vd->pid <= 0)
		return -ESRCH;
	if (kill(vd->pid, SIGKILL) || waitpid(vd->pid, status, 0) != vd->pid)
		return -errno;
	vd->pid = -1;
	return 0;
}

int vd_restart(struct vd_proc *vd, const char *const *extra)
{
	const char *bin = vd_binary();
	struct stat st;

	if (vd->pid > 0)
		return -EBUSY;
	if (!bin || !vd->dir[0])
		return -ENOENT;
	vd->log_start = stat(vd->log, &st) ? 0 : st.st_size;
	return vd_spawn(vd, bin, extra);
}

void vd_cleanup(struct vd_proc *vd)
{
	int status;

	if (vd->pid > 0) {
		kill(vd->pid, SIGKILL);
		waitpid(vd->pid, &status, 0);
		vd->pid = -1;
	}
	if (!vd->dir[0])
		return;
	unlink(vd->sock);
	unlink(vd->ctl);
	unlink(vd->image);
	unlink(vd->log);
	rmdir(vd->dir);
	vd->dir[0] = '\0';
}

bool vd_alive(struct vd_proc *vd)
{
	int status;

	if (vd->pid <= 0)
		return false;
	return waitpid(vd->pid, &status, WNOHANG) == 0;
}

void vd_dump_log(const struct vd_proc *vd)
{
	char line[512];
	FILE *f;

	f = fopen(vd->log, "re");
	if (!f)
		return;
	fprintf(stderr, "# --- vblkd log (%s) ---\n", vd->log);
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		fprintf(stderr, "# | %s\n", line);
	}
	fprintf(stderr, "# --- end of vblkd log ---\n");
	fclose(f);
}

bool vd_log_contains(const struct vd_proc *vd, const char *needle)
{
	char line[512];
	bool found = false;
	FILE *f;

	f = fopen(vd->log, "re");
	if (!f)
		return false;
	if (!fseeko(f, vd->log_start, SEEK_SET))
		while (!found && fgets(line, sizeof(line), f))
			found = strstr(line, needle);
	fclose(f);
	return found;
}

int vd_count_fds(pid_t pid)
{
	char path[64];
	struct dirent *de;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

long vd_rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

bool vd_maps_file(pid_t pid, const char *name)
{
	char path[64], line[512];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, name);
	fclose(f);
	return found;
}

int vd_vblkctl(const char *fmt, ...)
{
	char args[768], cmd[1024];
	va_list ap;
	int status;

	if (!getenv("VBLKCTL"))
		return -1;
	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "\"$VBLKCTL\" %s >/dev/null 2>&1", args);
	status = system(cmd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
